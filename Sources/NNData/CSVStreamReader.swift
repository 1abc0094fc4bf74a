// Streaming CSV reading for inference: constant memory whatever the input size, from a file,
// a pipe or standard input. Reads fixed-size blocks into one buffer that only grows to hold the
// longest record (itself capped by CSVLimits), and yields batches of parsed rows.

#if canImport(Glibc)
import Glibc
#endif
import NNParallel

public final class CSVStreamReader {
    public let source: String
    public let format: CSVFormat
    /// Column names (from the first record, or "0", "1", … without a header).
    public private(set) var header: CSVHeader = CSVHeader(names: [], isFromFile: false, source: "")
    /// Data rows returned so far, and rows skipped so far (skip-bad-rows mode).
    public private(set) var rowsRead = 0
    public private(set) var skipped = SkippedRows()
    /// Bytes read so far.
    public private(set) var bytesRead = 0

    private let descriptor: Int32
    private let closeWhenDone: Bool
    private let blockSize: Int
    private var buffer: UnsafeMutablePointer<UInt8>
    private var capacity: Int
    private var start = 0          // next unconsumed byte
    private var end = 0            // end of valid bytes
    private var atEndOfInput = false
    private var lineAtStart = 1    // physical line of buffer[start]
    private var hasher: SHA256?
    private let scanner: RecordScanner

    /// Opens `path` ("-" for standard input; its source name is then "<stdin>") and reads the header.
    public convenience init(path: String, format: CSVFormat = CSVFormat(), blockSize: Int = 1 << 20,
                            computeSHA256: Bool = false) throws {
        let descriptor = try openInput(path: path)
        let source = path == "-" ? "<stdin>" : path
        do {
            _ = try regularFileSize(descriptor, source: source)
        } catch {
            close(descriptor)
            throw error
        }
        try self.init(fileDescriptor: descriptor, source: source, format: format, blockSize: blockSize,
                      computeSHA256: computeSHA256, closeWhenDone: true)
    }

    /// Reads from an open descriptor (closed on deinit when `closeWhenDone`), starting with the header.
    public init(fileDescriptor: Int32, source: String, format: CSVFormat = CSVFormat(), blockSize: Int = 1 << 20,
                computeSHA256: Bool = false, closeWhenDone: Bool = false) throws {
        self.descriptor = fileDescriptor
        self.closeWhenDone = closeWhenDone
        self.source = source
        self.format = format
        self.blockSize = max(16, blockSize)
        capacity = self.blockSize
        buffer = .allocate(capacity: capacity)
        hasher = computeSHA256 ? SHA256() : nil
        scanner = RecordScanner(delimiter: format.delimiter, limits: format.limits)
        try readHeader()
    }

    deinit {
        buffer.deallocate()
        if closeWhenDone { close(descriptor) }
    }

    /// SHA-256 of the bytes read so far (all of them once `nextBatch` has returned nil);
    /// nil unless the reader was made with `computeSHA256`.
    public func sha256() -> [UInt8]? {
        guard var copy = hasher else { return nil }
        return copy.finalize()
    }

    private func readHeader() throws {
        while true {
            let bomLength = byteOrderMarkLength(buffer, count: end)
            if end >= 3 || atEndOfInput {
                start = bomLength
                break
            }
            try fill()
        }
        while true {
            switch try scanOne() {
            case .record(let next):
                let line = lineAtStart + scanner.blankLinesSkipped
                let lineOf = { (offset: Int) in line + countLineBreaks(self.buffer, from: self.scanner.recordStart, to: offset) }
                header = try makeHeader(scanner: scanner, base: buffer, hasHeader: format.hasHeader, source: source, line: lineOf)
                if format.hasHeader {
                    lineAtStart = line + scanner.lineBreaksInRecord
                    start = next
                }
                return
            case .needMore:
                try fill()
            case .endOfInput:
                throw CSVError.emptyFile(source: source)
            }
        }
    }

    /// Scans the next record, turning a scan failure into the user's error.
    private func scanOne() throws -> ScanOutcome {
        do {
            return try scanner.scan(buffer, start: start, end: end, atEndOfInput: atEndOfInput)
        } catch let failure as ScanFailure {
            let line = lineAtStart + countLineBreaks(buffer, from: start, to: failure.offset)
            throw RowIssue(failure).error(line: line, header: header.names.isEmpty ? nil : header, plan: nil,
                                          source: source, delimiter: format.delimiter)
        }
    }

    /// The next batch of at most `maxRows` rows, nil when the input is exhausted. Bad rows throw
    /// (naming line and column) or, with `skipBadRows`, are counted in `skipped`; structural
    /// problems (quotes, NUL bytes, caps) always throw.
    public func nextBatch(plan: ColumnPlan, maxRows: Int, skipBadRows: Bool = false) throws -> ParsedRows? {
        let assembler = RowAssembler(plan: plan, delimiter: format.delimiter, limits: format.limits,
                                     expectedRows: min(max(1, maxRows), 1 << 16))
        var batchSkipped = SkippedRows()
        reading: while assembler.rowCount < maxRows {
            if let next = assembler.addPlainRecord(buffer, start: start, end: end, atEndOfInput: atEndOfInput) {
                // A plain record has no quoted line breaks: one line, ended by its terminator (if any).
                if next > start, buffer[next - 1] == 10 || buffer[next - 1] == 13 { lineAtStart += 1 }
                start = next
                continue
            }
            switch try scanOne() {
            case .record(let next):
                let line = lineAtStart + scanner.blankLinesSkipped
                if let issue = assembler.add(scanner, base: buffer) {
                    let issueLine = line + countLineBreaks(buffer, from: scanner.recordStart, to: issue.offset)
                    let error = issue.error(line: issueLine, header: header, plan: plan, source: source, delimiter: format.delimiter)
                    guard skipBadRows else { throw error }
                    batchSkipped.count += 1
                    if skipped.firstReasons.count + batchSkipped.firstReasons.count < SkippedRows.reasonsKept {
                        batchSkipped.firstReasons.append(error)
                    }
                }
                lineAtStart = line + scanner.lineBreaksInRecord
                start = next
            case .needMore:
                try fill()
            case .endOfInput:
                break reading
            }
        }
        skipped.add(batchSkipped)
        var rows = assembler.rows()
        rows.skipped = batchSkipped
        rowsRead += rows.rowCount
        if rows.rowCount == 0 && batchSkipped.count == 0 { return nil }
        return rows
    }

    /// Moves the unconsumed bytes to the front and reads more: at least a block, or as much as
    /// is already pending (so re-scans of a long record cost linear time), growing the buffer
    /// only as far as a pending record needs (the scanner caps records at maxRecordBytes).
    private func fill() throws {
        let pending = end - start
        if start > 0 {
            if pending > 0 { memmove(buffer, buffer + start, pending) }
            start = 0
            end = pending
        }
        let wanted = max(blockSize, pending)
        if capacity - end < wanted {
            let newCapacity = end + wanted
            let grown = UnsafeMutablePointer<UInt8>.allocate(capacity: newCapacity)
            grown.update(from: buffer, count: end)
            buffer.deallocate()
            buffer = grown
            capacity = newCapacity
        }
        // Small pending data: any bytes will do (low latency on pipes). A long pending record:
        // at least double it, so that re-scanning it stays linear overall.
        let minimumGain = pending >= blockSize ? wanted : 1
        var gained = 0
        while gained < minimumGain && end < capacity {
            let count = read(descriptor, buffer + end, capacity - end)
            if count < 0 {
                if errno == EINTR { continue }
                throw CSVError.readFailed(source: source, reason: String(cString: strerror(errno)))
            }
            if count == 0 {
                atEndOfInput = true
                break
            }
            hasher?.update(UnsafeRawBufferPointer(start: buffer + end, count: count))
            end += count
            gained += count
            bytesRead += count
        }
    }
}

/// What `loadCSV` returns: the header, the plan made from it, every row, and the input's digest.
public struct LoadedCSV {
    public let header: CSVHeader
    public let plan: ColumnPlan
    public let rows: ParsedRows
    public let byteCount: Int
    /// SHA-256 of the input's bytes (empty when not asked for).
    public let sha256: [UInt8]
}

/// Reads a whole CSV input for training: a regular file is mapped and parsed in parallel on
/// `pool`; a pipe or standard input ("-") is streamed in bounded blocks. `makePlan` chooses the
/// columns once the header is known. The result is the same whatever the thread count.
public func loadCSV(path: String, format: CSVFormat = CSVFormat(), pool: WorkerPool = .serial, skipBadRows: Bool = false,
                    computeSHA256: Bool = true, makePlan: (CSVHeader) throws -> ColumnPlan) throws -> LoadedCSV {
    let descriptor = try openInput(path: path)
    let source = path == "-" ? "<stdin>" : path
    let size: Int?
    do {
        size = try regularFileSize(descriptor, source: source)
    } catch {
        close(descriptor)
        throw error
    }
    if size != nil {
        close(descriptor)
        let file = try CSVFile(path: path, format: format)
        let plan = try makePlan(file.header)
        let rows = try file.readRows(plan: plan, pool: pool, skipBadRows: skipBadRows)
        return LoadedCSV(header: file.header, plan: plan, rows: rows, byteCount: file.byteCount,
                         sha256: computeSHA256 ? file.sha256() : [])
    }
    let reader = try CSVStreamReader(fileDescriptor: descriptor, source: source, format: format,
                                     computeSHA256: computeSHA256, closeWhenDone: true)
    let plan = try makePlan(reader.header)
    var parts: [ParsedRows] = []
    while let batch = try reader.nextBatch(plan: plan, maxRows: 1 << 16, skipBadRows: skipBadRows) {
        parts.append(batch)
    }
    var rows = ParsedRows.concatenating(parts, featureCount: plan.featureColumns.count)
    rows.skipped = reader.skipped
    if parts.isEmpty { rows = ParsedRows(rowCount: 0, featureCount: plan.featureColumns.count, features: []) }
    if rows.rowCount == 0 {
        if reader.skipped.count > 0 { throw CSVError.noValidRows(source: source, skipped: reader.skipped.count) }
        throw format.hasHeader ? CSVError.headerOnly(source: source) : CSVError.emptyFile(source: source)
    }
    return LoadedCSV(header: reader.header, plan: plan, rows: rows, byteCount: reader.bytesRead, sha256: reader.sha256() ?? [])
}
