// The in-memory model of a `.nnck` checkpoint: what the manifest describes plus the tensor values.
// Pure data; reading, writing and checking live in the other files of NNFormat.
import NNJSON

/// Element type of a tensor. (`f16` is reserved by the format and rejected by v1 readers.)
public enum DType: String, Sendable, CaseIterable {
    case f32, f64

    /// Bytes per element.
    public var byteSize: Int { self == .f32 ? 4 : 8 }
}

/// The values of a tensor, in row-major order.
public enum TensorValues: Equatable, Sendable {
    case f32([Float])
    case f64([Double])

    public var dtype: DType { if case .f32 = self { return .f32 } else { return .f64 } }
    public var count: Int {
        switch self {
        case .f32(let v): return v.count
        case .f64(let v): return v.count
        }
    }
    /// The values widened to Double (a copy).
    public var doubles: [Double] {
        switch self {
        case .f32(let v): return v.map(Double.init)
        case .f64(let v): return v
        }
    }
    /// Calls `body` with the little-endian bytes of the values (x86/ARM Linux are little-endian).
    public func withUnsafeBytes<R>(_ body: (UnsafeRawBufferPointer) throws -> R) rethrows -> R {
        switch self {
        case .f32(let v): return try v.withUnsafeBytes(body)
        case .f64(let v): return try v.withUnsafeBytes(body)
        }
    }
}

/// A named, shaped block of numbers. `shape` is row-major; `[]` is a scalar (1 value).
public struct Tensor: Equatable, Sendable {
    public var name: String
    public var shape: [Int]
    public var values: TensorValues

    public init(name: String, shape: [Int], values: TensorValues) {
        self.name = name
        self.shape = shape
        self.values = values
    }
    public init(name: String, shape: [Int], floats: [Float]) { self.init(name: name, shape: shape, values: .f32(floats)) }
    public init(name: String, shape: [Int], doubles: [Double]) { self.init(name: name, shape: shape, values: .f64(doubles)) }

    public var dtype: DType { values.dtype }
    /// Product of the shape (1 for a scalar); nil if it overflows Int.
    public var elementCount: Int? { Shape.elementCount(shape) }
}

enum Shape {
    /// Product of the dimensions with overflow checks; nil on overflow or a negative dimension.
    static func elementCount(_ shape: [Int]) -> Int? {
        var product = 1
        for dimension in shape {
            guard dimension >= 0 else { return nil }
            let (result, overflow) = product.multipliedReportingOverflow(by: dimension)
            if overflow { return nil }
            product = result
        }
        return product
    }

    static func text(_ shape: [Int]) -> String { "[" + shape.map(String.init).joined(separator: ", ") + "]" }
}

/// How a tensor's bytes are stored in the file.
public enum Codec: String, Sendable, CaseIterable {
    case raw
    case deflate
    /// Byte-plane shuffle, then deflate: what compresses float weights best.
    case shuffleDeflate = "shuffle+deflate"
}

/// Name and version of the program that wrote a checkpoint.
public struct WriterInfo: Equatable, Sendable {
    public var name: String
    public var version: String
    public init(name: String, version: String) {
        self.name = name
        self.version = version
    }
}

public enum NormalizationKind: String, Sendable, CaseIterable {
    case none, standard, minmax
}

/// Input normalization x' = (x − offset) / scale, per feature. `offset`/`scale` name tensors of
/// shape [featureCount]; both nil for `.none`.
public struct Normalization: Equatable, Sendable {
    public var kind: NormalizationKind
    public var offset: String?
    public var scale: String?

    public init(kind: NormalizationKind, offset: String?, scale: String?) {
        self.kind = kind
        self.offset = offset
        self.scale = scale
    }
    public static let none = Normalization(kind: .none, offset: nil, scale: nil)
    public static func standard(offset: String, scale: String) -> Normalization { .init(kind: .standard, offset: offset, scale: scale) }
    public static func minmax(offset: String, scale: String) -> Normalization { .init(kind: .minmax, offset: offset, scale: scale) }
}

public struct InputSpec: Equatable, Sendable {
    /// Feature (column) names in the order the network reads them.
    public var features: [String]
    public var normalization: Normalization
    public init(features: [String], normalization: Normalization = .none) {
        self.features = features
        self.normalization = normalization
    }
}

public enum ActivationFunction: Equatable, Sendable {
    case relu
    case leakyRelu(slope: Double)
    case sigmoid
    case tanh
    case softmax
    case linear

    /// The manifest name: relu, leaky_relu, sigmoid, tanh, softmax, linear.
    public var name: String {
        switch self {
        case .relu: return "relu"
        case .leakyRelu: return "leaky_relu"
        case .sigmoid: return "sigmoid"
        case .tanh: return "tanh"
        case .softmax: return "softmax"
        case .linear: return "linear"
        }
    }
}

/// Dense layer z = x · W + b; weight shape [inputs, outputs] row-major, bias [outputs].
public struct DenseSpec: Equatable, Sendable {
    public var inputs: Int
    public var outputs: Int
    public var weight: String
    public var bias: String
    public init(inputs: Int, outputs: Int, weight: String, bias: String) {
        self.inputs = inputs
        self.outputs = outputs
        self.weight = weight
        self.bias = bias
    }
}

/// How training updated batchnorm running statistics with momentum m.
public enum MomentumConvention: String, Sendable, CaseIterable {
    /// running ← (1 − m)·running + m·batch
    case pytorch
    /// running ← m·running + (1 − m)·batch (the course text's 6.3)
    case keras
}

/// Which batch variance estimator fed the running variance.
public enum VarianceEstimator: String, Sendable, CaseIterable {
    case unbiased, biased
}

/// Batchnorm; at inference y = gamma · (x − running_mean) / sqrt(running_var + epsilon) + beta.
/// All four tensors have shape [features].
public struct BatchNormSpec: Equatable, Sendable {
    public var features: Int
    public var epsilon: Double
    public var momentum: Double
    public var momentumConvention: MomentumConvention
    public var runningVariance: VarianceEstimator
    public var gamma: String
    public var beta: String
    public var runningMean: String
    public var runningVar: String

    public init(features: Int, epsilon: Double, momentum: Double, momentumConvention: MomentumConvention,
                runningVariance: VarianceEstimator, gamma: String, beta: String, runningMean: String, runningVar: String) {
        self.features = features
        self.epsilon = epsilon
        self.momentum = momentum
        self.momentumConvention = momentumConvention
        self.runningVariance = runningVariance
        self.gamma = gamma
        self.beta = beta
        self.runningMean = runningMean
        self.runningVar = runningVar
    }
}

public enum LayerSpec: Equatable, Sendable {
    case dense(DenseSpec)
    case activation(ActivationFunction)
    case batchNorm(BatchNormSpec)
    /// Dropout with drop probability `rate`; identity at inference.
    case dropout(rate: Double)

    /// The manifest kind: dense, activation, batchnorm, dropout.
    public var kind: String {
        switch self {
        case .dense: return "dense"
        case .activation: return "activation"
        case .batchNorm: return "batchnorm"
        case .dropout: return "dropout"
        }
    }

    /// Names of the tensors this layer uses (weight and bias; or gamma, beta, running mean, running var).
    public var tensorNames: [String] {
        switch self {
        case .dense(let d): return [d.weight, d.bias]
        case .batchNorm(let b): return [b.gamma, b.beta, b.runningMean, b.runningVar]
        case .activation, .dropout: return []
        }
    }
}

public enum OutputSpec: Equatable, Sendable {
    /// `classes` in the order of the network's output units; `label` is the label column's name.
    case classification(label: String, classes: [String])
    /// Target names in output-unit order.
    case regression(targets: [String])

    /// Number of output units.
    public var width: Int {
        switch self {
        case .classification(_, let classes): return classes.count
        case .regression(let targets): return targets.count
        }
    }
}

/// Verification vectors: raw inputs [rows, features] and the model's outputs [rows, output width].
/// Passes when |got − want| ≤ absTolerance + relTolerance·|want| for every value.
public struct VerificationSpec: Equatable, Sendable {
    public var inputs: String
    public var outputs: String
    public var absTolerance: Double
    public var relTolerance: Double
    public init(inputs: String, outputs: String, absTolerance: Double, relTolerance: Double) {
        self.inputs = inputs
        self.outputs = outputs
        self.absTolerance = absTolerance
        self.relTolerance = relTolerance
    }
}

/// Optimizer state for resuming training. `slots[parameter][slotName]` names a tensor shaped like `parameter`.
public struct OptimizerState: Equatable, Sendable {
    public var optimizer: String
    public var step: Int
    public var hyperparameters: [String: Double]
    public var slots: [String: [String: String]]
    public init(optimizer: String, step: Int, hyperparameters: [String: Double] = [:], slots: [String: [String: String]] = [:]) {
        self.optimizer = optimizer
        self.step = step
        self.hyperparameters = hyperparameters
        self.slots = slots
    }
}

public struct DatasetInfo: Equatable, Sendable {
    public var name: String?
    public var rows: Int?
    /// 64 lowercase hex digits.
    public var sha256: String?
    public init(name: String? = nil, rows: Int? = nil, sha256: String? = nil) {
        self.name = name
        self.rows = rows
        self.sha256 = sha256
    }
}

/// How the model was trained. Every member optional; empty maps are not written.
public struct TrainingProvenance: Equatable, Sendable {
    public var hyperparameters: [String: JSONValue]
    /// 0 ... Int64.max (stored as a JSON integer).
    public var seed: UInt64?
    public var epochs: Int?
    public var dataset: DatasetInfo?
    public var finalMetrics: [String: Double]
    /// One entry per epoch.
    public var history: [[String: Double]]
    /// Seconds since the Unix epoch; only when the caller passes a time (clamped to SOURCE_DATE_EPOCH on write).
    public var createdUnix: Int64?

    public init(hyperparameters: [String: JSONValue] = [:], seed: UInt64? = nil, epochs: Int? = nil,
                dataset: DatasetInfo? = nil, finalMetrics: [String: Double] = [:], history: [[String: Double]] = [],
                createdUnix: Int64? = nil) {
        self.hyperparameters = hyperparameters
        self.seed = seed
        self.epochs = epochs
        self.dataset = dataset
        self.finalMetrics = finalMetrics
        self.history = history
        self.createdUnix = createdUnix
    }
}

/// A whole checkpoint: model description, tensors, and optional extras.
public struct Checkpoint: Equatable, Sendable {
    public static let formatMajor = 1
    public static let formatMinor = 0

    public var writer: WriterInfo
    public var input: InputSpec
    public var layers: [LayerSpec]
    public var output: OutputSpec
    public var verification: VerificationSpec?
    public var optimizer: OptimizerState?
    public var training: TrainingProvenance?
    public var metadata: [String: String]
    /// Stored in this order; names unique.
    public var tensors: [Tensor]

    public init(writer: WriterInfo, input: InputSpec, layers: [LayerSpec], output: OutputSpec,
                verification: VerificationSpec? = nil, optimizer: OptimizerState? = nil,
                training: TrainingProvenance? = nil, metadata: [String: String] = [:], tensors: [Tensor]) {
        self.writer = writer
        self.input = input
        self.layers = layers
        self.output = output
        self.verification = verification
        self.optimizer = optimizer
        self.training = training
        self.metadata = metadata
        self.tensors = tensors
    }

    /// The tensor called `name`, if any.
    public func tensor(named name: String) -> Tensor? { tensors.first { $0.name == name } }

    /// Width of the data after each layer (starting from the feature count), one entry per layer.
    public var layerWidths: [Int] {
        var width = input.features.count
        return layers.map { layer in
            if case .dense(let d) = layer { width = d.outputs }
            return width
        }
    }
}
