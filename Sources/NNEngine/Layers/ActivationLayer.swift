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
        // z stays as it is (backward reads it); a is its copy transformed in place.
        let a = output.pointer
        a.update(from: z, count: rows * width)
        activation.apply(inPlace: a, rows: rows, width: width)
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

    /// a ← f(a) on `values`, [rows, width]: element-wise, or per row for softmax. The one forward
    /// formula of each activation, for ActivationLayer (on its copy of z) and nninfer's
    /// InferenceNetwork (on the dense step's output). In place on one pointer: a two-pointer loop
    /// that may alias needs the vectorizer's overlap check, which fails when they are equal and
    /// leaves the scalar loop (an earlier shared version made nninfer 1.7× slower that way).
    func apply<T: EngineScalar>(inPlace values: UnsafeMutablePointer<T>, rows: Int, width: Int) {
        let count = rows * width
        switch self {
        case .linear:
            break
        case .relu:
            mapInPlace(values, count: count) { $0 > 0 ? $0 : 0 }
        case let .leakyReLU(slopeValue):
            let slope = T(slopeValue)
            mapInPlace(values, count: count) { $0 > 0 ? $0 : slope * $0 }
        case .sigmoid:
            mapInPlace(values, count: count) { NNEngine.sigmoid($0) }
        case .tanh:
            mapInPlace(values, count: count) { T.tanh($0) }
        case .softmax:
            for r in 0..<rows { softmaxRowInPlace(values + r * width, width: width) }
        }
    }
}

/// values[i] ← formula(values[i]), through a block on the stack: the formula writes to memory that
/// cannot alias its input, so the loop vectorizes (written straight back, `v > 0 ? v : 0` on a
/// generic T became a scalar loop of conditional stores); the block is then copied back.
@inline(__always)
func mapInPlace<T: EngineScalar>(_ values: UnsafeMutablePointer<T>, count: Int, _ formula: (T) -> T) {
    let blockSize = 256
    withUnsafeTemporaryAllocation(of: T.self, capacity: blockSize) { buffer in
        let block = buffer.baseAddress!
        var start = 0
        while start < count {
            let n = min(blockSize, count - start)
            for j in 0..<n { block[j] = formula(values[start + j]) }
            (values + start).update(from: block, count: n)
            start += n
        }
    }
}

/// One row of softmax in place, the max subtracted: [width] → [width], multiplied by 1 / Σ.
@inline(__always)
func softmaxRowInPlace<T: EngineScalar>(_ row: UnsafeMutablePointer<T>, width: Int) {
    var largest = row[0]
    for j in 1..<Swift.max(width, 1) where row[j] > largest { largest = row[j] }
    var sum: T = 0
    for j in 0..<width {
        let e = T.exp(row[j] - largest)
        row[j] = e
        sum += e
    }
    let inverse = 1 / sum
    for j in 0..<width { row[j] *= inverse }
}
