import NNFormat
import NNJSON
import NNParallel

/// How predictions are written.
public enum PredictionFormat: String, CaseIterable, Sendable {
    /// RFC 4180 CSV with a header row, comma-separated, "\n" line ends.
    case csv
    /// One JSON object per line with the same fields as the CSV columns.
    case jsonl
}

/// The columns of a predictions file, in order:
///
/// 1. every `--keep` column, as raw text under its input name;
/// 2. classification: `prediction` (class name) and `probability` (its probability);
///    regression: `prediction` (one target) or `prediction_<target>` (one per target);
/// 3. with `topK` = K > 0 (classification): `top1`, `p1`, …, `topK`, `pK` — the K most probable
///    classes, most probable first (ties: earlier class first);
/// 4. with `probabilities` (classification): `p_<class>` for every class, in the model's order.
///
/// Numbers are `%.6g` of the Float the network computed (see `NumberText`), so the output is the
/// same for any thread count or batch size. Text is CSV-quoted when needed (CSV) or JSON-escaped.
public struct PredictionLayout: Sendable {
    public var format: PredictionFormat
    public var keepNames: [String]
    public var output: OutputSpec
    public var probabilities: Bool
    public var topK: Int

    public init(format: PredictionFormat = .csv, keepNames: [String] = [], output: OutputSpec,
                probabilities: Bool = false, topK: Int = 0) {
        self.format = format
        self.keepNames = keepNames
        self.output = output
        self.probabilities = probabilities
        self.topK = topK
    }

    public var isClassification: Bool { output.isClassification }

    public var classes: [String] { output.classNames }

    /// The column (CSV) or key (JSONL) names, in order.
    public var columnNames: [String] {
        var names = keepNames
        switch output {
        case let .classification(_, classes):
            names += ["prediction", "probability"]
            for k in 0..<min(topK, classes.count) { names += ["top\(k + 1)", "p\(k + 1)"] }
            if probabilities { names += classes.map { "p_" + $0 } }
        case let .regression(targets):
            names += targets.count == 1 ? ["prediction"] : targets.map { "prediction_" + $0 }
        }
        return names
    }
}

/// Turns batches of network outputs into the bytes of a predictions file.
public final class PredictionWriter {
    public let layout: PredictionLayout
    private let width: Int
    private let topK: Int
    /// Class names as they appear in a cell: CSV-escaped or JSON-quoted.
    private let classText: [[UInt8]]
    /// JSONL: `{"name":` for the first key, `,"name":` for the others, per column.
    private let keyPrefixes: [[UInt8]]

    public init(layout: PredictionLayout) {
        self.layout = layout
        self.width = layout.output.width
        self.topK = min(layout.topK, layout.classes.count)
        switch layout.format {
        case .csv:
            classText = layout.classes.map { Array(csvEscaped($0).utf8) }
            keyPrefixes = []
        case .jsonl:
            classText = layout.classes.map { Array(JSONValue.quote($0).utf8) }
            keyPrefixes = layout.columnNames.enumerated().map { index, name in
                Array(((index == 0 ? "{" : ",") + JSONValue.quote(name) + ":").utf8)
            }
        }
    }

    /// The header line (CSV), or nothing (JSONL).
    public var header: [UInt8] {
        guard layout.format == .csv else { return [] }
        return Array((layout.columnNames.map(csvEscaped).joined(separator: ",") + "\n").utf8)
    }

    /// The lines of `rows` rows: `outputs` is [rows, output width] (probabilities for a classifier),
    /// `predicted[r]` the class chosen for row r (classification), `keep[k][r]` the kept texts.
    /// Rows are formatted in parallel chunks on `pool` and concatenated in order.
    public func lines(rows: Int, outputs: UnsafeBufferPointer<Float>, predicted: UnsafeBufferPointer<Int32>,
                      keep: [[String]], pool: WorkerPool) -> [UInt8] {
        let parts = pool.threadCount > 1 && rows >= 512 ? pool.threadCount * 2 : 1
        if parts == 1 {
            var out: [UInt8] = []
            out.reserveCapacity(rows * estimatedLineBytes)
            append(range: 0..<rows, outputs: outputs, predicted: predicted, keep: keep, to: &out)
            return out
        }
        var chunks = [[UInt8]](repeating: [], count: parts)
        chunks.withUnsafeMutableBufferPointer { chunkBuffer in
            pool.parallelFor(parts) { part in
                // Contiguous, nearly equal ranges that depend only on (rows, parts).
                let base = rows / parts, extra = rows % parts
                let start = part * base + min(part, extra)
                let range = start..<(start + base + (part < extra ? 1 : 0))
                var out: [UInt8] = []
                out.reserveCapacity(range.count * estimatedLineBytes)
                append(range: range, outputs: outputs, predicted: predicted, keep: keep, to: &out)
                chunkBuffer[part] = out
            }
        }
        var out: [UInt8] = []
        out.reserveCapacity(chunks.reduce(0) { $0 + $1.count })
        for chunk in chunks { out += chunk }
        return out
    }

    private var estimatedLineBytes: Int { 24 + width * (layout.probabilities ? 12 : 0) + topK * 20 }

    private func append(range: Range<Int>, outputs: UnsafeBufferPointer<Float>, predicted: UnsafeBufferPointer<Int32>,
                        keep: [[String]], to out: inout [UInt8]) {
        let csv = layout.format == .csv
        var order = [Int](repeating: 0, count: width)
        for row in range {
            var column = 0
            // Separator (CSV) or key (JSONL) before each value.
            func next() {
                if csv {
                    if column > 0 { out.append(UInt8(ascii: ",")) }
                } else {
                    out += keyPrefixes[column]
                }
                column += 1
            }
            for values in keep {
                next()
                out += Array((csv ? csvEscaped(values[row]) : JSONValue.quote(values[row])).utf8)
            }
            let probabilities = UnsafeBufferPointer(rebasing: outputs[(row * width)..<((row + 1) * width)])
            if layout.isClassification {
                let best = Int(predicted[row])
                next(); out += classText[best]
                next(); NumberText.appendG6(Double(probabilities[best]), to: &out)
                if topK > 0 {
                    for c in 0..<width { order[c] = c }
                    // Stable: descending probability, then class order.
                    order.sort { probabilities[$0] > probabilities[$1] || (probabilities[$0] == probabilities[$1] && $0 < $1) }
                    for k in 0..<topK {
                        next(); out += classText[order[k]]
                        next(); NumberText.appendG6(Double(probabilities[order[k]]), to: &out)
                    }
                }
                if layout.probabilities {
                    for c in 0..<width {
                        next(); NumberText.appendG6(Double(probabilities[c]), to: &out)
                    }
                }
            } else {
                for c in 0..<width {
                    next(); NumberText.appendG6(Double(probabilities[c]), to: &out)
                }
            }
            if !csv { out.append(UInt8(ascii: "}")) }
            out.append(10)
        }
    }
}

/// `text` as one RFC 4180 field: quoted (inner quotes doubled) when it holds a comma, a quote,
/// a line break, or leading/trailing spaces; as is otherwise.
public func csvEscaped(_ text: String) -> String {
    var needsQuotes = false
    for byte in text.utf8 where byte == 44 || byte == 34 || byte == 10 || byte == 13 {
        needsQuotes = true
        break
    }
    if !needsQuotes, let first = text.utf8.first, let last = text.utf8.last, first == 32 || last == 32 { needsQuotes = true }
    guard needsQuotes else { return text }
    var quoted = "\""
    for character in text {
        if character == "\"" { quoted += "\"\"" } else { quoted.append(character) }
    }
    return quoted + "\""
}
