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
        if case .linear = activation { return z }
        // z stays as it is (backward reads it); a is written in one pass over z.
        let a = output.pointer
        activation.apply(from: z, into: a, rows: rows, width: width)
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

extension Activation {
    /// `apply(inPlace:)` for nninfer's Float chain: a concrete entry point compiled in this module,
    /// where the generic body is specialized and vectorized (another module would get the
    /// unspecialized generic code).
    public func applyInPlace(_ values: UnsafeMutablePointer<Float>, rows: Int, width: Int) {
        apply(inPlace: values, rows: rows, width: width)
    }

    /// a ← f(a) on `values`, [rows, width]: `apply(from:into:)` in place.
    func apply<T: EngineScalar>(inPlace values: UnsafeMutablePointer<T>, rows: Int, width: Int) {
        apply(from: values, into: values, rows: rows, width: width)
    }

    /// a = f(z), z and a: [rows, width]: element-wise, or per row for softmax; a may be z itself.
    /// The one forward formula of each activation, for ActivationLayer (z kept for backward, a its
    /// own buffer) and nninfer's InferenceNetwork (in place on the dense step's output). Element-wise
    /// formulas go through a block on the stack (`map`): a two-pointer loop that may alias needs the
    /// vectorizer's overlap check, which fails when they are equal and leaves the scalar loop (an
    /// earlier shared version made nninfer 1.7× slower that way).
    func apply<T: EngineScalar>(from z: UnsafePointer<T>, into a: UnsafeMutablePointer<T>, rows: Int, width: Int) {
        let count = rows * width
        switch self {
        case .linear:
            if UnsafePointer(a) != z { a.update(from: z, count: count) }
        case .relu:
            map(z, into: a, count: count) { $0 > 0 ? $0 : 0 }
        case let .leakyReLU(slopeValue):
            let slope = T(slopeValue)
            map(z, into: a, count: count) { $0 > 0 ? $0 : slope * $0 }
        case .sigmoid:
            map(z, into: a, count: count) { NNEngine.sigmoid($0) }
        case .tanh:
            map(z, into: a, count: count) { T.tanh($0) }
        case .softmax:
            for r in 0..<rows { softmaxRow(z + r * width, into: a + r * width, width: width) }
        }
    }
}

/// destination[i] = formula(source[i]), [count], through a block on the stack: the formula writes to
/// memory that cannot alias its input, so the loop vectorizes (written straight back in place,
/// `v > 0 ? v : 0` on a generic T became a scalar loop of conditional stores); the block is then
/// copied to the destination. source and destination may be the same buffer.
@inline(__always)
func map<T: EngineScalar>(_ source: UnsafePointer<T>, into destination: UnsafeMutablePointer<T>, count: Int,
                          _ formula: (T) -> T) {
    let blockSize = 256
    withUnsafeTemporaryAllocation(of: T.self, capacity: blockSize) { buffer in
        let block = buffer.baseAddress!
        var start = 0
        while start < count {
            let n = min(blockSize, count - start)
            for j in 0..<n { block[j] = formula(source[start + j]) }
            (destination + start).update(from: block, count: n)
            start += n
        }
    }
}

/// One row of softmax, the max subtracted: z: [width] → a: [width], e^(z − max) multiplied by 1 / Σ.
/// a may be z itself.
@inline(__always)
func softmaxRow<T: EngineScalar>(_ z: UnsafePointer<T>, into a: UnsafeMutablePointer<T>, width: Int) {
    var largest = z[0]
    for j in 1..<Swift.max(width, 1) where z[j] > largest { largest = z[j] }
    var sum: T = 0
    for j in 0..<width {
        let e = T.exp(z[j] - largest)
        a[j] = e
        sum += e
    }
    let inverse = 1 / sum
    for j in 0..<width { a[j] *= inverse }
}
