import ArgumentParser
import NNCLI
import NNKit

/// `nninfer [predict] MODEL [DATA.csv | -]`: predictions out, evaluation to standard error.
struct Predict: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Predict every row of a CSV input (the default command); evaluate when labels are present.",
        discussion: """
        Output columns (CSV header or JSONL keys): the --keep columns, then prediction and probability \
        (regression: prediction, or prediction_<target> per target), then top1,p1,…,topK,pK with --top-k, \
        then p_<class> per class with --probabilities. Numbers are printed as C's %.6g; the output is \
        identical for any --threads and --batch-size.
        """)

    @Argument(help: ArgumentHelp("The model checkpoint (.nnck).", valueName: "model"))
    var model: String

    @Argument(help: ArgumentHelp("CSV input; '-' or nothing for standard input.", valueName: "data.csv"))
    var data: String = "-"

    @OptionGroup(title: "Output")
    var output: InferOutputOptions

    @OptionGroup(title: "CSV input")
    var csv: CSVOptions

    @OptionGroup(title: "Performance")
    var threads: ThreadOptions

    @OptionGroup(title: "Checkpoint caps")
    var checkpointLimits: CheckpointLimitOptions

    func run() throws {
        var session = InferenceSession(
            modelPath: model, dataPath: data, csvFormat: csv.format,
            options: output.inferenceOptions(skipBadRows: csv.skipBadRows),
            outputPath: output.output, metricsPath: output.metrics, reportPath: output.report, threads: threads.count)
        session.readerLimits = checkpointLimits.limits
        session.exitsOnInterrupt = true
        let result = try session.run()
        guard !output.quiet else { return }
        if result.skipped.count > 0 {
            var text = "skipped \(result.skipped.count) bad row\(result.skipped.count == 1 ? "" : "s")"
            text += result.skipped.firstReasons.isEmpty ? "\n" : "; the first:\n"
            for reason in result.skipped.firstReasons { text += "  \(reason)\n" }
            StandardStreams.printError(text)
        }
        if let evaluation = result.evaluation {
            StandardStreams.printError(evaluation.text(title: "evaluation against column \"\(result.labelColumn ?? "")\""))
        }
    }
}
