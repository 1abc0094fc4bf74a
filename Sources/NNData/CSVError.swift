// Errors of the CSV reader: one case per thing that can be wrong with a file, each naming where.

/// Where in a CSV source something was found: the source (file path or "<stdin>"), the 1-based
/// physical line (line breaks inside quoted fields count), and optionally the 1-based column
/// (field number) with its header name when the file has a header.
public struct CSVPosition: Equatable, CustomStringConvertible {
    public var source: String
    public var line: Int?
    public var column: Int?
    public var columnName: String?

    public init(source: String, line: Int? = nil, column: Int? = nil, columnName: String? = nil) {
        self.source = source
        self.line = line
        self.column = column
        self.columnName = columnName
    }

    /// e.g. `data.csv, line 12, column 3 ("age")`.
    public var description: String {
        var text = source
        if let line { text += ", line \(line)" }
        if let column {
            text += ", column \(column)"
            if let columnName { text += " (\(quotedName(columnName)))" }
        }
        return text
    }
}

/// The caps that keep a hostile file from exhausting memory; see `CSVLimits`.
public enum CSVCap: String, Equatable {
    case maxFieldBytes, maxColumns, maxRecordBytes

    /// The command-line option that raises this cap (the CLI uses these names).
    public var option: String {
        switch self {
        case .maxFieldBytes: return "--max-field-bytes"
        case .maxColumns: return "--max-columns"
        case .maxRecordBytes: return "--max-record-bytes"
        }
    }
}

public enum CSVError: Error, Equatable, CustomStringConvertible {
    case cannotOpen(source: String, reason: String)
    case readFailed(source: String, reason: String)
    case isDirectory(source: String)
    /// No records at all (zero bytes, only a BOM, or only blank lines).
    case emptyFile(source: String)
    /// A header row and nothing after it.
    case headerOnly(source: String)
    /// Every data row was bad and skipped.
    case noValidRows(source: String, skipped: Int)
    case missingFields(CSVPosition, found: Int, expected: Int, firstMissing: String)
    case extraFields(CSVPosition, found: Int, expected: Int)
    case unterminatedQuote(CSVPosition)
    case quoteInUnquotedField(CSVPosition)
    case textAfterClosingQuote(CSVPosition, found: String, delimiter: UInt8)
    case nulByte(CSVPosition)
    case invalidUTF8(CSVPosition, what: String)
    case notANumber(CSVPosition, found: String)
    case emptyNumber(CSVPosition)
    case nonFiniteNumber(CSVPosition, found: String)
    case capExceeded(CSVPosition, cap: CSVCap, limit: Int)
    case duplicateColumnName(source: String, name: String, firstColumn: Int, secondColumn: Int)
    case missingColumn(source: String, name: String, available: [String])
    case columnIndexOutOfRange(source: String, index: Int, columnCount: Int)
    case columnCountMismatch(source: String, found: Int, expected: Int, hint: String)
    case noFeatureColumns(source: String)

    public var description: String {
        switch self {
        case let .cannotOpen(source, reason):
            return "\(source): cannot open: \(reason)"
        case let .readFailed(source, reason):
            return "\(source): read failed: \(reason)"
        case let .isDirectory(source):
            return "\(source): is a directory; expected a CSV file"
        case let .emptyFile(source):
            return "\(source): empty file; expected a header row and data rows"
        case let .headerOnly(source):
            return "\(source): header row only; expected at least one data row after it"
        case let .noValidRows(source, skipped):
            return "\(source): no valid rows: all \(skipped) data rows were bad and skipped"
        case let .missingFields(position, found, expected, firstMissing):
            return "\(position): missing field: found \(found) field\(found == 1 ? "" : "s"), expected \(expected) (no value for column \(firstMissing))"
        case let .extraFields(position, found, expected):
            return "\(position): extra field: found \(found) fields, expected \(expected)"
        case let .unterminatedQuote(position):
            return "\(position): unterminated quoted field: the file ends inside quotes opened here; expected a closing '\"'"
        case let .quoteInUnquotedField(position):
            return "\(position): quote character inside an unquoted field; expected the whole field in quotes with inner quotes doubled (\"\")"
        case let .textAfterClosingQuote(position, found, delimiter):
            return "\(position): found \(found) after a closing quote; expected the delimiter \(describeByte(delimiter)) or the end of the line"
        case let .nulByte(position):
            return "\(position): NUL byte (0x00) in a field; expected text (is this a binary file?)"
        case let .invalidUTF8(position, what):
            return "\(position): \(what) is not valid UTF-8; expected UTF-8 text"
        case let .notANumber(position, found):
            return "\(position): not a number: found \(found); expected a decimal number such as 1.5, -2 or 3e-4"
        case let .emptyNumber(position):
            return "\(position): empty field; expected a number"
        case let .nonFiniteNumber(position, found):
            return "\(position): found \(found); expected a finite number (NaN, infinity and values beyond the Float32 range are not allowed)"
        case let .capExceeded(position, cap, limit):
            let what: String
            switch cap {
            case .maxFieldBytes: what = "field longer than"
            case .maxColumns: what = "more columns than"
            case .maxRecordBytes: what = "record (line) longer than"
            }
            let unit = cap == .maxColumns ? "" : " bytes"
            return "\(position): \(what) the cap of \(limit)\(unit) (\(cap.rawValue)); raise it with \(cap.option) if the file is legitimate"
        case let .duplicateColumnName(source, name, first, second):
            return "\(source), line 1: duplicate column name \(quotedName(name)) (columns \(first) and \(second)); expected unique header names"
        case let .missingColumn(source, name, available):
            return "\(source): no column named \(quotedName(name)); the file has \(abbreviatedList(available))"
        case let .columnIndexOutOfRange(source, index, count):
            return "\(source): column index \(index) is out of range; expected 0 to \(count - 1) (the file has \(count) column\(count == 1 ? "" : "s"))"
        case let .columnCountMismatch(source, found, expected, hint):
            return "\(source): found \(found) column\(found == 1 ? "" : "s"), expected \(expected)\(hint.isEmpty ? "" : "; \(hint)")"
        case let .noFeatureColumns(source):
            return "\(source): no feature columns left after choosing the label and the feature selection"
        }
    }
}

/// `"a", "b", "c", … and 12 more` — at most `limit` names, quoted.
func abbreviatedList(_ names: [String], limit: Int = 10) -> String {
    if names.isEmpty { return "no columns" }
    let shown = names.prefix(limit).map { quotedName($0) }.joined(separator: ", ")
    return names.count > limit ? "\(shown), … and \(names.count - limit) more" : shown
}

/// A byte as a user would read it in a message: ',' or 0x09 (tab).
func describeByte(_ byte: UInt8) -> String {
    switch byte {
    case 9: return "'\\t' (tab)"
    case 32...126: return "'\(Character(Unicode.Scalar(byte)))'"
    default: return "0x" + String(byte, radix: 16, uppercase: true)
    }
}

/// A column name for a message: quoted, at most 60 bytes, line breaks and other control characters
/// escaped, so a header field holding a newline cannot split a one-line error message.
func quotedName(_ name: String, limit: Int = 60) -> String {
    Array(name.utf8).withUnsafeBytes { quotedExcerpt($0, limit: limit) }
}

/// Field text for an error message: quoted, at most 40 characters, control and invalid bytes escaped.
func quotedExcerpt(_ bytes: UnsafeRawBufferPointer, limit: Int = 40) -> String {
    let shown = bytes.prefix(limit)
    var text = ""
    for scalar in String(decoding: shown, as: UTF8.self).unicodeScalars {
        if scalar.value < 32 || scalar.value == 127 {
            text += "\\u{" + String(scalar.value, radix: 16) + "}"
        } else {
            text.unicodeScalars.append(scalar)
        }
    }
    return "\"" + text + (bytes.count > limit ? "…" : "") + "\""
}
