// The one CSV parser core: splits bytes into records and fields (RFC 4180). Used by the whole-file
// loader (on a mapped file, per chunk), by the streaming reader (on a refilled block buffer), and
// by the header reader. It never copies field bytes: it records their byte ranges.

/// One field of the current record: bytes `start..<end` of the buffer (quotes excluded);
/// `hasEscapedQuotes` means the content holds doubled quotes ("") to be undone for text use.
struct FieldSpan {
    var start: Int
    var end: Int
    var hasEscapedQuotes: Bool
}

/// What went wrong while scanning; structural, so a reader cannot skip past it reliably.
struct ScanFailure: Error {
    enum Kind {
        case unterminatedQuote
        case quoteInUnquotedField
        case textAfterClosingQuote(UInt8)
        case nulByte
        case cap(CSVCap, Int)
    }
    var kind: Kind
    /// Byte offset (in the scanned buffer) the problem points at.
    var offset: Int
    /// 0-based field index within the record.
    var fieldIndex: Int
}

enum ScanOutcome {
    /// A record was found; its fields are in `scanner.fields`, the next record starts at `next`.
    case record(next: Int)
    /// The buffer ends before the record does; call again with more bytes (same start).
    case needMore
    /// No more records (only at the end of input).
    case endOfInput
}

private let quote = UInt8(ascii: "\"")
private let lineFeed: UInt8 = 10
private let carriageReturn: UInt8 = 13

final class RecordScanner {
    let delimiter: UInt8
    let limits: CSVLimits
    /// Fields of the last record scanned (valid until the next scan).
    private(set) var fields: UnsafeMutablePointer<FieldSpan>
    private(set) var fieldCount = 0
    private var fieldCapacity: Int
    /// Set by a successful scan: where the record's first field starts (after skipped blank lines).
    private(set) var recordStart = 0
    /// Set by a successful scan: blank lines skipped before the record.
    private(set) var blankLinesSkipped = 0
    /// Set by a successful scan: line breaks consumed by the record itself (inside quotes and its terminator).
    private(set) var lineBreaksInRecord = 0
    /// 1 for the bytes that end an unquoted field: delimiter, quote, CR, LF, NUL.
    private let isSpecial: UnsafeMutablePointer<Bool>

    init(delimiter: UInt8, limits: CSVLimits) {
        self.delimiter = delimiter
        self.limits = limits
        fieldCapacity = 64
        fields = .allocate(capacity: fieldCapacity)
        isSpecial = .allocate(capacity: 256)
        isSpecial.initialize(repeating: false, count: 256)
        for byte in [delimiter, quote, lineFeed, carriageReturn, 0] { isSpecial[Int(byte)] = true }
    }

    deinit {
        fields.deallocate()
        isSpecial.deallocate()
    }

    private func appendField(_ span: FieldSpan, offset: Int) throws {
        if fieldCount == fieldCapacity {
            let newCapacity = fieldCapacity * 2
            let grown = UnsafeMutablePointer<FieldSpan>.allocate(capacity: newCapacity)
            grown.moveInitialize(from: fields, count: fieldCount)
            fields.deallocate()
            fields = grown
            fieldCapacity = newCapacity
        }
        fields[fieldCount] = span
        fieldCount += 1
        if fieldCount > limits.maxColumns {
            throw ScanFailure(kind: .cap(.maxColumns, limits.maxColumns), offset: offset, fieldIndex: fieldCount - 1)
        }
    }

    /// Scans one record of `base[start..<end]`. `atEndOfInput` says no bytes follow `end`; when
    /// false, a record touching `end` is incomplete and `.needMore` is returned (caps are still
    /// enforced on what has been seen, so a huge field fails once the cap is passed).
    func scan(_ base: UnsafePointer<UInt8>, start: Int, end: Int, atEndOfInput: Bool) throws -> ScanOutcome {
        let delimiter = self.delimiter
        let isSpecial = self.isSpecial
        let maxField = limits.maxFieldBytes
        var i = start
        var blanks = 0
        // Empty lines are not records.
        while i < end {
            let byte = base[i]
            if byte == lineFeed {
                i += 1
            } else if byte == carriageReturn {
                if i + 1 < end {
                    i += base[i + 1] == lineFeed ? 2 : 1
                } else if atEndOfInput {
                    i += 1
                } else {
                    return .needMore
                }
            } else {
                break
            }
            blanks += 1
        }
        if i == end { return atEndOfInput ? .endOfInput : .needMore }
        let recordStart = i
        var breaks = 0
        fieldCount = 0

        while true {
            // One field starting at i (i <= end).
            if i < end && base[i] == quote {
                let contentStart = i + 1
                var j = contentStart
                var escaped = false
                let capIndex = contentStart + maxField  // content may not reach this index
                while true {
                    if j >= end {
                        if j > capIndex { throw ScanFailure(kind: .cap(.maxFieldBytes, maxField), offset: i, fieldIndex: fieldCount) }
                        if atEndOfInput { throw ScanFailure(kind: .unterminatedQuote, offset: i, fieldIndex: fieldCount) }
                        return try needMore(recordStart: recordStart, end: end)
                    }
                    let byte = base[j]
                    if byte == quote {
                        if j + 1 < end {
                            if base[j + 1] == quote {
                                escaped = true
                                j += 2
                                // Checked here too: a field of escaped quotes passed the cap unchecked when
                                // the whole field was in memory, but not when streamed (found by the csv fuzzer).
                                if j > capIndex { throw ScanFailure(kind: .cap(.maxFieldBytes, maxField), offset: i, fieldIndex: fieldCount) }
                                continue
                            }
                            break
                        }
                        if atEndOfInput { break }
                        return try needMore(recordStart: recordStart, end: end)
                    } else if byte == 0 {
                        throw ScanFailure(kind: .nulByte, offset: j, fieldIndex: fieldCount)
                    } else if byte == lineFeed {
                        breaks += 1
                    } else if byte == carriageReturn {
                        if j + 1 < end {
                            if base[j + 1] != lineFeed { breaks += 1 }
                        } else if atEndOfInput {
                            breaks += 1
                        } else {
                            return try needMore(recordStart: recordStart, end: end)
                        }
                    }
                    j += 1
                    if j > capIndex { throw ScanFailure(kind: .cap(.maxFieldBytes, maxField), offset: i, fieldIndex: fieldCount) }
                }
                // base[j] is the closing quote.
                try appendField(FieldSpan(start: contentStart, end: j, hasEscapedQuotes: escaped), offset: i)
                i = j + 1
                if i < end {
                    let next = base[i]
                    if next != delimiter && next != lineFeed && next != carriageReturn {
                        throw ScanFailure(kind: .textAfterClosingQuote(next), offset: i, fieldIndex: fieldCount - 1)
                    }
                } else if !atEndOfInput {
                    return try needMore(recordStart: recordStart, end: end)
                }
            } else {
                var j = i
                let limit = min(end, i + maxField + 1)
                while j < limit && !isSpecial[Int(base[j])] { j += 1 }
                if j == limit && j - i > maxField {
                    throw ScanFailure(kind: .cap(.maxFieldBytes, maxField), offset: i, fieldIndex: fieldCount)
                }
                if j < end {
                    let byte = base[j]
                    if byte == quote { throw ScanFailure(kind: .quoteInUnquotedField, offset: j, fieldIndex: fieldCount) }
                    if byte == 0 { throw ScanFailure(kind: .nulByte, offset: j, fieldIndex: fieldCount) }
                } else if !atEndOfInput {
                    return try needMore(recordStart: recordStart, end: end)
                }
                try appendField(FieldSpan(start: i, end: j, hasEscapedQuotes: false), offset: i)
                i = j
            }
            if i - recordStart > limits.maxRecordBytes {
                throw ScanFailure(kind: .cap(.maxRecordBytes, limits.maxRecordBytes), offset: recordStart, fieldIndex: fieldCount - 1)
            }
            // After a field: delimiter, line end, or end of input.
            if i == end { break }  // only reachable at the end of input
            let byte = base[i]
            if byte == delimiter {
                i += 1
                if i == end {
                    if !atEndOfInput { return try needMore(recordStart: recordStart, end: end) }
                    try appendField(FieldSpan(start: i, end: i, hasEscapedQuotes: false), offset: i)
                    break
                }
                continue
            }
            if byte == lineFeed {
                i += 1
            } else {  // carriage return
                if i + 1 < end {
                    i += base[i + 1] == lineFeed ? 2 : 1
                } else if atEndOfInput {
                    i += 1
                } else {
                    return try needMore(recordStart: recordStart, end: end)
                }
            }
            breaks += 1
            break
        }
        self.recordStart = recordStart
        self.blankLinesSkipped = blanks
        self.lineBreaksInRecord = breaks
        return .record(next: i)
    }

    private func needMore(recordStart: Int, end: Int) throws -> ScanOutcome {
        if end - recordStart > limits.maxRecordBytes {
            throw ScanFailure(kind: .cap(.maxRecordBytes, limits.maxRecordBytes), offset: recordStart, fieldIndex: max(0, fieldCount - 1))
        }
        return .needMore
    }
}

/// Number of line breaks (LF, CRLF, lone CR, each counted once) in `base[from..<to]`.
func countLineBreaks(_ base: UnsafePointer<UInt8>, from: Int, to: Int) -> Int {
    var count = 0
    var i = from
    while i < to {
        let byte = base[i]
        if byte == lineFeed {
            count += 1
        } else if byte == carriageReturn && (i + 1 >= to || base[i + 1] != lineFeed) {
            count += 1
        }
        i += 1
    }
    return count
}
