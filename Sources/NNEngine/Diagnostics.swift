// Diagnostics from the course text's Part 6: gradient norms and activation statistics on a real
// model (what vanishing gradients and bad initializations look like), and the text's two experiments.

/// Statistics of one layer's output on a batch, and the norms of its parameter gradients.
public struct LayerDiagnostics: CustomStringConvertible {
    public let index: Int
    /// The layer spec's description, e.g. "dense(64 → 128)", "relu".
    public let kind: String
    /// Mean and (population) standard deviation over all outputs of the batch.
    public let mean: Double
    public let std: Double
    /// Fraction of outputs exactly 0.
    public let zeroFraction: Double
    /// relu / leaky_relu only: fraction of units (columns) never positive over the whole batch.
    public let deadUnitFraction: Double?
    /// sigmoid: fraction of outputs < 0.01 or > 0.99; tanh: fraction with |a| > 0.99; else nil.
    public let saturatedFraction: Double?
    /// L2 norm of each parameter gradient of this layer, e.g. [("0.weight", 0.12), ("0.bias", 0.03)].
    public let gradientNorms: [(name: String, norm: Double)]

    public var description: String {
        var text = "layer \(index) \(kind): mean \(mean), std \(std), zero \(zeroFraction)"
        if let dead = deadUnitFraction { text += ", dead units \(dead)" }
        if let saturated = saturatedFraction { text += ", saturated \(saturated)" }
        for (name, norm) in gradientNorms { text += ", ‖∇\(name)‖ \(norm)" }
        return text
    }
}

extension Network {
    /// Runs one training-mode forward/backward on the batch (no optimizer update, running statistics
    /// and dropout generators left as they were) and reports every layer. Gradients are left filled.
    public func diagnose(inputs x: UnsafeBufferPointer<T>, rows: Int, targets: Targets<T>, loss: Loss) throws -> [LayerDiagnostics] {
        let savedGenerators = layers.map { layer -> RandomGenerator? in
            if case let .dropout(d) = layer { return d.generator } else { return nil }
        }
        defer {
            for (layer, saved) in zip(layers, savedGenerators) { if case let .dropout(d) = layer, let g = saved { d.generator = g } }
        }
        _ = try computeGradients(inputs: x, rows: rows, targets: targets, loss: loss, updateRunningStatistics: false)
        let trained = trainingLayerCount(for: loss)
        var result: [LayerDiagnostics] = []
        for (index, layer) in layers.enumerated() {
            let width: Int
            var output: UnsafePointer<T>
            var activation: Activation? = nil
            var norms: [(String, Double)] = []
            switch layer {
            case let .dense(d):
                width = d.outputs
                norms = [(parameters.first { $0.value === d.weight }!.name, l2Norm(d.weightGradient)),
                         (parameters.first { $0.value === d.bias }!.name, l2Norm(d.biasGradient))]
            case let .activation(a):
                width = a.width
                activation = a.activation
            case let .batchNorm(b):
                width = b.features
                norms = [(parameters.first { $0.value === b.gamma }!.name, l2Norm(b.gammaGradient)),
                         (parameters.first { $0.value === b.beta }!.name, l2Norm(b.betaGradient))]
            case let .dropout(d):
                width = d.width
            }
            if index < trained {
                output = layerOutput(index)
            } else if case let .activation(a) = layer {
                output = a.forward(layerInput(index), rows: rows)  // the fused final softmax/sigmoid
            } else {
                output = layerOutput(index)
            }
            let count = rows * width
            var sum = 0.0, zeros = 0, saturated = 0
            for i in 0..<count {
                let v = Double(output[i])
                sum += v
                if v == 0 { zeros += 1 }
                switch activation {
                case .sigmoid?: if v < 0.01 || v > 0.99 { saturated += 1 }
                case .tanh?: if abs(v) > 0.99 { saturated += 1 }
                default: break
                }
            }
            let mean = sum / Double(count)
            var squares = 0.0
            for i in 0..<count { let d = Double(output[i]) - mean; squares += d * d }
            var dead: Double? = nil
            switch activation {
            case .relu?, .leakyReLU?:
                var deadUnits = 0
                for j in 0..<width {
                    var alive = false
                    for r in 0..<rows where output[r * width + j] > 0 { alive = true; break }
                    if !alive { deadUnits += 1 }
                }
                dead = Double(deadUnits) / Double(width)
            default: break
            }
            var saturation: Double? = nil
            switch activation {
            case .sigmoid?, .tanh?: saturation = Double(saturated) / Double(count)
            default: break
            }
            result.append(LayerDiagnostics(index: index, kind: specs[index].description, mean: mean,
                                           std: (squares / Double(count)).squareRoot(),
                                           zeroFraction: Double(zeros) / Double(count), deadUnitFraction: dead,
                                           saturatedFraction: saturation, gradientNorms: norms))
        }
        return result
    }
}

private func l2Norm<T: EngineScalar>(_ tensor: EngineTensor<T>) -> Double {
    var sum = 0.0
    for i in 0..<tensor.count { sum += Double(tensor.pointer[i]) * Double(tensor.pointer[i]) }
    return sum.squareRoot()
}

/// The course text's 6.1 experiment: a chain of `layers` [width, width] weight matrices drawn as
/// weightScale·N(0, 1) (the text uses 0.5 for sigmoid, 0.01 for relu), x ~ N(0, 1), z = a·W, a = f(z);
/// then a gradient of ones is sent back through f' and Wᵀ. Returns the gradient norm after each
/// layer, input side first (index 0 = first layer, last = the ones at the output, √width).
public func vanishingGradientExperiment(activation: Activation, layers: Int = 10, width: Int = 10,
                                        weightScale: Double? = nil, seed: UInt64 = 0) -> [Double] {
    var generator = RandomGenerator(seed: seed)
    let scale = weightScale ?? (activation == .sigmoid ? 0.5 : 0.01)
    let weights = (0..<layers).map { _ in (0..<(width * width)).map { _ in scale * generator.normal() } }
    var a = (0..<width).map { _ in generator.normal() }
    var zs: [[Double]] = []
    for w in weights {
        var z = [Double](repeating: 0, count: width)
        for i in 0..<width { for j in 0..<width { z[j] += a[i] * w[i * width + j] } }
        zs.append(z)
        a = z.map { apply(activation, $0) }
    }
    var gradient = [Double](repeating: 1, count: width)
    var norms = [norm(gradient)]
    for layer in stride(from: layers - 1, through: 0, by: -1) {
        for j in 0..<width { gradient[j] *= derivative(activation, zs[layer][j]) }
        var previous = [Double](repeating: 0, count: width)
        for i in 0..<width { for j in 0..<width { previous[i] += gradient[j] * weights[layer][i * width + j] } }
        gradient = previous
        norms.append(norm(gradient))
    }
    return norms.reversed()
}

/// The course text's 6.2 experiment: x ~ N(0, 1) of [batch, neurons] through `layers` square layers
/// z = x·W (no bias), x = activation(z) (tanh in the text), W from `initialization`. Returns each
/// layer's activation (mean, std).
public func initializationExperiment(_ initialization: WeightInitialization, layers: Int = 5, neurons: Int = 100,
                                     batch: Int = 1000, activation: Activation = .tanh,
                                     seed: UInt64 = 0) -> [(mean: Double, std: Double)] {
    var generator = RandomGenerator(seed: seed)
    var x = (0..<(batch * neurons)).map { _ in generator.normal() }
    var z = [Double](repeating: 0, count: batch * neurons)
    var w = [Double](repeating: 0, count: neurons * neurons)
    var result: [(Double, Double)] = []
    for _ in 0..<layers {
        w.withUnsafeMutableBufferPointer { initialization.fill($0.baseAddress!, fanIn: neurons, fanOut: neurons, generator: &generator) }
        x.withUnsafeBufferPointer { xp in
            w.withUnsafeBufferPointer { wp in
                z.withUnsafeMutableBufferPointer { zp in
                    Double.gemm(transA: false, transB: false, m: batch, n: neurons, k: neurons, alpha: 1,
                                a: xp.baseAddress!, lda: neurons, b: wp.baseAddress!, ldb: neurons,
                                beta: 0, c: zp.baseAddress!, ldc: neurons, pool: .serial)
                }
            }
        }
        x = z.map { apply(activation, $0) }
        let mean = x.reduce(0, +) / Double(x.count)
        let variance = x.reduce(0) { $0 + ($1 - mean) * ($1 - mean) } / Double(x.count)
        result.append((mean, variance.squareRoot()))
    }
    return result
}

private func norm(_ v: [Double]) -> Double { v.reduce(0) { $0 + $1 * $1 }.squareRoot() }

/// Element-wise activation of a scalar (softmax, being row-wise, is treated as linear here).
private func apply(_ activation: Activation, _ z: Double) -> Double {
    switch activation {
    case .relu: return relu(z)
    case let .leakyReLU(slope): return leakyReLU(z, slope: slope)
    case .sigmoid: return sigmoid(z)
    case .tanh: return Double.tanh(z)
    case .softmax, .linear: return z
    }
}

private func derivative(_ activation: Activation, _ z: Double) -> Double {
    switch activation {
    case .relu: return reluDerivative(z)
    case let .leakyReLU(slope): return leakyReLUDerivative(z, slope: slope)
    case .sigmoid: return sigmoidDerivative(z)
    case .tanh: return tanhDerivative(z)
    case .softmax, .linear: return 1
    }
}
