// What `nntrain` was asked to do, as plain values: the network, the optimizer and schedule, the
// loop's settings. Built by the command line (or tests) and recorded in the checkpoint's provenance.
import NNData
import NNEngine
import NNJSON

/// Classification (softmax over classes, cross-entropy) or regression (linear outputs, MSE).
public enum TrainingTask: String, CaseIterable {
    case classification, regression
}

/// The optimizers a user can name, with their own hyperparameters.
public enum OptimizerName: String, CaseIterable {
    case sgd, momentum, nesterov, adam, adamw
}

/// Learning-rate schedules a user can name (their parameters live in `TrainingConfiguration`).
public enum ScheduleName: String, CaseIterable {
    case constant, step, exponential, cosine
}

public struct TrainingConfiguration {
    public var task: TrainingTask = .classification
    /// The hidden layers (`--layers`); ignored when `modelLayers` is set.
    public var hidden: [HiddenLayer] = [.dense(units: 64), .activation(.relu, slope: nil)]
    /// The text the hidden layers were written as (recorded in the provenance).
    public var layersText: String = "64:relu"
    /// A whole layer list from `--model FILE.json` (output layer included), already checked.
    public var modelLayers: [NNEngine.LayerSpec]?
    /// nil: he when the network has a relu/leaky_relu, xavier otherwise.
    public var initialization: WeightInitialization?
    public var optimizer: OptimizerName = .adam
    public var learningRate: Double = 0.001
    public var weightDecay: Double = 0
    /// Momentum for `momentum` and `nesterov`.
    public var momentum: Double = 0.9
    public var beta1: Double = 0.9
    public var beta2: Double = 0.999
    public var adamEpsilon: Double = 1e-8
    public var schedule: ScheduleName = .constant
    /// `step` and `exponential`: the factor (per `decaySteps` optimizer steps for `step`, per step for `exponential`).
    public var decayRate: Double = 0.5
    /// `step`: optimizer steps between decays; nil means one epoch's worth of steps × 10.
    public var decaySteps: Int?
    /// `cosine`: steps to reach `minLearningRate`; nil means the whole run.
    public var cosineSteps: Int?
    public var minLearningRate: Double = 0
    public var warmupSteps: Int = 0
    /// Epochs to train in this run (with `--resume`: epochs to add).
    public var epochs: Int = 20
    public var batchSize: Int = 32
    public var seed: UInt64 = 0
    public var normalization: NNData.NormalizationKind = .standard
    /// Stop when the validation loss has not improved for this many epochs; keep the best weights.
    public var earlyStoppingPatience: Int?
    /// Write `<output>.epoch-NNNN.nnck` every this many epochs.
    public var checkpointEvery: Int?
    public var saveOptimizerState = false
    public var gradientCheck = false
    public var diagnostics = false

    public init() {}

    /// The engine's optimizer kind for the chosen name.
    public var optimizerKind: OptimizerKind {
        switch optimizer {
        case .sgd: return .sgd
        case .momentum: return .momentum(momentum: momentum)
        case .nesterov: return .nesterov(momentum: momentum)
        case .adam: return .adam(beta1: beta1, beta2: beta2, epsilon: adamEpsilon)
        case .adamw: return .adamW(beta1: beta1, beta2: beta2, epsilon: adamEpsilon)
        }
    }

    /// The engine's schedule, given the steps one epoch takes and the run's total steps.
    public func learningRateSchedule(stepsPerEpoch: Int, totalSteps: Int) -> LearningRateSchedule {
        let base: LearningRateSchedule
        switch schedule {
        case .constant: base = .constant
        case .step: base = .step(decayRate: decayRate, decaySteps: decaySteps ?? max(1, stepsPerEpoch * 10))
        case .exponential: base = .exponential(decayRate: decayRate)
        case .cosine: base = .cosine(tMax: cosineSteps ?? max(1, totalSteps - warmupSteps), etaMin: minLearningRate)
        }
        return warmupSteps > 0 ? .warmup(warmupSteps: warmupSteps, then: base) : base
    }

    /// Every hyperparameter, for the checkpoint's provenance. Nothing here depends on the thread
    /// count, paths or time, so the checkpoint stays byte-identical across such differences.
    public func provenanceHyperparameters(extra: [(String, JSONValue)] = []) -> [String: JSONValue] {
        var h: [String: JSONValue] = [
            "task": .string(task.rawValue),
            "optimizer": .string(optimizer.rawValue),
            "learning_rate": .number(learningRate),
            "weight_decay": .number(weightDecay),
            "schedule": .string(schedule.rawValue),
            "warmup_steps": .integer(Int64(warmupSteps)),
            "batch_size": .integer(Int64(batchSize)),
            "normalize": .string(normalization.rawValue),
        ]
        h["layers"] = .string(modelLayers == nil ? layersText : "from --model JSON")
        switch optimizer {
        case .momentum, .nesterov: h["momentum"] = .number(momentum)
        case .adam, .adamw:
            h["beta1"] = .number(beta1); h["beta2"] = .number(beta2); h["epsilon"] = .number(adamEpsilon)
        case .sgd: break
        }
        switch schedule {
        case .step:
            h["decay_rate"] = .number(decayRate)
            if let decaySteps { h["decay_steps"] = .integer(Int64(decaySteps)) }
        case .exponential: h["decay_rate"] = .number(decayRate)
        case .cosine:
            h["min_lr"] = .number(minLearningRate)
            if let cosineSteps { h["cosine_steps"] = .integer(Int64(cosineSteps)) }
        case .constant: break
        }
        if let earlyStoppingPatience { h["early_stopping_patience"] = .integer(Int64(earlyStoppingPatience)) }
        for (key, value) in extra { h[key] = value }
        return h
    }

    /// The full engine layer list for `inputs` features and `outputs` output units: the hidden
    /// layers with widths chained, then dense → softmax (classification) or dense (regression).
    public func layerSpecs(inputs: Int, outputs: Int) -> [NNEngine.LayerSpec] {
        if let modelLayers { return modelLayers }
        var specs: [NNEngine.LayerSpec] = []
        var width = inputs
        for layer in hidden {
            switch layer {
            case let .dense(units):
                specs.append(.dense(inputs: width, outputs: units))
                width = units
            case let .activation(name, slope):
                specs.append(.activation(Self.engineActivation(name, slope: slope)))
            case let .batchnorm(momentum):
                specs.append(.batchNorm(features: width, config: BatchNormConfig(momentum: momentum ?? 0.1)))
            case let .dropout(rate):
                specs.append(.dropout(rate: rate))
            }
        }
        specs.append(.dense(inputs: width, outputs: outputs))
        if task == .classification { specs.append(.activation(.softmax)) }
        return specs
    }

    static func engineActivation(_ name: ActivationName, slope: Double?) -> Activation {
        switch name {
        case .relu: return .relu
        case .leakyRelu: return .leakyReLU(slope: slope ?? 0.01)
        case .sigmoid: return .sigmoid
        case .tanh: return .tanh
        case .linear: return .linear
        case .softmax: return .softmax
        }
    }

    /// The initialization to use for `specs`: the chosen one, else he for relu-family networks, xavier otherwise.
    public func resolvedInitialization(for specs: [NNEngine.LayerSpec]) -> WeightInitialization {
        if let initialization { return initialization }
        let hasRelu = specs.contains { spec in
            if case .activation(.relu) = spec { return true }
            if case .activation(.leakyReLU) = spec { return true }
            return false
        }
        return hasRelu ? .he : .xavier
    }
}
