// The manifest: Checkpoint <-> JSON, in the member order fixed by formats/nnck-v1.md section 2.
import NNJSON

/// How one tensor is stored in a file (the tensor table entry without the values).
public struct TensorStorage: Equatable, Sendable {
    public var name: String
    public var dtype: DType
    public var shape: [Int]
    /// Absolute file offset of the block.
    public var offset: Int
    public var storedLength: Int
    public var rawLength: Int
    public var codec: Codec
    /// CRC-32 of the raw bytes.
    public var crc32: UInt32
    /// Raw bytes per chunk (deflate codecs; nil for raw).
    public var chunkSize: Int?
    /// Per chunk: compressed length and CRC-32 of the compressed bytes (deflate codecs; empty for raw).
    public var chunks: [StoredChunk]

    public init(name: String, dtype: DType, shape: [Int], offset: Int, storedLength: Int, rawLength: Int,
                codec: Codec, crc32: UInt32, chunkSize: Int?, chunks: [StoredChunk]) {
        self.name = name
        self.dtype = dtype
        self.shape = shape
        self.offset = offset
        self.storedLength = storedLength
        self.rawLength = rawLength
        self.codec = codec
        self.crc32 = crc32
        self.chunkSize = chunkSize
        self.chunks = chunks
    }
}

public struct StoredChunk: Equatable, Sendable {
    public var storedLength: Int
    public var crc32: UInt32
    public init(storedLength: Int, crc32: UInt32) {
        self.storedLength = storedLength
        self.crc32 = crc32
    }
}

/// Sorted by UTF-8 bytes: the writer's fixed order for free-keyed maps.
func sortedKeys<V>(_ map: [String: V]) -> [String] {
    map.keys.sorted { $0.utf8.lexicographicallyPrecedes($1.utf8) }
}

// MARK: - Encoding

enum ManifestEncoder {
    static func encode(_ checkpoint: Checkpoint, storage: [TensorStorage]) throws -> [UInt8] {
        let root = JSONValue.object([
            ("format", .string("nnck")),
            ("format_version", .object([("major", .integer(Int64(Checkpoint.formatMajor))), ("minor", .integer(Int64(Checkpoint.formatMinor)))])),
            ("writer", .object([("name", .string(checkpoint.writer.name)), ("version", .string(checkpoint.writer.version))])),
            ("model", model(checkpoint)),
        ] + optionalMembers(checkpoint) + [
            ("tensors", .array(storage.map(tensorEntry))),
        ])
        do {
            return try root.serializedBytes()
        } catch let error as JSONError {
            throw CheckpointError.unwritable(field: "manifest", found: error.description, expected: "finite numbers, and names and keys without U+0000")
        }
    }

    private static func model(_ checkpoint: Checkpoint) -> JSONValue {
        var normalization: [(String, JSONValue)] = [("kind", .string(checkpoint.input.normalization.kind.rawValue))]
        if let offset = checkpoint.input.normalization.offset { normalization.append(("offset", .string(offset))) }
        if let scale = checkpoint.input.normalization.scale { normalization.append(("scale", .string(scale))) }
        let input = JSONValue.object([
            ("features", .array(checkpoint.input.features.map(JSONValue.string))),
            ("count", .integer(Int64(checkpoint.input.features.count))),
            ("normalization", .object(normalization)),
        ])
        let output: JSONValue
        switch checkpoint.output {
        case .classification(let label, let classes):
            output = .object([("task", .string("classification")), ("label", .string(label)), ("classes", .array(classes.map(JSONValue.string)))])
        case .regression(let targets):
            output = .object([("task", .string("regression")), ("targets", .array(targets.map(JSONValue.string)))])
        }
        return .object([("input", input), ("layers", .array(checkpoint.layers.map(layer))), ("output", output)])
    }

    private static func layer(_ layer: LayerSpec) -> JSONValue {
        switch layer {
        case .dense(let d):
            return .object([("kind", .string("dense")), ("inputs", .integer(Int64(d.inputs))), ("outputs", .integer(Int64(d.outputs))),
                            ("weight", .string(d.weight)), ("bias", .string(d.bias))])
        case .activation(let function):
            var members: [(String, JSONValue)] = [("kind", .string("activation")), ("function", .string(function.name))]
            if case .leakyRelu(let slope) = function { members.append(("slope", .number(slope))) }
            return .object(members)
        case .batchNorm(let b):
            return .object([("kind", .string("batchnorm")), ("features", .integer(Int64(b.features))),
                            ("epsilon", .number(b.epsilon)), ("momentum", .number(b.momentum)),
                            ("momentum_convention", .string(b.momentumConvention.rawValue)),
                            ("running_variance", .string(b.runningVariance.rawValue)),
                            ("gamma", .string(b.gamma)), ("beta", .string(b.beta)),
                            ("running_mean", .string(b.runningMean)), ("running_var", .string(b.runningVar))])
        case .dropout(let rate):
            return .object([("kind", .string("dropout")), ("rate", .number(rate))])
        }
    }

    private static func numberMap(_ map: [String: Double]) -> JSONValue {
        .object(sortedKeys(map).map { ($0, .number(map[$0]!)) })
    }

    private static func optionalMembers(_ checkpoint: Checkpoint) -> [(String, JSONValue)] {
        var members: [(String, JSONValue)] = []
        if let v = checkpoint.verification {
            members.append(("verification", .object([("inputs", .string(v.inputs)), ("outputs", .string(v.outputs)),
                                                     ("abs_tolerance", .number(v.absTolerance)), ("rel_tolerance", .number(v.relTolerance))])))
        }
        if let o = checkpoint.optimizer {
            let slots = JSONValue.object(sortedKeys(o.slots).map { parameter in
                let named = o.slots[parameter]!
                return (parameter, .object(sortedKeys(named).map { ($0, .string(named[$0]!)) }))
            })
            members.append(("optimizer", .object([("optimizer", .string(o.optimizer)), ("step", .integer(Int64(o.step))),
                                                  ("hyperparameters", numberMap(o.hyperparameters)), ("slots", slots)])))
        }
        if let t = checkpoint.training {
            var training: [(String, JSONValue)] = []
            if !t.hyperparameters.isEmpty {
                training.append(("hyperparameters", .object(sortedKeys(t.hyperparameters).map { ($0, t.hyperparameters[$0]!) })))
            }
            if let seed = t.seed { training.append(("seed", .integer(Int64(seed)))) }
            if let epochs = t.epochs { training.append(("epochs", .integer(Int64(epochs)))) }
            if let d = t.dataset {
                var dataset: [(String, JSONValue)] = []
                if let name = d.name { dataset.append(("name", .string(name))) }
                if let rows = d.rows { dataset.append(("rows", .integer(Int64(rows)))) }
                if let sha = d.sha256 { dataset.append(("sha256", .string(sha))) }
                training.append(("dataset", .object(dataset)))
            }
            if !t.finalMetrics.isEmpty { training.append(("final_metrics", numberMap(t.finalMetrics))) }
            if !t.history.isEmpty { training.append(("history", .array(t.history.map(numberMap)))) }
            if let created = t.createdUnix { training.append(("created_unix", .integer(created))) }
            members.append(("training", .object(training)))
        }
        if !checkpoint.metadata.isEmpty {
            members.append(("metadata", .object(sortedKeys(checkpoint.metadata).map { ($0, .string(checkpoint.metadata[$0]!)) })))
        }
        return members
    }

    private static func tensorEntry(_ s: TensorStorage) -> JSONValue {
        var members: [(String, JSONValue)] = [
            ("name", .string(s.name)), ("dtype", .string(s.dtype.rawValue)),
            ("shape", .array(s.shape.map { .integer(Int64($0)) })),
            ("offset", .integer(Int64(s.offset))), ("stored_length", .integer(Int64(s.storedLength))),
            ("raw_length", .integer(Int64(s.rawLength))), ("codec", .string(s.codec.rawValue)),
            ("crc32", .integer(Int64(s.crc32))),
        ]
        if let chunkSize = s.chunkSize {
            members.append(("chunk_size", .integer(Int64(chunkSize))))
            members.append(("chunks", .array(s.chunks.map {
                .object([("stored_length", .integer(Int64($0.storedLength))), ("crc32", .integer(Int64($0.crc32)))])
            })))
        }
        return .object(members)
    }
}

// MARK: - Decoding

/// A manifest object being decoded, with its path for error messages.
struct Fields {
    let members: [(String, JSONValue)]
    let path: String
    let file: String

    init(_ value: JSONValue, path: String, file: String) throws {
        guard case .object(let members) = value else {
            throw CheckpointError.field(file: file, field: path.isEmpty ? "(top level)" : path, found: Fields.describe(value), expected: "an object")
        }
        self.members = members
        self.path = path
        self.file = file
    }

    static func describe(_ value: JSONValue) -> String {
        switch value {
        case .string(let s): return "\(JSONValue.quote(s.count > 60 ? String(s.prefix(60)) + "…" : s)) (string)"
        case .integer(let i): return "\(i) (integer)"
        case .number(let d): return "\(d) (number)"
        case .bool(let b): return "\(b) (boolean)"
        case .null: return "null"
        case .array(let a): return "an array of \(a.count)"
        case .object: return "an object"
        }
    }

    func child(_ key: String) -> String { path.isEmpty ? key : "\(path).\(key)" }

    func error(_ key: String, _ found: String, _ expected: String) -> CheckpointError {
        .field(file: file, field: child(key), found: found, expected: expected)
    }

    func optional(_ key: String) -> JSONValue? { members.first { $0.0 == key }?.1 }

    func require(_ key: String) throws -> JSONValue {
        guard let value = optional(key) else { throw error(key, "nothing (missing)", "a value") }
        return value
    }

    func string(_ key: String) throws -> String {
        let value = try require(key)
        guard case .string(let s) = value else { throw error(key, Fields.describe(value), "a string") }
        return s
    }

    func optionalString(_ key: String) throws -> String? { optional(key) == nil ? nil : try string(key) }

    /// An integer in `range` (JSON integers are exact only up to 2^53).
    func integer(_ key: String, in range: ClosedRange<Int> = 0...(1 << 53) - 1) throws -> Int {
        try Fields.integer(try require(key), range: range) { self.error(key, $0, $1) }
    }

    static func integer(_ value: JSONValue, range: ClosedRange<Int>, error: (String, String) -> CheckpointError) throws -> Int {
        guard case .integer(let i) = value, let int = Int(exactly: i) else {
            throw error(describe(value), "an integer in \(range.lowerBound)...\(range.upperBound)")
        }
        guard range.contains(int) else { throw error("\(int)", "an integer in \(range.lowerBound)...\(range.upperBound)") }
        return int
    }

    func optionalInteger(_ key: String, in range: ClosedRange<Int> = 0...(1 << 53) - 1) throws -> Int? {
        optional(key) == nil ? nil : try integer(key, in: range)
    }

    func number(_ key: String) throws -> Double {
        let value = try require(key)
        guard let d = value.doubleValue else { throw error(key, Fields.describe(value), "a number") }
        return d
    }

    func array(_ key: String) throws -> [JSONValue] {
        let value = try require(key)
        guard case .array(let a) = value else { throw error(key, Fields.describe(value), "an array") }
        return a
    }

    func object(_ key: String) throws -> Fields { try Fields(try require(key), path: child(key), file: file) }

    func optionalObject(_ key: String) throws -> Fields? { optional(key) == nil ? nil : try object(key) }

    func strings(_ key: String) throws -> [String] {
        try array(key).enumerated().map { index, value in
            guard case .string(let s) = value else { throw error("\(key)[\(index)]", Fields.describe(value), "a string") }
            return s
        }
    }

    func enumeration<E: RawRepresentable & CaseIterable>(_ key: String, _ type: E.Type) throws -> E where E.RawValue == String {
        let text = try string(key)
        guard let value = E(rawValue: text) else {
            throw error(key, JSONValue.quote(text), "one of " + E.allCases.map { "\"\($0.rawValue)\"" }.joined(separator: ", "))
        }
        return value
    }

    /// An object of name → number.
    func numberMap(_ key: String) throws -> [String: Double] {
        guard optional(key) != nil else { return [:] }
        return try Fields.numberMap(try object(key))
    }

    static func numberMap(_ fields: Fields) throws -> [String: Double] {
        var map: [String: Double] = [:]
        for (name, value) in fields.members {
            guard let d = value.doubleValue else { throw fields.error(name, describe(value), "a number") }
            map[name] = d
        }
        return map
    }
}

/// The manifest decoded: the checkpoint without tensor values, and the tensor table.
struct DecodedManifest {
    var majorVersion: Int
    var minorVersion: Int
    var checkpoint: Checkpoint
    var storage: [TensorStorage]
}

enum ManifestDecoder {
    static func decode(_ json: JSONValue, file: String) throws -> DecodedManifest {
        let root = try Fields(json, path: "", file: file)
        let format = try root.string("format")
        guard format == "nnck" else { throw root.error("format", JSONValue.quote(format), "\"nnck\"") }
        let version = try root.object("format_version")
        let major = try version.integer("major", in: 0...65535)
        let minor = try version.integer("minor", in: 0...65535)
        let writerFields = try root.object("writer")
        let writer = WriterInfo(name: try writerFields.string("name"), version: try writerFields.string("version"))

        let model = try root.object("model")
        let inputFields = try model.object("input")
        let features = try inputFields.strings("features")
        let count = try inputFields.integer("count")
        guard count == features.count else {
            throw inputFields.error("count", "\(count)", "\(features.count), the number of feature names")
        }
        let normFields = try inputFields.object("normalization")
        let normalization = Normalization(kind: try normFields.enumeration("kind", NormalizationKind.self),
                                          offset: try normFields.optionalString("offset"),
                                          scale: try normFields.optionalString("scale"))
        let layers = try model.array("layers").enumerated().map { index, value in
            try layer(try Fields(value, path: model.child("layers[\(index)]"), file: file))
        }
        let outputFields = try model.object("output")
        let output: OutputSpec
        switch try outputFields.string("task") {
        case "classification":
            output = .classification(label: try outputFields.string("label"), classes: try outputFields.strings("classes"))
        case "regression":
            output = .regression(targets: try outputFields.strings("targets"))
        case let other:
            throw outputFields.error("task", JSONValue.quote(other), "\"classification\" or \"regression\"")
        }

        var verification: VerificationSpec?
        if let v = try root.optionalObject("verification") {
            verification = VerificationSpec(inputs: try v.string("inputs"), outputs: try v.string("outputs"),
                                            absTolerance: try v.number("abs_tolerance"), relTolerance: try v.number("rel_tolerance"))
        }
        var optimizer: OptimizerState?
        if let o = try root.optionalObject("optimizer") {
            var slots: [String: [String: String]] = [:]
            if let slotFields = try o.optionalObject("slots") {
                for (parameter, value) in slotFields.members {
                    let named = try Fields(value, path: slotFields.child(parameter), file: file)
                    var map: [String: String] = [:]
                    for (slot, _) in named.members { map[slot] = try named.string(slot) }
                    slots[parameter] = map
                }
            }
            optimizer = OptimizerState(optimizer: try o.string("optimizer"), step: try o.integer("step"),
                                       hyperparameters: try o.numberMap("hyperparameters"), slots: slots)
        }
        var training: TrainingProvenance?
        if let t = try root.optionalObject("training") {
            var provenance = TrainingProvenance()
            if let h = try t.optionalObject("hyperparameters") {
                provenance.hyperparameters = Dictionary(h.members, uniquingKeysWith: { $1 })
            }
            provenance.seed = try t.optionalInteger("seed", in: 0...Int.max).map { UInt64($0) }
            provenance.epochs = try t.optionalInteger("epochs")
            if let d = try t.optionalObject("dataset") {
                provenance.dataset = DatasetInfo(name: try d.optionalString("name"), rows: try d.optionalInteger("rows"),
                                                 sha256: try d.optionalString("sha256"))
            }
            provenance.finalMetrics = try t.numberMap("final_metrics")
            if t.optional("history") != nil {
                provenance.history = try t.array("history").enumerated().map { index, value in
                    try Fields.numberMap(try Fields(value, path: t.child("history[\(index)]"), file: file))
                }
            }
            provenance.createdUnix = try t.optionalInteger("created_unix", in: Int.min...Int.max).map { Int64($0) }
            training = provenance
        }
        var metadata: [String: String] = [:]
        if let m = try root.optionalObject("metadata") {
            for (key, _) in m.members { metadata[key] = try m.string(key) }
        }

        let storage = try root.array("tensors").enumerated().map { index, value in
            try tensorEntry(try Fields(value, path: "tensors[\(index)]", file: file))
        }
        let checkpoint = Checkpoint(writer: writer, input: InputSpec(features: features, normalization: normalization),
                                    layers: layers, output: output, verification: verification, optimizer: optimizer,
                                    training: training, metadata: metadata, tensors: [])
        return DecodedManifest(majorVersion: major, minorVersion: minor, checkpoint: checkpoint, storage: storage)
    }

    private static func layer(_ f: Fields) throws -> LayerSpec {
        switch try f.string("kind") {
        case "dense":
            return .dense(DenseSpec(inputs: try f.integer("inputs", in: 1...Int(Int32.max)), outputs: try f.integer("outputs", in: 1...Int(Int32.max)),
                                    weight: try f.string("weight"), bias: try f.string("bias")))
        case "activation":
            let name = try f.string("function")
            let function: ActivationFunction
            switch name {
            case "relu": function = .relu
            case "leaky_relu": function = .leakyRelu(slope: try f.number("slope"))
            case "sigmoid": function = .sigmoid
            case "tanh": function = .tanh
            case "softmax": function = .softmax
            case "linear": function = .linear
            default:
                throw f.error("function", JSONValue.quote(name), "one of \"relu\", \"leaky_relu\", \"sigmoid\", \"tanh\", \"softmax\", \"linear\"")
            }
            if name != "leaky_relu", f.optional("slope") != nil {
                throw f.error("slope", "a slope for \(name)", "slope only with leaky_relu")
            }
            return .activation(function)
        case "batchnorm":
            return .batchNorm(BatchNormSpec(features: try f.integer("features", in: 1...Int(Int32.max)), epsilon: try f.number("epsilon"),
                                            momentum: try f.number("momentum"),
                                            momentumConvention: try f.enumeration("momentum_convention", MomentumConvention.self),
                                            runningVariance: try f.enumeration("running_variance", VarianceEstimator.self),
                                            gamma: try f.string("gamma"), beta: try f.string("beta"),
                                            runningMean: try f.string("running_mean"), runningVar: try f.string("running_var")))
        case "dropout":
            return .dropout(rate: try f.number("rate"))
        case let other:
            throw f.error("kind", JSONValue.quote(other), "one of \"dense\", \"activation\", \"batchnorm\", \"dropout\"")
        }
    }

    private static func tensorEntry(_ f: Fields) throws -> TensorStorage {
        let name = try f.string("name")
        guard !name.isEmpty else { throw f.error("name", "\"\"", "a non-empty tensor name") }
        let dtypeText = try f.string("dtype")
        guard let dtype = DType(rawValue: dtypeText) else {
            if dtypeText == "f16" { throw CheckpointError.reservedDType(file: f.file, tensor: name, dtype: dtypeText) }
            throw f.error("dtype", JSONValue.quote(dtypeText), "\"f32\" or \"f64\"")
        }
        let shape = try f.array("shape").enumerated().map { index, value in
            try Fields.integer(value, range: 0...(1 << 53) - 1) { f.error("shape[\(index)]", $0, $1) }
        }
        let codecText = try f.string("codec")
        guard let codec = Codec(rawValue: codecText) else {
            throw f.error("codec", JSONValue.quote(codecText), "\"raw\", \"deflate\" or \"shuffle+deflate\"")
        }
        let crc = try f.integer("crc32", in: 0...Int(UInt32.max))
        var chunkSize: Int?
        var chunks: [StoredChunk] = []
        if codec == .raw {
            if f.optional("chunk_size") != nil { throw f.error("chunk_size", "a chunk size with codec raw", "no chunk_size for codec raw") }
            if f.optional("chunks") != nil { throw f.error("chunks", "a chunk list with codec raw", "no chunks for codec raw") }
        } else {
            chunkSize = try f.integer("chunk_size", in: 1...(1 << 53) - 1)
            chunks = try f.array("chunks").enumerated().map { index, value in
                let c = try Fields(value, path: f.child("chunks[\(index)]"), file: f.file)
                return StoredChunk(storedLength: try c.integer("stored_length"), crc32: UInt32(try c.integer("crc32", in: 0...Int(UInt32.max))))
            }
        }
        return TensorStorage(name: name, dtype: dtype, shape: shape, offset: try f.integer("offset"),
                             storedLength: try f.integer("stored_length"), rawLength: try f.integer("raw_length"),
                             codec: codec, crc32: UInt32(crc), chunkSize: chunkSize, chunks: chunks)
    }
}
