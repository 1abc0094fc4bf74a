// Column names and which columns are features, label and pass-through.

/// A column chosen by the user: by header name or by 0-based index.
/// `ColumnReference("3")` (from a command line) matches a column named "3" if there is one,
/// otherwise column index 3.
public enum ColumnReference: Equatable, CustomStringConvertible {
    case name(String)
    case index(Int)

    /// From command-line text: a name (that may turn out to be an index, see above).
    public init(_ text: String) { self = .name(text) }

    public var description: String {
        switch self {
        case .name(let name): return "\"\(name)\""
        case .index(let index): return "index \(index)"
        }
    }
}

/// Which columns become features (the label column never does).
public enum FeatureSelection: Equatable {
    case all
    case include([ColumnReference])
    case exclude([ColumnReference])
}

/// What the label column holds: class names (any text, kept as given) or numeric regression targets.
public enum LabelKind: Equatable {
    case categorical
    case numeric
}

/// The first record of a file: column names (from the header, or "0", "1", … without one).
public struct CSVHeader: Equatable {
    public let names: [String]
    /// False when the names are generated indices (`--no-header`).
    public let isFromFile: Bool
    public let source: String

    public var count: Int { names.count }

    public init(names: [String], isFromFile: Bool, source: String) {
        self.names = names
        self.isFromFile = isFromFile
        self.source = source
    }

    /// The 0-based column a reference designates.
    public func resolve(_ reference: ColumnReference) throws -> Int {
        switch reference {
        case .index(let index):
            guard index >= 0 && index < names.count else {
                throw CSVError.columnIndexOutOfRange(source: source, index: index, columnCount: names.count)
            }
            return index
        case .name(let name):
            if let index = names.firstIndex(of: name) { return index }
            if let index = Int(name), !name.hasPrefix("+"), !name.hasPrefix("-") {
                return try resolve(.index(index))
            }
            throw CSVError.missingColumn(source: source, name: name, available: names)
        }
    }

    /// Name for messages: the header name, or nil without a header (the number says it all).
    func displayName(ofColumn index: Int) -> String? {
        isFromFile && index < names.count ? names[index] : nil
    }
}

/// The resolved roles of a file's columns, made once from its header and used for every row.
public struct ColumnPlan: Equatable {
    /// Fields every record must have.
    public let fieldCount: Int
    /// Source column of each feature, in feature order.
    public let featureColumns: [Int]
    public let featureNames: [String]
    public let labelColumn: Int?
    public let labelName: String?
    public let labelKind: LabelKind
    /// Columns passed through as raw text (e.g. a row id).
    public let keepColumns: [Int]
    public let keepNames: [String]

    public init(fieldCount: Int, featureColumns: [Int], featureNames: [String], labelColumn: Int?,
                labelName: String?, labelKind: LabelKind = .categorical, keepColumns: [Int] = [], keepNames: [String] = []) {
        self.fieldCount = fieldCount
        self.featureColumns = featureColumns
        self.featureNames = featureNames
        self.labelColumn = labelColumn
        self.labelName = labelName
        self.labelKind = labelKind
        self.keepColumns = keepColumns
        self.keepNames = keepNames
    }

    /// For training: the label column (default: the last column) and the features chosen by
    /// `features` among the others, in file order.
    public static func training(header: CSVHeader, label: ColumnReference? = nil,
                                features: FeatureSelection = .all, labelKind: LabelKind = .categorical) throws -> ColumnPlan {
        let labelColumn = try label.map { try header.resolve($0) } ?? (header.count - 1)
        var chosen: [Int]
        switch features {
        case .all:
            chosen = Array(0..<header.count)
        case .include(let references):
            chosen = []
            for reference in references {
                let column = try header.resolve(reference)
                if !chosen.contains(column) { chosen.append(column) }
            }
        case .exclude(let references):
            let excluded = Set(try references.map { try header.resolve($0) })
            chosen = (0..<header.count).filter { !excluded.contains($0) }
        }
        chosen.removeAll { $0 == labelColumn }
        guard !chosen.isEmpty else { throw CSVError.noFeatureColumns(source: header.source) }
        return ColumnPlan(fieldCount: header.count, featureColumns: chosen, featureNames: chosen.map { header.names[$0] },
                          labelColumn: labelColumn, labelName: header.names[labelColumn], labelKind: labelKind)
    }

    /// For inference against a model's stored feature names.
    ///
    /// With a header, features are matched by name (any order, extra columns ignored; a missing
    /// one is an error naming it). Without one, the columns not used by the label or `keep` are
    /// taken in the stored order and their count must match. The label is optional: `label` names
    /// it (e.g. the name stored in the checkpoint); if the file lacks it, `labelColumn` is nil,
    /// unless `labelRequired` (the user asked for it explicitly), which makes that an error.
    public static func inference(header: CSVHeader, featureNames: [String], label: ColumnReference? = nil,
                                 labelRequired: Bool = false, labelKind: LabelKind = .categorical,
                                 keep: [ColumnReference] = []) throws -> ColumnPlan {
        var labelColumn: Int? = nil
        if let label {
            // Without a header a stored label *name* cannot be found; an index (or digits) can.
            let isIndex: Bool
            switch label {
            case .index: isIndex = true
            case .name(let name): isIndex = Int(name) != nil
            }
            if header.isFromFile || isIndex || labelRequired {
                do {
                    labelColumn = try header.resolve(label)
                } catch let error as CSVError {
                    if labelRequired { throw error }
                }
            }
        }
        let keepColumns = try keep.map { try header.resolve($0) }
        var featureColumns: [Int] = []
        if header.isFromFile {
            for name in featureNames {
                guard let column = header.names.firstIndex(of: name) else {
                    throw CSVError.missingColumn(source: header.source, name: name, available: header.names)
                }
                featureColumns.append(column)
            }
        } else {
            featureColumns = (0..<header.count).filter { $0 != labelColumn && !keepColumns.contains($0) }
            if featureColumns.count != featureNames.count {
                let hint = "without a header the columns must be the model's \(featureNames.count) features in stored order"
                    + (labelColumn == nil ? " (give the label column's index if the file has one)" : "")
                    + ", besides the label and kept columns"
                throw CSVError.columnCountMismatch(source: header.source, found: featureColumns.count,
                                                   expected: featureNames.count, hint: hint)
            }
        }
        return ColumnPlan(fieldCount: header.count, featureColumns: featureColumns, featureNames: featureNames,
                          labelColumn: labelColumn, labelName: labelColumn.map { header.names[$0] }, labelKind: labelKind,
                          keepColumns: keepColumns, keepNames: keepColumns.map { header.names[$0] })
    }

    /// Every column as raw text, no features and no label (for tools that show records as they are).
    public static func text(header: CSVHeader) -> ColumnPlan {
        ColumnPlan(fieldCount: header.count, featureColumns: [], featureNames: [], labelColumn: nil, labelName: nil,
                   keepColumns: Array(0..<header.count), keepNames: header.names)
    }
}
