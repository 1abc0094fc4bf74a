// Input normalization x' = (x − offset) / scale, fitted on training data only and stored in the
// checkpoint as two Float32 vectors, so inference applies exactly the same transformation.

public enum NormalizationKind: String, CaseIterable, Equatable {
    /// offset = mean, scale = population standard deviation (1 for a constant column).
    case standard
    /// offset = minimum, scale = maximum − minimum (1 for a constant column).
    case minmax
    /// offset = 0, scale = 1.
    case none
}

public struct Normalization: Equatable {
    public let kind: NormalizationKind
    public let offset: [Float]
    public let scale: [Float]

    /// From stored vectors (e.g. a checkpoint).
    public init(kind: NormalizationKind, offset: [Float], scale: [Float]) {
        precondition(offset.count == scale.count, "offset and scale must have one entry per feature")
        self.kind = kind
        self.offset = offset
        self.scale = scale
    }

    /// Fits on `features` (rows × featureCount, row-major); sums are accumulated in Double.
    public static func fit(_ kind: NormalizationKind, features: [Float], featureCount: Int) -> Normalization {
        precondition(featureCount > 0 && features.count % featureCount == 0, "features must be rows × featureCount")
        let rows = features.count / featureCount
        var offset = [Float](repeating: 0, count: featureCount)
        var scale = [Float](repeating: 1, count: featureCount)
        guard rows > 0 else { return Normalization(kind: kind, offset: offset, scale: scale) }
        switch kind {
        case .none:
            break
        case .standard:
            var sum = [Double](repeating: 0, count: featureCount)
            for row in 0..<rows {
                for j in 0..<featureCount { sum[j] += Double(features[row * featureCount + j]) }
            }
            let mean = sum.map { $0 / Double(rows) }
            var squares = [Double](repeating: 0, count: featureCount)
            for row in 0..<rows {
                for j in 0..<featureCount {
                    let d = Double(features[row * featureCount + j]) - mean[j]
                    squares[j] += d * d
                }
            }
            for j in 0..<featureCount {
                offset[j] = Float(mean[j])
                let std = Float((squares[j] / Double(rows)).squareRoot())
                scale[j] = std > 0 ? std : 1
            }
        case .minmax:
            var low = [Float](repeating: .infinity, count: featureCount)
            var high = [Float](repeating: -.infinity, count: featureCount)
            for row in 0..<rows {
                for j in 0..<featureCount {
                    let x = features[row * featureCount + j]
                    low[j] = min(low[j], x)
                    high[j] = max(high[j], x)
                }
            }
            for j in 0..<featureCount {
                offset[j] = low[j]
                let range = Float(Double(high[j]) - Double(low[j]))
                scale[j] = range > 0 && range.isFinite ? range : 1
            }
        }
        return Normalization(kind: kind, offset: offset, scale: scale)
    }

    /// Normalizes rows in place (count × offset.count, row-major).
    public func apply(to features: inout [Float]) {
        features.withUnsafeMutableBufferPointer { apply(to: $0) }
    }

    public func apply(to features: UnsafeMutableBufferPointer<Float>) {
        let width = offset.count
        precondition(width > 0 && features.count % width == 0, "features must be rows × featureCount")
        offset.withUnsafeBufferPointer { offset in
            scale.withUnsafeBufferPointer { scale in
                var i = 0
                while i < features.count {
                    for j in 0..<width { features[i + j] = (features[i + j] - offset[j]) / scale[j] }
                    i += width
                }
            }
        }
    }
}
