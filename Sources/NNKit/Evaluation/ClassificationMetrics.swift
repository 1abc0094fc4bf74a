import Glibc

/// Everything an evaluation of a classifier needs, kept as raw counts and sums so that the
/// metrics of shards merge exactly (`nninfer merge-metrics`): rates are derived, never stored.
public struct ClassificationMetrics: Equatable {
    /// The model's class names, in the model's order.
    public let classes: [String]
    /// confusion[t][p]: rows whose true class is t and predicted class is p.
    public private(set) var confusion: [[Int]]
    /// Rows whose label is not one of `classes`, by label, with how often each was seen.
    /// They count as wrong in `accuracy` and are left out of the per-class figures and log-loss.
    public private(set) var unseenLabels: [String: Int] = [:]
    /// Σ −ln p(true class) over rows with a known label (probabilities clipped to [ε, 1]).
    public private(set) var logLossSum: Double = 0

    public init(classes: [String]) {
        self.classes = classes
        self.confusion = Array(repeating: Array(repeating: 0, count: classes.count), count: classes.count)
    }

    /// Reassembles metrics from their stored counts (as read back from a metrics JSON file).
    public init(classes: [String], confusion: [[Int]], unseenLabels: [String: Int], logLossSum: Double) {
        self.classes = classes
        self.confusion = confusion
        self.unseenLabels = unseenLabels
        self.logLossSum = logLossSum
    }

    /// Smallest probability used for log-loss (scikit-learn's `eps="auto"` for float32 input).
    public static let probabilityFloor = Double(Float.ulpOfOne)

    /// Records one row: its true class index, the predicted one, and the probability the model
    /// gave the true class (nil when the model gives no probabilities).
    public mutating func add(trueClass: Int, predictedClass: Int, probabilityOfTrue: Double?) {
        confusion[trueClass][predictedClass] += 1
        if let p = probabilityOfTrue {
            logLossSum -= log(min(1, max(Self.probabilityFloor, p)))
        }
    }

    /// Records one row whose label the model never saw in training.
    public mutating func addUnseen(label: String) {
        unseenLabels[label, default: 0] += 1
    }

    /// The combined metrics of two shards of the same model.
    public func merged(with other: ClassificationMetrics) throws -> ClassificationMetrics {
        guard classes == other.classes else {
            throw MetricsError.classesDiffer(classes, other.classes)
        }
        var result = self
        for t in 0..<classes.count {
            for p in 0..<classes.count { result.confusion[t][p] += other.confusion[t][p] }
        }
        for (label, count) in other.unseenLabels { result.unseenLabels[label, default: 0] += count }
        result.logLossSum += other.logLossSum
        return result
    }

    // MARK: Derived figures (scikit-learn's definitions; 0 where a denominator is 0)

    public var knownRows: Int { confusion.reduce(0) { $0 + $1.reduce(0, +) } }
    public var unseenRows: Int { unseenLabels.values.reduce(0, +) }
    public var rows: Int { knownRows + unseenRows }
    public var correct: Int { (0..<classes.count).reduce(0) { $0 + confusion[$1][$1] } }
    public var accuracy: Double { rows == 0 ? 0 : Double(correct) / Double(rows) }
    public var logLoss: Double { knownRows == 0 ? 0 : logLossSum / Double(knownRows) }

    public func support(_ c: Int) -> Int { confusion[c].reduce(0, +) }
    public func predictedCount(_ c: Int) -> Int { confusion.reduce(0) { $0 + $1[c] } }

    public func precision(_ c: Int) -> Double {
        let predicted = predictedCount(c)
        return predicted == 0 ? 0 : Double(confusion[c][c]) / Double(predicted)
    }

    public func recall(_ c: Int) -> Double {
        let s = support(c)
        return s == 0 ? 0 : Double(confusion[c][c]) / Double(s)
    }

    public func f1(_ c: Int) -> Double {
        let p = precision(c), r = recall(c)
        return p + r == 0 ? 0 : 2 * p * r / (p + r)
    }

    /// Unweighted mean over classes of (precision, recall, f1).
    public var macroAverage: (precision: Double, recall: Double, f1: Double) {
        let n = Double(max(classes.count, 1))
        let idx = 0..<classes.count
        return (idx.reduce(0) { $0 + precision($1) } / n,
                idx.reduce(0) { $0 + recall($1) } / n,
                idx.reduce(0) { $0 + f1($1) } / n)
    }

    /// Mean over classes of (precision, recall, f1) weighted by support.
    public var weightedAverage: (precision: Double, recall: Double, f1: Double) {
        let total = Double(knownRows)
        guard total > 0 else { return (0, 0, 0) }
        let idx = 0..<classes.count
        return (idx.reduce(0) { $0 + precision($1) * Double(support($1)) } / total,
                idx.reduce(0) { $0 + recall($1) * Double(support($1)) } / total,
                idx.reduce(0) { $0 + f1($1) * Double(support($1)) } / total)
    }
}

public enum MetricsError: Error, CustomStringConvertible, Equatable {
    case classesDiffer([String], [String])

    public var description: String {
        switch self {
        case .classesDiffer(let a, let b):
            return "cannot merge metrics of different models: classes \(a) and \(b) differ"
        }
    }
}
