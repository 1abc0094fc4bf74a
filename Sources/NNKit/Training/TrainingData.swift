// Where the training rows come from: a CSV file (parsed in parallel) or a built-in synthetic set,
// plus the validation rows (a second file, or a seeded stratified split), before normalization.
import NNData
import NNEngine
import NNFormat
import NNParallel

/// Where to take data from; mirrors the command-line options.
public struct TrainingDataSource {
    public var dataPath: String?
    public var syntheticName: String?
    public var samples: Int = 1000
    public var noise: Double?
    public var syntheticClasses: Int?
    /// The label column (nil: the last column).
    public var label: String?
    public var features: FeatureSelection = .all
    public var validationPath: String?
    public var validationSplit: Double?
    public var format = CSVFormat()
    public var skipBadRows = false

    public init() {}
}

/// Training and validation rows (raw, not normalized) and what the provenance says about them.
public struct TrainingData {
    public var train: Dataset
    public var validation: Dataset?
    /// Label column name (classification) or target name (regression).
    public var labelName: String
    public var dataset: DatasetInfo
    /// Rows skipped with --skip-bad-rows, per file.
    public var skipped: [(source: String, rows: SkippedRows)]
    /// How the validation rows were chosen, for the summary ("validation.csv", "20% stratified split").
    public var validationDescription: String?
}

public enum TrainingDataError: Error, CustomStringConvertible {
    case noData
    case unseenValidationClass(source: String, label: String, classes: [String])
    case tooFewClasses(source: String, found: [String])
    case emptyAfterSplit(String)

    public var description: String {
        switch self {
        case .noData:
            return "no training data: give --data FILE.csv or --dataset NAME"
        case let .unseenValidationClass(source, label, classes):
            let shown = classes.prefix(10).map { "\"\($0)\"" }.joined(separator: ", ")
            return "\(source): validation label \"\(label)\" is not a class of the training data (\(shown)\(classes.count > 10 ? ", …" : ""))"
        case let .tooFewClasses(source, found):
            return "\(source): the label column has \(found.count) distinct value\(found.count == 1 ? "" : "s") (\(found.map { "\"\($0)\"" }.joined(separator: ", "))); classification needs at least 2 classes"
        case let .emptyAfterSplit(what):
            return what
        }
    }
}

extension TrainingData {
    /// Loads the data the source describes. The validation split uses `seed` (stratified for classification).
    public static func load(_ source: TrainingDataSource, task: TrainingTask, seed: UInt64, pool: WorkerPool) throws -> TrainingData {
        var full: Dataset
        var labelName: String
        var info: DatasetInfo
        var skipped: [(String, SkippedRows)] = []
        if let path = source.dataPath {
            let labelKind: LabelKind = task == .classification ? .categorical : .numeric
            let loaded = try loadCSV(path: path, format: source.format, pool: pool, skipBadRows: source.skipBadRows) { header in
                try ColumnPlan.training(header: header, label: source.label.map(ColumnReference.init), features: source.features, labelKind: labelKind)
            }
            let sourceName = path == "-" ? "<stdin>" : path
            if task == .classification {
                full = Dataset.classification(from: loaded.rows, featureNames: loaded.plan.featureNames)
                if full.classNames.count < 2 { throw TrainingDataError.tooFewClasses(source: sourceName, found: full.classNames) }
            } else {
                full = Dataset.regression(from: loaded.rows, featureNames: loaded.plan.featureNames)
            }
            labelName = loaded.plan.labelName ?? "label"
            info = DatasetInfo(name: baseName(sourceName), rows: loaded.rows.rowCount, sha256: SHA256.hex(loaded.sha256))
            if loaded.rows.skipped.count > 0 { skipped.append((sourceName, loaded.rows.skipped)) }
        } else if let name = source.syntheticName {
            let generator = try SyntheticDataset.named(name)
            full = try generator.make(samples: source.samples, seed: seed, noise: source.noise, classes: source.syntheticClasses)
            if task == .regression {
                // A synthetic set as regression: predict the class number (useful only for demos).
                full = Dataset(featureNames: full.featureNames, features: full.features, targets: full.labels.map { Float($0) })
            }
            labelName = "y"
            info = DatasetInfo(name: name, rows: full.count, sha256: nil)
        } else {
            throw TrainingDataError.noData
        }

        var validation: Dataset?
        var description: String?
        if let path = source.validationPath {
            let sourceName = path == "-" ? "<stdin>" : path
            let labelKind: LabelKind = task == .classification ? .categorical : .numeric
            let loaded = try loadCSV(path: path, format: source.format, pool: pool, skipBadRows: source.skipBadRows, computeSHA256: false) { header in
                try ColumnPlan.inference(header: header, featureNames: full.featureNames, label: .name(labelName),
                                         labelRequired: true, labelKind: labelKind)
            }
            if loaded.rows.skipped.count > 0 { skipped.append((sourceName, loaded.rows.skipped)) }
            if task == .classification {
                let indices = full.classIndices(of: loaded.rows.labels)
                var labels: [Int32] = []
                labels.reserveCapacity(indices.count)
                for (row, index) in indices.enumerated() {
                    guard let index else {
                        throw TrainingDataError.unseenValidationClass(source: sourceName, label: loaded.rows.labels[row], classes: full.classNames)
                    }
                    labels.append(index)
                }
                validation = Dataset(featureNames: full.featureNames, features: loaded.rows.features, classNames: full.classNames, labels: labels)
            } else {
                validation = Dataset(featureNames: full.featureNames, features: loaded.rows.features, targets: loaded.rows.targets)
            }
            description = baseName(sourceName)
        } else if let fraction = source.validationSplit {
            let parts = try full.split(validationFraction: fraction, seed: seed)
            full = parts.train
            validation = parts.validation
            description = "\(fixed(fraction * 100, 0))% \(task == .classification ? "stratified " : "")split of the training data"
        }
        return TrainingData(train: full, validation: validation, labelName: labelName, dataset: info,
                            skipped: skipped, validationDescription: description)
    }
}

/// The last path component: what the provenance records as the data set's name (never a path).
func baseName(_ path: String) -> String {
    guard let slash = path.lastIndex(of: "/") else { return path }
    return String(path[path.index(after: slash)...])
}
