// `--model FILE.json`: a network written as the checkpoint manifest's `layers` list (formats/nnck-v1.md
// section 2.3) without tensor names, e.g.
//   [{"kind": "dense", "outputs": 128}, {"kind": "activation", "function": "relu"},
//    {"kind": "batchnorm"}, {"kind": "dropout", "rate": 0.2},
//    {"kind": "dense", "outputs": 10}, {"kind": "activation", "function": "softmax"}]
// or an object {"layers": [...]} (a manifest's `model` object also works). `inputs` and `features`
// may be omitted (they follow from the running width); when given they must match it.
import Glibc
import NNEngine
import NNJSON

public enum ModelFileError: Error, CustomStringConvertible {
    case unreadable(path: String, reason: String)
    case json(path: String, message: String)
    case field(path: String, jsonPath: String, found: String, expected: String)

    public var description: String {
        switch self {
        case let .unreadable(path, reason): return "\(path): cannot read: \(reason)"
        case let .json(path, message): return "\(path): not valid JSON: \(message)"
        case let .field(path, jsonPath, found, expected): return "\(path): \(jsonPath): found \(found); expected \(expected)"
        }
    }
}

public enum TrainingModelFile {
    /// Reads and checks a model file for `inputs` features and `outputs` output units.
    public static func load(path: String, inputs: Int, outputs: Int, task: TrainingTask) throws -> [NNEngine.LayerSpec] {
        let bytes = try readWholeFile(path)
        let value: JSONValue
        do { value = try JSONValue.parse(bytes) } catch { throw ModelFileError.json(path: path, message: "\(error)") }
        return try parse(value, path: path, inputs: inputs, outputs: outputs, task: task)
    }

    /// Maps a parsed model JSON to engine layer specs; errors name the JSON path ("$.layers[2].rate").
    public static func parse(_ value: JSONValue, path: String, inputs: Int, outputs: Int, task: TrainingTask) throws -> [NNEngine.LayerSpec] {
        func fail(_ jsonPath: String, _ found: String, _ expected: String) -> ModelFileError {
            .field(path: path, jsonPath: jsonPath, found: found, expected: expected)
        }
        var list: [JSONValue]
        var base = "$"
        if let array = value.arrayValue {
            list = array
        } else if let layers = value["layers"]?.arrayValue {
            list = layers; base = "$.layers"
        } else if let layers = value["model"]?["layers"]?.arrayValue {
            list = layers; base = "$.model.layers"
        } else {
            throw fail("$", value.typeName, "an array of layers, or an object with a \"layers\" array")
        }
        guard !list.isEmpty else { throw fail(base, "an empty list", "at least one layer") }
        var specs: [NNEngine.LayerSpec] = []
        var width = inputs
        for (index, layer) in list.enumerated() {
            let here = "\(base)[\(index)]"
            guard layer.objectValue != nil else { throw fail(here, layer.typeName, "an object with a \"kind\"") }
            func integer(_ key: String, required: Bool) throws -> Int? {
                guard let member = layer[key] else {
                    if required { throw fail("\(here).\(key)", "nothing", "an integer ≥ 1") }
                    return nil
                }
                guard let n = member.integerValue, n >= 1, n <= Int64(Architecture.maxUnits) else {
                    throw fail("\(here).\(key)", describe(member), "an integer from 1 to \(Architecture.maxUnits)")
                }
                return Int(n)
            }
            func number(_ key: String, default fallback: Double?, range: ClosedRange<Double>, note: String) throws -> Double {
                guard let member = layer[key] else {
                    if let fallback { return fallback }
                    throw fail("\(here).\(key)", "nothing", note)
                }
                guard let d = member.doubleValue, d.isFinite, range.contains(d) else { throw fail("\(here).\(key)", describe(member), note) }
                return d
            }
            guard let kind = layer["kind"]?.stringValue else {
                throw fail("\(here).kind", layer["kind"].map(describe) ?? "nothing", "one of \"dense\", \"activation\", \"batchnorm\", \"dropout\"")
            }
            switch kind {
            case "dense":
                if let declared = try integer("inputs", required: false), declared != width {
                    throw fail("\(here).inputs", "\(declared)", "\(width) (the width before this layer)")
                }
                let units = try integer("outputs", required: true)!
                specs.append(.dense(inputs: width, outputs: units))
                width = units
            case "activation":
                guard let name = layer["function"]?.stringValue else {
                    throw fail("\(here).function", layer["function"].map(describe) ?? "nothing", "relu, leaky_relu, sigmoid, tanh, softmax or linear")
                }
                switch name {
                case "relu": specs.append(.activation(.relu))
                case "leaky_relu":
                    specs.append(.activation(.leakyReLU(slope: try number("slope", default: 0.01, range: 0...1, note: "a number in [0, 1]"))))
                case "sigmoid": specs.append(.activation(.sigmoid))
                case "tanh": specs.append(.activation(.tanh))
                case "softmax": specs.append(.activation(.softmax))
                case "linear": specs.append(.activation(.linear))
                default: throw fail("\(here).function", "\"\(name)\"", "relu, leaky_relu, sigmoid, tanh, softmax or linear")
                }
            case "batchnorm":
                if let declared = try integer("features", required: false), declared != width {
                    throw fail("\(here).features", "\(declared)", "\(width) (the width before this layer)")
                }
                let epsilon = try number("epsilon", default: 1e-5, range: 1e-300...1, note: "a positive number")
                let momentum = try number("momentum", default: 0.1, range: 0...1, note: "a number in [0, 1]")
                var convention = BatchNormConfig.MomentumConvention.pytorch
                if let text = layer["momentum_convention"] {
                    guard let c = text.stringValue.flatMap(BatchNormConfig.MomentumConvention.init(rawValue:)) else {
                        throw fail("\(here).momentum_convention", describe(text), "\"pytorch\" or \"keras\"")
                    }
                    convention = c
                }
                var variance = BatchNormConfig.RunningVariance.unbiased
                if let text = layer["running_variance"] {
                    guard let v = text.stringValue.flatMap(BatchNormConfig.RunningVariance.init(rawValue:)) else {
                        throw fail("\(here).running_variance", describe(text), "\"unbiased\" or \"biased\"")
                    }
                    variance = v
                }
                specs.append(.batchNorm(features: width, config: BatchNormConfig(epsilon: epsilon, momentum: momentum,
                                                                                 convention: convention, runningVariance: variance)))
            case "dropout":
                let rate = try number("rate", default: nil, range: 0...0.999999, note: "a number in [0, 1)")
                specs.append(.dropout(rate: rate))
            default:
                throw fail("\(here).kind", "\"\(kind)\"", "one of \"dense\", \"activation\", \"batchnorm\", \"dropout\"")
            }
        }
        guard width == outputs else {
            let what = task == .classification ? "the class count" : "the target count"
            throw fail(base, "a last width of \(width)", "\(outputs) (\(what)); end with a dense layer of \(outputs) outputs")
        }
        if task == .classification {
            guard case .activation(.softmax)? = specs.last else {
                throw fail("\(base)[\(list.count - 1)]", "\(specs.last!)", "an activation with function \"softmax\" (a classifier's last layer)")
            }
        } else if case .activation(let last)? = specs.last, last != .linear {
            throw fail("\(base)[\(list.count - 1)]", "activation \(last)", "a dense layer or a linear activation (regression outputs are linear)")
        }
        guard specs.contains(where: { if case .dense = $0 { return true }; return false }) else {
            throw fail(base, "no dense layer", "at least one dense layer")
        }
        return specs
    }

    private static func describe(_ value: JSONValue) -> String {
        switch value {
        case .string(let s): return "\"\(s)\""
        case .integer(let i): return "\(i)"
        case .number(let d): return "\(d)"
        case .bool(let b): return "\(b)"
        default: return value.typeName
        }
    }
}

/// The bytes of a (small) file, with a typed error.
func readWholeFile(_ path: String) throws -> [UInt8] {
    guard let file = fopen(path, "rb") else {
        throw ModelFileError.unreadable(path: path, reason: String(cString: strerror(errno)))
    }
    defer { fclose(file) }
    var bytes: [UInt8] = []
    var buffer = [UInt8](repeating: 0, count: 65536)
    while true {
        let n = fread(&buffer, 1, buffer.count, file)
        if n > 0 { bytes.append(contentsOf: buffer[0..<n]) }
        if n < buffer.count {
            if ferror(file) != 0 { throw ModelFileError.unreadable(path: path, reason: "read error") }
            break
        }
        if bytes.count > 16 << 20 { throw ModelFileError.unreadable(path: path, reason: "larger than 16 MiB; a model file is small JSON") }
    }
    return bytes
}
