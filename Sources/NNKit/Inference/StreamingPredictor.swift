import Glibc
import NNData
import NNEngine
import NNFormat
import NNParallel

/// What `nninfer` does to its input, besides the CSV dialect.
public struct InferenceOptions {
    /// Rows read, predicted and written at a time (memory is proportional to it, not to the input).
    public var batchSize: Int = 4096
    public var skipBadRows = false
    public var format: PredictionFormat = .csv
    /// Add a `p_<class>` column per class.
    public var probabilities = false
    /// Add the K most probable classes (`top1,p1,…`).
    public var topK = 0
    /// Input columns copied to the output first, as raw text.
    public var keep: [ColumnReference] = []
    /// The label column; nil means the name stored in the model, used only if the input has it.
    /// Given explicitly, it must exist.
    public var label: ColumnReference?
    /// Parse the next batch on a second thread while the current one is predicted and written.
    public var prefetch = true

    public init() {}
}

/// What a run read and, when the input had labels, how the model did.
public struct InferenceResult {
    /// Rows predicted (skipped rows excluded).
    public var rows: Int
    public var skipped: SkippedRows
    /// nil when the input has no label column.
    public var evaluation: EvaluationMetrics?
    /// Name of the label column used for evaluation.
    public var labelColumn: String?
}

/// Runs a model over CSV input in constant memory: batches of `options.batchSize` rows are parsed
/// (the next one on a second thread), normalized, predicted on the network's pool, formatted and
/// written, in input order. Output bytes do not depend on the thread count or the batch size.
public final class StreamingPredictor {
    public let model: Model
    public let options: InferenceOptions
    public let layoutWithoutKeep: PredictionLayout
    /// True when the network's outputs are not probabilities already (no final softmax or sigmoid):
    /// a softmax is then applied to them.
    public let appliesSoftmax: Bool
    /// The network with batchnorm folded and activations fused (nil: it runs as trained, layer by layer).
    let inference: InferenceNetwork?

    public init(model: Model, options: InferenceOptions) {
        self.model = model
        self.options = options
        inference = InferenceNetwork(network: model.network, threads: model.network.pool.threadCount)
        layoutWithoutKeep = PredictionLayout(format: options.format, output: model.output,
                                             probabilities: options.probabilities, topK: options.topK)
        var lastActivation: Activation?
        for spec in model.network.specs.reversed() {
            if case let .activation(activation) = spec { lastActivation = activation; break }
            if case .dense = spec { break }
        }
        switch lastActivation {
        case .softmax?, .sigmoid?: appliesSoftmax = false
        default: appliesSoftmax = model.isClassification
        }
    }

    /// The columns to read from a file with `header`: the model's features by name (or in stored
    /// order without a header), the label if present, and the kept columns.
    public func plan(for header: CSVHeader) throws -> ColumnPlan {
        let label = options.label ?? model.labelName.map { ColumnReference.name($0) }
        return try ColumnPlan.inference(header: header, featureNames: model.features, label: label,
                                        labelRequired: options.label != nil,
                                        labelKind: model.isClassification ? .categorical : .numeric, keep: options.keep)
    }

    /// Opens `path` ("-" for standard input) and runs `run(reader:to:)`. An input with no rows at all
    /// (empty, or a header only) gives an output with only its header, and no evaluation.
    public func run(path: String, format: CSVFormat, to sink: OutputStreamSink,
                    checkPlan: (ColumnPlan) throws -> Void = { _ in }) throws -> InferenceResult {
        let reader: CSVStreamReader
        do {
            reader = try CSVStreamReader(path: path, format: format)
        } catch CSVError.emptyFile(_) where !format.hasHeader {
            // Without a header an empty input is simply zero rows (an empty map-step split).
            let layout = layoutWithoutKeep
            try sink.write(PredictionWriter(layout: layout).header)
            return InferenceResult(rows: 0, skipped: SkippedRows(), evaluation: nil, labelColumn: nil)
        }
        return try run(reader: reader, to: sink, checkPlan: checkPlan)
    }

    /// `checkPlan` sees the column plan before anything is written (e.g. to require a label column).
    public func run(reader: CSVStreamReader, to sink: OutputStreamSink,
                    checkPlan: (ColumnPlan) throws -> Void = { _ in }) throws -> InferenceResult {
        let plan = try plan(for: reader.header)
        try checkPlan(plan)
        var layout = layoutWithoutKeep
        layout.keepNames = plan.keepNames
        let writer = PredictionWriter(layout: layout)
        try sink.write(writer.header)

        let width = model.output.width
        let batchSize = max(1, options.batchSize)
        let pool = model.network.pool
        var outputs = [Float](repeating: 0, count: batchSize * width)
        var predicted = [Int32](repeating: 0, count: batchSize)

        // Evaluation state: class indices by label text, or the regression target.
        let classIndex = Dictionary(uniqueKeysWithValues: model.classes.enumerated().map { ($1, $0) })
        var classification: ClassificationMetrics? = plan.labelColumn != nil && model.isClassification
            ? ClassificationMetrics(classes: model.classes) : nil
        var regression: RegressionMetrics? = plan.labelColumn != nil && !model.isClassification
            ? RegressionMetrics(target: plan.labelName ?? "target") : nil
        // Regression: which output the label column is compared with (the target of that name, else the first).
        let regressionOutput: Int
        if case let .regression(targets) = model.output, let name = plan.labelName, let index = targets.firstIndex(of: name) {
            regressionOutput = index
        } else {
            regressionOutput = 0
        }

        let prefetcher = BatchPrefetcher(reader: reader, plan: plan, maxRows: batchSize, skipBadRows: options.skipBadRows)
        if options.prefetch { prefetcher.start() }
        defer { prefetcher.cancel() }

        var rowsDone = 0
        while var batch = try prefetcher.next() {
            let rows = batch.rowCount
            if rows == 0 { continue }
            try batch.features.withUnsafeMutableBufferPointer { features in
                try outputs.withUnsafeMutableBufferPointer { out in
                    if let inference {
                        model.normalization.apply(to: UnsafeMutableBufferPointer(rebasing: features[0..<(rows * model.features.count)]))
                        inference.predict(features.baseAddress!, rows: rows, into: out.baseAddress!, pool: pool)
                    } else {
                        try model.predict(rawRows: features, rows: rows, into: out)
                    }
                }
            }
            outputs.withUnsafeMutableBufferPointer { out in
                if appliesSoftmax { softmaxRows(out.baseAddress!, rows: rows, width: width) }
                if model.isClassification {
                    for row in 0..<rows { predicted[row] = Int32(argmax(out.baseAddress! + row * width, count: width)) }
                }
            }
            let lines = outputs.withUnsafeBufferPointer { out in
                predicted.withUnsafeBufferPointer { chosen in
                    writer.lines(rows: rows, outputs: out, predicted: chosen, keep: batch.keep, pool: pool)
                }
            }
            try sink.write(lines)

            if classification != nil {
                let known = batch.labelValues.map { classIndex[$0] }
                for row in 0..<rows {
                    let id = Int(batch.labelIDs[row])
                    if let truth = known[id] {
                        classification!.add(trueClass: truth, predictedClass: Int(predicted[row]),
                                            probabilityOfTrue: Double(outputs[row * width + truth]))
                    } else {
                        classification!.addUnseen(label: batch.labelValues[id])
                    }
                }
            } else if regression != nil {
                for row in 0..<rows {
                    regression!.add(predicted: Double(outputs[row * width + regressionOutput]), actual: Double(batch.targets[row]))
                }
            }
            rowsDone += rows
        }
        let evaluation: EvaluationMetrics? = classification.map { .classification($0) } ?? regression.map { .regression($0) }
        return InferenceResult(rows: rowsDone, skipped: reader.skipped, evaluation: evaluation, labelColumn: plan.labelName)
    }
}

/// In place, per row of [rows, width]: x ← exp(x − max) / Σ exp(x − max).
func softmaxRows(_ values: UnsafeMutablePointer<Float>, rows: Int, width: Int) {
    for row in 0..<rows {
        let x = values + row * width
        var largest = -Float.infinity
        for c in 0..<width { largest = max(largest, x[c]) }
        var total: Float = 0
        for c in 0..<width { x[c] = expf(x[c] - largest); total += x[c] }
        for c in 0..<width { x[c] /= total }
    }
}

/// Index of the largest of `count` values (the first one on ties, NaN never chosen over a number).
func argmax(_ values: UnsafePointer<Float>, count: Int) -> Int {
    var best = 0
    for c in 1..<max(count, 1) where values[c] > values[best] || values[best].isNaN { best = c }
    return best
}
