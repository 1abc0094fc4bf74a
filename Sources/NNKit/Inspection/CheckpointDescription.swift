// What a checkpoint holds, for `nninspect MODEL` (text), `--weights`, `--tensor` and `--json`.
// Everything comes from NNFormat's `ReadResult` (the checked checkpoint plus its tensor table).
import NNFormat
import NNJSON
import NNParallel

/// One row of the layer table (like Keras' `model.summary()`).
public struct LayerSummary: Equatable, Sendable {
    public var index: Int
    /// The manifest kind: dense, activation, batchnorm, dropout.
    public var kind: String
    /// Settings in words, e.g. "4 -> 8" or "relu" or "rate 0.2 (identity at inference)".
    public var settings: String
    /// Width of the data after this layer.
    public var outputWidth: Int
    public var trainableParameters: Int
    /// Batchnorm running statistics: stored and used, but not learned by gradient descent.
    public var nonTrainableParameters: Int
    /// Tensors the layer names, in manifest order.
    public var tensors: [String]

    public var parameters: Int { trainableParameters + nonTrainableParameters }
}

/// A checked checkpoint described for people and scripts.
public struct CheckpointDescription {
    /// The file as the user named it (printed in reports).
    public let source: String
    public let read: ReadResult
    public let layers: [LayerSummary]
    /// Tensor name → what it is ("layer 0 dense weight", "verification inputs", "unused", ...).
    public let roles: [String: String]

    public var checkpoint: Checkpoint { read.checkpoint }
    public var trainableParameters: Int { layers.reduce(0) { $0 + $1.trainableParameters } }
    public var nonTrainableParameters: Int { layers.reduce(0) { $0 + $1.nonTrainableParameters } }
    public var totalParameters: Int { trainableParameters + nonTrainableParameters }
    public var rawTensorBytes: Int { read.storage.reduce(0) { $0 + $1.rawLength } }
    public var storedTensorBytes: Int { read.storage.reduce(0) { $0 + $1.storedLength } }

    /// Reads and fully checks `path` (every rule and CRC of the format), then describes it.
    public static func read(path: String, limits: ReaderLimits = .default, pool: WorkerPool? = nil) throws -> CheckpointDescription {
        CheckpointDescription(try CheckpointReader.readDetailed(path: path, limits: limits, pool: pool), source: path)
    }

    public init(_ read: ReadResult, source: String) {
        self.source = source
        self.read = read
        let checkpoint = read.checkpoint
        func elements(_ name: String) -> Int { checkpoint.tensor(named: name)?.values.count ?? 0 }

        var layers: [LayerSummary] = []
        let widths = checkpoint.layerWidths
        for (index, layer) in checkpoint.layers.enumerated() {
            var trainable = 0, nonTrainable = 0
            switch layer {
            case .dense(let d):
                trainable = elements(d.weight) + elements(d.bias)
            case .batchNorm(let b):
                trainable = elements(b.gamma) + elements(b.beta)
                nonTrainable = elements(b.runningMean) + elements(b.runningVar)
            case .activation, .dropout:
                break
            }
            layers.append(LayerSummary(index: index, kind: layer.kind, settings: Self.settings(of: layer),
                                       outputWidth: widths[index], trainableParameters: trainable,
                                       nonTrainableParameters: nonTrainable, tensors: layer.tensorNames))
        }
        self.layers = layers
        self.roles = Self.roles(of: checkpoint)
    }

    /// A layer's settings in words (also used by `CheckpointDiff`).
    public static func settings(of layer: NNFormat.LayerSpec) -> String {
        switch layer {
        case .dense(let d):
            return "\(d.inputs) -> \(d.outputs)"
        case .activation(let function):
            if case .leakyRelu(let slope) = function { return "leaky_relu, slope \(InspectText.exact(slope))" }
            return function.name
        case .batchNorm(let b):
            return "epsilon \(InspectText.exact(b.epsilon)), momentum \(InspectText.exact(b.momentum)) (\(b.momentumConvention.rawValue)), "
                + "\(b.runningVariance.rawValue) running variance"
        case .dropout(let rate):
            return "rate \(InspectText.exact(rate)) (identity at inference)"
        }
    }

    static func roles(of checkpoint: Checkpoint) -> [String: String] {
        var roles: [String: String] = [:]
        for (index, layer) in checkpoint.layers.enumerated() {
            switch layer {
            case .dense(let d):
                roles[d.weight] = "layer \(index) dense weight"
                roles[d.bias] = "layer \(index) dense bias"
            case .batchNorm(let b):
                roles[b.gamma] = "layer \(index) batchnorm gamma"
                roles[b.beta] = "layer \(index) batchnorm beta"
                roles[b.runningMean] = "layer \(index) batchnorm running mean"
                roles[b.runningVar] = "layer \(index) batchnorm running variance"
            case .activation, .dropout:
                break
            }
        }
        if let offset = checkpoint.input.normalization.offset { roles[offset] = "input normalization offset" }
        if let scale = checkpoint.input.normalization.scale { roles[scale] = "input normalization scale" }
        if let verification = checkpoint.verification {
            roles[verification.inputs] = "verification inputs"
            roles[verification.outputs] = "verification outputs"
        }
        if let optimizer = checkpoint.optimizer {
            for (parameter, slots) in optimizer.slots {
                for (slot, tensor) in slots { roles[tensor] = "optimizer slot \(slot) of \(parameter)" }
            }
        }
        for tensor in checkpoint.tensors where roles[tensor.name] == nil { roles[tensor.name] = "unused" }
        return roles
    }

    /// Number of verification vectors (rows of the inputs tensor); 0 when the file has none.
    public var verificationRows: Int {
        guard let spec = checkpoint.verification, let inputs = checkpoint.tensor(named: spec.inputs) else { return 0 }
        return inputs.shape.first ?? 0
    }

    // MARK: - Text

    /// The whole description for people: file, input, layer table, output, verification, optimizer,
    /// training provenance, metadata.
    public func text() -> String {
        let c = checkpoint
        var out = ""
        func line(_ text: String = "") { out += text + "\n" }

        line("File: \(InspectText.safe(source))")
        line("Format: nnck \(read.formatMajor).\(read.formatMinor), written by \(InspectText.safe(c.writer.name)) \(InspectText.safe(c.writer.version))")
        let padding = read.fileSize - 32 - read.manifestLength - storedTensorBytes
        line("Size: \(grouped(read.fileSize)) bytes (\(byteCount(read.fileSize))): header 32, manifest \(grouped(read.manifestLength)), "
             + "\(InspectText.plural(read.storage.count, "tensor block")) \(grouped(storedTensorBytes)), alignment padding \(grouped(padding))")
        line("Compression: \(grouped(rawTensorBytes)) raw tensor bytes in \(grouped(storedTensorBytes)) stored bytes, "
             + "ratio \(InspectText.ratio(rawTensorBytes, storedTensorBytes)) (\(codecSummary()))")
        line()

        line("Input: \(InspectText.plural(c.input.features.count, "feature"))")
        line("  \(InspectText.names(c.input.features))")
        line("Normalization: \(normalizationText())")
        line()

        line("Layers:")
        var table = TextTable(header: ["#", "layer", "settings", "output", "parameters"], rightAligned: [0, 3, 4])
        for layer in layers {
            table.add([String(layer.index), layer.kind, layer.settings, String(layer.outputWidth), grouped(layer.parameters)])
        }
        out += table.render().split(separator: "\n", omittingEmptySubsequences: false).dropLast()
            .map { "  " + $0 }.joined(separator: "\n") + "\n"
        line("Parameters: \(grouped(totalParameters)) total, \(grouped(trainableParameters)) trainable, "
             + "\(grouped(nonTrainableParameters)) non-trainable" + (nonTrainableParameters > 0 ? " (batchnorm running statistics)" : ""))
        line()

        line("Output: \(outputText())")
        if let spec = c.verification {
            line("Verification: \(InspectText.plural(verificationRows, "vector")), tolerance \(InspectText.exact(spec.absTolerance)) + "
                 + "\(InspectText.exact(spec.relTolerance)) × |expected| (run them: nninspect verify)")
        } else {
            line("Verification: none")
        }
        if let optimizer = c.optimizer {
            let slotTensors = optimizer.slots.values.reduce(0) { $0 + $1.count }
            var text = "\(InspectText.safe(optimizer.optimizer)), step \(grouped(optimizer.step))"
            if !optimizer.hyperparameters.isEmpty {
                text += ", " + optimizer.hyperparameters.sorted { $0.key < $1.key }
                    .map { "\(InspectText.safe($0.key)) \(InspectText.exact($0.value))" }.joined(separator: ", ")
            }
            text += "; \(InspectText.plural(slotTensors, "slot tensor")) for \(InspectText.plural(optimizer.slots.count, "parameter"))"
            line("Optimizer state: \(text)")
        } else {
            line("Optimizer state: none")
        }
        line()

        if let training = c.training {
            line("Training:")
            if !training.hyperparameters.isEmpty {
                line("  hyperparameters: " + training.hyperparameters.sorted { $0.key < $1.key }
                    .map { "\(InspectText.safe($0.key)) \(InspectText.json($0.value))" }.joined(separator: ", "))
            }
            if let seed = training.seed { line("  seed: \(seed)") }
            if let epochs = training.epochs { line("  epochs: \(grouped(epochs))") }
            if let dataset = training.dataset {
                var parts: [String] = []
                if let name = dataset.name { parts.append(InspectText.safe(name)) }
                if let rows = dataset.rows { parts.append(InspectText.plural(rows, "row")) }
                if let sha = dataset.sha256 { parts.append("sha256 \(sha)") }
                line("  data set: " + (parts.isEmpty ? "(no details)" : parts.joined(separator: ", ")))
            }
            if !training.finalMetrics.isEmpty {
                line("  final metrics: " + training.finalMetrics.sorted { $0.key < $1.key }
                    .map { "\(InspectText.safe($0.key)) \(InspectText.exact($0.value))" }.joined(separator: ", "))
            }
            line("  history: \(InspectText.plural(training.history.count, "entry", "entries"))")
            if let created = training.createdUnix { line("  created: \(created) (seconds since 1970-01-01 UTC)") }
        } else {
            line("Training: no provenance recorded")
        }
        line()

        if c.metadata.isEmpty {
            line("Metadata: none")
        } else {
            line("Metadata:")
            for (key, value) in c.metadata.sorted(by: { $0.key < $1.key }) {
                line("  \(InspectText.safe(key)): \(InspectText.safe(value))")
            }
        }
        let unused = c.tensors.map(\.name).filter { roles[$0] == "unused" }
        if !unused.isEmpty {
            line("Unused tensors (stored, referenced by nothing): \(InspectText.names(unused))")
        }
        return out
    }

    private func codecSummary() -> String {
        var counts: [(Codec, Int)] = []
        for codec in Codec.allCases {
            let n = read.storage.filter { $0.codec == codec }.count
            if n > 0 { counts.append((codec, n)) }
        }
        if counts.isEmpty { return "no tensors" }
        return counts.map { "\($0.1) \($0.0.rawValue)" }.joined(separator: ", ")
    }

    private func normalizationText() -> String {
        let n = checkpoint.input.normalization
        guard n.kind != .none, let offsetName = n.offset, let scaleName = n.scale else { return "none" }
        var text = "\(n.kind.rawValue), x' = (x - offset) / scale"
        if let offset = checkpoint.tensor(named: offsetName), let scale = checkpoint.tensor(named: scaleName) {
            let o = TensorStatistics(offset.values), s = TensorStatistics(scale.values)
            text += "; offset \(InspectText.safe(offsetName)) in [\(InspectText.short(o.min)), \(InspectText.short(o.max))]"
            text += ", scale \(InspectText.safe(scaleName)) in [\(InspectText.short(s.min)), \(InspectText.short(s.max))]"
        }
        return text
    }

    private func outputText() -> String {
        switch checkpoint.output {
        case let .classification(label, classes):
            return "classification of \(InspectText.safe(label)) into \(InspectText.plural(classes.count, "class", "classes")): "
                + InspectText.names(classes)
        case let .regression(targets):
            return "regression of \(InspectText.plural(targets.count, "target")): " + InspectText.names(targets)
        }
    }

    // MARK: - Weights

    /// Per tensor statistics, in file order.
    public func statistics() -> [(storage: TensorStorage, statistics: TensorStatistics)] {
        read.storage.map { entry in
            (entry, TensorStatistics(checkpoint.tensor(named: entry.name)!.values))
        }
    }

    /// The `--weights` table: per tensor shape, dtype, codec, sizes, statistics and a histogram.
    public func weightsText() -> String {
        var table = TextTable(header: ["tensor", "dtype", "shape", "codec", "stored", "raw", "min", "max", "mean", "std",
                                       "zeros", "nan", "inf", "histogram (10 bins, min..max)"],
                              rightAligned: [4, 5, 6, 7, 8, 9, 10, 11, 12])
        for (entry, stats) in statistics() {
            let histogram = stats.sparkline
            table.add([InspectText.safe(entry.name), entry.dtype.rawValue, InspectText.shape(entry.shape), entry.codec.rawValue,
                       grouped(entry.storedLength), grouped(entry.rawLength),
                       InspectText.short(stats.min), InspectText.short(stats.max),
                       InspectText.short(stats.mean), InspectText.short(stats.std),
                       stats.count == 0 ? "-" : fixed(100 * stats.zeroFraction, 1) + "%",
                       String(stats.nanCount), String(stats.infinityCount),
                       histogram.isEmpty || histogram == "constant" ? histogram : "|" + histogram + "|"])
        }
        var out = "File: \(InspectText.safe(source))\n"
        out += "Tensors: \(read.storage.count), \(grouped(rawTensorBytes)) raw bytes in \(grouped(storedTensorBytes)) stored bytes "
            + "(ratio \(InspectText.ratio(rawTensorBytes, storedTensorBytes)))\n\n"
        out += table.render()
        out += "\nmin, max, mean, std (population) and the histogram cover finite values; zeros is the share of all values.\n"
        return out
    }

    // MARK: - One tensor

    /// The tensor's values as CSV, one row per line (NNFormat's `TensorText`, the reference reader's format).
    public func tensorCSV(named name: String) throws -> String {
        guard let tensor = checkpoint.tensor(named: name) else {
            throw InspectionError.unknownTensor(file: source, name: name, available: checkpoint.tensors.map(\.name))
        }
        return TensorText.csv(tensor)
    }

    // MARK: - JSON

    /// The whole description as JSON with stable keys (see `nninspect --help`); with
    /// `includeStatistics`, each tensor also carries its `statistics`.
    public func json(includeStatistics: Bool = false) -> JSONValue {
        let c = checkpoint
        func int(_ value: Int) -> JSONValue { .integer(Int64(value)) }
        func strings(_ values: [String]) -> JSONValue { .array(values.map { .string($0) }) }
        func optional(_ value: String?) -> JSONValue { value.map { .string($0) } ?? .null }

        var input: [(String, JSONValue)] = [("count", int(c.input.features.count)), ("features", strings(c.input.features))]
        input.append(("normalization", .object([("kind", .string(c.input.normalization.kind.rawValue)),
                                                ("offset", optional(c.input.normalization.offset)),
                                                ("scale", optional(c.input.normalization.scale))])))

        let layerValues: [JSONValue] = zip(layers, c.layers).map { summary, spec in
            var members: [(String, JSONValue)] = [("index", int(summary.index)), ("kind", .string(summary.kind))]
            switch spec {
            case .dense(let d):
                members += [("inputs", int(d.inputs)), ("outputs", int(d.outputs))]
            case .activation(let function):
                members.append(("function", .string(function.name)))
                if case .leakyRelu(let slope) = function { members.append(("slope", .number(slope))) }
            case .batchNorm(let b):
                members += [("features", int(b.features)), ("epsilon", .number(b.epsilon)), ("momentum", .number(b.momentum)),
                            ("momentum_convention", .string(b.momentumConvention.rawValue)),
                            ("running_variance", .string(b.runningVariance.rawValue))]
            case .dropout(let rate):
                members.append(("rate", .number(rate)))
            }
            members += [("settings", .string(summary.settings)), ("output_width", int(summary.outputWidth)),
                        ("parameters", int(summary.parameters)), ("trainable", int(summary.trainableParameters)),
                        ("non_trainable", int(summary.nonTrainableParameters)), ("tensors", strings(summary.tensors))]
            return .object(members)
        }

        let output: JSONValue
        switch c.output {
        case let .classification(label, classes):
            output = .object([("task", .string("classification")), ("label", .string(label)), ("classes", strings(classes))])
        case let .regression(targets):
            output = .object([("task", .string("regression")), ("targets", strings(targets))])
        }

        let verification: JSONValue = c.verification.map { spec in
            .object([("vectors", int(verificationRows)), ("inputs", .string(spec.inputs)), ("outputs", .string(spec.outputs)),
                     ("abs_tolerance", .number(spec.absTolerance)), ("rel_tolerance", .number(spec.relTolerance))])
        } ?? .null

        let optimizer: JSONValue = c.optimizer.map { state in
            .object([("optimizer", .string(state.optimizer)), ("step", int(state.step)),
                     ("hyperparameters", .object(state.hyperparameters.sorted { $0.key < $1.key }.map { ($0.key, .number($0.value)) })),
                     ("slots", .object(state.slots.sorted { $0.key < $1.key }.map { parameter, slots in
                         (parameter, .object(slots.sorted { $0.key < $1.key }.map { ($0.key, .string($0.value)) }))
                     }))])
        } ?? .null

        let training: JSONValue = c.training.map { t in
            var members: [(String, JSONValue)] = []
            members.append(("hyperparameters", .object(t.hyperparameters.sorted { $0.key < $1.key }.map { ($0.key, $0.value) })))
            members.append(("seed", t.seed.map { .integer(Int64(clamping: $0)) } ?? .null))
            members.append(("epochs", t.epochs.map(int) ?? .null))
            members.append(("dataset", t.dataset.map { d in
                .object([("name", optional(d.name)), ("rows", d.rows.map(int) ?? .null), ("sha256", optional(d.sha256))])
            } ?? .null))
            members.append(("final_metrics", .object(t.finalMetrics.sorted { $0.key < $1.key }.map { ($0.key, .number($0.value)) })))
            members.append(("history_entries", int(t.history.count)))
            members.append(("created_unix", t.createdUnix.map { .integer($0) } ?? .null))
            return .object(members)
        } ?? .null

        let statsByName: [String: TensorStatistics] = includeStatistics
            ? Dictionary(uniqueKeysWithValues: statistics().map { ($0.storage.name, $0.statistics) }) : [:]
        let tensors: [JSONValue] = read.storage.map { entry in
            var members: [(String, JSONValue)] = [
                ("name", .string(entry.name)), ("role", .string(roles[entry.name] ?? "unused")),
                ("dtype", .string(entry.dtype.rawValue)), ("shape", .array(entry.shape.map(int))),
                ("codec", .string(entry.codec.rawValue)), ("stored_length", int(entry.storedLength)),
                ("raw_length", int(entry.rawLength)), ("chunks", int(entry.chunks.count)), ("crc32", .integer(Int64(entry.crc32))),
            ]
            if let stats = statsByName[entry.name] { members.append(("statistics", stats.json)) }
            return .object(members)
        }

        return .object([
            ("file", .string(source)),
            ("file_size", int(read.fileSize)),
            ("format", .object([("name", .string("nnck")), ("major", int(read.formatMajor)), ("minor", int(read.formatMinor))])),
            ("writer", .object([("name", .string(c.writer.name)), ("version", .string(c.writer.version))])),
            ("manifest_length", int(read.manifestLength)),
            ("tensor_bytes", .object([("raw", int(rawTensorBytes)), ("stored", int(storedTensorBytes)),
                                      ("compression_ratio", storedTensorBytes == 0 ? .null
                                          : .number(Double(rawTensorBytes) / Double(storedTensorBytes)))])),
            ("input", .object(input)),
            ("layers", .array(layerValues)),
            ("parameters", .object([("total", int(totalParameters)), ("trainable", int(trainableParameters)),
                                    ("non_trainable", int(nonTrainableParameters))])),
            ("output", output),
            ("verification", verification),
            ("optimizer", optimizer),
            ("training", training),
            ("metadata", .object(c.metadata.sorted { $0.key < $1.key }.map { ($0.key, .string($0.value)) })),
            ("tensors", .array(tensors)),
        ])
    }
}
