// Batch normalization (course text 6.3) over the features of a [rows, features] batch.

import NNParallel

/// How running statistics are updated and which batch variance feeds them. Recorded in checkpoints.
public struct BatchNormConfig: Equatable {
    public enum MomentumConvention: String, Equatable {
        /// running ← (1 − m)·running + m·batch (PyTorch; default m = 0.1).
        case pytorch
        /// running ← m·running + (1 − m)·batch (Keras, and the course text's 6.3 with m = 0.9).
        case keras
    }
    public enum RunningVariance: String, Equatable {
        /// Batch variance with 1/(n − 1) (PyTorch's running_var). With n = 1 the biased one is used.
        case unbiased
        /// Batch variance with 1/n (the course text's np.var).
        case biased
    }
    public var epsilon: Double
    public var momentum: Double
    public var convention: MomentumConvention
    public var runningVariance: RunningVariance

    public init(epsilon: Double = 1e-5, momentum: Double = 0.1,
                convention: MomentumConvention = .pytorch, runningVariance: RunningVariance = .unbiased) {
        self.epsilon = epsilon
        self.momentum = momentum
        self.convention = convention
        self.runningVariance = runningVariance
    }

    /// The course text's 6.3 settings: keras convention, momentum 0.9, biased variance.
    public static let courseText = BatchNormConfig(momentum: 0.9, convention: .keras, runningVariance: .biased)
}

public final class BatchNormLayer<T: EngineScalar> {
    public let features: Int
    public let config: BatchNormConfig
    /// γ: [features], initialized to 1
    public let gamma: EngineTensor<T>
    /// β: [features], initialized to 0
    public let beta: EngineTensor<T>
    public let gammaGradient: EngineTensor<T>
    public let betaGradient: EngineTensor<T>
    /// Non-trainable buffers: [features], initialized to 0 and 1.
    public let runningMean: EngineTensor<T>
    public let runningVariance: EngineTensor<T>

    let output: ScratchBuffer<T>
    let inputGradient: ScratchBuffer<T>
    /// Per-feature scratch: batch mean, batch variance, 1/√(σ² + ε), and two sums for backward.
    private let mean, variance, inverseStd, sumA, sumB: EngineTensor<T>

    public init(features: Int, config: BatchNormConfig = BatchNormConfig()) {
        self.features = features
        self.config = config
        gamma = EngineTensor(name: "gamma", shape: [features], fill: 1)
        beta = EngineTensor(name: "beta", shape: [features])
        gammaGradient = EngineTensor(name: "gamma", shape: [features])
        betaGradient = EngineTensor(name: "beta", shape: [features])
        runningMean = EngineTensor(name: "running_mean", shape: [features])
        runningVariance = EngineTensor(name: "running_var", shape: [features], fill: 1)
        output = ScratchBuffer(capacity: 0)
        inputGradient = ScratchBuffer(capacity: 0)
        mean = EngineTensor(name: "mean", shape: [features])
        variance = EngineTensor(name: "variance", shape: [features])
        inverseStd = EngineTensor(name: "inverse_std", shape: [features])
        sumA = EngineTensor(name: "sum_a", shape: [features])
        sumB = EngineTensor(name: "sum_b", shape: [features])
    }

    public func reserve(rows: Int) {
        output.reserve(rows * features)
        inputGradient.reserve(rows * features)
    }

    /// x: [rows, features] → y = γ·x̂ + β: [rows, features].
    /// Training normalizes with the batch mean and the biased batch variance and (if asked) updates
    /// the running statistics; inference uses the running statistics.
    public func forward(_ x: UnsafePointer<T>, rows: Int, training: Bool, updateRunningStatistics: Bool) -> UnsafePointer<T> {
        let f = features
        let y = output.pointer
        let g = gamma.pointer, b = beta.pointer
        let eps = T(config.epsilon)
        guard training else {
            // y = x·scale + shift with scale = γ/√(running_var + ε), shift = β − running_mean·scale.
            let scale = sumA.pointer, shift = sumB.pointer
            for j in 0..<f {
                scale[j] = g[j] / (runningVariance.pointer[j] + eps).squareRoot()
                shift[j] = b[j] - runningMean.pointer[j] * scale[j]
            }
            for r in 0..<rows {
                let xr = x + r * f, yr = y + r * f
                for j in 0..<f { yr[j] = xr[j] * scale[j] + shift[j] }
            }
            return UnsafePointer(y)
        }
        // Two passes over the rows, in order, so the sums do not depend on the thread count.
        let mu = mean.pointer, variance = self.variance.pointer, invStd = inverseStd.pointer
        let n = T(rows)
        mu.update(repeating: 0, count: f)
        for r in 0..<rows {
            let xr = x + r * f
            for j in 0..<f { mu[j] += xr[j] }
        }
        for j in 0..<f { mu[j] /= n }
        variance.update(repeating: 0, count: f)
        for r in 0..<rows {
            let xr = x + r * f
            for j in 0..<f {
                let d = xr[j] - mu[j]
                variance[j] += d * d
            }
        }
        for j in 0..<f {
            variance[j] /= n  // biased: the normalization always uses 1/n
            invStd[j] = 1 / (variance[j] + eps).squareRoot()
        }
        // x̂ = (x − μ)/√(σ² + ε) is not stored: backward recomputes it from x, the same operations
        // (one pass over x there instead of a write and a read of x̂ [rows, features]).
        for r in 0..<rows {
            let xr = x + r * f, yr = y + r * f
            for j in 0..<f { yr[j] = g[j] * Self.normalize(xr[j], mean: mu[j], inverseStd: invStd[j]) + b[j] }
        }
        if updateRunningStatistics { updateRunning(rows: rows) }
        return UnsafePointer(y)
    }

    private func updateRunning(rows: Int) {
        let m = T(config.momentum)
        // keep: weight of the old running value; take: weight of the batch value.
        let (keep, take): (T, T) = config.convention == .pytorch ? (1 - m, m) : (m, 1 - m)
        let correction: T = (config.runningVariance == .unbiased && rows > 1) ? T(rows) / T(rows - 1) : 1
        let rm = runningMean.pointer, rv = runningVariance.pointer
        for j in 0..<features {
            rm[j] = keep * rm[j] + take * mean.pointer[j]
            rv[j] = keep * rv[j] + take * variance.pointer[j] * correction
        }
    }

    /// x̂ = (x − μ)·(1/√(σ² + ε)) for one value, from the batch mean and inverse standard deviation
    /// of its feature: the one formula forward and backward share.
    @inline(__always)
    private static func normalize(_ x: T, mean: T, inverseStd: T) -> T {
        (x - mean) * inverseStd
    }

    /// x: [rows, features] (the input of the last training forward pass), dy: [rows, features] →
    /// dγ = Σ dy·x̂, dβ = Σ dy, and dx = γ/(n·√(σ² + ε)) · (n·dy − dβ − x̂·dγ): [rows, features]
    /// (the course text's 6.3 backward, with its dvar and dmean terms collected).
    public func backward(input x: UnsafePointer<T>, outputGradient dy: UnsafePointer<T>, rows: Int) -> UnsafePointer<T> {
        let f = features
        let mu = mean.pointer, invStd = inverseStd.pointer
        let dgamma = gammaGradient.pointer, dbeta = betaGradient.pointer
        dgamma.update(repeating: 0, count: f)
        dbeta.update(repeating: 0, count: f)
        for r in 0..<rows {
            let dyr = dy + r * f, xr = x + r * f
            for j in 0..<f {
                dbeta[j] += dyr[j]
                dgamma[j] += dyr[j] * Self.normalize(xr[j], mean: mu[j], inverseStd: invStd[j])
            }
        }
        let n = T(rows)
        let coefficient = sumA.pointer
        for j in 0..<f { coefficient[j] = gamma.pointer[j] * inverseStd.pointer[j] / n }
        let dx = inputGradient.pointer
        for r in 0..<rows {
            let dyr = dy + r * f, xr = x + r * f, dxr = dx + r * f
            for j in 0..<f {
                let h = Self.normalize(xr[j], mean: mu[j], inverseStd: invStd[j])
                dxr[j] = coefficient[j] * (n * dyr[j] - dbeta[j] - h * dgamma[j])
            }
        }
        return UnsafePointer(dx)
    }
}
