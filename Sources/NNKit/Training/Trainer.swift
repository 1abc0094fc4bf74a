// The training loop: seeded per-epoch shuffles gathered into preallocated batch buffers, one engine
// step per batch, NaN/inf detection, per-epoch evaluation, early stopping with best-weight restore,
// and the hooks the command uses for progress, intermediate checkpoints and Ctrl-C.
//
// Reproducibility: every random choice comes from its own `RandomGenerator` stream derived from
// `--seed` and, for shuffling and dropout, from the epoch number. So epoch e's batch order and
// dropout masks depend only on (seed, e): resuming at an epoch boundary continues exactly, with
// no generator state to store.
import Glibc
import NNData
import NNEngine
import NNFormat
import NNParallel

/// `RandomGenerator` streams of nntrain (distinct from NNData's and the engine's).
public enum TrainingStreams {
    public static let initialization: UInt64 = 0x4E4E_5452_4149_0001
    /// Epoch e shuffles with stream `shuffle + e`.
    public static let shuffle: UInt64 = 0x4E4E_5452_4149_1000
    /// Epoch e's dropout seed is the first draw of stream `dropout + e`; batch b of the epoch seeds
    /// its masks with the first draw of stream b of that seed, so a run resumed mid-epoch draws the
    /// same masks as an uninterrupted one.
    public static let dropout: UInt64 = 0x4E4E_5452_4149_2000
}

/// What one epoch gave. Wall-clock figures are for the terminal and the log only.
public struct EpochRecord {
    /// 1-based, counting epochs of earlier runs continued with --resume.
    public var epoch: Int
    /// Mean of the batch losses during the epoch (as Keras reports it).
    public var loss: Double
    /// Classification: accuracy after the epoch on a fixed sample of training rows.
    public var accuracy: Double?
    public var validationLoss: Double?
    public var validationAccuracy: Double?
    /// The learning rate of the epoch's last step.
    public var learningRate: Double
    /// L2 norm of each parameter's gradient on the epoch's last batch ("0.weight", …).
    public var gradientNorms: [(name: String, norm: Double)]
    /// With --diagnostics: per-layer statistics on a fixed batch after the epoch.
    public var diagnostics: [LayerDiagnostics]?
    public var seconds: Double
    public var samplesPerSecond: Double

    /// The provenance entry: deterministic figures only (no time).
    public var historyEntry: [String: Double] {
        var entry: [String: Double] = ["epoch": Double(epoch), "loss": loss, "lr": learningRate]
        if let accuracy { entry["accuracy"] = accuracy }
        if let validationLoss { entry["val_loss"] = validationLoss }
        if let validationAccuracy { entry["val_accuracy"] = validationAccuracy }
        if let diagnostics {
            for layer in diagnostics {
                for (name, norm) in layer.gradientNorms { entry["grad_norm.\(name)"] = norm }
                if let dead = layer.deadUnitFraction { entry["dead_units.\(layer.index)"] = dead }
                if let saturated = layer.saturatedFraction { entry["saturated.\(layer.index)"] = saturated }
                entry["activation_std.\(layer.index)"] = layer.std
            }
        }
        return entry
    }
}

/// Where a resumed run picks up, beyond the epoch count and the optimizer state: the rows of an
/// interrupted epoch already trained, and early stopping's bookkeeping.
public struct ResumePoint: Equatable {
    /// Rows of epoch `startEpoch + 1`'s shuffled order already trained (Ctrl-C mid-epoch); skipped.
    public var rowsDone = 0
    /// The best validation loss of the earlier runs and its epoch.
    public var bestEpoch: Int?
    public var bestValidationLoss: Double?
    /// Epochs since `bestEpoch`.
    public var epochsWithoutImprovement = 0
    /// The resumed weights are `bestEpoch`'s, so early stopping can keep them as its best snapshot.
    public var weightsAreBest = false

    public init(rowsDone: Int = 0, bestEpoch: Int? = nil, bestValidationLoss: Double? = nil,
                epochsWithoutImprovement: Int = 0, weightsAreBest: Bool = false) {
        self.rowsDone = rowsDone
        self.bestEpoch = bestEpoch
        self.bestValidationLoss = bestValidationLoss
        self.epochsWithoutImprovement = epochsWithoutImprovement
        self.weightsAreBest = weightsAreBest
    }
}

/// How a run ended.
public enum TrainingStop: Equatable {
    case completed
    /// Validation loss did not improve for `patience` epochs; the best epoch's weights were restored.
    case earlyStopped(bestEpoch: Int)
    /// Every epoch ran, with early stopping on; the best (earlier) epoch's weights were restored.
    case completedKeepingBest(bestEpoch: Int)
    /// Ctrl-C: stopped after `batch` of `batches` in `epoch` (that epoch is not in the history).
    case interrupted(epoch: Int, batch: Int, batches: Int)
}

public enum TrainingError: Error, CustomStringConvertible {
    case diverged(epoch: Int, batch: Int, batches: Int, loss: Double, learningRate: Double, initialization: String, normalization: String)
    case gradientCheckFailed(worst: String, relativeError: Double, tolerance: Double)
    case emptyTrainingSet
    case resume(path: String, reason: String)
    case invalid(String)

    public var description: String {
        switch self {
        case let .diverged(epoch, batch, batches, loss, lr, initialization, normalization):
            var causes = ["the learning rate (\(lr)) is too high: try 10× lower"]
            if initialization == "large" || initialization == "small" || initialization == "zeros" {
                causes.append("the initialization '\(initialization)' is a poor scale: try --init he (relu) or xavier")
            } else {
                causes.append("a bad initialization (e.g. --init large)")
            }
            causes.append(normalization == "none" ? "unnormalized inputs (--normalize none): try --normalize standard"
                                                  : "extreme feature values")
            return "training diverged: the loss became \(loss) in epoch \(epoch), batch \(batch) of \(batches); likely causes: "
                + causes.joined(separator: "; ") + ". No checkpoint was written."
        case let .gradientCheckFailed(worst, error, tolerance):
            return "gradient check failed: tensor \(worst) has relative error \(error), above the threshold \(tolerance); backpropagation disagrees with finite differences for this architecture"
        case .emptyTrainingSet:
            return "the training set is empty"
        case let .resume(path, reason):
            return "\(path): cannot resume: \(reason)"
        case let .invalid(message):
            return message
        }
    }
}

/// Normalized rows ready for the network, with their targets.
public struct PreparedSet {
    public let count: Int
    public let width: Int
    /// count × width, normalized.
    public let features: [Float]
    public let labels: [Int32]
    public let targets: [Float]

    public init(_ dataset: Dataset, normalization: NNData.Normalization) {
        var features = dataset.features
        if !features.isEmpty { normalization.apply(to: &features) }
        self.count = dataset.count
        self.width = dataset.featureCount
        self.features = features
        self.labels = dataset.labels
        self.targets = dataset.targets
    }

    /// The rows at `indices`.
    public func subset(_ indices: [Int]) -> PreparedSet {
        var f: [Float] = []
        f.reserveCapacity(indices.count * width)
        for i in indices { f.append(contentsOf: features[(i * width)..<((i + 1) * width)]) }
        return PreparedSet(count: indices.count, width: width, features: f,
                           labels: labels.isEmpty ? [] : indices.map { labels[$0] },
                           targets: targets.isEmpty ? [] : indices.map { targets[$0] })
    }

    init(count: Int, width: Int, features: [Float], labels: [Int32], targets: [Float]) {
        self.count = count
        self.width = width
        self.features = features
        self.labels = labels
        self.targets = targets
    }
}

/// Loss and accuracy of the model on a prepared set, through `predict` in large chunks.
public struct Evaluation {
    public var loss: Double
    public var accuracy: Double?
    /// Classification: the full metrics (confusion matrix, per-class figures).
    public var metrics: ClassificationMetrics?
}

public final class Trainer {
    public let model: Model
    public let configuration: TrainingConfiguration
    public let optimizer: Optimizer<Float>
    public let train: PreparedSet
    public let validation: PreparedSet?
    /// Epochs finished before this run (from --resume).
    public let startEpoch: Int
    /// History of earlier runs (from --resume) followed by this run's epochs.
    public private(set) var history: [[String: Double]]
    public private(set) var records: [EpochRecord] = []
    public private(set) var bestEpoch: Int?
    public private(set) var bestValidationLoss: Double?
    /// After Ctrl-C mid-epoch: the rows of that epoch's order already trained (stored for --resume).
    public private(set) var interruptedRowsDone = 0
    /// The epoch whose weights the model holds at the end (the best one when early stopping kept it).
    public private(set) var weightsEpoch: Int
    public let initialization: WeightInitialization
    private let resumePoint: ResumePoint

    /// Called about every 100 ms of training with (epoch, batches done, batches, loss so far, samples per second).
    public var onProgress: ((Int, Int, Int, Double, Double) -> Void)?
    /// Called after every epoch.
    public var onEpoch: ((EpochRecord) -> Void)?
    /// Called after epochs that are multiples of --checkpoint-every.
    public var onCheckpoint: ((Int) throws -> Void)?
    /// Polled between batches; true stops the run after the current batch.
    public var shouldStop: () -> Bool = { false }

    private let accuracySample: PreparedSet?
    private let diagnosticsBatch: PreparedSet?
    private let loss: Loss
    private let stepsPerEpoch: Int
    private let schedule: LearningRateSchedule

    /// - model: a freshly built model (weights are initialized here) or one loaded for --resume
    ///   (`initializeWeights` false).
    public init(model: Model, configuration: TrainingConfiguration, data: TrainingData, optimizer: Optimizer<Float>,
                initializeWeights: Bool, startEpoch: Int = 0, history: [[String: Double]] = [],
                resumePoint: ResumePoint = ResumePoint()) throws {
        guard data.train.count > 0 else { throw TrainingError.emptyTrainingSet }
        self.model = model
        self.resumePoint = resumePoint
        self.weightsEpoch = startEpoch
        self.configuration = configuration
        self.optimizer = optimizer
        self.startEpoch = startEpoch
        self.history = history
        self.loss = model.loss
        train = PreparedSet(data.train, normalization: model.normalization)
        validation = data.validation.map { PreparedSet($0, normalization: model.normalization) }
        initialization = configuration.resolvedInitialization(for: model.network.specs)
        if initializeWeights {
            var generator = RandomGenerator(seed: configuration.seed, stream: TrainingStreams.initialization)
            model.network.initialize(initialization, generator: &generator)
        }
        let n = train.count
        stepsPerEpoch = (n + configuration.batchSize - 1) / configuration.batchSize
        schedule = configuration.learningRateSchedule(stepsPerEpoch: stepsPerEpoch,
                                                      totalSteps: (startEpoch + configuration.epochs) * stepsPerEpoch)
        if model.isClassification {
            // A fixed, evenly spaced sample: 5% of the rows, at least 256, at most 2,048 (all when fewer).
            let size = min(n, max(256, min(2048, n / 20)))
            accuracySample = size == n ? train : train.subset((0..<size).map { $0 * n / size })
        } else {
            accuracySample = nil
        }
        if configuration.diagnostics {
            let source = validation ?? train
            diagnosticsBatch = source.subset(Array(0..<min(source.count, 256)))
        } else {
            diagnosticsBatch = nil
        }
        model.network.reserve(rows: configuration.batchSize)
    }

    public var batchesPerEpoch: Int { stepsPerEpoch }

    /// The learning rate at global optimizer step `step`.
    public func learningRate(atStep step: Int) -> Double {
        schedule.learningRate(base: configuration.learningRate, step: step)
    }

    /// Runs the epochs. Throws `TrainingError.diverged` when a batch loss is NaN or infinite.
    public func run() throws -> TrainingStop {
        let network = model.network
        let width = train.width
        let batchSize = configuration.batchSize
        let n = train.count
        let isClassification = model.isClassification
        // Preallocated once: the shuffled order and one batch of inputs and targets.
        let order = UnsafeMutableBufferPointer<Int>.allocate(capacity: n)
        let batchInputs = UnsafeMutableBufferPointer<Float>.allocate(capacity: batchSize * width)
        let batchLabels = UnsafeMutableBufferPointer<Int32>.allocate(capacity: batchSize)
        let batchTargets = UnsafeMutableBufferPointer<Float>.allocate(capacity: batchSize)
        defer { order.deallocate(); batchInputs.deallocate(); batchLabels.deallocate(); batchTargets.deallocate() }
        // Early stopping carries on from the earlier runs' best epoch when the resumed weights are its.
        bestEpoch = resumePoint.bestEpoch
        bestValidationLoss = resumePoint.bestValidationLoss
        var epochsWithoutImprovement = resumePoint.epochsWithoutImprovement
        var snapshot: [(EngineTensor<Float>, [Float])]? = resumePoint.weightsAreBest
            ? network.namedTensors.map { ($0.tensor, $0.tensor.values) } : nil
        let patience = validation == nil ? nil : configuration.earlyStoppingPatience
        var stop = TrainingStop.completed
        let hasDropout = network.specs.contains { if case .dropout = $0 { return true } else { return false } }

        try train.features.withUnsafeBufferPointer { features in
            try train.labels.withUnsafeBufferPointer { labels in
                try train.targets.withUnsafeBufferPointer { targets in
                    epochs: for epoch in (startEpoch + 1)...(startEpoch + configuration.epochs) {
                        // Epoch e's order depends only on (seed, e), batch b's dropout masks only on (seed, e, b).
                        for i in 0..<n { order[i] = i }
                        var shuffler = RandomGenerator(seed: configuration.seed, stream: TrainingStreams.shuffle &+ UInt64(epoch))
                        if n > 1 {
                            for i in stride(from: n - 1, to: 0, by: -1) { order.swapAt(i, shuffler.next(below: i + 1)) }
                        }
                        var dropoutSeeder = RandomGenerator(seed: configuration.seed, stream: TrainingStreams.dropout &+ UInt64(epoch))
                        let epochDropoutSeed = dropoutSeeder.next()

                        let started = monotonicSeconds()
                        var lastReport = started
                        var lossSum = 0.0
                        var learningRate = configuration.learningRate
                        // An epoch interrupted in an earlier run continues after the rows it trained.
                        let firstRow = epoch == startEpoch + 1 && resumePoint.rowsDone < n ? resumePoint.rowsDone : 0
                        var batch = firstRow / batchSize
                        var start = firstRow
                        while start < n {
                            let rows = min(batchSize, n - start)
                            let batchOrder = UnsafeBufferPointer(rebasing: order[start..<start + rows])
                            gatherRows(features.baseAddress!, width: width, indices: batchOrder, into: batchInputs.baseAddress!)
                            for (r, source) in batchOrder.enumerated() {
                                if isClassification { batchLabels[r] = labels[source] } else { batchTargets[r] = targets[source] }
                            }
                            let step = (epoch - 1) * stepsPerEpoch + batch
                            if hasDropout {
                                var batchSeeder = RandomGenerator(seed: epochDropoutSeed, stream: UInt64(batch))
                                network.setDropoutSeed(batchSeeder.next())
                            }
                            learningRate = schedule.learningRate(base: configuration.learningRate, step: step)
                            let batchTargetsView: Targets<Float> = isClassification
                                ? .classes(UnsafeBufferPointer(rebasing: batchLabels[0..<rows]))
                                : .values(UnsafeBufferPointer(rebasing: batchTargets[0..<rows]))
                            let value = try network.trainStep(inputs: UnsafeBufferPointer(batchInputs), rows: rows, targets: batchTargetsView,
                                                              loss: loss, optimizer: optimizer, learningRate: learningRate)
                            batch += 1
                            start += rows
                            guard value.isFinite else {
                                throw TrainingError.diverged(epoch: epoch, batch: batch, batches: stepsPerEpoch, loss: value,
                                                             learningRate: learningRate, initialization: initialization.rawValue,
                                                             normalization: model.normalization.kind.rawValue)
                            }
                            lossSum += value * Double(rows)
                            if let onProgress {
                                let now = monotonicSeconds()
                                if now - lastReport >= 0.1 {
                                    lastReport = now
                                    onProgress(epoch, batch, stepsPerEpoch, lossSum / Double(start - firstRow),
                                               Double(start - firstRow) / max(now - started, 1e-9))
                                }
                            }
                            if shouldStop() && start < n {
                                stop = .interrupted(epoch: epoch, batch: batch, batches: stepsPerEpoch)
                                interruptedRowsDone = start
                                break epochs
                            }
                        }
                        let seconds = monotonicSeconds() - started
                        var record = EpochRecord(epoch: epoch, loss: lossSum / Double(n - firstRow), accuracy: nil, validationLoss: nil,
                                                 validationAccuracy: nil, learningRate: learningRate,
                                                 gradientNorms: gradientNorms(), diagnostics: nil, seconds: seconds,
                                                 samplesPerSecond: Double(n - firstRow) / max(seconds, 1e-9))
                        weightsEpoch = epoch
                        if let accuracySample { record.accuracy = try evaluate(accuracySample, withMetrics: false).accuracy }
                        if let validation {
                            let result = try evaluate(validation, withMetrics: false)
                            record.validationLoss = result.loss
                            record.validationAccuracy = result.accuracy
                        }
                        if let diagnosticsBatch { record.diagnostics = try diagnose(diagnosticsBatch) }
                        records.append(record)
                        history.append(record.historyEntry)
                        if let validationLoss = record.validationLoss, patience != nil || configuration.earlyStoppingPatience != nil {
                            if bestValidationLoss == nil || validationLoss < bestValidationLoss! {
                                bestValidationLoss = validationLoss
                                bestEpoch = epoch
                                epochsWithoutImprovement = 0
                                snapshot = network.namedTensors.map { ($0.tensor, $0.tensor.values) }
                            } else {
                                epochsWithoutImprovement += 1
                            }
                        } else if let validationLoss = record.validationLoss, bestValidationLoss == nil || validationLoss < bestValidationLoss! {
                            bestValidationLoss = validationLoss
                            bestEpoch = epoch
                        }
                        onEpoch?(record)
                        if let every = configuration.checkpointEvery, every > 0, epoch % every == 0,
                           epoch < startEpoch + configuration.epochs {
                            try onCheckpoint?(epoch)
                        }
                        if let patience, epochsWithoutImprovement >= patience {
                            stop = .earlyStopped(bestEpoch: bestEpoch ?? epoch)
                            break epochs
                        }
                        if shouldStop() {
                            stop = .interrupted(epoch: epoch + 1, batch: 0, batches: stepsPerEpoch)
                            break epochs
                        }
                    }
                }
            }
        }
        // Early stopping keeps the best epoch's weights and batchnorm statistics (unless interrupted).
        if let snapshot, configuration.earlyStoppingPatience != nil {
            if case .interrupted = stop {} else {
                for (tensor, values) in snapshot { try tensor.setValues(values) }
                if let bestEpoch { weightsEpoch = bestEpoch }
                if case .completed = stop, let bestEpoch, bestEpoch != records.last?.epoch { stop = .completedKeepingBest(bestEpoch: bestEpoch) }
            }
        }
        return stop
    }

    /// Epochs completed in total (earlier runs included).
    public var epochsCompleted: Int { startEpoch + records.count }

    /// Loss and accuracy of the current model on `set` (inference mode).
    public func evaluate(_ set: PreparedSet, withMetrics: Bool) throws -> Evaluation {
        try Trainer.evaluate(model: model, set: set, withMetrics: withMetrics)
    }

    public static func evaluate(model: Model, set: PreparedSet, withMetrics: Bool) throws -> Evaluation {
        let network = model.network
        let outputs = network.outputFeatures
        let chunk = 1024
        var output = [Float](repeating: 0, count: chunk * outputs)
        var lossSum = 0.0
        var correct = 0
        var metrics = model.isClassification && withMetrics ? ClassificationMetrics(classes: model.classes) : nil
        let floor = ClassificationMetrics.probabilityFloor
        try set.features.withUnsafeBufferPointer { features in
            try output.withUnsafeMutableBufferPointer { out in
                var start = 0
                while start < set.count {
                    let rows = min(chunk, set.count - start)
                    try network.predict(inputs: UnsafeBufferPointer(rebasing: features[(start * set.width)..<((start + rows) * set.width)]),
                                        rows: rows, into: out)
                    for r in 0..<rows {
                        if model.isClassification {
                            let truth = Int(set.labels[start + r])
                            var best = 0
                            for k in 1..<outputs where out[r * outputs + k] > out[r * outputs + best] { best = k }
                            if best == truth { correct += 1 }
                            let p = Double(out[r * outputs + truth])
                            lossSum -= log(min(1, max(floor, p)))
                            metrics?.add(trueClass: truth, predictedClass: best, probabilityOfTrue: p)
                        } else {
                            let d = Double(out[r * outputs]) - Double(set.targets[start + r])
                            lossSum += d * d
                        }
                    }
                    start += rows
                }
            }
        }
        let count = Double(max(1, set.count))
        return Evaluation(loss: lossSum / count, accuracy: model.isClassification ? Double(correct) / count : nil, metrics: metrics)
    }

    /// Per-parameter gradient norms from the last batch (cheap: the gradients are already there).
    private func gradientNorms() -> [(name: String, norm: Double)] {
        model.network.parameters.map { parameter in
            var sum = 0.0
            for i in 0..<parameter.gradient.count {
                let g = Double(parameter.gradient.pointer[i])
                sum += g * g
            }
            return (parameter.name, sum.squareRoot())
        }
    }

    private func diagnose(_ batch: PreparedSet) throws -> [LayerDiagnostics] {
        try batch.features.withUnsafeBufferPointer { x in
            if model.isClassification {
                return try batch.labels.withUnsafeBufferPointer { labels in
                    try model.network.diagnose(inputs: x, rows: batch.count, targets: .classes(labels), loss: loss)
                }
            }
            return try batch.targets.withUnsafeBufferPointer { targets in
                try model.network.diagnose(inputs: x, rows: batch.count, targets: .values(targets), loss: loss)
            }
        }
    }
}

/// Seconds on the monotonic clock.
public func monotonicSeconds() -> Double {
    var t = timespec()
    clock_gettime(CLOCK_MONOTONIC, &t)
    return Double(t.tv_sec) + Double(t.tv_nsec) * 1e-9
}
