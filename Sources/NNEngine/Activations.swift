// Activation functions and their derivatives (course text Part 2), as standalone scalar functions
// usable by tests and diagnostics. The layers use the same formulas in their batched loops.

/// The activation kinds a network layer can apply element-wise (softmax: row-wise).
public enum Activation: Equatable, CustomStringConvertible {
    case relu
    /// max(z, slope·z), slope e.g. 0.01.
    case leakyReLU(slope: Double)
    case sigmoid
    case tanh
    /// Row-wise softmax over the features of each sample.
    case softmax
    /// Identity (the course text's "no activation, logits").
    case linear

    public var description: String {
        switch self {
        case .relu: return "relu"
        case let .leakyReLU(slope): return "leaky_relu(\(slope))"
        case .sigmoid: return "sigmoid"
        case .tanh: return "tanh"
        case .softmax: return "softmax"
        case .linear: return "linear"
        }
    }
}

/// σ(z) = 1/(1 + e^(−z)), evaluated without overflow: for z < 0 it uses e^z/(1 + e^z) so the
/// exponential never exceeds 1.
@inline(__always)
public func sigmoid<T: EngineScalar>(_ z: T) -> T {
    if z >= 0 {
        return 1 / (1 + T.exp(-z))
    } else {
        let e = T.exp(z)
        return e / (1 + e)
    }
}

/// σ'(z) = σ(z)(1 − σ(z)) (course text 2.1); σ'(0) = 0.25.
public func sigmoidDerivative<T: EngineScalar>(_ z: T) -> T {
    let s = sigmoid(z)
    return s * (1 - s)
}

@inline(__always)
public func relu<T: EngineScalar>(_ z: T) -> T { z > 0 ? z : 0 }

/// ReLU'(z) = 1 for z > 0, else 0 — including z = 0 (course text 2.2).
public func reluDerivative<T: EngineScalar>(_ z: T) -> T { z > 0 ? 1 : 0 }

@inline(__always)
public func leakyReLU<T: EngineScalar>(_ z: T, slope: T) -> T { z > 0 ? z : slope * z }

/// 1 for z > 0, else slope (the z = 0 convention matches ReLU's).
public func leakyReLUDerivative<T: EngineScalar>(_ z: T, slope: T) -> T { z > 0 ? 1 : slope }

public func tanh<T: EngineScalar>(_ z: T) -> T { T.tanh(z) }

/// tanh'(z) = 1 − tanh²(z) (course text 2.3).
public func tanhDerivative<T: EngineScalar>(_ z: T) -> T {
    let t = T.tanh(z)
    return 1 - t * t
}

/// softmax(z)ᵢ = e^(zᵢ − max z) / Σⱼ e^(zⱼ − max z) (course text 2.4, max subtracted for stability).
public func softmax<T: EngineScalar>(_ z: [T]) -> [T] {
    guard let largest = z.max() else { return [] }
    let exps = z.map { T.exp($0 - largest) }
    let sum = exps.reduce(0, +)
    return exps.map { $0 / sum }
}

/// log softmax(z)ᵢ = zᵢ − max z − log Σⱼ e^(zⱼ − max z): finite even where softmax underflows to 0.
public func logSoftmax<T: EngineScalar>(_ z: [T]) -> [T] {
    guard let largest = z.max() else { return [] }
    let logSum = T.log(z.reduce(0) { $0 + T.exp($1 - largest) })
    return z.map { $0 - largest - logSum }
}

/// The softmax Jacobian J[i][j] = ∂yᵢ/∂zⱼ = yᵢ(δᵢⱼ − yⱼ) (course text 2.4).
public func softmaxJacobian<T: EngineScalar>(_ z: [T]) -> [[T]] {
    let y = softmax(z)
    var jacobian = [[T]](repeating: [T](repeating: 0, count: y.count), count: y.count)
    for i in 0..<y.count {
        for j in 0..<y.count {
            let delta: T = i == j ? 1 : 0
            jacobian[i][j] = y[i] * (delta - y[j])
        }
    }
    return jacobian
}
