// Summary statistics and a small text histogram of one tensor's values, for `nninspect --weights`.
import NNFormat
import NNJSON

/// What a tensor's values look like. `min`, `max`, `mean`, `std` and the histogram cover the finite
/// values only (NaN and ±Inf are counted apart); all are nil when there is no finite value.
public struct TensorStatistics: Equatable, Sendable {
    public static let histogramBins = 10

    public var count: Int
    public var finiteCount: Int
    public var nanCount: Int
    public var infinityCount: Int
    /// Values equal to zero (+0 or −0).
    public var zeroCount: Int
    public var min: Double?
    public var max: Double?
    public var mean: Double?
    /// Population standard deviation (divides by n, like numpy's default).
    public var std: Double?
    /// `histogramBins` equal-width bins from `min` to `max` (the last bin includes `max`);
    /// all values in bin 0 when min = max; empty when there is no finite value.
    public var histogram: [Int]

    /// Fraction of all values that are zero (0 for an empty tensor).
    public var zeroFraction: Double { count == 0 ? 0 : Double(zeroCount) / Double(count) }

    public init(_ values: TensorValues) {
        switch values {
        case .f32(let v): self = v.withUnsafeBufferPointer { Self.compute($0) }
        case .f64(let v): self = v.withUnsafeBufferPointer { Self.compute($0) }
        }
    }

    init(count: Int, finiteCount: Int, nanCount: Int, infinityCount: Int, zeroCount: Int,
         min: Double?, max: Double?, mean: Double?, std: Double?, histogram: [Int]) {
        self.count = count
        self.finiteCount = finiteCount
        self.nanCount = nanCount
        self.infinityCount = infinityCount
        self.zeroCount = zeroCount
        self.min = min
        self.max = max
        self.mean = mean
        self.std = std
        self.histogram = histogram
    }

    private static func compute<T: BinaryFloatingPoint>(_ values: UnsafeBufferPointer<T>) -> TensorStatistics {
        // Pass 1: counts, range and sum (in Double, so f32 sums do not lose precision).
        var nan = 0, infinite = 0, zeros = 0, finite = 0
        var low = Double.infinity, high = -Double.infinity, sum = 0.0
        for value in values {
            if value.isNaN { nan += 1; continue }
            if value.isInfinite { infinite += 1; continue }
            if value == 0 { zeros += 1 }
            let x = Double(value)
            finite += 1
            sum += x
            if x < low { low = x }
            if x > high { high = x }
        }
        guard finite > 0 else {
            return TensorStatistics(count: values.count, finiteCount: 0, nanCount: nan, infinityCount: infinite,
                                    zeroCount: zeros, min: nil, max: nil, mean: nil, std: nil, histogram: [])
        }
        let mean = sum / Double(finite)
        // Pass 2: spread around the mean (two-pass: no cancellation) and the histogram.
        var squares = 0.0
        var bins = [Int](repeating: 0, count: histogramBins)
        // Halves, so that the width of a range like [-1e308, 1e308] does not overflow to infinity.
        let halfWidth = high / 2 - low / 2
        for value in values where value.isFinite {
            let x = Double(value)
            squares += (x - mean) * (x - mean)
            var bin = 0
            if halfWidth > 0 {
                let position = (x / 2 - low / 2) / halfWidth * Double(histogramBins)
                bin = position.isFinite ? Swift.min(Swift.max(Int(position), 0), histogramBins - 1) : 0
            }
            bins[bin] += 1
        }
        return TensorStatistics(count: values.count, finiteCount: finite, nanCount: nan, infinityCount: infinite,
                                zeroCount: zeros, min: low, max: high, mean: mean,
                                std: (squares / Double(finite)).squareRoot(), histogram: bins)
    }

    /// The histogram as one line of block characters, one per bin (" " for an empty bin, then
    /// ▁▂▃▄▅▆▇█ by share of the fullest bin); "constant" when min = max; "" without finite values.
    public var sparkline: String {
        guard let min, let max, !histogram.isEmpty else { return "" }
        if min == max { return "constant" }
        let levels: [Character] = ["▁", "▂", "▃", "▄", "▅", "▆", "▇", "█"]
        let fullest = histogram.max() ?? 0
        return String(histogram.map { count -> Character in
            guard count > 0, fullest > 0 else { return " " }
            // ceil(count / fullest × 8) in 1...8, so any non-empty bin is visible.
            let level = (count * levels.count + fullest - 1) / fullest
            return levels[Swift.min(level, levels.count) - 1]
        })
    }

    /// JSON form (numbers as JSON numbers; null where undefined).
    public var json: JSONValue {
        // JSON has no infinity: a mean or std that overflowed is null like an undefined one.
        func number(_ value: Double?) -> JSONValue {
            guard let value, value.isFinite else { return .null }
            return .number(value)
        }
        return .object([
            ("count", .integer(Int64(count))),
            ("min", number(min)),
            ("max", number(max)),
            ("mean", number(mean)),
            ("std", number(std)),
            ("zero_fraction", .number(zeroFraction)),
            ("nan_count", .integer(Int64(nanCount))),
            ("inf_count", .integer(Int64(infinityCount))),
            ("histogram", .array(histogram.map { .integer(Int64($0)) })),
        ])
    }
}
