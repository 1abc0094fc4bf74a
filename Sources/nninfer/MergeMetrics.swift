import ArgumentParser
import NNCLI
import NNFormat
import NNKit

/// `nninfer merge-metrics A.json B.json …`: the reduce step over shards' `--metrics` files.
struct MergeMetrics: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "merge-metrics",
        abstract: "Combine the --metrics files of shards of one data set into the whole set's metrics (exact counts).")

    @Argument(help: ArgumentHelp("Metrics files written by nninfer --metrics.", valueName: "metrics.json"))
    var files: [String]

    @Option(help: ArgumentHelp("Write the combined metrics as JSON.", valueName: "file.json"))
    var metrics: String?

    @Option(help: ArgumentHelp("Write a self-contained HTML report of the combined metrics.", valueName: "file.html"))
    var report: String?

    @Flag(name: [.short, .long], help: "Do not print the combined report to standard output.")
    var quiet = false

    func validate() throws {
        guard !files.isEmpty else { throw ValidationError("expected at least one metrics file (nninfer --metrics output)") }
    }

    func run() throws {
        let shards = try files.map { (source: $0, metrics: try MetricsFile.read(path: $0)) }
        let merged = try EvaluationMetrics.merge(shards)
        if let metrics { try MetricsFile.write(merged, to: metrics) }
        if let report {
            let file = try AtomicOutputFile(path: report)
            try file.write(EvaluationReport.html(merged, sources: [("shards", "\(files.count)")]))
            try file.commit()
        }
        if !quiet {
            let sink = OutputStreamSink.standardOutput()
            try sink.write(merged.text(title: "merged metrics of \(files.count) file\(files.count == 1 ? "" : "s")"))
            try sink.finish()
        }
    }
}
