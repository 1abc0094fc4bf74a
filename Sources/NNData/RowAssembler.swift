// Turns scanned records into rows (features, label, kept columns) according to a ColumnPlan.
// Shared by the whole-file loader (one assembler per chunk) and the streaming reader.

#if canImport(Glibc)
import Glibc
#endif
import CCSVScan

/// Rows parsed from CSV: a row-major Float32 feature matrix plus labels and pass-through columns.
public struct ParsedRows {
    public var rowCount: Int
    public var featureCount: Int
    /// rowCount × featureCount, row-major.
    public var features: [Float]
    /// Categorical labels: the distinct label texts, in order of first appearance…
    public var labelValues: [String]
    /// …and each row's index into `labelValues` (empty without a categorical label column).
    public var labelIDs: [Int32]
    /// Numeric labels (LabelKind.numeric), one per row; empty otherwise.
    public var targets: [Float]
    /// keep[k][row]: raw text of the k-th kept column.
    public var keep: [[String]]
    /// Rows left out by skip-bad-rows mode.
    public var skipped: SkippedRows

    /// Each row's label text (categorical labels only).
    public var labels: [String] { labelIDs.map { labelValues[Int($0)] } }

    public init(rowCount: Int, featureCount: Int, features: [Float], labelValues: [String] = [], labelIDs: [Int32] = [],
                targets: [Float] = [], keep: [[String]] = [], skipped: SkippedRows = SkippedRows()) {
        self.rowCount = rowCount
        self.featureCount = featureCount
        self.features = features
        self.labelValues = labelValues
        self.labelIDs = labelIDs
        self.targets = targets
        self.keep = keep
        self.skipped = skipped
    }
}

/// What skip-bad-rows mode left out: how many rows, and the reasons for the first few.
public struct SkippedRows: Equatable {
    public var count: Int
    /// At most `SkippedRows.reasonsKept` errors, in file order.
    public var firstReasons: [CSVError]
    public static let reasonsKept = 10

    public init(count: Int = 0, firstReasons: [CSVError] = []) {
        self.count = count
        self.firstReasons = firstReasons
    }

    mutating func add(_ other: SkippedRows) {
        count += other.count
        firstReasons.append(contentsOf: other.firstReasons.prefix(Self.reasonsKept - firstReasons.count))
    }
}

/// A problem with one row, before its line number is known (found by offset).
struct RowIssue {
    enum Kind {
        case missingFields(found: Int)
        case extraFields(found: Int)
        case notANumber(String)
        case emptyNumber
        case nonFinite(String)
        case invalidUTF8(what: String)
        case scan(ScanFailure.Kind)
    }
    var kind: Kind
    /// Byte offset the problem points at (record start for ragged rows).
    var offset: Int
    /// 0-based column, when the problem is in one field.
    var column: Int?

    init(_ kind: Kind, offset: Int, column: Int?) {
        self.kind = kind
        self.offset = offset
        self.column = column
    }

    init(_ failure: ScanFailure) {
        self.init(.scan(failure.kind), offset: failure.offset, column: failure.fieldIndex)
    }

    /// The user-facing error, once the line is known.
    func error(line: Int, header: CSVHeader?, plan: ColumnPlan?, source: String, delimiter: UInt8) -> CSVError {
        var position = CSVPosition(source: source, line: line)
        if let column {
            position.column = column + 1
            position.columnName = header?.displayName(ofColumn: column)
        }
        switch kind {
        case .missingFields(let found):
            let expected = plan?.fieldCount ?? header?.count ?? found
            var missing = "\(found + 1)"
            if let name = header?.displayName(ofColumn: found) { missing += " (\"\(name)\")" }
            return .missingFields(position, found: found, expected: expected, firstMissing: missing)
        case .extraFields(let found):
            return .extraFields(position, found: found, expected: plan?.fieldCount ?? header?.count ?? found)
        case .notANumber(let text):
            return .notANumber(position, found: text)
        case .emptyNumber:
            return .emptyNumber(position)
        case .nonFinite(let text):
            return .nonFiniteNumber(position, found: text)
        case .invalidUTF8(let what):
            return .invalidUTF8(position, what: what)
        case .scan(let failure):
            switch failure {
            case .unterminatedQuote: return .unterminatedQuote(position)
            case .quoteInUnquotedField: return .quoteInUnquotedField(position)
            case .textAfterClosingQuote(let byte): return .textAfterClosingQuote(position, found: describeByte(byte), delimiter: delimiter)
            case .nulByte: return .nulByte(position)
            case .cap(let cap, let limit): return .capExceeded(position, cap: cap, limit: limit)
            }
        }
    }
}

/// Text of a field: quotes already excluded by the scanner, doubled quotes undone here.
func fieldBytes(_ base: UnsafePointer<UInt8>, _ span: FieldSpan) -> [UInt8] {
    let raw = UnsafeBufferPointer(start: base + span.start, count: span.end - span.start)
    guard span.hasEscapedQuotes else { return Array(raw) }
    var bytes: [UInt8] = []
    bytes.reserveCapacity(raw.count)
    var i = 0
    while i < raw.count {
        bytes.append(raw[i])
        i += raw[i] == UInt8(ascii: "\"") ? 2 : 1
    }
    return bytes
}

/// Distinct label texts with a cheap lookup for the usual handful of classes.
final class LabelInterner {
    private(set) var values: [String] = []
    /// The first few values' bytes, flat, for a linear memcmp search without allocation.
    private var flat: UnsafeMutablePointer<UInt8>
    private var flatCapacity = 1024
    private var flatCount = 0
    private var flatOffsets: [Int] = [0]
    private var lastID: Int32 = -1
    private var index: [[UInt8]: Int32] = [:]
    private let linearLimit = 16

    init() { flat = .allocate(capacity: flatCapacity) }
    deinit { flat.deallocate() }

    @inline(__always)
    private func matches(_ id: Int, _ bytes: UnsafeBufferPointer<UInt8>) -> Bool {
        let start = flatOffsets[id], length = flatOffsets[id + 1] - start
        guard length == bytes.count else { return false }
        return length == 0 || memcmp(flat + start, bytes.baseAddress!, length) == 0
    }

    /// The id of `bytes`, adding it if new; nil when new and not valid UTF-8.
    func id(of bytes: UnsafeBufferPointer<UInt8>) -> Int32? {
        let linearCount = min(values.count, linearLimit)
        if lastID >= 0 && Int(lastID) < linearCount && matches(Int(lastID), bytes) { return lastID }
        for id in 0..<linearCount where matches(id, bytes) {
            lastID = Int32(id)
            return lastID
        }
        if values.count > linearLimit, let id = index[Array(bytes)] { return id }
        guard let text = String(validating: bytes, as: UTF8.self) else { return nil }
        let id = Int32(values.count)
        values.append(text)
        index[Array(bytes)] = id
        if values.count <= linearLimit {
            if flatCount + bytes.count > flatCapacity {
                flatCapacity = 2 * (flatCount + bytes.count)
                let grown = UnsafeMutablePointer<UInt8>.allocate(capacity: flatCapacity)
                grown.update(from: flat, count: flatCount)
                flat.deallocate()
                flat = grown
            }
            if let source = bytes.baseAddress { (flat + flatCount).update(from: source, count: bytes.count) }
            flatCount += bytes.count
            flatOffsets.append(flatCount)
        }
        return id
    }
}

final class RowAssembler {
    let plan: ColumnPlan
    let featureCount: Int
    private(set) var rowCount = 0
    /// The rows' feature values, row-major. A Swift array from the start, so that the result takes
    /// it as is: copying a finished matrix cost more (page faults of a second buffer) than appending.
    private var features: [Float] = []
    /// The row being parsed; appended to `features` once the whole record is known to be good.
    private let row: UnsafeMutablePointer<Float>
    /// The fast path's divisors: `row[k]` holds a numerator until the row is divided by them.
    private let divisors: UnsafeMutablePointer<Float>
    let labels = LabelInterner()
    private(set) var labelIDs: [Int32] = []
    private(set) var targets: [Float] = []
    private(set) var keep: [[String]]
    /// Skipped rows' issues, first few kept (skip-bad-rows mode).
    private(set) var skippedCount = 0
    private(set) var skippedIssues: [RowIssue] = []

    /// The fast path's field ends (see `addPlainRecord`): index -1, one per field, and room for
    /// a window's worth (64) of delimiters more.
    private let fieldEndStorage: UnsafeMutablePointer<Int>
    private var fieldEnds: UnsafeMutablePointer<Int> { fieldEndStorage + 1 }
    private let featureColumns: UnsafeMutablePointer<Int>
    private let delimiter: UInt8
    private let limits: CSVLimits
    /// The fast path handles only plain rows: numeric features and at most a categorical label.
    private let fastPathApplies: Bool
    private let tables = DecimalTables.shared

    init(plan: ColumnPlan, delimiter: UInt8, limits: CSVLimits, expectedRows: Int = 1024) {
        self.plan = plan
        self.delimiter = delimiter
        self.limits = limits
        featureCount = plan.featureColumns.count
        fieldEndStorage = .allocate(capacity: 1 + plan.fieldCount + 64)
        featureColumns = .allocate(capacity: max(1, featureCount))
        featureColumns.initialize(from: plan.featureColumns, count: featureCount)
        fastPathApplies = plan.keepColumns.isEmpty && plan.labelKind == .categorical
        row = .allocate(capacity: max(1, featureCount))
        divisors = .allocate(capacity: max(1, featureCount))
        keep = Array(repeating: [], count: plan.keepColumns.count)
        features.reserveCapacity(max(16, expectedRows) * featureCount)
        let byteCount = features.capacity * MemoryLayout<Float>.stride
        features.withUnsafeMutableBufferPointer { adviseHugePages(UnsafeMutableRawPointer($0.baseAddress), byteCount: byteCount) }
    }

    deinit {
        row.deallocate()
        divisors.deallocate()
        fieldEndStorage.deallocate()
        featureColumns.deallocate()
    }

    /// Parses one plain record at `start` straight into a row: unquoted fields, numeric features
    /// that parse, the expected field count, complete within `end`. Returns where the next record
    /// starts, or nil to let the general path (scanner + `add`) handle it from `start` again,
    /// which gives the same result for plain records and the proper error otherwise.
    ///
    /// Two passes: the field boundaries from `fieldStops` masks, 64 bytes at a time (no loop over
    /// a field's bytes), then the numbers, each knowing its end, so that they do not wait for one
    /// another (out-of-order execution overlaps them).
    @inline(never)
    func addPlainRecord(_ base: UnsafePointer<UInt8>, start: Int, end: Int, atEndOfInput: Bool) -> Int? {
        guard fastPathApplies, start < end else { return nil }
        let first = base[start]
        if first == 10 || first == 13 { return nil }  // blank lines: the scanner skips them
        let lastColumn = plan.fieldCount - 1
        let delimiter = self.delimiter
        // fieldEnds[c]: where field c ends (its delimiter, or the record's end for the last one);
        // fieldEnds[-1] = start - 1, so field c is fieldEnds[c - 1] + 1 ..< fieldEnds[c].
        let fieldEnds = self.fieldEnds
        fieldEnds[-1] = start &- 1
        var count = 0  // delimiters so far
        var window = start
        var recordEnd = end
        while true {
            var (delimiters, recordStops) = fieldStops(base, window: window, end: end, delimiter: delimiter)
            if recordStops != 0 {
                recordEnd = window &+ recordStops.trailingZeroBitCount
                delimiters &= (1 << UInt64(recordStops.trailingZeroBitCount)) &- 1
            }
            while delimiters != 0 {
                fieldEnds[count] = window &+ delimiters.trailingZeroBitCount
                delimiters &= delimiters &- 1
                count &+= 1
            }
            // Too many fields, or a record past its cap: the general path reports it. (The
            // buffer has room for a window's worth of delimiters past the expected count.)
            if count > lastColumn || window &- start > limits.maxRecordBytes { return nil }
            if recordStops != 0 { break }
            window &+= 64
        }
        guard count == lastColumn else { return nil }
        fieldEnds[lastColumn] = recordEnd
        // Fields past the cap, which a short record cannot have.
        if recordEnd &- start > limits.maxFieldBytes {
            for column in 0...lastColumn where fieldEnds[column] &- fieldEnds[column &- 1] &- 1 > limits.maxFieldBytes { return nil }
        }

        // The numbers: each field must be a finite number as a whole, as `add` requires. Short
        // decimals here; from the first other field on, `parseRemainingFeatures` (a loop without
        // calls keeps its values in registers).
        let row = self.row, divisors = self.divisors, featureColumns = self.featureColumns, tables = self.tables
        var k = 0
        // The fast path reads 16 bytes from a field's start, which is at most `recordEnd`.
        if recordEnd <= end &- shortDecimalReadBytes {
            while k < featureCount {
                let column = featureColumns[k]
                let fieldStart = fieldEnds[column &- 1] &+ 1
                guard let quotient = shortDecimalQuotient(base, start: fieldStart, length: fieldEnds[column] &- fieldStart,
                                                          tables: tables) else { break }
                row[k] = quotient.numerator
                divisors[k] = quotient.divisor
                k &+= 1
            }
            // Each field's one IEEE division, a row at a time (vectorized).
            for j in 0..<k { row[j] = row[j] / divisors[j] }
        }
        if k < featureCount && !parseRemainingFeatures(base, from: k) { return nil }

        // The record ends with a line end, or the end of the input.
        var i = recordEnd
        if i < end {
            let byte = base[i]
            if byte == 10 {
                i += 1
            } else if byte == 13 {
                if i + 1 < end {
                    i += base[i + 1] == 10 ? 2 : 1
                } else if atEndOfInput {
                    i += 1
                } else {
                    return nil
                }
            } else {
                return nil  // a quote or NUL
            }
        } else if !atEndOfInput {
            return nil
        }
        if i - start > limits.maxRecordBytes { return nil }
        if let labelColumn = plan.labelColumn {
            let labelStart = fieldEnds[labelColumn - 1] + 1
            guard let id = labels.id(of: UnsafeBufferPointer(start: base + labelStart, count: fieldEnds[labelColumn] - labelStart)) else { return nil }
            labelIDs.append(id)
        }
        appendRow()
        return i
    }

    /// `addPlainRecord`'s features from the k-th on, with the general parser; false when one is
    /// not a finite number.
    @inline(never)
    private func parseRemainingFeatures(_ base: UnsafePointer<UInt8>, from first: Int) -> Bool {
        for k in first..<featureCount {
            let column = featureColumns[k]
            guard let value = parseFloat32(base, start: fieldEnds[column - 1] + 1, end: fieldEnds[column]), value.isFinite else { return false }
            row[k] = value
        }
        return true
    }

    func recordSkipped(_ issue: RowIssue) {
        skippedCount += 1
        if skippedIssues.count < SkippedRows.reasonsKept { skippedIssues.append(issue) }
    }

    /// Adds the record in `scanner`; returns the issue instead when the row is bad (nothing added).
    func add(_ scanner: RecordScanner, base: UnsafePointer<UInt8>) -> RowIssue? {
        let fields = scanner.fields
        let count = scanner.fieldCount
        if count != plan.fieldCount {
            let kind: RowIssue.Kind = count < plan.fieldCount ? .missingFields(found: count) : .extraFields(found: count)
            return RowIssue(kind, offset: scanner.recordStart, column: nil)
        }
        let row = self.row
        for k in 0..<featureCount {
            let column = featureColumns[k]
            let span = fields[column]
            if let value = parseFloat32(base, start: span.start, end: span.end), value.isFinite {
                row[k] = value
            } else {
                return numberIssue(span: span, column: column, base: base)
            }
        }
        if let labelColumn = plan.labelColumn {
            let span = fields[labelColumn]
            switch plan.labelKind {
            case .numeric:
                guard let value = parseFloat32(base, start: span.start, end: span.end), value.isFinite else {
                    return numberIssue(span: span, column: labelColumn, base: base)
                }
                targets.append(value)
            case .categorical:
                let id: Int32?
                if span.hasEscapedQuotes {
                    id = fieldBytes(base, span).withUnsafeBufferPointer { labels.id(of: $0) }
                } else {
                    id = labels.id(of: UnsafeBufferPointer(start: base + span.start, count: span.end - span.start))
                }
                guard let id else { return RowIssue(.invalidUTF8(what: "label"), offset: span.start, column: labelColumn) }
                labelIDs.append(id)
            }
        }
        for (k, column) in plan.keepColumns.enumerated() {
            guard let text = String(validating: fieldBytes(base, fields[column]), as: UTF8.self) else {
                if plan.labelColumn != nil {
                    if plan.labelKind == .numeric { targets.removeLast() } else { labelIDs.removeLast() }
                }
                for previous in 0..<k { keep[previous].removeLast() }
                return RowIssue(.invalidUTF8(what: "field"), offset: fields[column].start, column: column)
            }
            keep[k].append(text)
        }
        appendRow()
        return nil
    }

    private func numberIssue(span: FieldSpan, column: Int, base: UnsafePointer<UInt8>) -> RowIssue {
        let bytes = UnsafeRawBufferPointer(start: base + span.start, count: span.end - span.start)
        let excerpt = quotedExcerpt(bytes)
        if bytes.allSatisfy({ $0 == 32 || $0 == 9 }) { return RowIssue(.emptyNumber, offset: span.start, column: column) }
        if spellsNonFinite(bytes) || parseFloat32(base, start: span.start, end: span.end) != nil {
            return RowIssue(.nonFinite(excerpt), offset: span.start, column: column)
        }
        return RowIssue(.notANumber(excerpt), offset: span.start, column: column)
    }

    @inline(__always)
    private func appendRow() {
        features.append(contentsOf: UnsafeBufferPointer(start: row, count: featureCount))
        rowCount += 1
    }

    /// The rows so far (skipped rows not included; the caller resolves their reasons).
    func rows() -> ParsedRows {
        var rows = rowsWithoutFeatures()
        rows.features = features
        return rows
    }

    /// The rows so far with an empty `features` (the caller copies `featureBuffer` itself).
    func rowsWithoutFeatures() -> ParsedRows {
        ParsedRows(rowCount: rowCount, featureCount: featureCount, features: [],
                   labelValues: labels.values, labelIDs: labelIDs, targets: targets, keep: keep)
    }

    /// The feature values of the rows so far, row-major.
    var featureValues: [Float] { features }
}

/// Where fields and records may end in `base[window..<window + 64]`: bit k of `delimiters` set
/// when byte window + k is the delimiter, of `recordStops` when it is CR, LF, a quote or NUL.
/// Bytes past `end` are not read; `end` itself, when inside the window, is a record stop, so that
/// a record running to the end of the buffer ends there.
@inline(__always)
func fieldStops(_ base: UnsafePointer<UInt8>, window: Int, end: Int, delimiter: UInt8) -> (delimiters: UInt64, recordStops: UInt64) {
    if end &- window >= 64 {
        var recordStops: UInt64 = 0
        let delimiters = nnkit_csv_delimiters64(base + window, delimiter, &recordStops)
        return (delimiters, recordStops)
    }
    return fieldStopsNearEnd(base, window: window, end: end, delimiter: delimiter)
}

/// `fieldStops` for a window that `end` cuts: the bytes before `end` copied into a padded window.
@inline(never)
func fieldStopsNearEnd(_ base: UnsafePointer<UInt8>, window: Int, end: Int, delimiter: UInt8) -> (delimiters: UInt64, recordStops: UInt64) {
    let count = max(0, end - window)
    return withUnsafeTemporaryAllocation(of: UInt8.self, capacity: 64) { padded in
        let pad: UInt8 = delimiter == UInt8(ascii: "x") ? UInt8(ascii: "y") : UInt8(ascii: "x")
        padded.initialize(repeating: pad)
        if count > 0 { _ = padded.initialize(fromContentsOf: UnsafeBufferPointer(start: base + window, count: count)) }
        var recordStops: UInt64 = 0
        let delimiters = nnkit_csv_delimiters64(padded.baseAddress!, delimiter, &recordStops)
        return (delimiters, recordStops | (1 << UInt64(count)))
    }
}

/// Asks Linux to back the 2 MB-aligned part of a large buffer about to be filled with transparent
/// huge pages (THP in "madvise" mode): one page fault per 2 MB instead of 512. The faults of a
/// large CSV load's feature matrix cost about a sixth of its time with 4 KB pages. Only a hint:
/// without THP nothing changes.
func adviseHugePages(_ start: UnsafeMutableRawPointer?, byteCount: Int) {
    #if os(Linux)
    let hugePage = 2 << 20
    guard let start, byteCount >= 2 * hugePage else { return }
    let first = (Int(bitPattern: start) + hugePage - 1) & ~(hugePage - 1)
    let last = (Int(bitPattern: start) + byteCount) & ~(hugePage - 1)
    if last > first { _ = madvise(UnsafeMutableRawPointer(bitPattern: first), last - first, MADV_HUGEPAGE) }
    #endif
}
