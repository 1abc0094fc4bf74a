// Whole-input CSV reading for training: the bytes of a file (mapped, not copied) parsed into rows,
// in parallel over independent row ranges. Results are identical for any thread count.

#if canImport(Glibc)
import Glibc
#endif
import NNParallel

/// Bytes of a whole input: a read-only memory map of a regular file, or an owned copy.
final class InputBytes {
    let base: UnsafePointer<UInt8>
    let count: Int
    private let mapped: Bool
    private let owned: UnsafeMutablePointer<UInt8>?

    init(copying bytes: [UInt8]) {
        let storage = UnsafeMutablePointer<UInt8>.allocate(capacity: max(1, bytes.count))
        storage.initialize(from: bytes, count: bytes.count)
        owned = storage
        base = UnsafePointer(storage)
        count = bytes.count
        mapped = false
    }

    /// Maps the regular file open at `descriptor` (of `size` bytes).
    init?(mapping descriptor: Int32, size: Int) {
        if size == 0 {
            let storage = UnsafeMutablePointer<UInt8>.allocate(capacity: 1)
            owned = storage
            base = UnsafePointer(storage)
            count = 0
            mapped = false
            return
        }
        // Pages are mapped lazily (no MAP_POPULATE): a file that fails early, e.g. on a 100 MB
        // field, costs only the pages read up to its error.
        guard let address = mmap(nil, size, PROT_READ, MAP_PRIVATE, descriptor, 0), address != MAP_FAILED else { return nil }
        _ = madvise(address, size, MADV_SEQUENTIAL)
        base = UnsafePointer(address.assumingMemoryBound(to: UInt8.self))
        count = size
        mapped = true
        owned = nil
    }

    deinit {
        if mapped {
            munmap(UnsafeMutableRawPointer(mutating: base), count)
        } else {
            owned?.deallocate()
        }
    }
}

/// Length of a UTF-8 byte-order mark at the start of the bytes (0 or 3).
func byteOrderMarkLength(_ base: UnsafePointer<UInt8>, count: Int) -> Int {
    count >= 3 && base[0] == 0xEF && base[1] == 0xBB && base[2] == 0xBF ? 3 : 0
}

/// Column names from the first record's fields: UTF-8 checked, duplicates rejected.
func makeHeader(scanner: RecordScanner, base: UnsafePointer<UInt8>, hasHeader: Bool, source: String,
                line: (Int) -> Int) throws -> CSVHeader {
    let count = scanner.fieldCount
    guard hasHeader else {
        return CSVHeader(names: (0..<count).map { String($0) }, isFromFile: false, source: source)
    }
    var names: [String] = []
    var firstColumn: [String: Int] = [:]
    for column in 0..<count {
        let span = scanner.fields[column]
        guard let name = String(validating: fieldBytes(base, span), as: UTF8.self) else {
            throw CSVError.invalidUTF8(CSVPosition(source: source, line: line(span.start), column: column + 1), what: "header name")
        }
        if let first = firstColumn[name] {
            throw CSVError.duplicateColumnName(source: source, name: name, firstColumn: first + 1, secondColumn: column + 1)
        }
        firstColumn[name] = column
        names.append(name)
    }
    return CSVHeader(names: names, isFromFile: true, source: source)
}

/// A whole CSV input in memory (mapped file or bytes), with its header parsed.
public final class CSVFile {
    public let source: String
    public let format: CSVFormat
    public let header: CSVHeader
    private let input: InputBytes
    /// Inputs smaller than this are parsed on one thread (splitting costs more than it saves).
    /// Internal and mutable only so that tests can exercise splitting on small inputs.
    static var minimumBytesToSplit = 1 << 20

    /// Where the first data record may start (after BOM and header).
    private let dataStart: Int

    /// Reads a regular file by mapping it. For pipes and standard input use `loadCSV` or
    /// `CSVStreamReader`, which read in bounded blocks.
    public convenience init(path: String, format: CSVFormat = CSVFormat()) throws {
        let descriptor = try openInput(path: path)
        defer { close(descriptor) }
        guard let size = try regularFileSize(descriptor, source: path) else {
            throw CSVError.readFailed(source: path, reason: "not a regular file; read it through CSVStreamReader or loadCSV")
        }
        guard let input = InputBytes(mapping: descriptor, size: size) else {
            throw CSVError.readFailed(source: path, reason: String(cString: strerror(errno)))
        }
        try self.init(input: input, source: path, format: format)
    }

    /// Parses CSV held in memory (tests, fuzzers, small inputs). `source` names it in messages.
    public convenience init(bytes: [UInt8], source: String, format: CSVFormat = CSVFormat()) throws {
        try self.init(input: InputBytes(copying: bytes), source: source, format: format)
    }

    private init(input: InputBytes, source: String, format: CSVFormat) throws {
        self.input = input
        self.source = source
        self.format = format
        let base = input.base
        let bom = byteOrderMarkLength(base, count: input.count)
        let scanner = RecordScanner(delimiter: format.delimiter, limits: format.limits)
        let lineOf = { (offset: Int) in 1 + countLineBreaks(base, from: 0, to: offset) }
        let outcome: ScanOutcome
        do {
            outcome = try scanner.scan(base, start: bom, end: input.count, atEndOfInput: true)
        } catch let failure as ScanFailure {
            throw RowIssue(failure).error(line: lineOf(failure.offset), header: nil, plan: nil, source: source, delimiter: format.delimiter)
        }
        guard case .record(let next) = outcome else { throw CSVError.emptyFile(source: source) }
        header = try makeHeader(scanner: scanner, base: base, hasHeader: format.hasHeader, source: source, line: lineOf)
        dataStart = format.hasHeader ? next : scanner.recordStart
    }

    /// Size of the input in bytes (BOM and header included).
    public var byteCount: Int { input.count }

    /// SHA-256 of all the input's bytes.
    public func sha256() -> [UInt8] {
        var hasher = SHA256()
        hasher.update(UnsafeRawBufferPointer(start: input.base, count: input.count))
        return hasher.finalize()
    }

    /// Parses every data row with `plan`, splitting the work over `pool`.
    /// Throws the first bad row's error (the same whatever the thread count), or with
    /// `skipBadRows` leaves bad rows out and counts them in `skipped` — except structural problems
    /// (quotes, NUL bytes, caps), after which the record boundaries are unknown: those always throw.
    /// No data rows at all: `headerOnly` / `emptyFile`; all rows skipped: `noValidRows`.
    public func readRows(plan: ColumnPlan, pool: WorkerPool = .serial, skipBadRows: Bool = false) throws -> ParsedRows {
        let base = input.base
        let end = input.count
        let cuts = chunkBoundaries(chunks: pool.threadCount > 1 && end - dataStart > CSVFile.minimumBytesToSplit ? pool.threadCount * 4 : 1)
        let results = (0..<(cuts.count - 1)).map { _ in ChunkResult() }
        let delimiter = format.delimiter
        let limits = format.limits
        pool.parallelFor(results.count) { chunk in
            let result = results[chunk]
            let start = cuts[chunk], stop = cuts[chunk + 1]
            let scanner = RecordScanner(delimiter: delimiter, limits: limits)
            let estimatedRows = max(16, (stop - start) / max(1, 8 * plan.fieldCount))
            let assembler = RowAssembler(plan: plan, delimiter: delimiter, limits: limits, expectedRows: estimatedRows)
            var position = start
            do {
                scanning: while true {
                    if let next = assembler.addPlainRecord(base, start: position, end: stop, atEndOfInput: true) {
                        position = next
                        continue
                    }
                    switch try scanner.scan(base, start: position, end: stop, atEndOfInput: true) {
                    case .record(let next):
                        if let issue = assembler.add(scanner, base: base) {
                            guard skipBadRows else { result.fatal = issue; break scanning }
                            assembler.recordSkipped(issue)
                        }
                        position = next
                    case .endOfInput, .needMore:
                        break scanning
                    }
                }
            } catch {
                result.fatal = RowIssue(error as! ScanFailure)
            }
            result.assembler = assembler
            result.skippedCount = assembler.skippedCount
            result.skippedIssues = assembler.skippedIssues
        }

        // Skipped reasons and the first fatal issue, in file order, need line numbers: one pass.
        var wanted: [RowIssue] = []
        var fatalIndex: Int? = nil
        for result in results {
            wanted.append(contentsOf: result.skippedIssues.prefix(SkippedRows.reasonsKept - min(wanted.count, SkippedRows.reasonsKept)))
            if let fatal = result.fatal {
                fatalIndex = wanted.count
                wanted.append(fatal)
                break
            }
        }
        let lines = lineNumbers(ofSortedOffsets: wanted.map(\.offset))
        let errors = zip(wanted, lines).map { issue, line in
            issue.error(line: line, header: header, plan: plan, source: source, delimiter: delimiter)
        }
        if let fatalIndex { throw errors[fatalIndex] }

        // One chunk: its rows as they are. Several: labels and kept columns joined in order, the
        // feature matrix copied chunk by chunk in parallel.
        var rows: ParsedRows
        if results.count == 1 {
            rows = results[0].assembler!.rows()
        } else {
            let featureCount = plan.featureColumns.count
            rows = ParsedRows.concatenating(results.map { $0.assembler!.rowsWithoutFeatures() }, featureCount: featureCount)
            var rowOffsets = [0]
            for result in results { rowOffsets.append(rowOffsets.last! + result.assembler!.rowCount) }
            rows.features = [Float](unsafeUninitializedCapacity: rowOffsets.last! * featureCount) { buffer, initialized in
                let destination = buffer.baseAddress
                adviseHugePages(UnsafeMutableRawPointer(destination), byteCount: buffer.count * MemoryLayout<Float>.stride)
                pool.parallelFor(results.count) { chunk in
                    results[chunk].assembler!.featureValues.withUnsafeBufferPointer { source in
                        if let destination, let start = source.baseAddress, !source.isEmpty {
                            (destination + rowOffsets[chunk] * featureCount).initialize(from: start, count: source.count)
                        }
                    }
                }
                initialized = rowOffsets.last! * featureCount
            }
        }
        rows.skipped = SkippedRows(count: results.reduce(0) { $0 + $1.skippedCount }, firstReasons: errors)
        if rows.rowCount == 0 {
            if rows.skipped.count > 0 { throw CSVError.noValidRows(source: source, skipped: rows.skipped.count) }
            throw format.hasHeader ? CSVError.headerOnly(source: source) : CSVError.emptyFile(source: source)
        }
        return rows
    }

    /// Every data record as raw field texts (quotes removed, doubled quotes undone).
    public func readRecords() throws -> [[String]] {
        let rows = try readRows(plan: .text(header: header))
        return (0..<rows.rowCount).map { row in rows.keep.map { $0[row] } }
    }

    /// 1-based line numbers of byte offsets given in ascending order, in one pass.
    private func lineNumbers(ofSortedOffsets offsets: [Int]) -> [Int] {
        var line = 1
        var position = 0
        return offsets.map { offset in
            line += countLineBreaks(input.base, from: position, to: max(position, offset))
            position = max(position, offset)
            return line
        }
    }

    /// Offsets that split the data into about `chunks` ranges at record boundaries:
    /// [dataStart, …, end]. Quote-aware: with quotes in the file, boundaries come from a
    /// sequential scan of quote parity (valid CSV toggles at every quote; an invalid file fails
    /// in the chunk holding its first error, which begins at a true boundary). A region with no
    /// line break within `maxRecordBytes` is not split, so a huge record costs only its cap.
    func chunkBoundaries(chunks: Int) -> [Int] {
        let base = input.base
        let end = input.count
        var cuts = [dataStart]
        guard chunks > 1 else { return [dataStart, end] }
        let size = end - dataStart
        let maxRecord = format.limits.maxRecordBytes
        let hasQuotes = memchr(base + dataStart, Int32(UInt8(ascii: "\"")), size) != nil
        if !hasQuotes {
            for k in 1..<chunks {
                var i = max(dataStart + k * size / chunks, cuts.last!)
                let limit = min(end, i + maxRecord)
                while i < limit && base[i] != 10 && base[i] != 13 { i += 1 }
                guard i < limit else { continue }
                i += (base[i] == 13 && i + 1 < end && base[i + 1] == 10) ? 2 : 1
                if i < end && i > cuts.last! { cuts.append(i) }
            }
        } else {
            var inQuotes = false
            var lastBoundary = dataStart
            var i = dataStart
            var k = 1
            while k < chunks && i < end {
                let byte = base[i]
                if byte == UInt8(ascii: "\"") {
                    inQuotes.toggle()
                } else if !inQuotes && (byte == 10 || byte == 13) {
                    if byte == 13 && i + 1 < end && base[i + 1] == 10 { i += 1 }
                    lastBoundary = i + 1
                    if lastBoundary >= dataStart + k * size / chunks {
                        if lastBoundary < end { cuts.append(lastBoundary) }
                        while k < chunks && dataStart + k * size / chunks <= lastBoundary { k += 1 }
                    }
                }
                if i - lastBoundary > maxRecord { break }
                i += 1
            }
        }
        cuts.append(end)
        return cuts
    }
}

private final class ChunkResult {
    var assembler: RowAssembler?
    var fatal: RowIssue?
    var skippedCount = 0
    var skippedIssues: [RowIssue] = []
}

/// Opens a path for reading ("-" is standard input), with a clear error.
func openInput(path: String) throws -> Int32 {
    if path == "-" { return dup(0) }
    let descriptor = open(path, O_RDONLY | O_CLOEXEC)
    guard descriptor >= 0 else {
        throw CSVError.cannotOpen(source: path, reason: String(cString: strerror(errno)))
    }
    return descriptor
}

/// The size of a regular file, nil for pipes and devices; a directory is an error.
func regularFileSize(_ descriptor: Int32, source: String) throws -> Int? {
    var status = stat()
    guard fstat(descriptor, &status) == 0 else {
        throw CSVError.readFailed(source: source, reason: String(cString: strerror(errno)))
    }
    let type = status.st_mode & S_IFMT
    if type == S_IFDIR { throw CSVError.isDirectory(source: source) }
    return type == S_IFREG ? Int(status.st_size) : nil
}
