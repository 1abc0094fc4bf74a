// The network: an ordered list of layers, each owning its forward and backward pass, plus the
// preallocated workspace that makes a training step allocation-free after the first batch.

import NNParallel

/// A layer as described by a checkpoint or a user: what NNKit builds networks from.
public enum LayerSpec: Equatable, CustomStringConvertible {
    case dense(inputs: Int, outputs: Int)
    case activation(Activation)
    case batchNorm(features: Int, config: BatchNormConfig)
    case dropout(rate: Double)

    public var description: String {
        switch self {
        case let .dense(inputs, outputs): return "dense(\(inputs) → \(outputs))"
        case let .activation(activation): return activation.description
        case let .batchNorm(features, _): return "batchnorm(\(features))"
        case let .dropout(rate): return "dropout(\(rate))"
        }
    }
}

/// A built layer. An enum (not a protocol) so that the network's loops dispatch statically and the
/// whole step specializes for Float.
public enum Layer<T: EngineScalar> {
    case dense(DenseLayer<T>)
    case activation(ActivationLayer<T>)
    case batchNorm(BatchNormLayer<T>)
    case dropout(DropoutLayer<T>)
}

public final class Network<T: EngineScalar> {
    public let specs: [LayerSpec]
    public let layers: [Layer<T>]
    public let inputFeatures: Int
    public let outputFeatures: Int
    /// Trainable tensors in layer order: dense "i.weight" [in, out], "i.bias" [out];
    /// batchnorm "i.gamma", "i.beta" [features]. i is the layer's index in `specs`.
    public let parameters: [Parameter<T>]
    /// Non-trainable state: batchnorm "i.running_mean", "i.running_var" [features].
    public let buffers: [(name: String, tensor: EngineTensor<T>)]
    /// Threads for the matrix products. Results do not depend on its thread count.
    public var pool: WorkerPool

    /// Rows the workspace currently holds; grows on demand.
    public private(set) var reservedRows = 0
    /// layerInputs[i]: the input of layer i in the last forward pass; layerInputs[count]: the output.
    private let layerInputs: UnsafeMutablePointer<UnsafePointer<T>>
    private let lossGradient: ScratchBuffer<T>
    private let firstParameterLayer: Int

    /// Stream numbers of the dropout generators: `RandomGenerator(seed:, stream: dropoutStreamBase + i)`
    /// for the dropout layer at index i.
    public static var dropoutStreamBase: UInt64 { 1000 }

    /// Builds the layers from specs, checking that widths chain. Weights start at zero (call
    /// `initialize`), batchnorm γ = 1, β = 0, running mean 0 and variance 1.
    public init(specs: [LayerSpec], pool: WorkerPool = .serial, maxBatchSize: Int = 0, dropoutSeed: UInt64 = 0) throws {
        // The input width comes from the first layer that states one (dense inputs or batchnorm features).
        var firstWidth: Int?
        for spec in specs where firstWidth == nil {
            switch spec {
            case let .dense(inputs, _): firstWidth = inputs
            case let .batchNorm(features, _): firstWidth = features
            default: break
            }
        }
        guard let firstInputs = firstWidth, firstInputs > 0 else { throw EngineError.emptyNetwork }
        var width = firstInputs
        var built: [Layer<T>] = []
        var parameters: [Parameter<T>] = []
        var buffers: [(String, EngineTensor<T>)] = []
        var firstParameterLayer = specs.count
        for (index, spec) in specs.enumerated() {
            switch spec {
            case let .dense(inputs, outputs):
                guard inputs == width else {
                    throw EngineError.layerShapeMismatch(layer: index, kind: "dense", expectedInputs: inputs, found: width)
                }
                guard outputs > 0 else {
                    throw EngineError.invalidLayerParameter(layer: index, kind: "dense", parameter: "outputs", value: "\(outputs)", expected: "at least 1")
                }
                let layer = DenseLayer<T>(inputs: inputs, outputs: outputs)
                parameters.append(Parameter(layerIndex: index, value: layer.weight, gradient: layer.weightGradient, decays: true))
                parameters.append(Parameter(layerIndex: index, value: layer.bias, gradient: layer.biasGradient, decays: false))
                built.append(.dense(layer))
                width = outputs
                firstParameterLayer = Swift.min(firstParameterLayer, index)
            case let .activation(activation):
                if case let .leakyReLU(slope) = activation, !(slope.isFinite && slope >= 0) {
                    throw EngineError.invalidLayerParameter(layer: index, kind: "leaky_relu", parameter: "slope", value: "\(slope)", expected: "a finite number ≥ 0")
                }
                built.append(.activation(ActivationLayer(activation, width: width)))
            case let .batchNorm(features, config):
                guard features == width else {
                    throw EngineError.layerShapeMismatch(layer: index, kind: "batchnorm", expectedInputs: features, found: width)
                }
                guard config.epsilon > 0, config.epsilon.isFinite else {
                    throw EngineError.invalidLayerParameter(layer: index, kind: "batchnorm", parameter: "epsilon", value: "\(config.epsilon)", expected: "a positive number")
                }
                guard config.momentum >= 0, config.momentum <= 1 else {
                    throw EngineError.invalidLayerParameter(layer: index, kind: "batchnorm", parameter: "momentum", value: "\(config.momentum)", expected: "a number in [0, 1]")
                }
                let layer = BatchNormLayer<T>(features: features, config: config)
                parameters.append(Parameter(layerIndex: index, value: layer.gamma, gradient: layer.gammaGradient, decays: false))
                parameters.append(Parameter(layerIndex: index, value: layer.beta, gradient: layer.betaGradient, decays: false))
                buffers.append(("\(index).running_mean", layer.runningMean))
                buffers.append(("\(index).running_var", layer.runningVariance))
                built.append(.batchNorm(layer))
                firstParameterLayer = Swift.min(firstParameterLayer, index)
            case let .dropout(rate):
                guard rate >= 0, rate < 1 else {
                    throw EngineError.invalidLayerParameter(layer: index, kind: "dropout", parameter: "rate", value: "\(rate)", expected: "a number in [0, 1)")
                }
                let generator = RandomGenerator(seed: dropoutSeed, stream: Self.dropoutStreamBase + UInt64(index))
                built.append(.dropout(DropoutLayer(rate: rate, width: width, generator: generator)))
            }
        }
        self.specs = specs
        self.layers = built
        self.inputFeatures = firstInputs
        self.outputFeatures = width
        self.parameters = parameters
        self.buffers = buffers
        self.pool = pool
        self.firstParameterLayer = firstParameterLayer
        layerInputs = .allocate(capacity: built.count + 1)
        lossGradient = ScratchBuffer(capacity: 0)
        reserve(rows: maxBatchSize)
    }

    deinit { layerInputs.deallocate() }

    /// A copy of `other` in another precision (e.g. a Double twin of a Float network for gradient
    /// checks): same specs, parameters, buffers and dropout generator states.
    public convenience init<U: EngineScalar>(converting other: Network<U>, pool: WorkerPool = .serial) throws {
        try self.init(specs: other.specs, pool: pool, maxBatchSize: other.reservedRows)
        for (mine, theirs) in zip(parameters, other.parameters) {
            for i in 0..<mine.value.count { mine.value.pointer[i] = T(theirs.value.pointer[i]) }
        }
        for (mine, theirs) in zip(buffers, other.buffers) {
            for i in 0..<mine.tensor.count { mine.tensor.pointer[i] = T(theirs.tensor.pointer[i]) }
        }
        for (mine, theirs) in zip(layers, other.layers) {
            if case let .dropout(a) = mine, case let .dropout(b) = theirs { a.generator = b.generator }
        }
    }

    /// Makes the workspace hold `rows` rows (allocates only when it grows).
    public func reserve(rows: Int) {
        guard rows > reservedRows else { return }
        for layer in layers {
            switch layer {
            case let .dense(l): l.reserve(rows: rows)
            case let .activation(l): l.reserve(rows: rows)
            case let .batchNorm(l): l.reserve(rows: rows)
            case let .dropout(l): l.reserve(rows: rows)
            }
        }
        lossGradient.reserve(rows * maxWidth)
        reservedRows = rows
    }

    private var maxWidth: Int {
        specs.reduce(inputFeatures) { result, spec in
            if case let .dense(_, outputs) = spec { return Swift.max(result, outputs) }
            return result
        }
    }

    // MARK: Parameters and state

    /// Initializes every dense weight with `initialization` (layer order, row-major draws from
    /// `generator`) and sets biases to zero. Batchnorm parameters are left as they are.
    public func initialize(_ initialization: WeightInitialization, generator: inout RandomGenerator) {
        for layer in layers {
            if case let .dense(dense) = layer {
                initialization.fill(dense.weight.pointer, fanIn: dense.inputs, fanOut: dense.outputs, generator: &generator)
                dense.bias.fill(0)
            }
        }
    }

    /// Every named tensor: parameters then buffers ("i.weight", "i.bias", "i.gamma", "i.beta",
    /// "i.running_mean", "i.running_var").
    public var namedTensors: [(name: String, tensor: EngineTensor<T>)] {
        parameters.map { ($0.name, $0.value) } + buffers
    }

    /// The tensor with the given name (see `namedTensors`), or nil.
    public func tensor(named name: String) -> EngineTensor<T>? {
        namedTensors.first { $0.name == name }?.tensor
    }

    /// Resets every dropout layer's generator to `RandomGenerator(seed:, stream: dropoutStreamBase + i)`.
    public func setDropoutSeed(_ seed: UInt64) {
        for (index, layer) in layers.enumerated() {
            if case let .dropout(d) = layer { d.generator = RandomGenerator(seed: seed, stream: Self.dropoutStreamBase + UInt64(index)) }
        }
    }

    /// Freezes (or unfreezes) the dropout masks: frozen layers reuse the mask of the last training pass.
    public func setDropoutMasksFrozen(_ frozen: Bool) {
        for layer in layers { if case let .dropout(d) = layer { d.maskFrozen = frozen } }
    }

    // MARK: Forward and backward

    /// Runs layers 0..<layerCount on x: [rows, inputFeatures]; returns the last one's output
    /// [rows, width]. Caches every layer's input for backward.
    @inline(__always)
    private func forward(_ x: UnsafePointer<T>, rows: Int, layerCount: Int, training: Bool, updateRunningStatistics: Bool) -> UnsafePointer<T> {
        var current = x
        for index in 0..<layerCount {
            layerInputs[index] = current
            switch layers[index] {
            case let .dense(l): current = l.forward(current, rows: rows, pool: pool)
            case let .activation(l): current = l.forward(current, rows: rows)
            case let .batchNorm(l): current = l.forward(current, rows: rows, training: training, updateRunningStatistics: updateRunningStatistics)
            case let .dropout(l): current = l.forward(current, rows: rows, training: training)
            }
        }
        layerInputs[layerCount] = current
        return current
    }

    /// Backward through layers layerCount−1 … 0 from dL/d(output of layer layerCount−1).
    @inline(__always)
    private func backward(_ outputGradient: UnsafePointer<T>, rows: Int, layerCount: Int) {
        var gradient = outputGradient
        for index in stride(from: layerCount - 1, through: firstParameterLayer, by: -1) {
            let input = layerInputs[index]
            switch layers[index] {
            case let .dense(l):
                guard let g = l.backward(input: input, outputGradient: gradient, rows: rows,
                                         needsInputGradient: index > firstParameterLayer, pool: pool) else { return }
                gradient = g
            case let .activation(l): gradient = l.backward(input: input, outputGradient: gradient, rows: rows)
            case let .batchNorm(l): gradient = l.backward(input: input, outputGradient: gradient, rows: rows)
            case let .dropout(l): gradient = l.backward(outputGradient: gradient, rows: rows)
            }
        }
    }

    /// How many layers the training forward runs for `loss`: a final softmax (cross-entropy) or
    /// sigmoid (binary cross-entropy) is fused into the loss and skipped.
    public func trainingLayerCount(for loss: Loss) -> Int {
        guard case let .activation(last)? = layers.last else { return layers.count }
        switch (loss, last.activation) {
        case (.softmaxCrossEntropy, .softmax), (.binaryCrossEntropy, .sigmoid): return layers.count - 1
        default: return layers.count
        }
    }

    /// Forward in training mode, loss, and backward: fills every parameter's gradient (the gradient
    /// of the batch-mean loss) and returns the batch-mean loss. x: [rows, inputFeatures] row-major.
    /// Updates batchnorm running statistics unless `updateRunningStatistics` is false.
    @_specialize(exported: true, where T == Float)
    @_specialize(exported: true, where T == Double)
    public func computeGradients(inputs x: UnsafeBufferPointer<T>, rows: Int, targets: Targets<T>, loss: Loss,
                                 updateRunningStatistics: Bool = true) throws -> Double {
        guard rows > 0, x.count >= rows * inputFeatures, let base = x.baseAddress else {
            throw EngineError.inputSizeMismatch(expected: inputFeatures, found: x.count)
        }
        reserve(rows: rows)
        let layerCount = trainingLayerCount(for: loss)
        let output = forward(base, rows: rows, layerCount: layerCount, training: true, updateRunningStatistics: updateRunningStatistics)
        let width = layerCount == layers.count ? outputFeatures : widthBeforeLastLayer
        let value = try lossAndGradient(loss, outputs: output, rows: rows, width: width, targets: targets, gradient: lossGradient.pointer)
        backward(UnsafePointer(lossGradient.pointer), rows: rows, layerCount: layerCount)
        return value
    }

    private var widthBeforeLastLayer: Int {
        outputFeatures  // activations keep the width
    }

    /// One training step: gradients of the batch-mean loss, then one optimizer update with
    /// `learningRate`. Returns the batch-mean loss (before the update). Allocation-free once the
    /// workspace holds `rows` rows.
    @_specialize(exported: true, where T == Float)
    @_specialize(exported: true, where T == Double)
    public func trainStep(inputs x: UnsafeBufferPointer<T>, rows: Int, targets: Targets<T>, loss: Loss,
                          optimizer: Optimizer<T>, learningRate: Double) throws -> Double {
        let value = try computeGradients(inputs: x, rows: rows, targets: targets, loss: loss)
        optimizer.step(learningRate: learningRate)
        return value
    }

    /// Inference: x: [rows, inputFeatures] → output: [rows, outputFeatures], with batchnorm running
    /// statistics and dropout off; a final softmax/sigmoid gives probabilities. Works in chunks of the
    /// reserved rows (at least 256), so it allocates only the first time.
    @_specialize(exported: true, where T == Float)
    @_specialize(exported: true, where T == Double)
    public func predict(inputs x: UnsafeBufferPointer<T>, rows: Int, into output: UnsafeMutableBufferPointer<T>) throws {
        guard x.count >= rows * inputFeatures else {
            throw EngineError.inputSizeMismatch(expected: inputFeatures, found: x.count)
        }
        guard output.count >= rows * outputFeatures else {
            throw EngineError.targetsSizeMismatch(loss: "predict output", expected: rows * outputFeatures, found: output.count)
        }
        guard rows > 0, let base = x.baseAddress, let destination = output.baseAddress else { return }
        reserve(rows: Swift.min(rows, 256))
        let chunk = reservedRows
        var start = 0
        while start < rows {
            let count = Swift.min(chunk, rows - start)
            let result = forward(base + start * inputFeatures, rows: count, layerCount: layers.count,
                                 training: false, updateRunningStatistics: false)
            (destination + start * outputFeatures).update(from: result, count: count * outputFeatures)
            start += count
        }
    }

    /// Convenience: `predict` into a new array.
    @_specialize(exported: true, where T == Float)
    @_specialize(exported: true, where T == Double)
    public func predict(_ inputs: [T], rows: Int) throws -> [T] {
        var result = [T](repeating: 0, count: rows * outputFeatures)
        try inputs.withUnsafeBufferPointer { x in
            try result.withUnsafeMutableBufferPointer { try predict(inputs: x, rows: rows, into: $0) }
        }
        return result
    }

    // MARK: Internals for diagnostics and gradient checks

    /// Training-mode forward without the loss (diagnostics): returns each layer's output pointer.
    func forwardForDiagnostics(_ x: UnsafePointer<T>, rows: Int) {
        reserve(rows: rows)
        _ = forward(x, rows: rows, layerCount: layers.count, training: true, updateRunningStatistics: false)
    }

    /// The output of layer `index` from the last forward pass: [rows, width].
    func layerOutput(_ index: Int) -> UnsafePointer<T> { layerInputs[index + 1] }
    func layerInput(_ index: Int) -> UnsafePointer<T> { layerInputs[index] }
}
