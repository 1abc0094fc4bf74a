// How a CSV file is laid out, and the caps that bound memory on hostile input.

/// Caps on what one record may hold. A file that exceeds one gets `CSVError.capExceeded`, naming
/// the cap and the option that raises it; memory use of every reader is bounded by these caps
/// (plus the batch being assembled), whatever the input.
public struct CSVLimits: Equatable {
    /// Longest field, in bytes (quotes excluded). Default 1 MiB.
    public var maxFieldBytes: Int
    /// Most fields in one record. Default 65,536.
    public var maxColumns: Int
    /// Longest record, in bytes, line breaks inside quoted fields included. Default 16 MiB.
    public var maxRecordBytes: Int

    public static let defaultMaxFieldBytes = 1 << 20
    public static let defaultMaxColumns = 65_536
    public static let defaultMaxRecordBytes = 16 << 20

    public init(maxFieldBytes: Int = CSVLimits.defaultMaxFieldBytes,
                maxColumns: Int = CSVLimits.defaultMaxColumns,
                maxRecordBytes: Int = CSVLimits.defaultMaxRecordBytes) {
        self.maxFieldBytes = max(1, maxFieldBytes)
        self.maxColumns = max(1, maxColumns)
        self.maxRecordBytes = max(1, maxRecordBytes)
    }
}

/// The dialect: RFC 4180 with a configurable one-byte delimiter and an optional header row.
///
/// Fixed rules, whatever the options: fields may be quoted with '"' (inner quotes doubled);
/// records end with LF, CRLF or a lone CR; a UTF-8 byte-order mark at the start is skipped;
/// completely empty lines are ignored (as pandas does); a NUL byte anywhere is an error.
public struct CSVFormat: Equatable {
    /// One byte: ',' (default), ';', '\t', '|', …; not '"', CR, LF or NUL.
    public var delimiter: UInt8
    /// When false, columns are named by their 0-based index: "0", "1", …
    public var hasHeader: Bool
    public var limits: CSVLimits

    public init(delimiter: UInt8 = UInt8(ascii: ","), hasHeader: Bool = true, limits: CSVLimits = CSVLimits()) {
        precondition(delimiter != UInt8(ascii: "\"") && delimiter != 10 && delimiter != 13 && delimiter != 0,
                     "the delimiter cannot be a quote, a line break or NUL (validate user input with CSVFormat.delimiter(from:))")
        self.delimiter = delimiter
        self.hasHeader = hasHeader
        self.limits = limits
    }

    /// Parses a user's `--delimiter` value: one ASCII character, or the escapes `\t`, `tab`.
    /// Returns nil when it is not usable (a quote, a line break, NUL, empty or several bytes).
    public static func delimiter(from text: String) -> UInt8? {
        if text == "\\t" || text == "tab" { return 9 }
        let bytes = Array(text.utf8)
        guard bytes.count == 1 else { return nil }
        let byte = bytes[0]
        if byte == UInt8(ascii: "\"") || byte == 10 || byte == 13 || byte == 0 || byte >= 128 { return nil }
        return byte
    }
}
