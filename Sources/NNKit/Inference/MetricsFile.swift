import Glibc
import NNFormat
import NNJSON

/// Evaluation of a regression model on one target, kept as sums so that shards merge exactly
/// (up to the order of floating-point additions).
public struct RegressionMetrics: Equatable {
    /// The evaluated target's name.
    public let target: String
    public private(set) var rows: Int = 0
    public private(set) var squaredErrorSum: Double = 0
    public private(set) var absoluteErrorSum: Double = 0

    public init(target: String) { self.target = target }

    public init(target: String, rows: Int, squaredErrorSum: Double, absoluteErrorSum: Double) {
        self.target = target
        self.rows = rows
        self.squaredErrorSum = squaredErrorSum
        self.absoluteErrorSum = absoluteErrorSum
    }

    public mutating func add(predicted: Double, actual: Double) {
        let error = predicted - actual
        rows += 1
        squaredErrorSum += error * error
        absoluteErrorSum += abs(error)
    }

    public func merged(with other: RegressionMetrics) -> RegressionMetrics {
        RegressionMetrics(target: target, rows: rows + other.rows, squaredErrorSum: squaredErrorSum + other.squaredErrorSum,
                          absoluteErrorSum: absoluteErrorSum + other.absoluteErrorSum)
    }

    public var meanSquaredError: Double { rows == 0 ? 0 : squaredErrorSum / Double(rows) }
    public var rootMeanSquaredError: Double { meanSquaredError.squareRoot() }
    public var meanAbsoluteError: Double { rows == 0 ? 0 : absoluteErrorSum / Double(rows) }
}

/// The evaluation `nninfer` computes when the input has labels.
public enum EvaluationMetrics: Equatable {
    case classification(ClassificationMetrics)
    case regression(RegressionMetrics)

    public var rows: Int {
        switch self {
        case .classification(let m): return m.rows
        case .regression(let m): return m.rows
        }
    }

    /// The human-readable report (what `nninfer` prints to standard error).
    public func text(title: String? = nil) -> String {
        switch self {
        case .classification(let m):
            return MetricsReport.text(m, title: title)
        case .regression(let m):
            var out = title.map { $0 + "\n" } ?? ""
            out += "rows: \(m.rows)   target: \(m.target)\n"
            out += "MSE: \(NumberText.g6(m.meanSquaredError))   RMSE: \(NumberText.g6(m.rootMeanSquaredError))   MAE: \(NumberText.g6(m.meanAbsoluteError))\n"
            return out
        }
    }

    /// The combined metrics of shards of the same model; `sources` name them in errors.
    public static func merge(_ shards: [(source: String, metrics: EvaluationMetrics)]) throws -> EvaluationMetrics {
        guard var result = shards.first?.metrics else { throw MetricsFileError.nothingToMerge }
        let firstSource = shards[0].source
        for (source, metrics) in shards.dropFirst() {
            switch (result, metrics) {
            case let (.classification(a), .classification(b)):
                guard a.classes == b.classes else {
                    throw MetricsFileError.incompatible(source: source, reason: "its classes \(b.classes) differ from \(firstSource)'s \(a.classes)")
                }
                result = .classification(try a.merged(with: b))
            case let (.regression(a), .regression(b)):
                guard a.target == b.target else {
                    throw MetricsFileError.incompatible(source: source, reason: "its target \"\(b.target)\" differs from \(firstSource)'s \"\(a.target)\"")
                }
                result = .regression(a.merged(with: b))
            default:
                throw MetricsFileError.incompatible(source: source, reason: "it holds \(metrics.taskName) metrics, \(firstSource) holds \(result.taskName) metrics")
            }
        }
        return result
    }

    var taskName: String {
        if case .classification = self { return "classification" }
        return "regression"
    }
}

public enum MetricsFileError: Error, CustomStringConvertible, Equatable {
    case cannotRead(path: String, reason: String)
    case tooLarge(path: String, bytes: Int, limit: Int)
    case invalidJSON(path: String, reason: String)
    case missingKey(path: String, key: String)
    case wrongType(path: String, key: String, expected: String, found: String)
    case invalidValue(path: String, key: String, found: String, expected: String)
    case incompatible(source: String, reason: String)
    case nothingToMerge

    public var description: String {
        switch self {
        case let .cannotRead(path, reason): return "\(path): cannot read: \(reason)"
        case let .tooLarge(path, bytes, limit): return "\(path): \(bytes) bytes; a metrics file is expected to be under \(limit) bytes"
        case let .invalidJSON(path, reason): return "\(path): not a JSON metrics file: \(reason)"
        case let .missingKey(path, key): return "\(path): key \"\(key)\" is missing; expected an nninfer metrics file (written by --metrics)"
        case let .wrongType(path, key, expected, found): return "\(path): key \"\(key)\" is \(found); expected \(expected)"
        case let .invalidValue(path, key, found, expected): return "\(path): key \"\(key)\": found \(found); expected \(expected)"
        case let .incompatible(source, reason): return "\(source): cannot merge: \(reason)"
        case .nothingToMerge: return "no metrics files to merge"
        }
    }
}

/// The machine-readable metrics file (`--metrics FILE.json`), version 1.
///
/// Classification keys: `format` ("nnkit-metrics"), `version` (1), `task` ("classification"), `rows`,
/// `correct`, `accuracy`, `classes` (names in model order), `confusion` (counts, rows true × columns
/// predicted), `unseen_labels` (label → count; rows whose label the model never saw, counted as
/// wrong), `log_loss`, `log_loss_sum` and `log_loss_rows` (Σ −ln p(true) over the rows with a known
/// label, and their count), `per_class` (array of {class, precision, recall, f1, support}),
/// `macro_avg` and `weighted_avg` ({precision, recall, f1, support}). Regression keys: `format`,
/// `version`, `task` ("regression"), `rows`, `target`, `mse`, `rmse`, `mae`, `squared_error_sum`,
/// `absolute_error_sum`. Optional: `skipped_rows` (bad input rows left out). On reading, only the
/// raw counts and sums are used (the rates are recomputed from them), and they are validated.
public enum MetricsFile {
    public static let formatName = "nnkit-metrics"
    public static let version = 1
    /// Metrics files are small (a 1,000-class confusion matrix is a few MB).
    public static let maxBytes = 256 << 20

    public static func json(_ metrics: EvaluationMetrics, skippedRows: Int? = nil) -> JSONValue {
        var members: [(String, JSONValue)] = [("format", .string(formatName)), ("version", .integer(Int64(version)))]
        func rate(_ value: Double) -> JSONValue { .number(value.isFinite ? value : 0) }
        switch metrics {
        case .classification(let m):
            members.append(("task", .string("classification")))
            members.append(("rows", .integer(Int64(m.rows))))
            members.append(("correct", .integer(Int64(m.correct))))
            members.append(("accuracy", rate(m.accuracy)))
            members.append(("classes", .array(m.classes.map { .string($0) })))
            members.append(("confusion", .array(m.confusion.map { .array($0.map { .integer(Int64($0)) }) })))
            members.append(("unseen_labels", .object(m.unseenLabels.sorted { $0.key < $1.key }.map { ($0.key, .integer(Int64($0.value))) })))
            members.append(("log_loss", rate(m.logLoss)))
            members.append(("log_loss_sum", rate(m.logLossSum)))
            members.append(("log_loss_rows", .integer(Int64(m.knownRows))))
            members.append(("per_class", .array(m.classes.indices.map { c in
                .object([("class", .string(m.classes[c])), ("precision", rate(m.precision(c))), ("recall", rate(m.recall(c))),
                         ("f1", rate(m.f1(c))), ("support", .integer(Int64(m.support(c))))])
            })))
            let macro = m.macroAverage, weighted = m.weightedAverage
            members.append(("macro_avg", .object([("precision", rate(macro.precision)), ("recall", rate(macro.recall)),
                                                  ("f1", rate(macro.f1)), ("support", .integer(Int64(m.knownRows)))])))
            members.append(("weighted_avg", .object([("precision", rate(weighted.precision)), ("recall", rate(weighted.recall)),
                                                     ("f1", rate(weighted.f1)), ("support", .integer(Int64(m.knownRows)))])))
        case .regression(let m):
            members.append(("task", .string("regression")))
            members.append(("rows", .integer(Int64(m.rows))))
            members.append(("target", .string(m.target)))
            members.append(("mse", rate(m.meanSquaredError)))
            members.append(("rmse", rate(m.rootMeanSquaredError)))
            members.append(("mae", rate(m.meanAbsoluteError)))
            members.append(("squared_error_sum", rate(m.squaredErrorSum)))
            members.append(("absolute_error_sum", rate(m.absoluteErrorSum)))
        }
        if let skippedRows { members.append(("skipped_rows", .integer(Int64(skippedRows)))) }
        return .object(members)
    }

    /// Writes the metrics as pretty JSON, atomically.
    public static func write(_ metrics: EvaluationMetrics, skippedRows: Int? = nil, to path: String) throws {
        let file = try AtomicOutputFile(path: path)
        try file.write(try json(metrics, skippedRows: skippedRows).serialized(pretty: true) + "\n")
        try file.commit()
    }

    public static func read(path: String) throws -> EvaluationMetrics {
        let bytes = try readWholeFile(path: path, limit: maxBytes)
        let value: JSONValue
        do {
            value = try JSONValue.parse(bytes)
        } catch {
            throw MetricsFileError.invalidJSON(path: path, reason: "\(error)")
        }
        return try decode(value, source: path)
    }

    /// Validates and rebuilds metrics from their JSON form; errors name `source` and the key.
    public static func decode(_ value: JSONValue, source: String) throws -> EvaluationMetrics {
        guard case .object = value else {
            throw MetricsFileError.wrongType(path: source, key: "(top level)", expected: "an object", found: describe(value))
        }
        func member(_ key: String) throws -> JSONValue {
            guard let found = value[key] else { throw MetricsFileError.missingKey(path: source, key: key) }
            return found
        }
        func count(_ found: JSONValue, key: String) throws -> Int {
            guard let number = found.integerValue, number >= 0 else {
                throw MetricsFileError.wrongType(path: source, key: key, expected: "a non-negative integer", found: describe(found))
            }
            return Int(number)
        }
        func sum(_ key: String) throws -> Double {
            let found = try member(key)
            guard let number = found.doubleValue, number >= 0 else {
                throw MetricsFileError.wrongType(path: source, key: key, expected: "a non-negative number", found: describe(found))
            }
            return number
        }
        let format = try member("format")
        guard format.stringValue == formatName else {
            throw MetricsFileError.invalidValue(path: source, key: "format", found: describe(format), expected: "\"\(formatName)\"")
        }
        let fileVersion = try member("version")
        guard fileVersion.integerValue == Int64(version) else {
            throw MetricsFileError.invalidValue(path: source, key: "version", found: describe(fileVersion), expected: "\(version)")
        }
        let rows = try count(try member("rows"), key: "rows")
        let task = try member("task")
        switch task.stringValue {
        case "classification":
            guard let classValues = try member("classes").arrayValue else {
                throw MetricsFileError.wrongType(path: source, key: "classes", expected: "an array of class names", found: describe(try member("classes")))
            }
            var classes: [String] = []
            for (index, item) in classValues.enumerated() {
                guard let name = item.stringValue else {
                    throw MetricsFileError.wrongType(path: source, key: "classes[\(index)]", expected: "a string", found: describe(item))
                }
                guard !classes.contains(name) else {
                    throw MetricsFileError.invalidValue(path: source, key: "classes[\(index)]", found: "\"\(name)\" a second time", expected: "unique class names")
                }
                classes.append(name)
            }
            guard !classes.isEmpty else {
                throw MetricsFileError.invalidValue(path: source, key: "classes", found: "an empty array", expected: "at least one class")
            }
            guard let rowValues = try member("confusion").arrayValue, rowValues.count == classes.count else {
                throw MetricsFileError.wrongType(path: source, key: "confusion", expected: "an array of \(classes.count) rows (one per class)",
                                                 found: describe(try member("confusion")))
            }
            var confusion: [[Int]] = []
            for (t, rowValue) in rowValues.enumerated() {
                guard let cells = rowValue.arrayValue, cells.count == classes.count else {
                    throw MetricsFileError.wrongType(path: source, key: "confusion[\(t)]", expected: "an array of \(classes.count) counts", found: describe(rowValue))
                }
                confusion.append(try cells.enumerated().map { p, cell in try count(cell, key: "confusion[\(t)][\(p)]") })
            }
            var unseen: [String: Int] = [:]
            if let unseenValue = value["unseen_labels"] {
                guard let members = unseenValue.objectValue else {
                    throw MetricsFileError.wrongType(path: source, key: "unseen_labels", expected: "an object of label counts", found: describe(unseenValue))
                }
                for (label, countValue) in members {
                    if classes.contains(label) {
                        throw MetricsFileError.invalidValue(path: source, key: "unseen_labels", found: "\"\(label)\", which is one of the classes", expected: "labels outside the classes")
                    }
                    unseen[label] = try count(countValue, key: "unseen_labels.\(label)")
                }
            } else {
                throw MetricsFileError.missingKey(path: source, key: "unseen_labels")
            }
            let metrics = ClassificationMetrics(classes: classes, confusion: confusion, unseenLabels: unseen, logLossSum: try sum("log_loss_sum"))
            guard metrics.rows == rows else {
                throw MetricsFileError.invalidValue(path: source, key: "rows", found: "\(rows)",
                                                    expected: "\(metrics.rows), the total of confusion and unseen_labels")
            }
            return .classification(metrics)
        case "regression":
            let targetValue = try member("target")
            guard let target = targetValue.stringValue else {
                throw MetricsFileError.wrongType(path: source, key: "target", expected: "a string", found: describe(targetValue))
            }
            return .regression(RegressionMetrics(target: target, rows: rows, squaredErrorSum: try sum("squared_error_sum"),
                                                 absoluteErrorSum: try sum("absolute_error_sum")))
        default:
            throw MetricsFileError.invalidValue(path: source, key: "task", found: describe(task), expected: "\"classification\" or \"regression\"")
        }
    }

    private static func describe(_ value: JSONValue) -> String {
        switch value {
        case .string(let s): return "the string \(JSONValue.quote(s.count > 40 ? String(s.prefix(40)) + "…" : s))"
        case .integer(let i): return "the integer \(i)"
        case .number(let d): return "the number \(d)"
        case .bool(let b): return "\(b)"
        case .null: return "null"
        case .array(let a): return "an array of \(a.count)"
        case .object: return "an object"
        }
    }
}

/// The bytes of a (small) file, at most `limit` of them.
func readWholeFile(path: String, limit: Int) throws -> [UInt8] {
    let descriptor = open(path, O_RDONLY | O_CLOEXEC)
    guard descriptor >= 0 else { throw MetricsFileError.cannotRead(path: path, reason: String(cString: strerror(errno))) }
    defer { close(descriptor) }
    var bytes: [UInt8] = []
    var chunk = [UInt8](repeating: 0, count: 1 << 16)
    while true {
        let count = chunk.withUnsafeMutableBytes { read(descriptor, $0.baseAddress!, $0.count) }
        if count < 0 {
            if errno == EINTR { continue }
            throw MetricsFileError.cannotRead(path: path, reason: String(cString: strerror(errno)))
        }
        if count == 0 { break }
        bytes += chunk[0..<count]
        if bytes.count > limit { throw MetricsFileError.tooLarge(path: path, bytes: bytes.count, limit: limit) }
    }
    return bytes
}
