// One whole `nntrain` run, shared logic behind the thin command: data → model (new or resumed) →
// optional gradient check → training loop → checkpoint, log, report and summary.
import Glibc
import NNData
import NNEngine
import NNFormat
import NNJSON
import NNParallel

/// Everything the command line decides.
public struct TrainingRunOptions {
    public var configuration = TrainingConfiguration()
    public var data = TrainingDataSource()
    /// `--model FILE.json` (instead of --layers).
    public var modelPath: String?
    /// True when --layers or --model was given (a resumed architecture must then match it).
    public var architectureGiven = false
    public var outputPath: String = "model.nnck"
    public var resumePath: String?
    /// The checkpoint reader's caps for --resume.
    public var readerLimits: ReaderLimits = .default
    public var logPath: String?
    public var reportPath: String?
    public var quiet = false
    /// Standard output is a terminal: live progress lines.
    public var terminal = false

    public init() {}
}

/// How the run ended, for the exit status.
public struct TrainingRunResult {
    public var stop: TrainingStop
    public var epochsCompleted: Int
    public var finalMetrics: [String: Double]
    /// 0 normally; 130 after Ctrl-C (the checkpoint is written, but training did not finish).
    public var exitStatus: Int32 {
        if case .interrupted = stop { return 130 }
        return 0
    }
}

public enum TrainingSession {
    /// Gradient-check tolerance (relative error per tensor), with the engine's zero-norm rule.
    public static let gradientCheckTolerance = 1e-6
    /// Rows of the training set the gradient check uses.
    public static let gradientCheckRows = 8
    /// Raw training rows stored as verification vectors.
    public static let verificationRows = 8
    /// Final training metrics use at most this many rows (an even sample beyond it).
    public static let finalMetricsRows = 50_000

    public static func run(_ options: TrainingRunOptions, pool: WorkerPool) throws -> TrainingRunResult {
        let started = monotonicSeconds()
        var configuration = options.configuration
        let progress = TrainingProgress(quiet: options.quiet, terminal: options.terminal, totalEpochs: 0)

        // Resume: read the checkpoint first, so a bad file fails before the data is parsed.
        var resumed: Checkpoint?
        if let path = options.resumePath {
            do {
                resumed = try CheckpointReader.read(path: path, limits: options.readerLimits, pool: pool)
            } catch let error as CheckpointError where error.file == path {
                // Name the file once: the resume error leads with it.
                throw TrainingError.resume(path: path, reason: error.detail)
            } catch {
                throw TrainingError.resume(path: path, reason: "\(error)")
            }
        }

        var source = options.data
        if configuration.earlyStoppingPatience != nil && source.validationPath == nil && source.validationSplit == nil {
            source.validationSplit = 0.1
            progress.say("early stopping needs validation data: holding out a 10% stratified split (give --validation or --validation-split to choose)\n")
        }
        let data = try TrainingData.load(source, task: configuration.task, seed: configuration.seed, pool: pool)
        let outputs = configuration.task == .classification ? data.train.classNames.count : 1
        let output: OutputSpec = configuration.task == .classification
            ? .classification(label: data.labelName, classes: data.train.classNames)
            : .regression(targets: [data.labelName])

        // The network: from the checkpoint (resume) or from --layers / --model.
        var specs: [NNEngine.LayerSpec]?
        if let path = options.modelPath {
            specs = try TrainingModelFile.load(path: path, inputs: data.train.featureCount, outputs: outputs, task: configuration.task)
            configuration.modelLayers = specs
        }
        let model: Model
        let optimizer: Optimizer<Float>
        var startEpoch = 0
        var history: [[String: Double]] = []
        var resumePoint = ResumePoint()
        if let checkpoint = resumed, let path = options.resumePath {
            model = try Model(checkpoint: checkpoint, source: path, pool: pool)
            try checkResumeCompatibility(model: model, path: path, data: data, output: output, options: options,
                                         wanted: specs ?? configuration.layerSpecs(inputs: data.train.featureCount, outputs: outputs))
            startEpoch = checkpoint.training?.epochs ?? 0
            history = checkpoint.training?.history ?? []
            resumePoint = Self.resumePoint(of: checkpoint, path: path, epochs: startEpoch, rows: data.train.count,
                                           earlyStopping: configuration.earlyStoppingPatience != nil, progress: progress)
            if let stored = checkpoint.training?.seed, stored != configuration.seed {
                progress.warn("\(path) was trained with --seed \(stored); continuing with --seed \(configuration.seed)")
            }
            optimizer = Optimizer(configuration.optimizerKind, weightDecay: configuration.weightDecay, parameters: model.network.parameters)
            try restoreOptimizer(optimizer, from: checkpoint, path: path, configuration: configuration, progress: progress)
            if model.normalization.kind != configuration.normalization {
                progress.warn("keeping \(path)'s input normalization (\(model.normalization.kind.rawValue)); --normalize applies only to new models")
            }
        } else {
            let layerSpecs = specs ?? configuration.layerSpecs(inputs: data.train.featureCount, outputs: outputs)
            let network = try Network<Float>(specs: layerSpecs, pool: pool, maxBatchSize: configuration.batchSize)
            let normalization = NNData.Normalization.fit(configuration.normalization, features: data.train.features,
                                                         featureCount: data.train.featureCount)
            model = Model(features: data.train.featureNames, normalization: normalization, output: output, network: network)
            optimizer = Optimizer(configuration.optimizerKind, weightDecay: configuration.weightDecay, parameters: network.parameters)
        }

        let trainer = try Trainer(model: model, configuration: configuration, data: data, optimizer: optimizer,
                                  initializeWeights: resumed == nil, startEpoch: startEpoch, history: history,
                                  resumePoint: resumePoint)
        let totalEpochs = startEpoch + configuration.epochs
        let epochProgress = TrainingProgress(quiet: options.quiet, terminal: options.terminal, totalEpochs: totalEpochs)

        if !options.quiet {
            var text = "data: \(data.dataset.name ?? "?") — \(grouped(data.train.count)) training rows, \(data.train.featureCount) features"
            if let validation = data.validation { text += ", \(grouped(validation.count)) validation rows (\(data.validationDescription ?? ""))" }
            text += "\nmodel: \(architectureText(model.network)) — \(grouped(parameterCount(model.network))) parameters, init \(trainer.initialization.rawValue)"
            if startEpoch > 0 { text += "\nresuming after epoch \(startEpoch) of \(options.resumePath ?? "")" }
            epochProgress.say(text + "\n")
        }
        if configuration.gradientCheck {
            try runGradientCheck(trainer: trainer, progress: epochProgress)
        }

        trainer.shouldStop = { TrainingInterrupt.requested }
        if options.terminal && !options.quiet {
            let rows = trainer.train.count
            trainer.onProgress = { epoch, done, batches, loss, rate in
                epochProgress.batch(epoch: epoch, done: done, of: batches, loss: loss, samplesPerSecond: rate, epochSamples: rows)
            }
        }
        trainer.onEpoch = { epochProgress.epoch($0) }
        trainer.onCheckpoint = { epoch in
            let path = intermediatePath(options.outputPath, epoch: epoch)
            let checkpoint = try makeCheckpoint(trainer: trainer, data: data, configuration: configuration, options: options,
                                                stop: .completed, finalMetrics: lastEpochMetrics(trainer))
            try CheckpointWriter.write(checkpoint, to: path)
            epochProgress.say("saved epoch \(epoch) checkpoint to \(path)\n")
        }

        let stop: TrainingStop
        do {
            stop = try trainer.run()
        } catch {
            if let path = options.logPath, !trainer.records.isEmpty { try? TrainingLog.write(trainer.records, to: path) }
            throw error
        }
        if case let .interrupted(epoch, batch, batches) = stop {
            epochProgress.say(batch == 0
                ? "interrupted after epoch \(epoch - 1): saving what was learned\n"
                : "interrupted in epoch \(epoch) after batch \(batch) of \(batches): saving what was learned\n")
        }

        // Final metrics on the model as saved (best weights after early stopping).
        var finalMetrics: [String: Double] = [:]
        let trainSet = trainer.train.count > finalMetricsRows
            ? trainer.train.subset((0..<finalMetricsRows).map { $0 * trainer.train.count / finalMetricsRows })
            : trainer.train
        let trainEvaluation = try trainer.evaluate(trainSet, withMetrics: true)
        finalMetrics["train_loss"] = trainEvaluation.loss
        if let accuracy = trainEvaluation.accuracy { finalMetrics["train_accuracy"] = accuracy }
        var validationEvaluation: Evaluation?
        if let validation = trainer.validation {
            let evaluation = try trainer.evaluate(validation, withMetrics: true)
            validationEvaluation = evaluation
            finalMetrics["val_loss"] = evaluation.loss
            if let accuracy = evaluation.accuracy { finalMetrics["val_accuracy"] = accuracy }
        }
        if let best = trainer.bestEpoch { finalMetrics["best_epoch"] = Double(best) }

        let checkpoint = try makeCheckpoint(trainer: trainer, data: data, configuration: configuration, options: options,
                                            stop: stop, finalMetrics: finalMetrics)
        let bytes = try CheckpointWriter.encode(checkpoint)
        try CheckpointWriter.writeAtomically(bytes, to: options.outputPath)
        if let path = options.logPath { try TrainingLog.write(trainer.records, to: path) }

        let confusion = validationEvaluation?.metrics ?? trainEvaluation.metrics
        let confusionTitle = validationEvaluation != nil ? "Validation confusion matrix" : "Training confusion matrix"
        let elapsed = monotonicSeconds() - started
        if let path = options.reportPath {
            let steps = trainer.batchesPerEpoch * totalEpochs
            let samples = min(steps, 400)
            let rates = (0...samples).map { k -> (x: Double, y: Double) in
                let step = samples == 0 ? 0 : k * max(0, steps - 1) / samples
                return (Double(step), trainer.learningRate(atStep: step))
            }
            let summary = summaryPairs(trainer: trainer, data: data, stop: stop, finalMetrics: finalMetrics, elapsed: elapsed,
                                       output: options.outputPath)
            let input = TrainingReportInput(
                title: "nntrain report: \(data.dataset.name ?? "data")", summary: summary, history: trainer.history,
                records: trainer.records, learningRates: rates, confusion: confusion, confusionTitle: confusionTitle,
                boundary: model.isClassification && data.train.featureCount == 2 ? (model, data.train) : nil)
            try CheckpointWriter.writeAtomically(Array(try TrainingReport.html(input).utf8), to: path)
        }

        if !options.quiet {
            var text = "\n"
            for (key, value) in summaryPairs(trainer: trainer, data: data, stop: stop, finalMetrics: finalMetrics,
                                             elapsed: elapsed, output: options.outputPath) {
                text += padRight(key + ":", 16) + value + "\n"
            }
            text += "wrote:          \(options.outputPath) (\(byteCount(bytes.count)))\n"
            if let path = options.logPath { text += "log:            \(path)\n" }
            if let path = options.reportPath { text += "report:         \(path)\n" }
            for (file, skipped) in data.skipped {
                text += "skipped \(skipped.count) bad row\(skipped.count == 1 ? "" : "s") in \(file); first reasons:\n"
                for reason in skipped.firstReasons { text += "  \(reason)\n" }
            }
            if let confusion {
                text += "\n" + MetricsReport.text(confusion, title: confusionTitle.lowercased())
            }
            epochProgress.say(text)
        }
        return TrainingRunResult(stop: stop, epochsCompleted: trainer.epochsCompleted, finalMetrics: finalMetrics)
    }

    // MARK: Pieces

    /// `model.nnck` → `model.epoch-0005.nnck` (other names get `.epoch-0005` appended).
    public static func intermediatePath(_ output: String, epoch: Int) -> String {
        let number = String(repeating: "0", count: max(0, 4 - String(epoch).count)) + String(epoch)
        if output.hasSuffix(".nnck") { return String(output.dropLast(5)) + ".epoch-\(number).nnck" }
        return output + ".epoch-\(number)"
    }

    static func lastEpochMetrics(_ trainer: Trainer) -> [String: Double] {
        guard let last = trainer.records.last else { return [:] }
        var metrics: [String: Double] = ["train_loss": last.loss]
        if let a = last.accuracy { metrics["train_accuracy"] = a }
        if let l = last.validationLoss { metrics["val_loss"] = l }
        if let a = last.validationAccuracy { metrics["val_accuracy"] = a }
        return metrics
    }

    static func makeCheckpoint(trainer: Trainer, data: TrainingData, configuration: TrainingConfiguration,
                               options: TrainingRunOptions, stop: TrainingStop, finalMetrics: [String: Double]) throws -> Checkpoint {
        let model = trainer.model
        var extra: [(String, JSONValue)] = [("initialization", .string(trainer.initialization.rawValue))]
        if let split = options.data.validationSplit { extra.append(("validation_split", .number(split))) }
        if configuration.earlyStoppingPatience != nil && options.data.validationPath == nil && options.data.validationSplit == nil {
            extra.append(("validation_split", .number(0.1)))
        }
        if let path = options.data.validationPath { extra.append(("validation_data", .string(baseName(path)))) }
        if options.data.syntheticName != nil {
            extra.append(("samples", .integer(Int64(options.data.samples))))
            if let noise = options.data.noise { extra.append(("noise", .number(noise))) }
            if let classes = options.data.syntheticClasses { extra.append(("classes", .integer(Int64(classes)))) }
        }
        var createdUnix: Int64?
        if let epoch = WriterOptions.environmentSourceDateEpoch() { createdUnix = epoch }
        model.training = TrainingProvenance(
            hyperparameters: configuration.provenanceHyperparameters(extra: extra), seed: configuration.seed,
            epochs: trainer.epochsCompleted, dataset: data.dataset, finalMetrics: finalMetrics, history: trainer.history,
            createdUnix: createdUnix)
        var metadata: [String: String] = [:]
        switch stop {
        case .completed: metadata["nntrain.stop"] = "completed"
        case let .earlyStopped(best): metadata["nntrain.stop"] = "early stopping: best validation loss at epoch \(best), weights of that epoch kept"
        case let .completedKeepingBest(best): metadata["nntrain.stop"] = "completed: best validation loss at epoch \(best), weights of that epoch kept"
        case let .interrupted(epoch, batch, batches):
            metadata["nntrain.stop"] = batch == 0 ? "interrupted after epoch \(epoch - 1)"
                : "interrupted in epoch \(epoch) after batch \(batch) of \(batches); the history holds completed epochs only"
        }
        // What --resume needs to continue exactly where this run stopped (see ResumePoint).
        if case let .interrupted(_, batch, _) = stop, batch > 0 {
            metadata[ResumeKeys.rowsDone] = String(trainer.interruptedRowsDone)
        } else {
            metadata[ResumeKeys.weightsEpoch] = String(trainer.weightsEpoch)
        }
        model.metadata = metadata
        let rows = min(verificationRows, data.train.count)
        let verification = Array(data.train.features.prefix(rows * data.train.featureCount))
        var hyper: [String: Double] = ["learning_rate": configuration.learningRate, "weight_decay": configuration.weightDecay]
        switch configuration.optimizerKind {
        case let .momentum(m), let .nesterov(m): hyper["momentum"] = m
        case let .adam(b1, b2, e), let .adamW(b1, b2, e): hyper["beta1"] = b1; hyper["beta2"] = b2; hyper["epsilon"] = e
        case .sgd: break
        }
        return try model.checkpoint(writer: WriterInfo(name: "nntrain", version: NNKitVersion.string), verificationRows: verification,
                                    optimizer: configuration.saveOptimizerState ? trainer.optimizer : nil,
                                    optimizerName: configuration.optimizer.rawValue, hyperparameters: hyper)
    }

    /// Metadata keys nntrain writes for --resume.
    enum ResumeKeys {
        /// Rows of the interrupted epoch (the one after `training.epochs`) already trained.
        static let rowsDone = "nntrain.resume.rows_done"
        /// The epoch whose weights the file holds (earlier than `training.epochs` when early stopping kept the best).
        static let weightsEpoch = "nntrain.resume.weights_epoch"
    }

    /// Where a run resumed from `checkpoint` picks up: the interrupted epoch's trained rows, and early
    /// stopping's best epoch from the stored history, kept only when the stored weights are that epoch's
    /// (otherwise the best weights are gone, and early stopping starts counting afresh, said as a warning).
    static func resumePoint(of checkpoint: Checkpoint, path: String, epochs: Int, rows: Int, earlyStopping: Bool,
                            progress: TrainingProgress) -> ResumePoint {
        var point = ResumePoint()
        if let text = checkpoint.metadata[ResumeKeys.rowsDone], let done = Int(text), done > 0 {
            if done < rows {
                point.rowsDone = done
            } else {
                progress.warn("\(path) stopped after \(done) rows of epoch \(epochs + 1), but the data has \(rows) rows; starting that epoch afresh")
            }
        }
        guard earlyStopping else { return point }
        let validated = (checkpoint.training?.history ?? []).compactMap { entry -> (epoch: Int, loss: Double)? in
            guard let epoch = entry["epoch"], let loss = entry["val_loss"] else { return nil }
            return (Int(epoch), loss)
        }
        guard let best = validated.min(by: { $0.loss < $1.loss }), let last = validated.last else { return point }
        let weightsEpoch = checkpoint.metadata[ResumeKeys.weightsEpoch].flatMap { Int($0) }
        if point.rowsDone == 0, weightsEpoch == best.epoch {
            point.bestEpoch = best.epoch
            point.bestValidationLoss = best.loss
            point.epochsWithoutImprovement = last.epoch - best.epoch
            point.weightsAreBest = true
        } else {
            progress.warn("\(path) does not hold the weights of its best validation epoch (\(best.epoch)); early stopping starts counting afresh")
        }
        return point
    }

    static func checkResumeCompatibility(model: Model, path: String, data: TrainingData, output: OutputSpec,
                                         options: TrainingRunOptions, wanted: [NNEngine.LayerSpec]) throws {
        func fail(_ reason: String) -> TrainingError { .resume(path: path, reason: reason) }
        guard model.features == data.train.featureNames else {
            throw fail("its features (\(abbreviated(model.features))) differ from the data's (\(abbreviated(data.train.featureNames)))")
        }
        guard model.output == output else {
            switch (model.output, output) {
            case let (.classification(_, a), .classification(_, b)) where a != b:
                throw fail("its classes (\(abbreviated(a))) differ from the data's (\(abbreviated(b)))")
            default:
                throw fail("its output (\(model.output)) differs from this run's (\(output)); check --label and --task")
            }
        }
        if options.architectureGiven && model.network.specs != wanted {
            throw fail("its layers (\(architectureText(model.network))) differ from the ones given; leave out --layers/--model to continue its own")
        }
    }

    static func restoreOptimizer(_ optimizer: Optimizer<Float>, from checkpoint: Checkpoint, path: String,
                                 configuration: TrainingConfiguration, progress: TrainingProgress) throws {
        guard let state = checkpoint.optimizer else {
            progress.warn("\(path) has no optimizer state (train with --save-optimizer-state to keep it); starting a fresh \(configuration.optimizer.rawValue) optimizer")
            return
        }
        guard state.optimizer == configuration.optimizer.rawValue else {
            progress.warn("\(path) holds \(state.optimizer) state but --optimizer is \(configuration.optimizer.rawValue); starting a fresh optimizer")
            return
        }
        var slots: [OptimizerSlot<Float>] = []
        for (parameter, named) in state.slots {
            guard parameter.hasPrefix("layers.") else { continue }
            let engineName = String(parameter.dropFirst("layers.".count))
            for (slot, tensorName) in named {
                guard let tensor = checkpoint.tensor(named: tensorName) else {
                    throw TrainingError.resume(path: path, reason: "optimizer tensor '\(tensorName)' is missing")
                }
                let values: [Float]
                switch tensor.values {
                case let .f32(v): values = v
                case let .f64(v): values = v.map { Float($0) }
                }
                slots.append(OptimizerSlot(name: "\(engineName).\(slot)", shape: tensor.shape, values: values))
            }
        }
        do {
            try optimizer.importSlots(slots, stepCount: state.step)
        } catch {
            throw TrainingError.resume(path: path, reason: "its optimizer state does not fit the network: \(error)")
        }
    }

    static func runGradientCheck(trainer: Trainer, progress: TrainingProgress) throws {
        let model = trainer.model
        let rows = min(gradientCheckRows, trainer.train.count)
        let subset = trainer.train.subset(Array(0..<rows))
        let twin = try Network<Double>(converting: model.network)
        let inputs = subset.features.map { Double($0) }
        let results: [GradientCheckResult]
        if model.isClassification {
            results = try subset.labels.withUnsafeBufferPointer { labels in
                try twin.gradientCheck(inputs: inputs, rows: rows, targets: .classes(labels), loss: model.loss)
            }
        } else {
            let targets = subset.targets.map { Double($0) }
            results = try targets.withUnsafeBufferPointer { t in
                try twin.gradientCheck(inputs: inputs, rows: rows, targets: .values(t), loss: model.loss)
            }
        }
        var table = TextTable(header: ["tensor", "values", "relative error", "max |difference|", "result"], rightAligned: [1, 2, 3])
        for r in results {
            let zero = !(r.relativeError < gradientCheckTolerance) && r.passes(tolerance: gradientCheckTolerance)
            table.add([r.name, String(r.count), cFormat("%.3e", r.relativeError), cFormat("%.3e", r.maxAbsoluteDifference),
                       r.passes(tolerance: gradientCheckTolerance) ? (zero ? "ok (zero gradient)" : "ok") : "FAIL"])
        }
        progress.say("gradient check on \(rows) training rows (central differences in Double, threshold \(gradientCheckTolerance)):\n" + table.render())
        if let worst = results.filter({ !$0.passes(tolerance: gradientCheckTolerance) }).max(by: { $0.relativeError < $1.relativeError }) {
            throw TrainingError.gradientCheckFailed(worst: worst.name, relativeError: worst.relativeError, tolerance: gradientCheckTolerance)
        }
    }

    static func summaryPairs(trainer: Trainer, data: TrainingData, stop: TrainingStop, finalMetrics: [String: Double],
                             elapsed: Double, output: String) -> [(String, String)] {
        let trained = trainer.records.reduce(0.0) { $0 + $1.seconds }
        let samples = Double(trainer.records.count * trainer.train.count)
        var pairs: [(String, String)] = [
            ("model", architectureText(trainer.model.network)),
            ("parameters", grouped(parameterCount(trainer.model.network))),
            ("data", "\(data.dataset.name ?? "?"): \(grouped(data.train.count)) training rows" + (data.validation.map { ", \(grouped($0.count)) validation rows" } ?? "")),
            ("epochs", "\(trainer.epochsCompleted)" + (trainer.startEpoch > 0 ? " (\(trainer.records.count) in this run)" : "")),
            ("time", "\(fixed(elapsed, 2)) s in all, \(fixed(trained, 2)) s training, \(grouped(Int((samples / max(trained, 1e-9)).rounded()))) samples/s"),
        ]
        switch stop {
        case .completed: pairs.append(("stopped", "after the last epoch"))
        case let .earlyStopped(best): pairs.append(("stopped", "early: no better validation loss since epoch \(best); its weights are kept"))
        case let .completedKeepingBest(best): pairs.append(("stopped", "after the last epoch; epoch \(best) had the best validation loss and its weights are kept"))
        case let .interrupted(epoch, batch, batches):
            pairs.append(("stopped", batch == 0 ? "interrupted (Ctrl-C) after epoch \(epoch - 1)" : "interrupted (Ctrl-C) in epoch \(epoch), batch \(batch) of \(batches)"))
        }
        if let best = trainer.bestEpoch, let loss = trainer.bestValidationLoss {
            pairs.append(("best epoch", "\(best) (validation loss \(fixed(loss, 4)))"))
        }
        var final: [String] = []
        for key in ["train_loss", "train_accuracy", "val_loss", "val_accuracy"] {
            if let value = finalMetrics[key] { final.append("\(key)=\(fixed(value, 4))") }
        }
        pairs.append(("final", final.joined(separator: " ")))
        return pairs
    }

    /// "64 → dense 128 → relu → … → softmax".
    public static func architectureText(_ network: Network<Float>) -> String {
        var parts = [String(network.inputFeatures)]
        for spec in network.specs {
            switch spec {
            case let .dense(_, outputs): parts.append("dense \(outputs)")
            case let .activation(a): parts.append(a.description)
            case .batchNorm: parts.append("batchnorm")
            case let .dropout(rate): parts.append("dropout \(rate)")
            }
        }
        return parts.joined(separator: " → ")
    }

    public static func parameterCount(_ network: Network<Float>) -> Int {
        network.parameters.reduce(0) { $0 + $1.value.count }
    }

    static func abbreviated(_ names: [String]) -> String {
        let shown = names.prefix(6).map { "\"\($0)\"" }.joined(separator: ", ")
        return names.count > 6 ? shown + ", … (\(names.count) in all)" : shown
    }
}
