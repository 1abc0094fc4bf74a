import ArgumentParser
import NNCLI

@main
struct NNInfer: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "nninfer",
        abstract: "Run an nnkit model (.nnck) over CSV rows: stream predictions, and evaluate when labels are present.",
        discussion: """
        nninfer MODEL [DATA.csv | -] is the default command (predict). Columns are matched by name with the \
        model's features; with labels present, the evaluation goes to standard error. merge-metrics combines \
        the --metrics files of shards exactly.
        """,
        subcommands: [Predict.self, MergeMetrics.self],
        defaultSubcommand: Predict.self)
}
