// Inverted dropout (course text Challenge 1): in training each unit is kept with probability 1 − rate
// and scaled by 1/(1 − rate); at inference the layer is the identity.

public final class DropoutLayer<T: EngineScalar> {
    public let rate: Double
    public let width: Int
    /// Masks come from this generator, one draw per unit in row-major order: deterministic per seed.
    public var generator: RandomGenerator
    /// When true, the next training forward passes reuse the current mask (gradient checks).
    public var maskFrozen = false
    let output: ScratchBuffer<T>
    let inputGradient: ScratchBuffer<T>
    /// 0 or 1/(1 − rate): [rows, width]
    let mask: ScratchBuffer<T>

    public init(rate: Double, width: Int, generator: RandomGenerator) {
        self.rate = rate
        self.width = width
        self.generator = generator
        output = ScratchBuffer(capacity: 0)
        inputGradient = ScratchBuffer(capacity: 0)
        mask = ScratchBuffer(capacity: 0)
    }

    public func reserve(rows: Int) {
        output.reserve(rows * width)
        inputGradient.reserve(rows * width)
        mask.reserve(rows * width)
    }

    /// x: [rows, width] → x ⊙ mask: [rows, width]; inference returns x itself.
    public func forward(_ x: UnsafePointer<T>, rows: Int, training: Bool) -> UnsafePointer<T> {
        guard training, rate > 0 else { return x }
        let count = rows * width
        let m = mask.pointer, y = output.pointer
        if maskFrozen {
            for i in 0..<count { y[i] = x[i] * m[i] }
            return UnsafePointer(y)
        }
        // Keep a unit when its uniform u = bits·2⁻²⁴ satisfies u ≥ rate (the text's rand > p,
        // up to the measure-zero tie), compared in integers. One pass draws the mask and applies it;
        // the generator lives in a local meanwhile (a stored property would be reloaded per draw).
        // Branch-free: the keep/drop choice is random, so a branch on it (which the compiler made of
        // `bits >= threshold ? scale : 0`) mispredicts often. bits − threshold borrows (bit 63 set)
        // exactly when bits < threshold (both < 2²⁵), and scale·1 / scale·0 are exactly scale / 0.
        let threshold = UInt64((rate * 16_777_216).rounded(.up))
        let scale = T(1 / (1 - rate))
        var local = generator
        for i in 0..<count {
            let bits = local.next() >> 40
            let kept = 1 &- Int(truncatingIfNeeded: (bits &- threshold) >> 63)
            let keep = scale * T(kept)
            m[i] = keep
            y[i] = x[i] * keep
        }
        generator = local
        return UnsafePointer(y)
    }

    /// dy: [rows, width] → dx = dy ⊙ mask (the same mask as the forward pass).
    public func backward(outputGradient dy: UnsafePointer<T>, rows: Int) -> UnsafePointer<T> {
        guard rate > 0 else { return dy }
        let count = rows * width
        let m = mask.pointer, dx = inputGradient.pointer
        for i in 0..<count { dx[i] = dy[i] * m[i] }
        return UnsafePointer(dx)
    }
}
