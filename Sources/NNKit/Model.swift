import NNData
import NNEngine
import NNFormat
import NNParallel

/// A model as nnkit runs it: the network plus everything needed to run it on raw CSV rows —
/// the feature names it reads, the input normalization, and what its outputs mean.
public final class Model {
    /// Feature (column) names, in the order the network reads them.
    public let features: [String]
    /// Applied to raw rows before the network: x' = (x − offset) / scale.
    public let normalization: NNData.Normalization
    /// Class names (classification) or target names (regression), in output order.
    public let output: OutputSpec
    public let network: Network<Float>
    public var training: TrainingProvenance?
    public var metadata: [String: String]

    public init(features: [String], normalization: NNData.Normalization, output: OutputSpec, network: Network<Float>,
                training: TrainingProvenance? = nil, metadata: [String: String] = [:]) {
        self.features = features
        self.normalization = normalization
        self.output = output
        self.network = network
        self.training = training
        self.metadata = metadata
    }

    public var isClassification: Bool { output.isClassification }

    /// Class names; empty for regression.
    public var classes: [String] { output.classNames }

    /// Name of the label column the model was trained on (classification) or of the targets.
    public var labelName: String? {
        switch output {
        case let .classification(label, _): return label
        case let .regression(targets): return targets.first
        }
    }

    /// The loss nnkit trains this model with.
    public var loss: Loss { isClassification ? .softmaxCrossEntropy : .meanSquaredError }

    /// Normalizes `rawRows` ([rows, features], in place) and runs the network; returns
    /// [rows, output width] (class probabilities for a classifier).
    public func predict(rawRows: inout [Float], rows: Int) throws -> [Float] {
        rawRows.withUnsafeMutableBufferPointer { normalization.apply(to: $0) }
        return try network.predict(rawRows, rows: rows)
    }

    /// As `predict(rawRows:)` over buffers, allocation-free: `rawRows` is normalized in place.
    public func predict(rawRows: UnsafeMutableBufferPointer<Float>, rows: Int, into output: UnsafeMutableBufferPointer<Float>) throws {
        normalization.apply(to: UnsafeMutableBufferPointer(rebasing: rawRows[0..<(rows * features.count)]))
        try network.predict(inputs: UnsafeBufferPointer(rawRows), rows: rows, into: output)
    }
}

extension OutputSpec {
    public var isClassification: Bool {
        if case .classification = self { return true }
        return false
    }

    /// Class names in output order; empty for regression.
    public var classNames: [String] {
        if case let .classification(_, classes) = self { return classes }
        return []
    }
}

// MARK: - Checkpoint conversion

/// Tensor names nnkit uses in checkpoints: the engine's "i.weight" becomes "layers.i.weight".
public enum TensorNames {
    public static func layer(_ engineName: String) -> String { "layers." + engineName }
    public static let normalizationOffset = "input.offset"
    public static let normalizationScale = "input.scale"
    public static let verificationInputs = "verification.inputs"
    public static let verificationOutputs = "verification.outputs"
    public static func optimizerSlot(_ parameter: String, _ slot: String) -> String { "optimizer.\(parameter).\(slot)" }
}

public enum ModelError: Error, CustomStringConvertible {
    case checkpoint(path: String, reason: String)
    case verificationFailed(path: String, row: Int, column: Int, got: Double, expected: Double, tolerance: Double)

    public var description: String {
        switch self {
        case let .checkpoint(path, reason):
            return "\(path): \(reason)"
        case let .verificationFailed(path, row, column, got, expected, tolerance):
            return "\(path): verification vector \(row), output \(column): the model gives \(got), the file expects \(expected) (tolerance \(tolerance))"
        }
    }
}

extension Model {
    /// Builds the runnable model a checkpoint describes (weights copied to Float32).
    /// `source` names the file in error messages.
    public convenience init(checkpoint: Checkpoint, source: String, pool: WorkerPool = .serial) throws {
        let network: Network<Float> = try Self.network(from: checkpoint, source: source, pool: pool)
        let normalization: NNData.Normalization
        let featureCount = checkpoint.input.features.count
        switch checkpoint.input.normalization.kind {
        case .none:
            normalization = NNData.Normalization(kind: .none, offset: Array(repeating: 0, count: featureCount),
                                                 scale: Array(repeating: 1, count: featureCount))
        case .standard, .minmax:
            guard let offsetName = checkpoint.input.normalization.offset, let scaleName = checkpoint.input.normalization.scale else {
                throw ModelError.checkpoint(path: source, reason: "input normalization names no offset/scale tensors")
            }
            let kind: NNData.NormalizationKind = checkpoint.input.normalization.kind == .standard ? .standard : .minmax
            normalization = NNData.Normalization(
                kind: kind,
                offset: try Self.values(offsetName, in: checkpoint, source: source).map { Float($0) },
                scale: try Self.values(scaleName, in: checkpoint, source: source).map { Float($0) })
        }
        self.init(features: checkpoint.input.features, normalization: normalization, output: checkpoint.output,
                  network: network, training: checkpoint.training, metadata: checkpoint.metadata)
    }

    /// The network a checkpoint describes, in precision T, with every parameter and buffer copied from
    /// the tensor its layer spec names (f32 and f64 tensors both accepted).
    public static func network<T: EngineScalar>(from checkpoint: Checkpoint, source: String,
                                                 pool: WorkerPool = .serial) throws -> Network<T> {
        func fail(_ reason: String) -> ModelError { .checkpoint(path: source, reason: reason) }
        let specs: [NNEngine.LayerSpec] = checkpoint.layers.map { layer in
            switch layer {
            case let .dense(d):
                return .dense(inputs: d.inputs, outputs: d.outputs)
            case let .activation(function):
                return .activation(engineActivation(function))
            case let .batchNorm(b):
                return .batchNorm(features: b.features, config: BatchNormConfig(
                    epsilon: b.epsilon, momentum: b.momentum,
                    convention: b.momentumConvention == .pytorch ? .pytorch : .keras,
                    runningVariance: b.runningVariance == .unbiased ? .unbiased : .biased))
            case let .dropout(rate):
                return .dropout(rate: rate)
            }
        }
        let network: Network<T>
        do {
            network = try Network<T>(specs: specs, pool: pool)
        } catch {
            throw fail("its layers do not form a network: \(error)")
        }
        // Engine "i.weight" ← the tensor the file's layer i names, and so on.
        for (index, layer) in checkpoint.layers.enumerated() {
            let pairs: [(String, String)]
            switch layer {
            case let .dense(d): pairs = [("\(index).weight", d.weight), ("\(index).bias", d.bias)]
            case let .batchNorm(b):
                pairs = [("\(index).gamma", b.gamma), ("\(index).beta", b.beta),
                         ("\(index).running_mean", b.runningMean), ("\(index).running_var", b.runningVar)]
            case .activation, .dropout: pairs = []
            }
            for (engineName, fileName) in pairs {
                guard let target = network.tensor(named: engineName) else { throw fail("layer \(index) has no tensor \(engineName)") }
                let newValues = try values(fileName, in: checkpoint, source: source)
                do { try target.setValues(newValues) } catch { throw fail("tensor '\(fileName)': \(error)") }
            }
        }
        return network
    }

    /// The values of tensor `name` widened to Double; a missing tensor is an error naming it.
    static func values(_ name: String, in checkpoint: Checkpoint, source: String) throws -> [Double] {
        guard let tensor = checkpoint.tensor(named: name) else {
            throw ModelError.checkpoint(path: source, reason: "tensor '\(name)' is missing")
        }
        return tensor.values.doubles
    }

    static func engineActivation(_ function: ActivationFunction) -> Activation {
        switch function {
        case .relu: return .relu
        case let .leakyRelu(slope): return .leakyReLU(slope: slope)
        case .sigmoid: return .sigmoid
        case .tanh: return .tanh
        case .softmax: return .softmax
        case .linear: return .linear
        }
    }

    static func formatActivation(_ activation: Activation) -> ActivationFunction {
        switch activation {
        case .relu: return .relu
        case let .leakyReLU(slope): return .leakyRelu(slope: slope)
        case .sigmoid: return .sigmoid
        case .tanh: return .tanh
        case .softmax: return .softmax
        case .linear: return .linear
        }
    }

    /// The checkpoint that stores this model.
    /// - verificationRows: raw input rows ([n, features]) whose outputs are stored as verification vectors.
    /// - optimizer: when given, its state is stored so training can resume.
    public func checkpoint(writer: WriterInfo, verificationRows: [Float] = [], optimizer: Optimizer<Float>? = nil,
                           optimizerName: String? = nil, hyperparameters: [String: Double] = [:]) throws -> Checkpoint {
        var tensors: [NNFormat.Tensor] = []
        var layers: [NNFormat.LayerSpec] = []
        func add(_ engineName: String) -> String {
            let tensor = network.tensor(named: engineName)!
            let name = TensorNames.layer(engineName)
            tensors.append(NNFormat.Tensor(name: name, shape: tensor.shape, floats: tensor.values))
            return name
        }
        for (index, spec) in network.specs.enumerated() {
            switch spec {
            case let .dense(inputs, outputs):
                let weight = add("\(index).weight"), bias = add("\(index).bias")
                layers.append(.dense(DenseSpec(inputs: inputs, outputs: outputs, weight: weight, bias: bias)))
            case let .activation(activation):
                layers.append(.activation(Self.formatActivation(activation)))
            case let .batchNorm(features, config):
                let gamma = add("\(index).gamma"), beta = add("\(index).beta")
                let mean = add("\(index).running_mean"), variance = add("\(index).running_var")
                layers.append(.batchNorm(BatchNormSpec(
                    features: features, epsilon: config.epsilon, momentum: config.momentum,
                    momentumConvention: config.convention == .pytorch ? .pytorch : .keras,
                    runningVariance: config.runningVariance == .unbiased ? .unbiased : .biased,
                    gamma: gamma, beta: beta, runningMean: mean, runningVar: variance)))
            case let .dropout(rate):
                layers.append(.dropout(rate: rate))
            }
        }
        var input = InputSpec(features: features, normalization: .none)
        if normalization.kind != .none {
            tensors.append(NNFormat.Tensor(name: TensorNames.normalizationOffset, shape: [features.count], floats: normalization.offset))
            tensors.append(NNFormat.Tensor(name: TensorNames.normalizationScale, shape: [features.count], floats: normalization.scale))
            input.normalization = normalization.kind == .standard
                ? .standard(offset: TensorNames.normalizationOffset, scale: TensorNames.normalizationScale)
                : .minmax(offset: TensorNames.normalizationOffset, scale: TensorNames.normalizationScale)
        }
        var verification: VerificationSpec?
        if !verificationRows.isEmpty {
            let rows = verificationRows.count / features.count
            var copy = verificationRows
            let outputs = try predict(rawRows: &copy, rows: rows)
            tensors.append(NNFormat.Tensor(name: TensorNames.verificationInputs, shape: [rows, features.count], floats: verificationRows))
            tensors.append(NNFormat.Tensor(name: TensorNames.verificationOutputs, shape: [rows, network.outputFeatures], floats: outputs))
            verification = VerificationSpec(inputs: TensorNames.verificationInputs, outputs: TensorNames.verificationOutputs,
                                            absTolerance: 1e-5, relTolerance: 1e-4)
        }
        var optimizerState: OptimizerState?
        if let optimizer {
            var slots: [String: [String: String]] = [:]
            for slot in optimizer.exportSlots() {
                // Slot names are "<parameter>.<slot>", e.g. "0.weight.m".
                guard let dot = slot.name.lastIndex(of: ".") else { continue }
                let parameter = TensorNames.layer(String(slot.name[..<dot]))
                let slotName = String(slot.name[slot.name.index(after: dot)...])
                let tensorName = TensorNames.optimizerSlot(parameter, slotName)
                tensors.append(NNFormat.Tensor(name: tensorName, shape: slot.shape, floats: slot.values))
                slots[parameter, default: [:]][slotName] = tensorName
            }
            optimizerState = OptimizerState(optimizer: optimizerName ?? "\(optimizer.kind)", step: optimizer.stepCount,
                                            hyperparameters: hyperparameters, slots: slots)
        }
        return Checkpoint(writer: writer, input: input, layers: layers, output: output, verification: verification,
                          optimizer: optimizerState, training: training, metadata: metadata, tensors: tensors)
    }

    /// Runs the checkpoint's verification vectors through this model; throws on the first mismatch.
    /// Returns the number of vectors checked (0 when the file has none).
    @discardableResult
    public func verify(against checkpoint: Checkpoint, source: String, pool: WorkerPool = .serial) throws -> Int {
        let outcome = try verificationOutcome(checkpoint: checkpoint, source: source, pool: pool)
        if let failure = outcome.firstFailure { throw failure }
        return outcome.vectors
    }

    /// Runs the checkpoint's verification vectors and compares every output with its tolerance.
    /// Files whose model tensors are f64 run in float64 (their tolerances are stated for float64
    /// arithmetic, which Float32 weights cannot meet); others run through this Float32 model, as
    /// nnkit's tools do.
    public func verificationOutcome(checkpoint: Checkpoint, source: String, pool: WorkerPool = .serial) throws -> VerificationOutcome {
        guard let spec = checkpoint.verification else { return VerificationOutcome(precision: "float32") }
        guard let inputs = checkpoint.tensor(named: spec.inputs), let expected = checkpoint.tensor(named: spec.outputs) else {
            throw ModelError.checkpoint(path: source, reason: "verification tensors are missing")
        }
        let rows = inputs.shape.first ?? 0
        let want = expected.values.doubles
        var outcome = VerificationOutcome(precision: Self.usesFloat64(checkpoint) ? "float64" : "float32")
        outcome.vectors = rows
        let got: [Double]
        if outcome.precision == "float64" {
            let network: Network<Double> = try Self.network(from: checkpoint, source: source, pool: pool)
            var x = inputs.values.doubles
            let stored = checkpoint.input.normalization
            if stored.kind != .none, let offsetName = stored.offset, let scaleName = stored.scale {
                let offset = try Self.values(offsetName, in: checkpoint, source: source)
                let scale = try Self.values(scaleName, in: checkpoint, source: source)
                for i in 0..<x.count { x[i] = (x[i] - offset[i % features.count]) / scale[i % features.count] }
            }
            do {
                got = try network.predict(x, rows: rows)
            } catch {
                throw ModelError.checkpoint(path: source, reason: "running the verification inputs in float64: \(error)")
            }
        } else {
            var x = inputs.values.doubles.map { Float($0) }
            got = try predict(rawRows: &x, rows: rows).map(Double.init)
        }
        guard got.count == want.count else {
            throw ModelError.checkpoint(path: source, reason: "verification outputs have \(want.count) values, the model gives \(got.count)")
        }
        let width = max(1, want.count / max(1, rows))
        var failedRows = Set<Int>()
        var maxDeviation = 0.0
        for i in 0..<want.count {
            let deviation = abs(got[i] - want[i])
            if deviation.isNaN || deviation > maxDeviation { maxDeviation = deviation }  // NaN sticks
            let tolerance = spec.absTolerance + spec.relTolerance * abs(want[i])
            if !(deviation <= tolerance) {
                failedRows.insert(i / width)
                if outcome.firstFailure == nil {
                    outcome.firstFailure = .verificationFailed(path: source, row: i / width, column: i % width,
                                                               got: got[i], expected: want[i], tolerance: tolerance)
                }
            }
        }
        outcome.maxDeviation = maxDeviation
        outcome.passedVectors = rows - failedRows.count
        return outcome
    }

    /// Whether any tensor the forward pass reads (layers, normalization, verification) is f64.
    public static func usesFloat64(_ checkpoint: Checkpoint) -> Bool {
        var names = checkpoint.layers.flatMap(\.tensorNames)
        if let offset = checkpoint.input.normalization.offset { names.append(offset) }
        if let scale = checkpoint.input.normalization.scale { names.append(scale) }
        if let spec = checkpoint.verification { names += [spec.inputs, spec.outputs] }
        return names.contains { checkpoint.tensor(named: $0)?.dtype == .f64 }
    }
}

/// What running a checkpoint's verification vectors found.
public struct VerificationOutcome {
    /// "float32" or "float64": the arithmetic the vectors ran in.
    public var precision: String
    public var vectors = 0
    public var passedVectors = 0
    /// Largest |got − expected| over every output (NaN if any output was NaN); nil when not run.
    public var maxDeviation: Double?
    public var firstFailure: ModelError?

    public init(precision: String) { self.precision = precision }
}
