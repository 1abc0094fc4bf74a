import ArgumentParser
import NNData
import NNKit

extension PredictionFormat: ExpressibleByArgument {}

/// What `nninfer` writes and how it batches; shared by the predict command and its tests.
public struct InferOutputOptions: ParsableArguments {
    @Option(name: [.short, .long], help: ArgumentHelp("Write predictions to this file (atomically: a temporary file renamed at the end) instead of standard output.", valueName: "file"))
    public var output: String?

    @Option(help: ArgumentHelp("Predictions format: csv (with a header) or jsonl (one JSON object per line, same fields).", valueName: "csv|jsonl"))
    public var format: PredictionFormat = .csv

    @Flag(help: "Add one column per class, p_<class>, with its probability.")
    public var probabilities = false

    @Option(name: .customLong("top-k"), help: ArgumentHelp("Add the K most probable classes as columns top1,p1,…,topK,pK.", valueName: "K"))
    public var topK: Int = 0

    @Option(parsing: .upToNextOption, help: ArgumentHelp("Input columns copied to the output first, as raw text (e.g. a row id).", valueName: "column"))
    public var keep: [String] = []

    @Option(help: ArgumentHelp("Label column to evaluate against (default: the label name stored in the model, if the input has it).", valueName: "column"))
    public var label: String?

    @Option(help: ArgumentHelp("Rows read, predicted and written at a time; memory grows with it, not with the input.", valueName: "rows"))
    public var batchSize: Int = 4096

    @Option(help: ArgumentHelp("Write the evaluation as JSON (counts that merge exactly; see merge-metrics). Needs a label column.", valueName: "file.json"))
    public var metrics: String?

    @Option(help: ArgumentHelp("Write a self-contained HTML evaluation report (confusion heat map, per-class bars). Needs a label column.", valueName: "file.html"))
    public var report: String?

    @Flag(name: [.short, .long], help: "Do not print the evaluation (or the skipped-rows summary) to standard error.")
    public var quiet = false

    public init() {}

    public func validate() throws {
        guard (1...1_000_000).contains(batchSize) else {
            throw ValidationError("--batch-size must be from 1 to 1000000 rows, got \(batchSize)")
        }
        guard topK >= 0 else { throw ValidationError("--top-k must be 0 or more, got \(topK)") }
        if let output, output == metrics || output == report {
            throw ValidationError("--output must differ from --metrics and --report, got '\(output)' twice")
        }
    }

    /// The inference options these flags describe (the CSV options give `skipBadRows`).
    public func inferenceOptions(skipBadRows: Bool) -> InferenceOptions {
        var options = InferenceOptions()
        options.batchSize = batchSize
        options.skipBadRows = skipBadRows
        options.format = format
        options.probabilities = probabilities
        options.topK = topK
        options.keep = keep.map(ColumnReference.init)
        options.label = label.map(ColumnReference.init)
        return options
    }
}

