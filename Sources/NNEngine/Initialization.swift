// Weight initializations of the course text 6.2. Biases are always zero.

public enum WeightInitialization: String, Equatable, CaseIterable {
    /// All weights 0 (shows the symmetry problem; nothing learns).
    case zeros
    /// 0.01·N(0, 1)
    case small
    /// 1.0·N(0, 1)
    case large
    /// Glorot/Xavier normal: std = √(2/(fan_in + fan_out)).
    case xavier
    /// He/Kaiming normal: std = √(2/fan_in). Note: the course text's 3.3 code uses this formula but
    /// calls it "Xavier"; its 6.2 names both correctly, and so do we.
    case he

    /// Standard deviation of the normal distribution for a [fanIn, fanOut] weight.
    public func standardDeviation(fanIn: Int, fanOut: Int) -> Double {
        switch self {
        case .zeros: return 0
        case .small: return 0.01
        case .large: return 1.0
        case .xavier: return (2.0 / Double(fanIn + fanOut)).squareRoot()
        case .he: return (2.0 / Double(fanIn)).squareRoot()
        }
    }

    /// Fills a row-major [fanIn, fanOut] weight with std·N(0, 1) draws in row-major order.
    public func fill<T: EngineScalar>(_ weight: UnsafeMutablePointer<T>, fanIn: Int, fanOut: Int,
                                      generator: inout RandomGenerator) {
        let std = standardDeviation(fanIn: fanIn, fanOut: fanOut)
        for i in 0..<(fanIn * fanOut) {
            weight[i] = self == .zeros ? 0 : T(std * generator.normal())
        }
    }
}
