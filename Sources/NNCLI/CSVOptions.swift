import ArgumentParser
import NNData

/// How CSV input is read; shared by `nntrain` and `nninfer` so both accept the same dialect.
public struct CSVOptions: ParsableArguments {
    @Option(help: ArgumentHelp("Field delimiter: one ASCII character, or 'tab'.", valueName: "char"))
    public var delimiter: String = ","

    @Flag(name: .customLong("no-header"), help: "The first row is data, not column names; columns are then named 0, 1, 2, …")
    public var noHeader = false

    @Flag(help: "Skip malformed rows instead of stopping at the first one; their count and first reasons are reported at the end.")
    public var skipBadRows = false

    @Option(help: ArgumentHelp("Longest CSV field accepted, in bytes.", valueName: "bytes"))
    public var maxFieldBytes: Int = CSVLimits.defaultMaxFieldBytes

    @Option(help: ArgumentHelp("Most CSV columns accepted.", valueName: "count"))
    public var maxColumns: Int = CSVLimits.defaultMaxColumns

    @Option(help: ArgumentHelp("Longest CSV record accepted, in bytes.", valueName: "bytes"))
    public var maxRecordBytes: Int = CSVLimits.defaultMaxRecordBytes

    public init() {}

    public func validate() throws {
        guard CSVFormat.delimiter(from: delimiter) != nil else {
            throw ValidationError("--delimiter must be one ASCII character other than a quote or line break (or 'tab'), got '\(delimiter)'")
        }
        for (name, value) in [("--max-field-bytes", maxFieldBytes), ("--max-columns", maxColumns), ("--max-record-bytes", maxRecordBytes)] where value < 1 {
            throw ValidationError("\(name) must be at least 1, got \(value)")
        }
    }

    /// The dialect and caps these options describe.
    public var format: CSVFormat {
        CSVFormat(delimiter: CSVFormat.delimiter(from: delimiter) ?? UInt8(ascii: ","), hasHeader: !noHeader,
                  limits: CSVLimits(maxFieldBytes: maxFieldBytes, maxColumns: maxColumns, maxRecordBytes: maxRecordBytes))
    }
}
