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
    /// 1 where the unit is kept, 0 where it is dropped: [rows, width] (bytes: a quarter of the
    /// memory traffic of a Float mask, which forward writes and backward reads).
    let mask: ScratchBuffer<UInt8>

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

    /// x: [rows, width] → x ⊙ mask·1/(1 − rate): [rows, width]; inference returns x itself.
    public func forward(_ x: UnsafePointer<T>, rows: Int, training: Bool) -> UnsafePointer<T> {
        guard training, rate > 0 else { return x }
        let count = rows * width
        if !maskFrozen { drawMask(count: count) }
        scaleByMask(x, into: output.pointer, count: count)
        return UnsafePointer(output.pointer)
    }

    /// dy: [rows, width] → dx = dy ⊙ mask·1/(1 − rate) (the same mask as the forward pass).
    public func backward(outputGradient dy: UnsafePointer<T>, rows: Int) -> UnsafePointer<T> {
        guard rate > 0 else { return dy }
        scaleByMask(dy, into: inputGradient.pointer, count: rows * width)
        return UnsafePointer(inputGradient.pointer)
    }

    /// mask[i] = 1 when the unit's uniform u = bits·2⁻²⁴ satisfies u ≥ rate (the text's rand > p, up
    /// to the measure-zero tie), compared in integers; one draw per unit. The generator lives in a
    /// local meanwhile (a stored property would be reloaded per draw). The loop holds no
    /// floating-point work and no branch on the random bit: the compare becomes a setcc, where a
    /// select between two floats here was compiled into a branch that mispredicts on every
    /// `rate`-th unit.
    private func drawMask(count: Int) {
        let threshold = UInt64((rate * 16_777_216).rounded(.up))
        let m = mask.pointer
        var local = generator
        for i in 0..<count { m[i] = local.next() >> 40 >= threshold ? 1 : 0 }
        generator = local
    }

    /// y[i] = x[i]·(kept ? 1/(1 − rate) : 0), [count]: a vectorized select and multiply (dropped
    /// units become x·0, a signed zero, exactly as with a mask of scale and 0 values).
    private func scaleByMask(_ x: UnsafePointer<T>, into y: UnsafeMutablePointer<T>, count: Int) {
        let scale = T(1 / (1 - rate))
        let m = mask.pointer
        for i in 0..<count { y[i] = x[i] * (m[i] != 0 ? scale : 0) }
    }
}
