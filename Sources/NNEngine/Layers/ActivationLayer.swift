// Element-wise (softmax: row-wise) activation a = f(z), z: [rows, width] → a: [rows, width].

import NNParallel

public final class ActivationLayer<T: EngineScalar> {
    public let activation: Activation
    public let width: Int
    let output: ScratchBuffer<T>
    let inputGradient: ScratchBuffer<T>

    public init(_ activation: Activation, width: Int) {
        self.activation = activation
        self.width = width
        output = ScratchBuffer(capacity: 0)
        inputGradient = ScratchBuffer(capacity: 0)
    }

    public func reserve(rows: Int) {
        if case .linear = activation { return }  // passes its input through, owns no data
        output.reserve(rows * width)
        inputGradient.reserve(rows * width)
    }

    /// z: [rows, width] → a: [rows, width] (linear returns z itself).
    public func forward(_ z: UnsafePointer<T>, rows: Int) -> UnsafePointer<T> {
        let count = rows * width
        let a = output.pointer
        switch activation {
        case .linear:
            return z
        case .relu:
            for i in 0..<count { a[i] = z[i] > 0 ? z[i] : 0 }
        case let .leakyReLU(slopeValue):
            let slope = T(slopeValue)
            for i in 0..<count { a[i] = z[i] > 0 ? z[i] : slope * z[i] }
        case .sigmoid:
            for i in 0..<count { a[i] = sigmoid(z[i]) }
        case .tanh:
            for i in 0..<count { a[i] = T.tanh(z[i]) }
        case .softmax:
            for r in 0..<rows { softmaxRow(z + r * width, into: a + r * width, width: width) }
        }
        return UnsafePointer(a)
    }

    /// da: [rows, width] → dz = da ⊙ f'(z): [rows, width]. Uses the cached z (relu family) or a.
    public func backward(input z: UnsafePointer<T>, outputGradient da: UnsafePointer<T>, rows: Int) -> UnsafePointer<T> {
        let count = rows * width
        let a = output.pointer
        let dz = inputGradient.pointer
        switch activation {
        case .linear:
            return da
        case .relu:
            // ReLU'(0) = 0, as in the course text 2.2.
            for i in 0..<count { dz[i] = z[i] > 0 ? da[i] : 0 }
        case let .leakyReLU(slopeValue):
            let slope = T(slopeValue)
            for i in 0..<count { dz[i] = z[i] > 0 ? da[i] : slope * da[i] }
        case .sigmoid:
            for i in 0..<count { dz[i] = da[i] * a[i] * (1 - a[i]) }
        case .tanh:
            for i in 0..<count { dz[i] = da[i] * (1 - a[i] * a[i]) }
        case .softmax:
            // Jacobian-vector product of 2.4: dzᵢ = aᵢ(daᵢ − Σⱼ daⱼ aⱼ), per row.
            for r in 0..<rows {
                let ar = a + r * width, dar = da + r * width, dzr = dz + r * width
                var dot: T = 0
                for j in 0..<width { dot += dar[j] * ar[j] }
                for j in 0..<width { dzr[j] = ar[j] * (dar[j] - dot) }
            }
        }
        return UnsafePointer(dz)
    }
}

/// One row of softmax with the max subtracted: z: [width] → p: [width].
@inline(__always)
func softmaxRow<T: EngineScalar>(_ z: UnsafePointer<T>, into p: UnsafeMutablePointer<T>, width: Int) {
    var largest = z[0]
    for j in 1..<Swift.max(width, 1) where z[j] > largest { largest = z[j] }
    var sum: T = 0
    for j in 0..<width {
        let e = T.exp(z[j] - largest)
        p[j] = e
        sum += e
    }
    let inverse = 1 / sum
    for j in 0..<width { p[j] *= inverse }
}
