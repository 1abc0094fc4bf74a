// The properties the fuzzers check, one function per target. Each takes the raw fuzz input and
// throws `FuzzFinding` when a property fails; any crash or sanitizer report is a finding too.
//
// This one file is compiled twice: into the libFuzzer executables of the Fuzz package, and (via
// the symlink Tests/NNToolsTests/RobustnessFuzzChecks.swift) into the normal test suite, which
// replays every corpus and regression file through these same functions without sanitizers.
#if canImport(Glibc)
import Glibc
#endif
import NNData
import NNFormat
import NNJSON
import NNKit
import NNParallel
import NNZlib

/// A property that failed: what was expected and what happened.
public struct FuzzFinding: Error, CustomStringConvertible {
    public let description: String
    public init(_ description: String) { self.description = description }
}

public enum FuzzTarget: String, CaseIterable {
    case checkpointBytes = "checkpoint-bytes"
    case checkpointStructured = "checkpoint-structured"
    case csv
    case layers
    case manifestJSON = "manifest-json"
    case inflate
}

public enum FuzzChecks {
    /// Reader caps used by the fuzzers: small enough that any allocation libFuzzer's
    /// -malloc_limit_mb=1024 flags is an allocation beyond the caps (a finding), not a legal big tensor.
    public static let limits = ReaderLimits(maxManifestBytes: 1 << 20, maxJSONDepth: 64, maxTensorCount: 4096,
                                            maxTensorBytes: 16 << 20, maxTotalTensorBytes: 64 << 20)

    public static func check(_ target: FuzzTarget, _ bytes: [UInt8]) throws {
        switch target {
        case .checkpointBytes: try checkpointBytes(bytes)
        case .checkpointStructured: try checkpointStructured(bytes)
        case .csv: try csv(bytes)
        case .layers: try layers(bytes)
        case .manifestJSON: try manifestJSON(bytes)
        case .inflate: try inflate(bytes)
        }
    }

    // MARK: (a) checkpoint reader on raw bytes

    /// Decoding arbitrary bytes returns a checkpoint or throws a one-line `CheckpointError`. What it
    /// accepts the writer can write back, and that re-encoding is a fixed point.
    public static func checkpointBytes(_ bytes: [UInt8]) throws {
        try decodeAndReencode(bytes, what: "raw input")
    }

    static func decodeAndReencode(_ bytes: [UInt8], what: String) throws {
        let result: ReadResult
        do {
            result = try CheckpointReader.decodeDetailed(bytes: bytes, source: "fuzz.nnck", limits: limits, pool: .serial)
        } catch let error as CheckpointError {
            try requireOneLine(error.description, what: "CheckpointError for \(what)")
            return
        } catch {
            throw FuzzFinding("decoding \(what) threw a non-CheckpointError: \(type(of: error)): \(error)")
        }
        let options = WriterOptions(preserving: result.storage)
        var fixedOptions = options
        fixedOptions.pool = .serial
        fixedOptions.sourceDateEpoch = nil
        let first: [UInt8]
        do {
            first = try CheckpointWriter.encode(result.checkpoint, options: fixedOptions)
        } catch {
            throw FuzzFinding("the reader accepted \(what) that the writer rejects: \(error)")
        }
        let again: Checkpoint
        do {
            again = try CheckpointReader.decode(bytes: first, source: "re-encoded", limits: limits, pool: .serial)
        } catch {
            throw FuzzFinding("the writer's re-encoding of accepted \(what) does not decode: \(error)")
        }
        guard sameCheckpoint(again, result.checkpoint) else {
            throw FuzzFinding("decode(encode(checkpoint)) differs from the checkpoint decoded from \(what)")
        }
        let second = try CheckpointWriter.encode(again, options: fixedOptions)
        guard second == first else { throw FuzzFinding("re-encoding \(what) is not a fixed point (\(first.count) vs \(second.count) bytes)") }
    }

    // MARK: (b) structure-aware checkpoint target

    /// Builds a valid random checkpoint from the input's choices, encodes it with random codecs and
    /// chunk sizes: it must round-trip exactly. Then applies mutations chosen from the input; the
    /// result must decode (and re-encode consistently) or throw a CheckpointError.
    public static func checkpointStructured(_ bytes: [UInt8]) throws {
        var choices = Choices(bytes)
        let checkpoint = randomCheckpoint(&choices)
        var options = WriterOptions(codec: Codec.allCases[choices.int(Codec.allCases.count)], pool: .serial, sourceDateEpoch: nil)
        let level = choices.int(10), rle = choices.bool()
        options.deflate = choices.bool() ? .perPlane(level: level, strategy: rle ? .rle : .default)
                                         : .wholeChunk(level: level, strategy: rle ? .rle : .default)
        options.chunkSize = 8 * (1 + choices.int(64))
        for tensor in checkpoint.tensors where choices.int(4) == 0 {
            options.codecs[tensor.name] = Codec.allCases[choices.int(Codec.allCases.count)]
            options.chunkSizes[tensor.name] = 8 * (1 + choices.int(16))
        }
        let encoded: [UInt8]
        do {
            encoded = try CheckpointWriter.encode(checkpoint, options: options)
        } catch {
            throw FuzzFinding("the writer rejected a valid random checkpoint: \(error)")
        }
        let decoded: Checkpoint
        do {
            decoded = try CheckpointReader.decode(bytes: encoded, source: "structured.nnck", limits: limits, pool: .serial)
        } catch {
            throw FuzzFinding("a freshly written checkpoint does not decode: \(error)")
        }
        guard sameCheckpoint(decoded, checkpoint) else { throw FuzzFinding("a valid checkpoint did not round-trip exactly") }
        guard try CheckpointWriter.encode(decoded, options: options) == encoded else {
            throw FuzzFinding("writing a decoded checkpoint again gives different bytes")
        }

        var mutated = encoded
        let rounds = 1 + choices.int(3)
        for _ in 0..<rounds { mutate(&mutated, &choices) }
        if mutated != encoded { try decodeAndReencode(mutated, what: "a mutated checkpoint") }
    }

    /// One mutation chosen by the input: bit flips, truncation, overwrite, insertion, or edits of the
    /// manifest (text bytes or parsed JSON) with the checksums fixed so the reader gets past them.
    static func mutate(_ file: inout [UInt8], _ choices: inout Choices) {
        guard !file.isEmpty else { return }
        switch choices.int(8) {
        case 0:
            for _ in 0..<(1 + choices.int(8)) {
                let bit = choices.int(file.count * 8)
                file[bit / 8] ^= 1 << UInt8(bit % 8)
            }
        case 1:
            file.removeLast(file.count - choices.int(file.count))
        case 2:
            let at = choices.int(file.count)
            for k in 0..<min(1 + choices.int(8), file.count - at) { file[at + k] = choices.byte() }
        case 3:
            let at = choices.int(file.count + 1)
            file.insert(contentsOf: (0..<(1 + choices.int(16))).map { _ in choices.byte() }, at: at)
        case 4, 5:
            // Manifest text edited in place, checksums recomputed.
            guard let (manifest, _) = manifestRange(file) else { return }
            let length = manifest.count
            guard length > 0 else { return }
            for _ in 0..<(1 + choices.int(4)) {
                let at = manifest.lowerBound + choices.int(length)
                file[at] = choices.int(2) == 0 ? choices.byte() : interestingJSONBytes[choices.int(interestingJSONBytes.count)]
            }
            fixChecksums(&file)
        case 6:
            // A structural edit of the manifest JSON: a value replaced, a member removed or duplicated.
            guard let (manifest, _) = manifestRange(file),
                  let json = try? JSONValue.parse(Array(file[manifest])) else { return }
            var counter = choices.int(countNodes(json))
            let edited = edit(json, &counter, &choices)
            guard var text = try? edited.serializedBytes() else { return }
            // Same length when possible (pad with spaces), so the tensor offsets stay where they were.
            if text.count < manifest.count { text += [UInt8](repeating: 0x20, count: manifest.count - text.count) }
            file.replaceSubrange(manifest, with: text)
            setLE(&file, 16, UInt64(text.count), bytes: 8)
            fixChecksums(&file)
        default:
            // Header fields rewritten (version, flags, manifest length), checksum fixed.
            guard file.count >= 32 else { return }
            let field = [8, 10, 12, 16, 20][choices.int(5)]
            let value: UInt64 = [0, 1, 2, 0xFFFF, 0xFFFF_FFFF, UInt64.max, UInt64(file.count), UInt64(choices.int(1 << 16))][choices.int(8)]
            setLE(&file, field, value, bytes: field == 16 ? 8 : (field < 12 ? 2 : 4))
            fixChecksums(&file, manifestToo: false)
        }
    }

    static let interestingJSONBytes: [UInt8] = Array("{}[]\",:0123456789-+.eE \\ntfu".utf8) + [0, 0x7F, 0xC3, 0xFF]

    /// The manifest's byte range per the header's length field, if it fits in the file.
    static func manifestRange(_ file: [UInt8]) -> (Range<Int>, Int)? {
        guard file.count >= 32 else { return nil }
        let length = Int(clamping: readLE(file, 16, bytes: 8))
        guard length <= file.count - 32 else { return nil }
        return (32..<(32 + length), length)
    }

    static func fixChecksums(_ file: inout [UInt8], manifestToo: Bool = true) {
        guard file.count >= 32 else { return }
        if manifestToo, let (manifest, _) = manifestRange(file) {
            setLE(&file, 24, UInt64(Zlib.crc32(Array(file[manifest]))), bytes: 4)
        }
        setLE(&file, 28, UInt64(Zlib.crc32(Array(file[0..<28]))), bytes: 4)
    }

    static func countNodes(_ value: JSONValue) -> Int {
        switch value {
        case .array(let elements): return 1 + elements.reduce(0) { $0 + countNodes($1) }
        case .object(let members): return 1 + members.reduce(0) { $0 + countNodes($1.1) }
        default: return 1
        }
    }

    /// Replaces the `counter`-th node (pre-order) by a hostile value, or removes/duplicates a member.
    static func edit(_ value: JSONValue, _ counter: inout Int, _ choices: inout Choices) -> JSONValue {
        if counter == 0 {
            counter = -1
            return hostileValue(&choices, like: value)
        }
        counter -= 1
        switch value {
        case .array(var elements):
            for index in elements.indices where counter >= 0 { elements[index] = edit(elements[index], &counter, &choices) }
            return .array(elements)
        case .object(var members):
            for index in members.indices where counter >= 0 {
                if counter == 0, choices.int(3) == 0 {
                    // Remove or duplicate this member instead of replacing its value.
                    counter = -1
                    if choices.bool() { members.remove(at: index) } else { members.append(members[index]) }
                    return .object(members)
                }
                members[index].1 = edit(members[index].1, &counter, &choices)
            }
            return .object(members)
        default:
            return value
        }
    }

    static func hostileValue(_ choices: inout Choices, like original: JSONValue) -> JSONValue {
        switch choices.int(14) {
        case 0: return .null
        case 1: return .bool(choices.bool())
        case 2: return .integer([0, -1, 1, 7, 8, 31, 32, 33, 63, 64, 65, 1 << 31, 1 << 32, Int64.max, Int64.min][choices.int(15)])
        case 3: return .integer(Int64(choices.int(1 << 20)) - (1 << 10))
        case 4: return .number([0.5, -0.0, 1e300, -1e-300, 1.5, 4294967296.0][choices.int(6)])
        case 5: return .string(["", "f32", "f64", "f16", "raw", "deflate", "shuffle+deflate", "dense", "batchnorm", "relu",
                                "softmax", "x", "layers.0.weight", "verification.inputs"][choices.int(14)])
        case 6: return .array([])
        case 7: return .object([])
        case 8: return .array([.integer(Int64(choices.int(8))), .integer(Int64(choices.int(8)))])
        case 9: return .array([original, original])
        case 10:
            // Nested arrays up to the cap and beyond.
            var nested = JSONValue.integer(1)
            for _ in 0..<(50 + choices.int(30)) { nested = .array([nested]) }
            return nested
        case 11:
            // An integer nudged: off-by-one offsets, lengths, shapes.
            if case .integer(let i) = original { return .integer(i &+ Int64(choices.int(17)) - 8) }
            return .integer(Int64(choices.int(256)))
        case 12:
            if case .array(var elements) = original, !elements.isEmpty {
                elements.removeLast()
                return .array(elements)
            }
            return .string(String(repeating: "A", count: choices.int(300)))
        default:
            return .array((0..<choices.int(5)).map { _ in .integer(Int64(choices.int(1 << 16))) })
        }
    }

    // MARK: Random valid checkpoints

    static func randomCheckpoint(_ choices: inout Choices) -> Checkpoint {
        var tensors: [Tensor] = []
        func name(_ standard: String) -> String {
            // Mostly the conventional names; sometimes text from the input (made unique by the suffix).
            // (Tensor names are keys of the optimizer's slot map.)
            choices.int(8) == 0 ? choices.text(maxLength: 12, key: true) + "#" + standard : standard
        }
        func values(_ count: Int, _ dtype: DType, sane: Bool = false) -> TensorValues {
            switch dtype {
            case .f32: return .f32((0..<count).map { _ in sane ? Float(1 + choices.int(1000)) / 100 : choices.float() })
            case .f64: return .f64((0..<count).map { _ in sane ? Double(1 + choices.int(1000)) / 100 : choices.double() })
            }
        }
        func add(_ name: String, _ shape: [Int], _ dtype: DType, sane: Bool = false) {
            tensors.append(Tensor(name: name, shape: shape, values: values(shape.reduce(1, *), dtype, sane: sane)))
        }
        func anyDType() -> DType { choices.bool() ? .f32 : .f64 }

        let featureCount = 1 + choices.int(6)
        let features = (0..<featureCount).map { index in choices.int(4) == 0 ? choices.text(maxLength: 10) + "#\(index)" : "f\(index)" }
        var normalization = Normalization.none
        let normalizationKind = choices.int(3)
        if normalizationKind > 0 {
            let offset = name("input.offset"), scale = name("input.scale")
            add(offset, [featureCount], anyDType(), sane: true)
            add(scale, [featureCount], anyDType(), sane: true)
            normalization = normalizationKind == 1 ? .standard(offset: offset, scale: scale) : .minmax(offset: offset, scale: scale)
        }

        var layers: [LayerSpec] = []
        var width = featureCount
        var parameters: [(String, [Int])] = []
        func dense(_ outputs: Int) {
            let index = layers.count
            let dtype = anyDType()
            let weight = name("layers.\(index).weight"), bias = name("layers.\(index).bias")
            add(weight, [width, outputs], dtype)
            add(bias, [outputs], dtype)
            parameters.append((weight, [width, outputs]))
            layers.append(.dense(DenseSpec(inputs: width, outputs: outputs, weight: weight, bias: bias)))
            width = outputs
        }
        let activations: [ActivationFunction] = [.relu, .leakyRelu(slope: 0.01), .sigmoid, .tanh, .softmax, .linear]
        for _ in 0..<choices.int(6) {
            switch choices.int(4) {
            case 0: dense(1 + choices.int(6))
            case 1:
                var activation = activations[choices.int(activations.count)]
                if case .leakyRelu = activation { activation = .leakyRelu(slope: Double(choices.int(100)) / 100) }
                layers.append(.activation(activation))
            case 2:
                let index = layers.count
                let dtype = anyDType()
                let names = ["gamma", "beta", "running_mean", "running_var"].map { name("layers.\(index).\($0)") }
                for tensorName in names { add(tensorName, [width], dtype) }
                layers.append(.batchNorm(BatchNormSpec(
                    features: width, epsilon: [1e-5, 1e-3, 1e-12][choices.int(3)], momentum: Double(choices.int(101)) / 100,
                    momentumConvention: choices.bool() ? .pytorch : .keras, runningVariance: choices.bool() ? .unbiased : .biased,
                    gamma: names[0], beta: names[1], runningMean: names[2], runningVar: names[3])))
            default:
                layers.append(.dropout(rate: Double(choices.int(100)) / 100))
            }
        }
        let output: OutputSpec
        if choices.bool() {
            output = .classification(label: choices.bool() ? "label" : choices.text(maxLength: 8),
                                     classes: (0..<(2 + choices.int(4))).map { "c\($0)" + (choices.int(4) == 0 ? choices.text(maxLength: 6) : "") })
        } else {
            output = .regression(targets: (0..<(1 + choices.int(3))).map { "t\($0)" })
        }
        dense(output.width)
        if choices.bool() { layers.append(.activation(activations[choices.int(activations.count)])) }

        var verification: VerificationSpec? = nil
        if choices.bool() {
            let rows = 1 + choices.int(4)
            let dtype = anyDType()
            add("verification.inputs", [rows, featureCount], dtype)
            add("verification.outputs", [rows, output.width], dtype)
            verification = VerificationSpec(inputs: "verification.inputs", outputs: "verification.outputs",
                                            absTolerance: [0, 1e-6, 1e-3][choices.int(3)], relTolerance: [0, 1e-4][choices.int(2)])
        }
        var optimizer: OptimizerState? = nil
        if choices.bool() {
            var slots: [String: [String: String]] = [:]
            for (parameter, shape) in parameters where choices.bool() {
                let slotName = "optimizer.\(parameter).m"
                add(slotName, shape, anyDType())
                slots[parameter] = ["m": slotName]
            }
            optimizer = OptimizerState(optimizer: ["sgd", "adam", "rmsprop"][choices.int(3)], step: choices.int(100_000),
                                       hyperparameters: ["learning_rate": Double(choices.int(1000)) / 1e4], slots: slots)
        }
        var training: TrainingProvenance? = nil
        if choices.bool() {
            training = TrainingProvenance(
                hyperparameters: ["batch_size": .integer(Int64(choices.int(512))), "note": .string(choices.text(maxLength: 16)),
                                  "hidden": .array([.integer(8), .number(0.5)])],
                seed: choices.bool() ? UInt64(choices.int(1 << 30)) : nil, epochs: choices.bool() ? choices.int(100) : nil,
                dataset: choices.bool() ? DatasetInfo(name: choices.text(maxLength: 10), rows: choices.int(1000),
                                                      sha256: String(repeating: "0f", count: 32)) : nil,
                finalMetrics: ["loss": Double(choices.int(1000)) / 1000],
                history: (0..<choices.int(3)).map { ["epoch": Double($0 + 1), "loss": Double(choices.int(100)) / 10] },
                createdUnix: choices.bool() ? Int64(choices.int(1 << 30)) : nil)
        }
        var metadata: [String: String] = [:]
        for index in 0..<choices.int(3) { metadata["k\(index)" + choices.text(maxLength: 4, key: true)] = choices.text(maxLength: 20) }

        // Tensor order shuffled by the input (the format does not require the layer order).
        for index in tensors.indices.reversed() where index > 0 {
            tensors.swapAt(index, choices.int(index + 1))
        }
        return Checkpoint(writer: WriterInfo(name: "nnkit-fuzz", version: "1"), input: InputSpec(features: features, normalization: normalization),
                          layers: layers, output: output, verification: verification, optimizer: optimizer, training: training,
                          metadata: metadata, tensors: tensors)
    }

    /// Equality with tensor values compared bit for bit (NaN payloads included).
    static func sameCheckpoint(_ a: Checkpoint, _ b: Checkpoint) -> Bool {
        guard a.tensors.count == b.tensors.count else { return false }
        for (x, y) in zip(a.tensors, b.tensors) {
            guard x.name == y.name, x.shape == y.shape else { return false }
            switch (x.values, y.values) {
            case let (.f32(p), .f32(q)): guard p.map(\.bitPattern) == q.map(\.bitPattern) else { return false }
            case let (.f64(p), .f64(q)): guard p.map(\.bitPattern) == q.map(\.bitPattern) else { return false }
            default: return false
            }
        }
        var a = a, b = b
        a.tensors = []
        b.tensors = []
        return a == b
    }

    // MARK: (c) CSV: whole-file and streaming readers agree

    /// The first input byte chooses the format and column plan, the rest is the CSV text. The
    /// whole-file reader and the streaming reader (small blocks, small batches) must give the same
    /// header, rows and skipped rows, or the same error.
    public static func csv(_ bytes: [UInt8]) throws {
        let options = bytes.first ?? 0
        let text = Array(bytes.dropFirst())
        var format = CSVFormat(delimiter: [UInt8(ascii: ","), UInt8(ascii: ";"), UInt8(ascii: "\t"), UInt8(ascii: "|")][Int(options & 3)],
                               hasHeader: options & 4 == 0)
        if options & 64 != 0 { format.limits = CSVLimits(maxFieldBytes: 16, maxColumns: 6, maxRecordBytes: 64) }
        let skipBadRows = options & 8 != 0
        let planKind = Int(options >> 4) & 3
        let blockSize = options & 128 != 0 ? 16 : 4096
        let batchRows = options & 128 != 0 ? 2 : 1 << 16

        func makePlan(_ header: CSVHeader) throws -> ColumnPlan {
            switch planKind {
            case 0: return .text(header: header)
            case 1: return try .training(header: header)
            case 2: return try .training(header: header, labelKind: .numeric)
            default: return try .inference(header: header, featureNames: Array(header.names.dropLast()),
                                           label: .name(header.names.last ?? ""), keep: header.count > 2 ? [.index(0)] : [])
            }
        }

        let whole: CSVOutcome
        do {
            let file = try CSVFile(bytes: text, source: "fuzz.csv", format: format)
            let plan = try makePlan(file.header)
            whole = CSVOutcome(header: file.header.names, rows: try file.readRows(plan: plan, pool: .serial, skipBadRows: skipBadRows))
        } catch let error as CSVError {
            whole = CSVOutcome(error: error)
        } catch {
            throw FuzzFinding("CSVFile threw a non-CSVError: \(type(of: error)): \(error)")
        }

        let streamed: CSVOutcome
        let descriptor = try memoryFile(text)
        defer { close(descriptor) }
        do {
            let reader = try CSVStreamReader(fileDescriptor: descriptor, source: "fuzz.csv", format: format, blockSize: blockSize)
            let plan = try makePlan(reader.header)
            var parts: [ParsedRows] = []
            while let batch = try reader.nextBatch(plan: plan, maxRows: batchRows, skipBadRows: skipBadRows) { parts.append(batch) }
            var rows = ParsedRows.concatenating(parts, featureCount: plan.featureColumns.count)
            rows.skipped = reader.skipped
            if rows.rowCount == 0 {
                if reader.skipped.count > 0 { throw CSVError.noValidRows(source: "fuzz.csv", skipped: reader.skipped.count) }
                throw format.hasHeader ? CSVError.headerOnly(source: "fuzz.csv") : CSVError.emptyFile(source: "fuzz.csv")
            }
            streamed = CSVOutcome(header: reader.header.names, rows: rows)
        } catch let error as CSVError {
            streamed = CSVOutcome(error: error)
        } catch {
            throw FuzzFinding("CSVStreamReader threw a non-CSVError: \(type(of: error)): \(error)")
        }
        guard whole == streamed else {
            throw FuzzFinding("whole-file and streaming CSV readers disagree:\n  whole:    \(whole)\n  streamed: \(streamed)")
        }
        if let error = whole.error { try requireOneLine(error.description, what: "CSVError") }
    }

    /// What a CSV read produced, comparable across readers (labels by text, floats by bits).
    struct CSVOutcome: Equatable, CustomStringConvertible {
        var error: CSVError?
        var header: [String] = []
        var rowCount = 0
        var featureBits: [UInt32] = []
        var labels: [String] = []
        var targetBits: [UInt32] = []
        var keep: [[String]] = []
        var skipped = SkippedRows()

        init(error: CSVError) { self.error = error }
        init(header: [String], rows: ParsedRows) {
            self.header = header
            rowCount = rows.rowCount
            featureBits = rows.features.map(\.bitPattern)
            labels = rows.labels
            targetBits = rows.targets.map(\.bitPattern)
            keep = rows.keep
            skipped = rows.skipped
        }

        var description: String {
            if let error { return "error: \(error)" }
            return "\(rowCount) rows, header \(header), labels \(labels.prefix(5)), keep \(keep.map { $0.prefix(3) }), skipped \(skipped.count) \(skipped.firstReasons.prefix(2))"
        }
    }

    /// An anonymous file (created in /tmp and unlinked at once) holding `bytes`, positioned at its start.
    static func memoryFile(_ bytes: [UInt8]) throws -> Int32 {
        var template = Array("/tmp/nnkit-fuzz-csv-XXXXXX".utf8CString)
        let descriptor = template.withUnsafeMutableBufferPointer { mkstemp($0.baseAddress!) }
        guard descriptor >= 0 else { throw FuzzFinding("mkstemp failed: \(String(cString: strerror(errno)))") }
        template.withUnsafeBufferPointer { _ = unlink($0.baseAddress!) }
        var written = 0
        while written < bytes.count {
            let result = bytes.withUnsafeBytes { write(descriptor, $0.baseAddress! + written, bytes.count - written) }
            guard result > 0 else { close(descriptor); throw FuzzFinding("write to memfd failed") }
            written += result
        }
        lseek(descriptor, 0, SEEK_SET)
        return descriptor
    }

    // MARK: (d) the --layers parser

    /// Parsing returns layers within the documented ranges, or throws an ArchitectureError.
    public static func layers(_ bytes: [UInt8]) throws {
        let spec = String(decoding: bytes, as: UTF8.self)
        let parsed: [HiddenLayer]
        do {
            parsed = try Architecture.parse(spec)
        } catch let error as ArchitectureError {
            guard !error.description.isEmpty else { throw FuzzFinding("empty ArchitectureError message") }
            if !spec.contains(where: \.isNewline) { try requireOneLine(error.description, what: "ArchitectureError") }
            return
        } catch {
            throw FuzzFinding("Architecture.parse threw a non-ArchitectureError: \(type(of: error)): \(error)")
        }
        guard !parsed.isEmpty else { throw FuzzFinding("Architecture.parse accepted \(spec.debugDescription) but returned no layers") }
        guard parsed.count <= 2 * Architecture.maxItems else { throw FuzzFinding("\(parsed.count) layers from at most \(Architecture.maxItems) items") }
        for layer in parsed {
            switch layer {
            case .dense(let units):
                guard (1...Architecture.maxUnits).contains(units) else { throw FuzzFinding("dense width \(units) out of range") }
            case .activation(let name, let slope):
                guard name != .softmax else { throw FuzzFinding("softmax accepted as a hidden activation") }
                if let slope { guard slope.isFinite, slope >= 0, slope < 1, name == .leakyRelu else { throw FuzzFinding("bad slope \(slope) for \(name)") } }
            case .batchnorm(let momentum):
                if let momentum { guard momentum > 0, momentum < 1 else { throw FuzzFinding("batchnorm momentum \(momentum) out of (0, 1)") } }
            case .dropout(let rate):
                guard rate >= 0, rate < 1 else { throw FuzzFinding("dropout rate \(rate) out of [0, 1)") }
            }
        }
    }

    // MARK: (e) manifest JSON

    /// JSON.parse returns a value within the depth cap that serializes and parses back to itself,
    /// or throws a JSONError; and the same bytes used as a checkpoint's manifest (behind a valid
    /// header with correct checksums) decode or throw a CheckpointError.
    public static func manifestJSON(_ bytes: [UInt8]) throws {
        for maxDepth in [JSONValue.defaultMaxDepth, 3] {
            let value: JSONValue
            do {
                value = try JSONValue.parse(bytes, maxDepth: maxDepth)
            } catch let error as JSONError {
                try requireOneLine(error.description, what: "JSONError")
                continue
            } catch {
                throw FuzzFinding("JSON.parse threw a non-JSONError: \(type(of: error)): \(error)")
            }
            let depth = nestingDepth(value)
            guard depth <= maxDepth else { throw FuzzFinding("JSON.parse returned a value nested \(depth) deep with maxDepth \(maxDepth)") }
            let text: [UInt8]
            do {
                text = try value.serializedBytes()
            } catch {
                throw FuzzFinding("a parsed JSON value does not serialize: \(error)")
            }
            let again: JSONValue
            do {
                again = try JSONValue.parse(text, maxDepth: maxDepth)
            } catch {
                throw FuzzFinding("serialized JSON does not parse back: \(error)\n  text: \(String(decoding: text, as: UTF8.self))")
            }
            guard again == value else {
                throw FuzzFinding("JSON does not round-trip: \(String(decoding: text, as: UTF8.self))")
            }
        }
        try decodeAndReencode(checkpointFile(manifest: bytes), what: "a checkpoint around the input as manifest")
    }

    /// A header with correct checksums, then `manifest`, then nothing.
    public static func checkpointFile(manifest: [UInt8]) -> [UInt8] {
        var file: [UInt8] = [0x89, 0x4E, 0x4E, 0x43, 0x4B, 0x0D, 0x0A, 0x1A]
        file += [UInt8](repeating: 0, count: 24)
        setLE(&file, 8, 1, bytes: 2)
        setLE(&file, 16, UInt64(manifest.count), bytes: 8)
        file += manifest
        fixChecksums(&file)
        return file
    }

    // MARK: (f) Inflate against zlib

    /// The first two input bytes (little-endian) are the expected output size, the rest a raw
    /// deflate stream. nnkit's decoder (`Inflate.decode`) and zlib's bounded inflate with the exact
    /// size check (`Zlib.inflate`) must give the same output, or the same `ZlibError` (case, zlib's
    /// message, byte counts).
    public static func inflate(_ bytes: [UInt8]) throws {
        let size = Int(bytes.first ?? 0) | Int(bytes.dropFirst().first ?? 0) << 8
        let stream = Array(bytes.dropFirst(2))
        func outcome(_ decode: (UnsafeRawBufferPointer, UnsafeMutableRawBufferPointer) throws -> Void) throws -> Result<[UInt8], ZlibError> {
            var output = [UInt8](repeating: 0, count: size)
            do {
                try output.withUnsafeMutableBytes { out in try stream.withUnsafeBytes { try decode($0, out) } }
                return .success(output)
            } catch let error as ZlibError {
                return .failure(error)
            } catch {
                throw FuzzFinding("a decoder threw a non-ZlibError: \(type(of: error)): \(error)")
            }
        }
        let zlib = try outcome { try Zlib.inflate($0, into: $1, container: .raw) }
        let ours = try outcome { try Inflate.decode($0, into: $1) }
        guard zlib == ours else {
            func text(_ result: Result<[UInt8], ZlibError>) -> String {
                switch result {
                case .success(let output): return "\(output.count) bytes"
                case .failure(let error): return "\(error)"
                }
            }
            throw FuzzFinding("size \(size), \(stream.count)-byte stream: zlib \(text(zlib)), Inflate \(text(ours))"
                              + (zlib.isSuccess && ours.isSuccess ? " (different bytes)" : ""))
        }
    }

    static func nestingDepth(_ value: JSONValue) -> Int {
        switch value {
        case .array(let elements): return 1 + (elements.map(nestingDepth).max() ?? 0)
        case .object(let members): return 1 + (members.map { nestingDepth($0.1) }.max() ?? 0)
        default: return 0
        }
    }

    // MARK: Helpers

    /// Every error must say something. (Messages may span lines when they quote the input's own
    /// text, e.g. a quoted CSV field holding a line break; that is reported, not treated as a crash.)
    static func requireOneLine(_ message: String, what: String) throws {
        guard !message.isEmpty else { throw FuzzFinding("\(what) with an empty message") }
    }

    static func readLE(_ bytes: [UInt8], _ at: Int, bytes count: Int) -> UInt64 {
        (0..<count).reduce(0) { $0 | UInt64(bytes[at + $1]) << (8 * UInt64($1)) }
    }

    static func setLE(_ bytes: inout [UInt8], _ at: Int, _ value: UInt64, bytes count: Int) {
        for k in 0..<count { bytes[at + k] = UInt8(truncatingIfNeeded: value >> (8 * UInt64(k))) }
    }
}

/// The fuzz input read as a stream of choices; once it is used up, a generator seeded from it
/// continues, so every input describes a complete model.
struct Choices {
    private let bytes: [UInt8]
    private var position = 0
    private var state: UInt64

    init(_ bytes: [UInt8]) {
        self.bytes = bytes
        state = bytes.reduce(0x9E37_79B9_7F4A_7C15) { ($0 ^ UInt64($1)) &* 0x100_0000_01B3 }
    }

    mutating func byte() -> UInt8 {
        if position < bytes.count {
            defer { position += 1 }
            return bytes[position]
        }
        // SplitMix64.
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return UInt8(truncatingIfNeeded: z ^ (z >> 31))
    }

    /// A number in 0..<bound (0 when bound ≤ 1).
    mutating func int(_ bound: Int) -> Int {
        guard bound > 1 else { return 0 }
        var value: UInt64 = 0
        for _ in 0..<(bound <= 256 ? 1 : bound <= 65_536 ? 2 : 4) { value = value << 8 | UInt64(byte()) }
        return Int(value % UInt64(bound))
    }

    mutating func bool() -> Bool { byte() & 1 == 1 }

    /// Any bit pattern, NaN and infinities included.
    mutating func float() -> Float { Float(bitPattern: UInt32(truncatingIfNeeded: int(1 << 30) << 2 | int(4))) }
    mutating func double() -> Double {
        if bool() { return Double(float()) }
        var bits: UInt64 = 0
        for _ in 0..<8 { bits = bits << 8 | UInt64(byte()) }
        return Double(bitPattern: bits)
    }

    /// Text from the input's bytes (possibly invalid UTF-8, repaired by the decoding). `key`: text
    /// that ends up as a JSON object key, where U+0000 cannot be stored (the writer refuses it).
    mutating func text(maxLength: Int, key: Bool = false) -> String {
        String(decoding: (0..<int(maxLength + 1)).map { _ in byte() }.map { key && $0 == 0 ? 0x20 : $0 }, as: UTF8.self)
    }
}

extension Result {
    var isSuccess: Bool { if case .success = self { return true } else { return false } }
}
