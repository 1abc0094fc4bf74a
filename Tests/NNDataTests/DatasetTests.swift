import XCTest
@testable import NNData
import NNParallel

final class DatasetTests: XCTestCase {
    func testClassOrderIsNumericWhenAllNumbersElseBytewise() {
        XCTAssertEqual(Dataset.classOrder(["10", "2", "1", "2", "-3.5"]), ["-3.5", "1", "2", "10"])
        XCTAssertEqual(Dataset.classOrder(["b", "B", "a", "é", "Z", "10", "9"]), ["10", "9", "B", "Z", "a", "b", "é"])
        XCTAssertEqual(Dataset.classOrder(["1", "1.0", "x"]), ["1", "1.0", "x"])
        XCTAssertEqual(Dataset.classOrder(["1.0", "1"]), ["1", "1.0"])  // equal numbers: by bytes
        XCTAssertEqual(Dataset.classOrder(["nan", "1"]), ["1", "nan"])  // "nan" is not a number
    }

    func testClassificationFromParsedRowsUsesClassOrder() {
        let rows = ParsedRows(rowCount: 3, featureCount: 1, features: [1, 2, 3], labelValues: ["dog", "cat"], labelIDs: [0, 1, 0])
        let data = Dataset.classification(from: rows, featureNames: ["x"])
        XCTAssertEqual(data.classNames, ["cat", "dog"])
        XCTAssertEqual(data.labels, [1, 0, 1])
        XCTAssertEqual(data.classIndices(of: ["dog", "cow"]), [1, nil])
    }

    private func sample(counts: [Int]) -> Dataset {
        var features: [Float] = []
        var labels: [Int32] = []
        var row = 0
        for (label, count) in counts.enumerated() {
            for _ in 0..<count {
                features += [Float(row), Float(-row)]
                labels.append(Int32(label))
                row += 1
            }
        }
        return Dataset(featureNames: ["a", "b"], features: features, classNames: counts.indices.map { "c\($0)" }, labels: labels)
    }

    func testStratifiedSplitIsSeededShuffledAndProportional() throws {
        let data = sample(counts: [50, 30, 20])
        let (train, validation) = try data.split(validationFraction: 0.2, seed: 7)
        XCTAssertEqual(validation.classCounts, [10, 6, 4])
        XCTAssertEqual(train.classCounts, [40, 24, 16])
        // Rows stay whole and nothing is lost or duplicated.
        let ids = (train.features + validation.features).enumerated().filter { $0.offset % 2 == 0 }.map { Int($0.element) }
        XCTAssertEqual(ids.sorted(), Array(0..<100))
        for set in [train, validation] {
            for row in 0..<set.count { XCTAssertEqual(set.features[2 * row], -set.features[2 * row + 1]) }
        }
        // Not the tail, not in file order.
        let validationIDs = validation.features.enumerated().filter { $0.offset % 2 == 0 }.map { Int($0.element) }
        XCTAssertNotEqual(validationIDs, validationIDs.sorted())
        // Same seed, same split; other seed, other split.
        XCTAssertEqual(try data.split(validationFraction: 0.2, seed: 7).validation, validation)
        XCTAssertNotEqual(try data.split(validationFraction: 0.2, seed: 8).validation, validation)
    }

    func testSplitErrors() {
        let data = sample(counts: [5, 1])
        XCTAssertEqual(errorMessage { _ = try data.split(validationFraction: 0.2, seed: 0) },
                       "class \"c1\" has a single sample; a stratified split needs at least 2 per class (add samples, merge or drop the class, or use a separate --validation file)")
        XCTAssertEqual(errorMessage { _ = try data.split(validationFraction: 1.5, seed: 0) },
                       "validation fraction 1.5 is out of range; expected a number strictly between 0 and 1")
        XCTAssertNoThrow(try data.split(validationFraction: 0.2, seed: 0, stratified: false))
    }

    func testRegressionSplitAndShuffle() throws {
        let data = Dataset(featureNames: ["x"], features: (0..<10).map(Float.init), targets: (0..<10).map { Float($0) * 2 })
        let (train, validation) = try data.split(validationFraction: 0.3, seed: 1)
        XCTAssertEqual(validation.count, 3)
        XCTAssertEqual(train.count, 7)
        for set in [train, validation] { XCTAssertEqual(set.targets, set.features.map { $0 * 2 }) }
        let shuffled = data.shuffled(seed: 3)
        XCTAssertEqual(shuffled.features.sorted(), data.features)
        XCTAssertNotEqual(shuffled.features, data.features)
        XCTAssertEqual(shuffled, data.shuffled(seed: 3))
    }

    func testNormalization() {
        // Column 0: 1, 2, 3, 4 (mean 2.5, population std √1.25); column 1 constant.
        let features: [Float] = [1, 7, 2, 7, 3, 7, 4, 7]
        let standard = Normalization.fit(.standard, features: features, featureCount: 2)
        XCTAssertEqual(standard.offset, [2.5, 7])
        XCTAssertEqual(standard.scale, [Float(1.25.squareRoot()), 1])
        var normalized = features
        standard.apply(to: &normalized)
        XCTAssertEqual(normalized[0], (1 - 2.5) / Float(1.25.squareRoot()))
        XCTAssertEqual(normalized[1], 0)
        let minmax = Normalization.fit(.minmax, features: features, featureCount: 2)
        XCTAssertEqual(minmax.offset, [1, 7])
        XCTAssertEqual(minmax.scale, [3, 1])
        let none = Normalization.fit(.none, features: features, featureCount: 2)
        XCTAssertEqual(none.offset, [0, 0])
        XCTAssertEqual(none.scale, [1, 1])
        var unchanged = features
        none.apply(to: &unchanged)
        XCTAssertEqual(unchanged, features)
        // Large offsets: Double accumulation keeps the mean exact where Float sums would drift.
        let big = [Float](repeating: 1e7 + 1, count: 100_001)
        XCTAssertEqual(Normalization.fit(.standard, features: big, featureCount: 1).offset, [1e7 + 1])
    }

    func testSyntheticDataSets() throws {
        for kind in SyntheticDataset.allCases {
            let data = try kind.make(samples: 301, seed: 5)
            XCTAssertEqual(data.count, 301, kind.rawValue)
            XCTAssertEqual(data.featureNames, ["x1", "x2"])
            XCTAssertTrue(data.features.allSatisfy(\.isFinite))
            XCTAssertEqual(try kind.make(samples: 301, seed: 5), data, "seeded")
            XCTAssertNotEqual(try kind.make(samples: 301, seed: 6), data)
            let counts = data.classCounts
            XCTAssertLessThanOrEqual(counts.max()! - counts.min()!, kind == .linear || kind == .xor ? 60 : 1, kind.rawValue)
        }
        let linear = try SyntheticDataset.linear.make(samples: 500, seed: 0)
        for row in 0..<linear.count {
            XCTAssertEqual(linear.labels[row], linear.features[2 * row] + linear.features[2 * row + 1] > 0 ? 1 : 0)
        }
        let xor = try SyntheticDataset.xor.make(samples: 400, seed: 0)
        for row in 0..<xor.count { XCTAssertEqual(xor.labels[row], xor.features[2 * row] * xor.features[2 * row + 1] > 0 ? 1 : 0) }
        let circles = try SyntheticDataset.circles.make(samples: 200, seed: 0, noise: 0)
        for row in 0..<circles.count {
            let radius = (circles.features[2 * row] * circles.features[2 * row] + circles.features[2 * row + 1] * circles.features[2 * row + 1]).squareRoot()
            XCTAssertEqual(radius, circles.labels[row] == 0 ? 1 : 0.5, accuracy: 1e-5)
        }
        let moons = try SyntheticDataset.moons.make(samples: 100, seed: 0, noise: 0)
        for row in 0..<moons.count where moons.labels[row] == 0 {
            let (x, y) = (moons.features[2 * row], moons.features[2 * row + 1])
            XCTAssertEqual(x * x + y * y, 1, accuracy: 1e-5)
        }
        XCTAssertEqual(try SyntheticDataset.spirals.make(samples: 90, seed: 0, classes: 3).classNames, ["0", "1", "2"])
        XCTAssertEqual(try SyntheticDataset.blobs.make(samples: 90, seed: 0, classes: 5).classCounts, [18, 18, 18, 18, 18])
        XCTAssertEqual(errorMessage { _ = try SyntheticDataset.named("swirl") },
                       "unknown built-in data set \"swirl\"; expected one of linear, xor, moons, circles, spirals, blobs")
        XCTAssertEqual(errorMessage { _ = try SyntheticDataset.spirals.make(samples: 10, seed: 0, classes: 4) },
                       "data set spirals: classes = 4 is invalid; expected 2 or 3 arms")
        XCTAssertEqual(errorMessage { _ = try SyntheticDataset.moons.make(samples: 0, seed: 0) },
                       "data set moons: samples = 0 is invalid; expected at least 1")
    }

    func testBundledDigitsFixture() throws {
        let train = try loadCSV(path: fixturePath("data/digits_train.csv"), pool: WorkerPool(threads: 2)) {
            try ColumnPlan.training(header: $0, label: ColumnReference("label"))
        }
        let test = try loadCSV(path: fixturePath("data/digits_test.csv")) { try ColumnPlan.training(header: $0) }
        XCTAssertEqual(train.rows.rowCount, 1437)
        XCTAssertEqual(test.rows.rowCount, 360)
        XCTAssertEqual(train.plan.featureNames, (0..<64).map { "px\($0)" })
        let data = Dataset.classification(from: train.rows, featureNames: train.plan.featureNames)
        XCTAssertEqual(data.classNames, (0..<10).map(String.init))
        XCTAssertEqual(data.classCounts, [142, 146, 142, 146, 145, 145, 145, 143, 139, 144])
        XCTAssertTrue(data.features.allSatisfy { $0 >= 0 && $0 <= 16 && $0 == $0.rounded() })
        XCTAssertEqual(SHA256.hex(train.sha256), "eb673634917f03fcb3bf8769930506829ad91eb153b2ffeef1420503c204dda4")
    }
}
