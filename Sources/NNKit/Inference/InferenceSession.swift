import NNData
import NNFormat
import NNParallel

/// One `nninfer` run from paths to files: load and verify the model, stream the predictions,
/// then write the metrics JSON and the HTML report. The command-line tool is a thin wrapper.
public struct InferenceSession {
    public var modelPath: String
    /// "-" for standard input.
    public var dataPath: String
    public var csvFormat: CSVFormat
    public var options: InferenceOptions
    /// nil: standard output.
    public var outputPath: String?
    public var metricsPath: String?
    public var reportPath: String?
    public var threads: Int
    /// The checkpoint reader's caps (`--max-tensor-bytes`, `--max-total-tensor-bytes`).
    public var readerLimits: ReaderLimits = .default
    /// Ctrl-C prints what was not written before ending the process (temporary files removed; see
    /// `InferenceInterrupt`). For command-line tools; a library caller keeps its own handling.
    public var exitsOnInterrupt = false

    public init(modelPath: String, dataPath: String, csvFormat: CSVFormat, options: InferenceOptions,
                outputPath: String? = nil, metricsPath: String? = nil, reportPath: String? = nil, threads: Int = 1) {
        self.modelPath = modelPath
        self.dataPath = dataPath
        self.csvFormat = csvFormat
        self.options = options
        self.outputPath = outputPath
        self.metricsPath = metricsPath
        self.reportPath = reportPath
        self.threads = threads
    }

    /// The model a checkpoint file holds, checked against its verification vectors (run in float64
    /// for files whose tensors are f64, whose tolerances are stated for float64 arithmetic).
    public static func loadModel(path: String, limits: ReaderLimits = .default, pool: WorkerPool) throws -> Model {
        let checkpoint = try CheckpointReader.read(path: path, limits: limits, pool: pool)
        let model = try Model(checkpoint: checkpoint, source: path, pool: pool)
        try model.verify(against: checkpoint, source: path, pool: pool)
        return model
    }

    /// Runs everything; the predictions file (if any) appears only when all went well.
    public func run() throws -> InferenceResult {
        let pool = WorkerPool(threads: max(1, threads))
        let model = try Self.loadModel(path: modelPath, limits: readerLimits, pool: pool)
        if !model.isClassification {
            if options.probabilities { throw InferenceSetupError.optionNeedsClassifier(option: "--probabilities", model: modelPath) }
            if options.topK > 0 { throw InferenceSetupError.optionNeedsClassifier(option: "--top-k", model: modelPath) }
        } else if options.topK > model.classes.count {
            throw InferenceSetupError.topKTooLarge(k: options.topK, classes: model.classes.count, model: modelPath)
        }
        // --threads counts every thread: the parsing thread runs beside the pool only when there are two or more.
        var options = self.options
        options.prefetch = options.prefetch && threads > 1
        let predictor = StreamingPredictor(model: model, options: options)
        let needsLabels = metricsPath != nil ? "--metrics" : reportPath != nil ? "--report" : nil
        let source = dataPath == "-" ? "<stdin>" : dataPath
        let checkPlan: (ColumnPlan) throws -> Void = { plan in
            if let option = needsLabels, plan.labelColumn == nil {
                throw InferenceSetupError.needsLabels(option: option, source: source, label: model.labelName)
            }
        }
        let result: InferenceResult
        if let outputPath {
            let file = try AtomicOutputFile(path: outputPath)
            if exitsOnInterrupt {
                InferenceInterrupt.install(message: "Error: interrupted; \(outputPath) was not written (a file already there is unchanged)")
            }
            do {
                result = try predictor.run(path: dataPath, format: csvFormat, to: file, checkPlan: checkPlan)
                try file.commit()
            } catch {
                file.discard()
                throw error
            }
        } else {
            if exitsOnInterrupt {
                InferenceInterrupt.install(message: "Error: interrupted; the predictions on standard output are incomplete")
            }
            let sink = OutputStreamSink.standardOutput()
            result = try predictor.run(path: dataPath, format: csvFormat, to: sink, checkPlan: checkPlan)
            try sink.finish()
        }
        if let evaluation = result.evaluation {
            if exitsOnInterrupt && (metricsPath != nil || reportPath != nil) {
                let predictions = outputPath.map { "the predictions are in \($0), " } ?? ""
                InferenceInterrupt.install(message: "Error: interrupted; \(predictions)the --metrics/--report files were not written")
            }
            if let metricsPath { try MetricsFile.write(evaluation, skippedRows: result.skipped.count, to: metricsPath) }
            if let reportPath {
                let html = EvaluationReport.html(evaluation, sources: [("model", modelPath), ("data", source)],
                                                 skippedRows: result.skipped.count)
                let file = try AtomicOutputFile(path: reportPath)
                try file.write(html)
                try file.commit()
            }
        } else if let option = needsLabels {
            // An input with no rows at all has no header to find the label in.
            throw InferenceSetupError.needsLabels(option: option, source: source, label: model.labelName)
        }
        return result
    }
}

/// Errors of an inference run that concern the options against the model or the data.
public enum InferenceSetupError: Error, CustomStringConvertible, Equatable {
    case optionNeedsClassifier(option: String, model: String)
    case topKTooLarge(k: Int, classes: Int, model: String)
    case needsLabels(option: String, source: String, label: String?)

    public var description: String {
        switch self {
        case let .optionNeedsClassifier(option, model):
            return "\(option): \(model) is a regression model; expected a classifier (class probabilities)"
        case let .topKTooLarge(k, classes, model):
            return "--top-k \(k): \(model) has \(classes) classes; expected at most \(classes)"
        case let .needsLabels(option, source, label):
            let which = label.map { "no label column \"\($0)\"" } ?? "no label column"
            return "\(option): \(source) has \(which); expected labels to evaluate (name the column with --label)"
        }
    }
}
