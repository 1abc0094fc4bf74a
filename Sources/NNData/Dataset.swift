// A data set in memory: named Float32 features and either class labels or regression targets,
// with seeded shuffling and stratified train/validation splits.

import NNEngine

public enum DatasetError: Error, Equatable, CustomStringConvertible {
    case singleSampleClass(name: String)
    case invalidFraction(Double)
    case tooFewRows(rows: Int, needed: Int, purpose: String)
    case unknownDataset(name: String, available: [String])
    case invalidParameter(dataset: String, parameter: String, value: String, expected: String)

    public var description: String {
        switch self {
        case let .singleSampleClass(name):
            return "class \"\(name)\" has a single sample; a stratified split needs at least 2 per class (add samples, merge or drop the class, or use a separate --validation file)"
        case let .invalidFraction(value):
            return "validation fraction \(value) is out of range; expected a number strictly between 0 and 1"
        case let .tooFewRows(rows, needed, purpose):
            return "\(rows) row\(rows == 1 ? "" : "s") is too few for \(purpose); expected at least \(needed)"
        case let .unknownDataset(name, available):
            return "unknown built-in data set \"\(name)\"; expected one of \(available.joined(separator: ", "))"
        case let .invalidParameter(dataset, parameter, value, expected):
            return "data set \(dataset): \(parameter) = \(value) is invalid; expected \(expected)"
        }
    }
}

public struct Dataset: Equatable {
    public var featureNames: [String]
    /// count × featureCount, row-major.
    public var features: [Float]
    /// Class names in class-index order (empty for regression).
    public var classNames: [String]
    /// Class index of each row (classification), else empty.
    public var labels: [Int32]
    /// Target of each row (regression), else empty.
    public var targets: [Float]

    public var featureCount: Int { featureNames.count }
    public var count: Int { featureNames.isEmpty ? 0 : features.count / featureNames.count }
    public var isClassification: Bool { targets.isEmpty && !classNames.isEmpty }

    /// A classification data set; `labels[i]` indexes `classNames`.
    public init(featureNames: [String], features: [Float], classNames: [String], labels: [Int32]) {
        precondition(!featureNames.isEmpty && features.count == labels.count * featureNames.count, "features must be labels.count × featureNames.count")
        precondition(labels.allSatisfy { $0 >= 0 && Int($0) < classNames.count }, "label index out of range")
        self.featureNames = featureNames
        self.features = features
        self.classNames = classNames
        self.labels = labels
        self.targets = []
    }

    /// A regression data set.
    public init(featureNames: [String], features: [Float], targets: [Float]) {
        precondition(!featureNames.isEmpty && features.count == targets.count * featureNames.count, "features must be targets.count × featureNames.count")
        self.featureNames = featureNames
        self.features = features
        self.classNames = []
        self.labels = []
        self.targets = targets
    }

    /// Classification rows parsed from CSV, classes in `Dataset.classOrder` order.
    public static func classification(from rows: ParsedRows, featureNames: [String]) -> Dataset {
        let classNames = classOrder(rows.labelValues)
        var indexOfName: [String: Int32] = [:]
        for (index, name) in classNames.enumerated() { indexOfName[name] = Int32(index) }
        let remap = rows.labelValues.map { indexOfName[$0]! }
        return Dataset(featureNames: featureNames, features: rows.features, classNames: classNames,
                       labels: rows.labelIDs.map { remap[Int($0)] })
    }

    /// Regression rows parsed from CSV (the plan's label kind must be `.numeric`).
    public static func regression(from rows: ParsedRows, featureNames: [String]) -> Dataset {
        Dataset(featureNames: featureNames, features: rows.features, targets: rows.targets)
    }

    /// The order of classes, stated once for every tool: if every label is a number (by the
    /// reader's number grammar), ascending numeric order (ties by bytes); otherwise byte-wise
    /// lexicographic order of the UTF-8 texts, which equals NumPy's `np.unique` on strings.
    public static func classOrder<Labels: Sequence>(_ labels: Labels) -> [String] where Labels.Element == String {
        let distinct = Array(Set(labels))
        let byBytes: (String, String) -> Bool = { Array($0.utf8).lexicographicallyPrecedes(Array($1.utf8)) }
        let numbers = distinct.map { text -> Double? in
            guard parseFloat32(text) != nil, let value = Double(text.trimmingSpacesAndTabs), value.isFinite else { return nil }
            return value
        }
        if !distinct.isEmpty, numbers.allSatisfy({ $0 != nil }) {
            return zip(distinct, numbers).sorted { a, b in
                a.1! != b.1! ? a.1! < b.1! : byBytes(a.0, b.0)
            }.map(\.0)
        }
        return distinct.sorted(by: byBytes)
    }

    /// Class indices of label texts for this data set's classes; nil for a label never seen in training.
    public func classIndices(of texts: [String]) -> [Int32?] {
        var indexOfName: [String: Int32] = [:]
        for (index, name) in classNames.enumerated() { indexOfName[name] = Int32(index) }
        return texts.map { indexOfName[$0] }
    }

    /// The rows at `indices`, in that order.
    public func subset(_ indices: [Int]) -> Dataset {
        let width = featureCount
        var newFeatures = [Float](repeating: 0, count: indices.count * width)
        newFeatures.withUnsafeMutableBufferPointer { destination in
            features.withUnsafeBufferPointer { source in
                for (row, index) in indices.enumerated() {
                    (destination.baseAddress! + row * width).update(from: source.baseAddress! + index * width, count: width)
                }
            }
        }
        var copy = self
        copy.features = newFeatures
        if !labels.isEmpty { copy.labels = indices.map { labels[$0] } }
        if !targets.isEmpty { copy.targets = indices.map { targets[$0] } }
        return copy
    }

    /// Rows in a seeded random order.
    public func shuffled(seed: UInt64) -> Dataset {
        var random = RandomGenerator(seed: seed, stream: RandomStreams.shuffle)
        return subset(random.permutation(count))
    }

    /// Number of rows of each class (classification).
    public var classCounts: [Int] {
        var counts = [Int](repeating: 0, count: classNames.count)
        for label in labels { counts[Int(label)] += 1 }
        return counts
    }

    /// A seeded, shuffled split into training and validation sets, never simply the last rows.
    /// Stratified (classification, by default): each class gives round(fraction × its count)
    /// rows to validation, at least 1 and at most all but 1, so a class with one sample is an
    /// error naming it. Otherwise round(fraction × count) random rows (at least 1, at most count − 1).
    public func split(validationFraction fraction: Double, seed: UInt64,
                      stratified: Bool = true) throws -> (train: Dataset, validation: Dataset) {
        guard fraction > 0 && fraction < 1 else { throw DatasetError.invalidFraction(fraction) }
        guard count >= 2 else { throw DatasetError.tooFewRows(rows: count, needed: 2, purpose: "a validation split") }
        var random = RandomGenerator(seed: seed, stream: RandomStreams.split)
        var trainIndices: [Int] = []
        var validationIndices: [Int] = []
        if stratified && isClassification {
            var members = [[Int]](repeating: [], count: classNames.count)
            for (row, label) in labels.enumerated() { members[Int(label)].append(row) }
            for (classIndex, var rows) in members.enumerated() where !rows.isEmpty {
                guard rows.count >= 2 else { throw DatasetError.singleSampleClass(name: classNames[classIndex]) }
                random.shuffle(&rows)
                let take = min(rows.count - 1, max(1, Int((fraction * Double(rows.count)).rounded())))
                validationIndices.append(contentsOf: rows[..<take])
                trainIndices.append(contentsOf: rows[take...])
            }
        } else {
            let order = random.permutation(count)
            let take = min(count - 1, max(1, Int((fraction * Double(count)).rounded())))
            validationIndices = Array(order[..<take])
            trainIndices = Array(order[take...])
        }
        random.shuffle(&trainIndices)
        random.shuffle(&validationIndices)
        return (subset(trainIndices), subset(validationIndices))
    }
}

/// Stream numbers of `RandomGenerator` used by NNData, so they never collide with the engine's.
public enum RandomStreams {
    public static let shuffle: UInt64 = 0x4E4E_4441_5441_0001
    public static let split: UInt64 = 0x4E4E_4441_5441_0002
    public static let synthetic: UInt64 = 0x4E4E_4441_5441_0003
}

extension String {
    var trimmingSpacesAndTabs: String {
        var scalars = Substring(self)
        while let first = scalars.first, first == " " || first == "\t" { scalars.removeFirst() }
        while let last = scalars.last, last == " " || last == "\t" { scalars.removeLast() }
        return String(scalars)
    }
}
