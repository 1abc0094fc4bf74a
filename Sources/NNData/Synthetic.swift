// Built-in synthetic data sets for demos and tests: seeded, any sample count, two features
// named x1 and x2, class names "0", "1", … (numbers, so class order is numeric). Classes are
// balanced (the first classes get one more row when the count does not divide) and rows come
// in a seeded random order.

import NNEngine

public enum SyntheticDataset: String, CaseIterable {
    /// The course text's 5.2 task: x ~ N(0, I₂), class 1 when x1 + x2 > 0.
    case linear
    /// Four Gaussian blobs around (±1, ±1) (std `noise`, default 0.3); class 1 when x1·x2 > 0.
    case xor
    /// scikit-learn's make_moons: two interleaved half circles plus N(0, noise²) (default 0.1).
    case moons
    /// scikit-learn's make_circles: outer circle (class 0) and inner circle of radius `factor`
    /// (default 0.5, class 1) plus N(0, noise²) noise (default 0.05).
    case circles
    /// `classes` (2 or 3, default 2) interleaved spiral arms: radius r in [0, 1], angle
    /// 2πk/classes + 4r + N(0, noise²) (default 0.2).
    case spirals
    /// `classes` (default 3) Gaussian blobs of std `noise` (default 1), centers evenly on a circle of radius 4.
    case blobs

    public static var names: [String] { allCases.map(\.rawValue) }

    /// The named data set, or `DatasetError.unknownDataset`.
    public static func named(_ name: String) throws -> SyntheticDataset {
        guard let dataset = SyntheticDataset(rawValue: name) else {
            throw DatasetError.unknownDataset(name: name, available: names)
        }
        return dataset
    }

    /// Generates `samples` rows; `noise`, `classes` and `factor` default as documented per case.
    public func make(samples: Int, seed: UInt64, noise: Double? = nil, classes: Int? = nil,
                     factor: Double = 0.5) throws -> Dataset {
        let name = rawValue
        guard samples >= 1 else {
            throw DatasetError.invalidParameter(dataset: name, parameter: "samples", value: String(samples), expected: "at least 1")
        }
        if let noise, !(noise >= 0 && noise.isFinite) {
            throw DatasetError.invalidParameter(dataset: name, parameter: "noise", value: String(noise), expected: "a finite number ≥ 0")
        }
        var random = RandomGenerator(seed: seed, stream: RandomStreams.synthetic)
        var points: [(Double, Double, Int)] = []
        points.reserveCapacity(samples)
        var classCount = 2

        /// Rows per class, balanced.
        func share(_ k: Int, of total: Int) -> Int { total / classCount + (k < total % classCount ? 1 : 0) }

        switch self {
        case .linear:
            for _ in 0..<samples {
                let x1 = random.normal(), x2 = random.normal()
                points.append((x1, x2, x1 + x2 > 0 ? 1 : 0))
            }
        case .xor:
            let std = noise ?? 0.3
            for i in 0..<samples {
                let cx: Double = i % 2 == 0 ? 1 : -1
                let cy: Double = (i / 2) % 2 == 0 ? 1 : -1
                let x1 = cx + std * random.normal(), x2 = cy + std * random.normal()
                points.append((x1, x2, x1 * x2 > 0 ? 1 : 0))
            }
        case .moons:
            let std = noise ?? 0.1
            let outer = samples / 2, inner = samples - outer
            for i in 0..<outer {
                let angle = outer > 1 ? Double.pi * Double(i) / Double(outer - 1) : 0
                points.append((cosine(angle) + std * random.normal(), sine(angle) + std * random.normal(), 0))
            }
            for i in 0..<inner {
                let angle = inner > 1 ? Double.pi * Double(i) / Double(inner - 1) : 0
                points.append((1 - cosine(angle) + std * random.normal(), 1 - sine(angle) - 0.5 + std * random.normal(), 1))
            }
        case .circles:
            guard factor > 0 && factor < 1 else {
                throw DatasetError.invalidParameter(dataset: name, parameter: "factor", value: String(factor), expected: "a number strictly between 0 and 1")
            }
            let std = noise ?? 0.05
            let outer = samples / 2, inner = samples - outer
            for (count, radius, label) in [(outer, 1.0, 0), (inner, factor, 1)] {
                for i in 0..<count {
                    let angle = 2 * Double.pi * Double(i) / Double(count)
                    points.append((radius * cosine(angle) + std * random.normal(), radius * sine(angle) + std * random.normal(), label))
                }
            }
        case .spirals:
            classCount = classes ?? 2
            guard classCount == 2 || classCount == 3 else {
                throw DatasetError.invalidParameter(dataset: name, parameter: "classes", value: String(classCount), expected: "2 or 3 arms")
            }
            let std = noise ?? 0.2
            for arm in 0..<classCount {
                let count = share(arm, of: samples)
                for i in 0..<count {
                    let r = count > 1 ? Double(i) / Double(count - 1) : 0
                    let angle = 2 * Double.pi * Double(arm) / Double(classCount) + 4 * r + std * random.normal()
                    points.append((r * cosine(angle), r * sine(angle), arm))
                }
            }
        case .blobs:
            classCount = classes ?? 3
            guard classCount >= 2 && classCount <= 1000 else {
                throw DatasetError.invalidParameter(dataset: name, parameter: "classes", value: String(classCount), expected: "2 to 1000 blobs")
            }
            let std = noise ?? 1.0
            for blob in 0..<classCount {
                let angle = 2 * Double.pi * Double(blob) / Double(classCount)
                let (cx, cy) = (4 * cosine(angle), 4 * sine(angle))
                for _ in 0..<share(blob, of: samples) {
                    points.append((cx + std * random.normal(), cy + std * random.normal(), blob))
                }
            }
        }
        random.shuffle(&points)
        return Dataset(featureNames: ["x1", "x2"], features: points.flatMap { [Float($0.0), Float($0.1)] },
                       classNames: (0..<classCount).map { String($0) }, labels: points.map { Int32($0.2) })
    }
}

// Sine and cosine from + − × ÷ only (like NNEngine's portableLog), so data sets are bit-identical
// on every machine whatever its libm: reduce to [−π/4, π/4] by quadrant, then Taylor series.
private func sine(_ x: Double) -> Double { quadrantSinCos(x).sin }
private func cosine(_ x: Double) -> Double { quadrantSinCos(x).cos }

private func quadrantSinCos(_ x: Double) -> (sin: Double, cos: Double) {
    let halfPi = Double.pi / 2
    let quadrant = (x / halfPi).rounded()
    let r = x - quadrant * halfPi  // |r| ≤ π/4 (enough accuracy for data generation)
    let r2 = r * r
    var s = 0.0, c = 0.0
    var termS = r, termC = 1.0
    for n in 0..<12 {
        s += termS
        c += termC
        let k = Double(2 * n + 2)
        termS *= -r2 / (k * (k + 1))
        termC *= -r2 / ((k - 1) * k)
    }
    switch ((Int(quadrant) % 4) + 4) % 4 {
    case 0: return (s, c)
    case 1: return (c, -s)
    case 2: return (-s, -c)
    default: return (-c, s)
    }
}
