// `nninspect diff A B`: what differs between two checkpoints, in the model description and in the
// tensors. "Identical in content" ignores how the bytes are stored (writer, codecs, chunking, tensor
// order): a file re-saved with another codec is the same model.
import NNFormat
import NNJSON

/// How one tensor differs between the two files.
public struct TensorDifference: Equatable, Sendable {
    public enum Kind: Equatable, Sendable {
        case onlyInFirst
        case onlyInSecond
        case shape(first: [Int], second: [Int])
        case dtype(first: DType, second: DType)
        /// `differing` of `count` elements differ (NaN equals NaN); the largest |a − b| among them.
        case values(differing: Int, count: Int, maxAbsDifference: Double)
    }

    public var name: String
    /// What the tensor is in the file that has it (first file preferred), e.g. "layer 0 dense weight".
    public var role: String
    public var kinds: [Kind]
}

public struct CheckpointDiff: Equatable, Sendable {
    public var first: String
    public var second: String
    /// Differences in the model description and the optional sections (features, normalization,
    /// layers, output, verification, optimizer, training, metadata), one line each, "A-value vs B-value".
    public var manifest: [String]
    public var tensors: [TensorDifference]
    /// Storage differences that do not change the content (writer, codec, chunking, tensor order).
    public var notes: [String]
    /// Tensors present in both files, and their elements compared.
    public var comparedTensors: Int
    public var comparedValues: Int

    public var isIdentical: Bool { manifest.isEmpty && tensors.isEmpty }
    public var differenceCount: Int { manifest.count + tensors.count }

    public static func compare(_ a: CheckpointDescription, _ b: CheckpointDescription) -> CheckpointDiff {
        var diff = CheckpointDiff(first: a.source, second: b.source, manifest: [], tensors: [], notes: [],
                                  comparedTensors: 0, comparedValues: 0)
        diff.compareManifests(a.checkpoint, b.checkpoint)
        diff.compareTensors(a, b)
        diff.compareStorage(a.read, b.read)
        return diff
    }

    // MARK: Manifest

    private static func show(_ value: String?) -> String { value.map(InspectText.safe) ?? "(none)" }
    private static func show(_ value: Double?) -> String { value.map(InspectText.exact) ?? "(none)" }
    private static func show(_ value: Int?) -> String { value.map(String.init) ?? "(none)" }
    private static func list(_ names: [String]) -> String { "[" + InspectText.names(names, limit: 8) + "]" }

    private mutating func differ(_ what: String, _ a: String, _ b: String) {
        if a != b { manifest.append("\(what): \(a) vs \(b)") }
    }

    private mutating func compareManifests(_ a: Checkpoint, _ b: Checkpoint) {
        // Input features.
        let fa = a.input.features, fb = b.input.features
        if fa.count != fb.count {
            manifest.append("input features: \(fa.count) vs \(fb.count) (\(Self.list(fa)) vs \(Self.list(fb)))")
        } else {
            let positions = (0..<fa.count).filter { fa[$0] != fb[$0] }
            for position in positions.prefix(5) {
                manifest.append("input feature \(position): \(InspectText.safe(fa[position])) vs \(InspectText.safe(fb[position]))")
            }
            if positions.count > 5 { manifest.append("input features: \(positions.count - 5) more names differ") }
        }
        let na = a.input.normalization, nb = b.input.normalization
        differ("normalization", na.kind.rawValue, nb.kind.rawValue)
        differ("normalization offset tensor", Self.show(na.offset), Self.show(nb.offset))
        differ("normalization scale tensor", Self.show(na.scale), Self.show(nb.scale))

        // Layers, index by index.
        if a.layers.count != b.layers.count {
            manifest.append("layers: \(a.layers.count) vs \(b.layers.count) (\(a.layers.map(\.kind).joined(separator: ", ")) vs \(b.layers.map(\.kind).joined(separator: ", ")))")
        }
        for index in 0..<min(a.layers.count, b.layers.count) where a.layers[index] != b.layers[index] {
            let la = a.layers[index], lb = b.layers[index]
            guard la.kind == lb.kind else {
                manifest.append("layer \(index): \(la.kind) (\(CheckpointDescription.settings(of: la))) vs \(lb.kind) (\(CheckpointDescription.settings(of: lb)))")
                continue
            }
            differ("layer \(index) (\(la.kind))", CheckpointDescription.settings(of: la), CheckpointDescription.settings(of: lb))
            let roles: [String]
            switch la {
            case .dense: roles = ["weight", "bias"]
            case .batchNorm: roles = ["gamma", "beta", "running_mean", "running_var"]
            case .activation, .dropout: roles = []
            }
            for (role, (ta, tb)) in zip(roles, zip(la.tensorNames, lb.tensorNames)) {
                differ("layer \(index) (\(la.kind)) \(role) tensor", InspectText.safe(ta), InspectText.safe(tb))
            }
        }

        // Output.
        switch (a.output, b.output) {
        case let (.classification(labelA, classesA), .classification(labelB, classesB)):
            differ("label column", InspectText.safe(labelA), InspectText.safe(labelB))
            differ("classes", Self.list(classesA), Self.list(classesB))
        case let (.regression(targetsA), .regression(targetsB)):
            differ("regression targets", Self.list(targetsA), Self.list(targetsB))
        default:
            manifest.append("output: \(Self.outputText(a.output)) vs \(Self.outputText(b.output))")
        }

        // Verification vectors (their values are compared as tensors).
        differ("verification inputs tensor", Self.show(a.verification?.inputs), Self.show(b.verification?.inputs))
        differ("verification outputs tensor", Self.show(a.verification?.outputs), Self.show(b.verification?.outputs))
        differ("verification absolute tolerance", Self.show(a.verification?.absTolerance), Self.show(b.verification?.absTolerance))
        differ("verification relative tolerance", Self.show(a.verification?.relTolerance), Self.show(b.verification?.relTolerance))

        // Optimizer state.
        if a.optimizer != b.optimizer {
            let oa = a.optimizer, ob = b.optimizer
            if oa == nil || ob == nil {
                manifest.append("optimizer state: \(oa == nil ? "(none)" : "present") vs \(ob == nil ? "(none)" : "present")")
            } else if let oa, let ob {
                differ("optimizer", InspectText.safe(oa.optimizer), InspectText.safe(ob.optimizer))
                differ("optimizer step", String(oa.step), String(ob.step))
                compareMaps("optimizer hyperparameter", oa.hyperparameters.mapValues(InspectText.exact), ob.hyperparameters.mapValues(InspectText.exact))
                compareMaps("optimizer slots of", oa.slots.mapValues { Self.slotText($0) }, ob.slots.mapValues { Self.slotText($0) })
            }
        }

        // Training provenance.
        if a.training != b.training {
            let ta = a.training, tb = b.training
            if ta == nil || tb == nil {
                manifest.append("training provenance: \(ta == nil ? "(none)" : "present") vs \(tb == nil ? "(none)" : "present")")
            } else if let ta, let tb {
                compareMaps("training hyperparameter", ta.hyperparameters.mapValues(InspectText.json), tb.hyperparameters.mapValues(InspectText.json))
                differ("training seed", ta.seed.map { String($0) } ?? "(none)", tb.seed.map { String($0) } ?? "(none)")
                differ("training epochs", Self.show(ta.epochs), Self.show(tb.epochs))
                differ("data set name", Self.show(ta.dataset?.name), Self.show(tb.dataset?.name))
                differ("data set rows", Self.show(ta.dataset?.rows), Self.show(tb.dataset?.rows))
                differ("data set sha256", Self.show(ta.dataset?.sha256), Self.show(tb.dataset?.sha256))
                compareMaps("final metric", ta.finalMetrics.mapValues(InspectText.exact), tb.finalMetrics.mapValues(InspectText.exact))
                if ta.history != tb.history {
                    let same = ta.history.count == tb.history.count
                    manifest.append("training history: \(ta.history.count) vs \(tb.history.count) entries" + (same ? " with different values" : ""))
                }
                differ("created", ta.createdUnix.map { String($0) } ?? "(none)", tb.createdUnix.map { String($0) } ?? "(none)")
            }
        }

        compareMaps("metadata", a.metadata.mapValues(InspectText.safe), b.metadata.mapValues(InspectText.safe))
    }

    /// Key by key: present in one only, or different values.
    private mutating func compareMaps(_ what: String, _ a: [String: String], _ b: [String: String]) {
        for key in Set(a.keys).union(b.keys).sorted() {
            let va = a[key], vb = b[key]
            if va != vb { manifest.append("\(what) \(InspectText.safe(key)): \(va ?? "(none)") vs \(vb ?? "(none)")") }
        }
    }

    private static func slotText(_ slots: [String: String]) -> String {
        "{" + slots.sorted { $0.key < $1.key }.map { "\(InspectText.safe($0.key)): \(InspectText.safe($0.value))" }.joined(separator: ", ") + "}"
    }

    private static func outputText(_ output: OutputSpec) -> String {
        switch output {
        case let .classification(label, classes): return "classification of \(InspectText.safe(label)) into \(list(classes))"
        case let .regression(targets): return "regression of \(list(targets))"
        }
    }

    // MARK: Tensors

    private mutating func compareTensors(_ a: CheckpointDescription, _ b: CheckpointDescription) {
        let tensorsB = Dictionary(uniqueKeysWithValues: b.checkpoint.tensors.map { ($0.name, $0) })
        let namesA = Set(a.checkpoint.tensors.map(\.name))
        for ta in a.checkpoint.tensors {
            let role = a.roles[ta.name] ?? "unused"
            guard let tb = tensorsB[ta.name] else {
                tensors.append(TensorDifference(name: ta.name, role: role, kinds: [.onlyInFirst]))
                continue
            }
            comparedTensors += 1
            var kinds: [TensorDifference.Kind] = []
            if ta.dtype != tb.dtype { kinds.append(.dtype(first: ta.dtype, second: tb.dtype)) }
            if ta.shape != tb.shape {
                kinds.append(.shape(first: ta.shape, second: tb.shape))
            } else {
                comparedValues += ta.values.count
                if ta.values != tb.values, let values = Self.compareValues(ta.values, tb.values) { kinds.append(values) }
            }
            if !kinds.isEmpty { tensors.append(TensorDifference(name: ta.name, role: role, kinds: kinds)) }
        }
        for tb in b.checkpoint.tensors where !namesA.contains(tb.name) {
            tensors.append(TensorDifference(name: tb.name, role: b.roles[tb.name] ?? "unused", kinds: [.onlyInSecond]))
        }
    }

    /// Element by element in Double (f32 widens exactly); nil when all are equal (NaN equals NaN).
    static func compareValues(_ a: TensorValues, _ b: TensorValues) -> TensorDifference.Kind? {
        let x = a.doubles, y = b.doubles
        var differing = 0
        var largest = 0.0
        for i in 0..<min(x.count, y.count) {
            let u = x[i], v = y[i]
            if u == v || (u.isNaN && v.isNaN) { continue }
            differing += 1
            // NaN against a number counts as infinitely different (equal infinities were skipped above).
            let difference = u.isNaN || v.isNaN ? Double.infinity : abs(u - v)
            largest = max(largest, difference)
        }
        return differing == 0 ? nil : .values(differing: differing, count: x.count, maxAbsDifference: largest)
    }

    // MARK: Storage (notes only)

    private mutating func compareStorage(_ a: ReadResult, _ b: ReadResult) {
        let wa = a.checkpoint.writer, wb = b.checkpoint.writer
        if wa != wb { notes.append("writer: \(InspectText.safe(wa.name)) \(InspectText.safe(wa.version)) vs \(InspectText.safe(wb.name)) \(InspectText.safe(wb.version))") }
        if a.formatMajor != b.formatMajor || a.formatMinor != b.formatMinor {
            notes.append("format version: \(a.formatMajor).\(a.formatMinor) vs \(b.formatMajor).\(b.formatMinor)")
        }
        let storageB = Dictionary(uniqueKeysWithValues: b.storage.map { ($0.name, $0) })
        for sa in a.storage {
            guard let sb = storageB[sa.name] else { continue }
            if sa.codec != sb.codec { notes.append("\(InspectText.safe(sa.name)): codec \(sa.codec.rawValue) vs \(sb.codec.rawValue)") }
            else if sa.chunkSize != sb.chunkSize {
                notes.append("\(InspectText.safe(sa.name)): chunk size \(Self.show(sa.chunkSize)) vs \(Self.show(sb.chunkSize))")
            }
        }
        let common = Set(storageB.keys)
        let orderA = a.storage.map(\.name).filter { common.contains($0) }
        let namesA = Set(orderA)
        let orderB = b.storage.map(\.name).filter { namesA.contains($0) }
        if orderA != orderB { notes.append("tensor order in the file differs") }
    }

    // MARK: Text

    /// The report: both file names, each difference on its own line, then a summary line.
    public func text() -> String {
        var out = "A: \(InspectText.safe(first))\nB: \(InspectText.safe(second))\n"
        if !manifest.isEmpty {
            out += "Model and manifest differences:\n"
            for line in manifest { out += "  \(line)\n" }
        }
        if !tensors.isEmpty {
            out += "Tensor differences:\n"
            for difference in tensors {
                let details = difference.kinds.map { kind -> String in
                    switch kind {
                    case .onlyInFirst: return "only in A"
                    case .onlyInSecond: return "only in B"
                    case let .shape(first, second): return "shape \(InspectText.shape(first)) vs \(InspectText.shape(second))"
                    case let .dtype(first, second): return "dtype \(first.rawValue) vs \(second.rawValue)"
                    case let .values(differing, count, largest):
                        return "\(grouped(differing)) of \(grouped(count)) values differ, max abs difference \(InspectText.short(largest))"
                    }
                }
                out += "  \(InspectText.safe(difference.name)) (\(difference.role)): \(details.joined(separator: "; "))\n"
            }
        }
        if !notes.isEmpty {
            out += "Storage differences (not content):\n"
            for line in notes { out += "  \(line)\n" }
        }
        if isIdentical {
            out += "Identical in content: \(InspectText.plural(comparedTensors, "tensor")), \(InspectText.plural(comparedValues, "value")) compared\n"
        } else {
            out += "Different: \(InspectText.plural(manifest.count, "manifest difference")), \(InspectText.plural(tensors.count, "tensor")) differ "
                + "(\(comparedTensors) tensors in both, \(grouped(comparedValues)) values compared)\n"
        }
        return out
    }
}
