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

    /// `nninfer --help` (or `-h`) alone prints the help directly: the same text ArgumentParser
    /// prints, without first running its parser over every option (about half of the start-up,
    /// most of it first-time protocol-conformance lookups). Everything else goes the usual way.
    static func main() {
        let arguments = CommandLine.arguments.dropFirst()
        if arguments.count == 1, let only = arguments.first, only == "--help" || only == "-h" {
            print(helpMessage())
            return
        }
        main(nil)
    }
}
