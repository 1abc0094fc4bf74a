// What nntrain prints while it trains, and the per-epoch CSV log.
//
// Not a terminal (pipes, files, CI): one stable line per epoch, fields in this order, absent ones
// left out (acc/val_* without validation or for regression), numbers in fixed formats:
//   epoch 3/20 loss=0.4123 acc=0.8712 val_loss=0.4410 val_acc=0.8600 lr=0.001 samples_per_s=123456
// On a terminal: a live line redrawn with '\r' during the epoch (bar, samples/s, ETA, loss), then
// the epoch's final line with the same fields.
import Glibc
import NNEngine
import NNFormat

public final class TrainingProgress {
    public let quiet: Bool
    public let terminal: Bool
    public let totalEpochs: Int
    private var liveLineWidth = 0

    public init(quiet: Bool, terminal: Bool, totalEpochs: Int) {
        self.quiet = quiet
        self.terminal = terminal
        self.totalEpochs = totalEpochs
    }

    /// Writes to standard output (unless quiet) and flushes.
    public func say(_ text: String) {
        guard !quiet else { return }
        clearLiveLine()
        fputs(text, stdout)
        fflush(stdout)
    }

    /// A warning, to standard error; --quiet suppresses it too (quiet prints only errors).
    public func warn(_ text: String) {
        guard !quiet else { return }
        clearLiveLine()
        fputs("nntrain: warning: " + text + "\n", stderr)
    }

    private func clearLiveLine() {
        guard liveLineWidth > 0 else { return }
        fputs("\r" + String(repeating: " ", count: liveLineWidth) + "\r", stdout)
        liveLineWidth = 0
    }

    /// The live line during an epoch (terminal only).
    public func batch(epoch: Int, done: Int, of batches: Int, loss: Double, samplesPerSecond: Double, epochSamples: Int) {
        guard terminal, !quiet else { return }
        let fraction = Double(done) / Double(max(1, batches))
        let barWidth = 24
        let filled = Int(fraction * Double(barWidth))
        let bar = String(repeating: "█", count: filled) + String(repeating: "·", count: barWidth - filled)
        let remainingSamples = Double(epochSamples) * (1 - fraction)
        let eta = samplesPerSecond > 0 ? remainingSamples / samplesPerSecond : 0
        let line = "epoch \(epoch)/\(totalEpochs) \(bar) \(padLeft(fixed(fraction * 100, 0), 3))% \(grouped(Int(samplesPerSecond))) samples/s ETA \(fixed(eta, 1))s loss \(fixed(loss, 4))"
        let count = line.count
        fputs("\r" + line + (count < liveLineWidth ? String(repeating: " ", count: liveLineWidth - count) : ""), stdout)
        fflush(stdout)
        liveLineWidth = max(liveLineWidth, count)
    }

    /// The stable per-epoch line (see the file comment).
    public static func epochLine(_ record: EpochRecord, totalEpochs: Int) -> String {
        var line = "epoch \(record.epoch)/\(totalEpochs) loss=\(fixed(record.loss, 4))"
        if let accuracy = record.accuracy { line += " acc=\(fixed(accuracy, 4))" }
        if let loss = record.validationLoss { line += " val_loss=\(fixed(loss, 4))" }
        if let accuracy = record.validationAccuracy { line += " val_acc=\(fixed(accuracy, 4))" }
        line += " lr=\(cFormat("%g", record.learningRate)) samples_per_s=\(Int(record.samplesPerSecond.rounded()))"
        return line
    }

    public func epoch(_ record: EpochRecord) {
        guard !quiet else { return }
        var text = Self.epochLine(record, totalEpochs: totalEpochs) + "\n"
        if let diagnostics = record.diagnostics {
            for layer in diagnostics { text += "  " + Self.diagnosticsLine(layer) + "\n" }
        }
        say(text)
    }

    public static func diagnosticsLine(_ layer: LayerDiagnostics) -> String {
        var line = "layer \(layer.index) \(layer.kind): mean=\(fixed(layer.mean, 4)) std=\(fixed(layer.std, 4)) zero=\(fixed(layer.zeroFraction, 3))"
        if let dead = layer.deadUnitFraction { line += " dead_units=\(fixed(dead, 3))" }
        if let saturated = layer.saturatedFraction { line += " saturated=\(fixed(saturated, 3))" }
        for (name, norm) in layer.gradientNorms { line += " grad_norm[\(name)]=\(cFormat("%.4g", norm))" }
        return line
    }
}

/// The `--log FILE.csv` contents: one row per epoch of this run, written atomically at the end of
/// the run (also after an interruption or a divergence, for the epochs finished).
/// Columns: epoch, loss, accuracy, val_loss, val_accuracy, lr, seconds, samples_per_s, then with
/// --diagnostics grad_norm.<tensor> and per-layer activation_std.<i>, dead_units.<i>, saturated.<i>.
public enum TrainingLog {
    public static func csv(_ records: [EpochRecord]) -> String {
        var extra: [String] = []
        for record in records {
            for key in record.historyEntry.keys.sorted() where key.contains(".") && !extra.contains(key) { extra.append(key) }
        }
        let columns = ["epoch", "loss", "accuracy", "val_loss", "val_accuracy", "lr", "seconds", "samples_per_s"] + extra
        var text = columns.joined(separator: ",") + "\n"
        func number(_ value: Double?) -> String { value.map { cFormat("%.9g", $0) } ?? "" }
        for record in records {
            let entry = record.historyEntry
            var cells = [String(record.epoch), number(record.loss), number(record.accuracy), number(record.validationLoss),
                         number(record.validationAccuracy), number(record.learningRate), cFormat("%.4f", record.seconds),
                         String(Int(record.samplesPerSecond.rounded()))]
            cells += extra.map { number(entry[$0]) }
            text += cells.joined(separator: ",") + "\n"
        }
        return text
    }

    public static func write(_ records: [EpochRecord], to path: String) throws {
        try CheckpointWriter.writeAtomically(Array(csv(records).utf8), to: path)
    }
}
