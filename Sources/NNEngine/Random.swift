// A seeded, portable pseudo-random generator: xoshiro256** seeded by SplitMix64.
//
// Why our own: the system generator differs between platforms and versions, and a checkpoint made
// with `--seed 7` must be the same on every machine. Everything here uses only integer arithmetic
// and the IEEE operations + − × ÷ √ (exactly rounded everywhere); the logarithm in `normal()` is
// our own series for the same reason (libm's `log` may differ in the last bit between libraries).

public struct RandomGenerator {
    private var s0, s1, s2, s3: UInt64
    private var spareNormal: Double?

    /// A generator for `seed`; different `stream` values give independent sequences for the same
    /// seed (e.g. one stream for weight initialization, one for shuffling, one for dropout).
    public init(seed: UInt64, stream: UInt64 = 0) {
        var sm = SplitMix64(state: seed ^ (stream &* 0xD1B5_4A32_D192_ED03))
        s0 = sm.next(); s1 = sm.next(); s2 = sm.next(); s3 = sm.next()
        if s0 | s1 | s2 | s3 == 0 { s0 = 1 }  // the all-zero state is a fixed point
    }

    /// A generator with an explicit state (for reference tests against the published algorithm).
    init(state: (UInt64, UInt64, UInt64, UInt64)) {
        (s0, s1, s2, s3) = state
    }

    /// The complete state, so a generator can be saved (e.g. with a checkpoint for `--resume`)
    /// and continued exactly: four state words, then 1 and the bits of a pending spare normal
    /// deviate, or 0 and 0.
    public var savedState: [UInt64] {
        [s0, s1, s2, s3, spareNormal == nil ? 0 : 1, spareNormal?.bitPattern ?? 0]
    }

    /// Continues a generator from `savedState`; nil if `saved` is not such a state.
    public init?(savedState saved: [UInt64]) {
        guard saved.count == 6, saved[0] | saved[1] | saved[2] | saved[3] != 0, saved[4] <= 1 else { return nil }
        (s0, s1, s2, s3) = (saved[0], saved[1], saved[2], saved[3])
        spareNormal = saved[4] == 1 ? Double(bitPattern: saved[5]) : nil
    }

    /// 64 uniformly distributed bits (xoshiro256**).
    public mutating func next() -> UInt64 {
        let result = rotl(s1 &* 5, 7) &* 9
        let t = s1 << 17
        s2 ^= s0; s3 ^= s1; s1 ^= s2; s0 ^= s3
        s2 ^= t
        s3 = rotl(s3, 45)
        return result
    }

    /// Uniform in [0, 1) with 53 random bits.
    public mutating func nextDouble() -> Double {
        Double(next() >> 11) * 0x1.0p-53
    }

    /// Uniform in [0, 1) with 24 random bits.
    public mutating func nextFloat() -> Float {
        Float(next() >> 40) * 0x1.0p-24
    }

    /// Uniform integer in 0..<bound, unbiased (Lemire's multiply-and-reject).
    public mutating func next(below bound: Int) -> Int {
        precondition(bound > 0, "bound must be positive")
        let b = UInt64(bound)
        var product = next().multipliedFullWidth(by: b)
        if product.low < b {
            let threshold = (0 &- b) % b
            while product.low < threshold { product = next().multipliedFullWidth(by: b) }
        }
        return Int(product.high)
    }

    /// Standard normal N(0, 1) by Marsaglia's polar method.
    public mutating func normal() -> Double {
        if let spare = spareNormal {
            spareNormal = nil
            return spare
        }
        while true {
            let u = 2 * nextDouble() - 1
            let v = 2 * nextDouble() - 1
            let s = u * u + v * v
            if s > 0 && s < 1 {
                let factor = (-2 * portableLog(s) / s).squareRoot()
                spareNormal = v * factor
                return u * factor
            }
        }
    }

    /// Normal with the given mean and standard deviation.
    public mutating func normal(mean: Double, std: Double) -> Double {
        mean + std * normal()
    }

    /// Shuffles `array` in place (Fisher–Yates). Specialized for the index arrays that training loops
    /// shuffle every epoch (the generic code swaps through value witnesses and allocates).
    @_specialize(exported: true, where T == Int)
    public mutating func shuffle<T>(_ array: inout [T]) {
        guard array.count > 1 else { return }
        for i in stride(from: array.count - 1, to: 0, by: -1) {
            array.swapAt(i, next(below: i + 1))
        }
    }

    /// A random permutation of 0..<count.
    public mutating func permutation(_ count: Int) -> [Int] {
        var indices = Array(0..<count)
        shuffle(&indices)
        return indices
    }

    @inline(__always) private func rotl(_ x: UInt64, _ k: UInt64) -> UInt64 {
        (x << k) | (x >> (64 - k))
    }
}

/// SplitMix64: expands one 64-bit seed into well-mixed state words.
struct SplitMix64 {
    var state: UInt64
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

/// Natural logarithm of a positive, finite x, from + − × ÷ only so that it is bit-identical on
/// every IEEE-754 machine. x = 2^e · m with m in [√½, √2); ln m = 2·atanh(f) with f = (m−1)/(m+1),
/// |f| ≤ 0.172, summed as a series to double precision.
public func portableLog(_ x: Double) -> Double {
    precondition(x > 0 && x.isFinite, "portableLog needs a positive finite argument")
    var m = x.significand            // [1, 2)
    var e = Double(x.exponent)
    if m > 1.4142135623730951 { m *= 0.5; e += 1 }
    let f = (m - 1) / (m + 1)
    let f2 = f * f
    // atanh(f) = f + f³/3 + f⁵/5 + …; with |f| ≤ 0.172 the 19th power term is below 2^-53.
    var term = f
    var sum = 0.0
    var k = 1.0
    while k <= 21 {
        sum += term / k
        term *= f2
        k += 2
    }
    let ln2 = 0.6931471805599453
    return e * ln2 + 2 * sum
}
