// The compatibility fixtures: how they are built (only when regenerating) and where they live.
import Foundation
import NNFormat
import NNJSON

enum Paths {
    /// Repository root, from this file's location (Tests/NNFormatTests/Fixtures.swift).
    static let root: String = {
        var url = URL(fileURLWithPath: #filePath)
        for _ in 0..<3 { url.deleteLastPathComponent() }
        return url.path
    }()
    static let fixtures = root + "/fixtures/checkpoints"
    static let referenceReader = root + "/formats/reference/nnck_read.py"
    static let schema = root + "/formats/manifest.schema.json"
    static func fixture(_ name: String) -> String { "\(fixtures)/\(name).nnck" }

    /// "python3" when one is on PATH (run through /usr/bin/env), else nil.
    static func python3() -> String? {
        let path = ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin"
        let found = path.split(separator: ":").contains { FileManager.default.isExecutableFile(atPath: "\($0)/python3") }
        return found ? "python3" : nil
    }
}

/// Deterministic pseudo-random numbers for fixture weights (no dependence on other modules).
struct FixtureRandom {
    var state: UInt64
    mutating func next() -> Double {
        state = state &* 6364136223846793005 &+ 1442695040888963407
        return Double(state >> 11) / Double(1 << 53)
    }
    /// Values in -scale ..< scale, rounded to 1/1024 so they are exact in f32 and print briefly.
    mutating func values(_ count: Int, scale: Double = 1) -> [Double] {
        (0..<count).map { _ in ((next() * 2 - 1) * scale * 1024).rounded() / 1024 }
    }
}

struct Fixture {
    var name: String
    var covers: String
    var checkpoint: Checkpoint
    var options: WriterOptions
    /// Rows (raw inputs) of the fixture's input CSV.
    var inputRows: [[Double]]
}

enum FixtureFactory {
    static let writer = WriterInfo(name: "nnkit", version: "0.1.0")
    /// The deflate profile that wrote the committed fixtures (the writer's default before the
    /// per-plane profile); rewriting a fixture with it gives back its bytes.
    static let deflateProfile = DeflateProfile.wholeChunk(level: 1, strategy: .rle)

    static func all() throws -> [Fixture] {
        [try seed31(), try allLayers(), try f64Regression(), try chunkedMixed(), try minimal()]
    }

    /// Tensors of dtype `dtype` from Double values.
    static func tensor(_ name: String, _ shape: [Int], _ values: [Double], _ dtype: DType) -> Tensor {
        dtype == .f32 ? Tensor(name: name, shape: shape, floats: values.map(Float.init))
                      : Tensor(name: name, shape: shape, doubles: values)
    }

    /// Adds verification vectors computed with the test's own Double forward pass.
    static func addVerification(_ checkpoint: inout Checkpoint, rows: [[Double]], dtype: DType, abs: Double, rel: Double) throws {
        // Stored inputs are rounded to the dtype: compute the outputs from what is stored.
        let rows = dtype == .f32 ? rows.map { $0.map { Double(Float($0)) } } : rows
        let outputs = try rows.map { try ReferenceForward.run(checkpoint, $0) }
        let features = checkpoint.input.features.count
        checkpoint.tensors.append(tensor("verification.inputs", [rows.count, features], rows.flatMap { $0 }, dtype))
        checkpoint.tensors.append(tensor("verification.outputs", [rows.count, checkpoint.output.width], outputs.flatMap { $0 }, dtype))
        checkpoint.verification = VerificationSpec(inputs: "verification.inputs", outputs: "verification.outputs",
                                                   absTolerance: abs, relTolerance: rel)
    }

    /// The course text's Exercise 3.1: x = [1, 2] → logits [0.44, −0.22] → softmax.
    static func seed31() throws -> Fixture {
        var checkpoint = Checkpoint(
            writer: writer, input: InputSpec(features: ["x1", "x2"]),
            layers: [.dense(DenseSpec(inputs: 2, outputs: 3, weight: "layers.0.weight", bias: "layers.0.bias")),
                     .activation(.relu),
                     .dense(DenseSpec(inputs: 3, outputs: 2, weight: "layers.2.weight", bias: "layers.2.bias")),
                     .activation(.softmax)],
            output: .classification(label: "y", classes: ["class_0", "class_1"]),
            metadata: ["source": "course text, Exercise 3.1 (W1 2x3, b1, W2 3x2, b2)"],
            tensors: [
                Tensor(name: "layers.0.weight", shape: [2, 3], doubles: [0.1, 0.2, -0.1, 0.3, -0.2, 0.4]),
                Tensor(name: "layers.0.bias", shape: [3], doubles: [0.1, 0.0, -0.1]),
                Tensor(name: "layers.2.weight", shape: [3, 2], doubles: [0.5, -0.3, 0.2, 0.4, -0.1, 0.2]),
                Tensor(name: "layers.2.bias", shape: [2], doubles: [0.1, -0.1]),
            ])
        // The text's logits are exactly [0.44, -0.22]; probabilities computed in Double from them.
        let logits = [0.44, -0.22]
        let top = logits.max()!
        let exps = logits.map { Foundation.exp($0 - top) }
        let probabilities = exps.map { $0 / exps.reduce(0, +) }
        checkpoint.tensors.append(Tensor(name: "verification.inputs", shape: [1, 2], doubles: [1, 2]))
        checkpoint.tensors.append(Tensor(name: "verification.outputs", shape: [1, 2], doubles: probabilities))
        checkpoint.verification = VerificationSpec(inputs: "verification.inputs", outputs: "verification.outputs",
                                                   absTolerance: 1e-12, relTolerance: 1e-12)
        return Fixture(name: "seed-3.1", covers: "Exercise 3.1 network with its exact weights, f64, raw codec, softmax classifier, verification vectors",
                       checkpoint: checkpoint, options: WriterOptions(codec: .raw, deflate: deflateProfile), inputRows: [[1, 2], [0, 0], [-1, 0.5], [3, -2]])
    }

    /// Every layer kind and activation, f32, shuffle+deflate, standard normalization, optimizer state, provenance.
    static func allLayers() throws -> Fixture {
        var random = FixtureRandom(state: 1)
        let features = ["sepal_length", "sepal_width", "petal_length", "petal_width"]
        var tensors = [
            tensor("input.offset", [4], [5.8, 3.05, 3.76, 1.2], .f32),
            tensor("input.scale", [4], [0.83, 0.43, 1.76, 0.76], .f32),
        ]
        var layers: [LayerSpec] = []
        func dense(_ index: Int, _ inputs: Int, _ outputs: Int) {
            tensors.append(tensor("layers.\(index).weight", [inputs, outputs], random.values(inputs * outputs, scale: 0.8), .f32))
            tensors.append(tensor("layers.\(index).bias", [outputs], random.values(outputs, scale: 0.1), .f32))
            layers.append(.dense(DenseSpec(inputs: inputs, outputs: outputs, weight: "layers.\(index).weight", bias: "layers.\(index).bias")))
        }
        dense(0, 4, 8)
        tensors.append(tensor("layers.1.gamma", [8], random.values(8, scale: 0.2).map { 1 + $0 }, .f32))
        tensors.append(tensor("layers.1.beta", [8], random.values(8, scale: 0.1), .f32))
        tensors.append(tensor("layers.1.running_mean", [8], random.values(8, scale: 0.5), .f32))
        tensors.append(tensor("layers.1.running_var", [8], random.values(8, scale: 0.4).map { 1 + $0 }, .f32))
        layers.append(.batchNorm(BatchNormSpec(features: 8, epsilon: 1e-5, momentum: 0.1, momentumConvention: .pytorch,
                                               runningVariance: .unbiased, gamma: "layers.1.gamma", beta: "layers.1.beta",
                                               runningMean: "layers.1.running_mean", runningVar: "layers.1.running_var")))
        layers.append(.activation(.relu))
        layers.append(.dropout(rate: 0.2))
        dense(4, 8, 6)
        layers.append(.activation(.leakyRelu(slope: 0.01)))
        dense(6, 6, 6)
        layers.append(.activation(.sigmoid))
        dense(8, 6, 5)
        layers.append(.activation(.tanh))
        dense(10, 5, 4)
        layers.append(.activation(.linear))
        dense(12, 4, 3)
        layers.append(.activation(.softmax))
        // Adam slots for the first dense layer only (keeps the fixture small).
        tensors.append(tensor("optimizer.layers.0.weight.m", [4, 8], random.values(32, scale: 0.01), .f32))
        tensors.append(tensor("optimizer.layers.0.weight.v", [4, 8], random.values(32, scale: 0.001).map(Swift.abs), .f32))
        var checkpoint = Checkpoint(
            writer: writer,
            input: InputSpec(features: features, normalization: .standard(offset: "input.offset", scale: "input.scale")),
            layers: layers, output: .classification(label: "species", classes: ["setosa", "versicolor", "virginica"]),
            optimizer: OptimizerState(optimizer: "adam", step: 1200,
                                      hyperparameters: ["beta1": 0.9, "beta2": 0.999, "epsilon": 1e-8, "learning_rate": 0.001],
                                      slots: ["layers.0.weight": ["m": "optimizer.layers.0.weight.m", "v": "optimizer.layers.0.weight.v"]]),
            training: TrainingProvenance(
                hyperparameters: ["batch_size": .integer(32), "learning_rate": .number(0.001), "optimizer": .string("adam"),
                                  "hidden": .array([.integer(8), .integer(6)])],
                seed: 42, epochs: 3,
                dataset: DatasetInfo(name: "iris-like", rows: 150, sha256: String(repeating: "0123456789abcdef", count: 4)),
                finalMetrics: ["accuracy": 0.9533333333333334, "loss": 0.1375],
                history: [["epoch": 1, "loss": 0.9, "accuracy": 0.6], ["epoch": 2, "loss": 0.4, "accuracy": 0.88],
                          ["epoch": 3, "loss": 0.1375, "accuracy": 0.9533333333333334]],
                createdUnix: 1_700_000_000),
            metadata: ["license": "CC0-1.0", "note": "synthetic weights; ünïcode ✓ and \"quotes\""],
            tensors: tensors)
        let rows = [[5.1, 3.5, 1.4, 0.2], [6.2, 2.9, 4.3, 1.3], [7.7, 3.0, 6.1, 2.3]]
        try addVerification(&checkpoint, rows: rows, dtype: .f32, abs: 1e-5, rel: 1e-4)
        return Fixture(name: "all-layers-f32-shuffle", covers: "every layer kind and activation, batchnorm pytorch/unbiased, dropout, standard normalization, f32, shuffle+deflate, optimizer state, training provenance, metadata with non-ASCII text",
                       checkpoint: checkpoint, options: WriterOptions(codec: .shuffleDeflate, deflate: deflateProfile, sourceDateEpoch: nil),
                       inputRows: rows + [[4.9, 3.0, 1.4, 0.2], [5.9, 3.0, 5.1, 1.8]])
    }

    /// Regression, f64, deflate, min-max normalization, batchnorm keras/biased.
    static func f64Regression() throws -> Fixture {
        var random = FixtureRandom(state: 7)
        let tensors = [
            tensor("input.offset", [3], [0, -1, 10], .f64),
            tensor("input.scale", [3], [2, 4, 0.5], .f64),
            tensor("layers.0.weight", [3, 5], random.values(15), .f64),
            tensor("layers.0.bias", [5], random.values(5, scale: 0.1), .f64),
            tensor("layers.1.gamma", [5], random.values(5, scale: 0.2).map { 1 + $0 }, .f64),
            tensor("layers.1.beta", [5], random.values(5, scale: 0.1), .f64),
            tensor("layers.1.running_mean", [5], random.values(5, scale: 0.3), .f64),
            tensor("layers.1.running_var", [5], random.values(5, scale: 0.3).map { 1 + $0 }, .f64),
            tensor("layers.3.weight", [5, 2], random.values(10), .f64),
            tensor("layers.3.bias", [2], random.values(2, scale: 0.1), .f64),
        ]
        var checkpoint = Checkpoint(
            writer: writer,
            input: InputSpec(features: ["area", "rooms", "age"], normalization: .minmax(offset: "input.offset", scale: "input.scale")),
            layers: [.dense(DenseSpec(inputs: 3, outputs: 5, weight: "layers.0.weight", bias: "layers.0.bias")),
                     .batchNorm(BatchNormSpec(features: 5, epsilon: 0.001, momentum: 0.99, momentumConvention: .keras,
                                              runningVariance: .biased, gamma: "layers.1.gamma", beta: "layers.1.beta",
                                              runningMean: "layers.1.running_mean", runningVar: "layers.1.running_var")),
                     .activation(.tanh),
                     .dense(DenseSpec(inputs: 5, outputs: 2, weight: "layers.3.weight", bias: "layers.3.bias"))],
            output: .regression(targets: ["price", "days_on_market"]),
            training: TrainingProvenance(seed: 3, epochs: 10, finalMetrics: ["mse": 0.25]),
            tensors: tensors)
        let rows = [[1.0, 2.0, 10.5], [-3.5, 0.25, 9.0]]
        try addVerification(&checkpoint, rows: rows, dtype: .f64, abs: 1e-12, rel: 1e-12)
        return Fixture(name: "f64-deflate", covers: "regression output, f64, deflate codec, min-max normalization, batchnorm keras/biased, no final activation",
                       checkpoint: checkpoint, options: WriterOptions(codec: .deflate, deflate: deflateProfile),
                       inputRows: rows + [[0, 0, 0], [2, -1, 11]])
    }

    /// Multi-chunk tensors in both deflate codecs, raw next to them, an empty tensor, a scalar and a rank-3 tensor.
    static func chunkedMixed() throws -> Fixture {
        var random = FixtureRandom(state: 11)
        var tensors = [
            tensor("layers.0.weight", [16, 32], random.values(512, scale: 0.5), .f32),
            tensor("layers.0.bias", [32], random.values(32, scale: 0.1), .f32),
            tensor("layers.2.weight", [32, 2], random.values(64, scale: 0.5), .f64),
            tensor("layers.2.bias", [2], random.values(2, scale: 0.1), .f64),
            tensor("extra.scalar", [], [0.5], .f32),
            tensor("extra.rank3", [2, 3, 4], random.values(24), .f64),
            tensor("extra.empty", [0, 3], [], .f32),
        ]
        tensors.append(tensor("extra.special", [5], [-0.0, 1e-30, 3.4028234663852886e38, 1.17549435e-38, -123456.789], .f32))
        var checkpoint = Checkpoint(
            writer: writer,
            input: InputSpec(features: (0..<16).map { "f\($0)" }),
            layers: [.dense(DenseSpec(inputs: 16, outputs: 32, weight: "layers.0.weight", bias: "layers.0.bias")),
                     .activation(.relu),
                     .dense(DenseSpec(inputs: 32, outputs: 2, weight: "layers.2.weight", bias: "layers.2.bias")),
                     .activation(.sigmoid)],
            output: .classification(label: "target", classes: ["no", "yes"]),
            tensors: tensors)
        let rows = [Array(random.values(16, scale: 2)), Array(random.values(16, scale: 2))]
        try addVerification(&checkpoint, rows: rows, dtype: .f32, abs: 1e-5, rel: 1e-4)
        let options = WriterOptions(codec: .shuffleDeflate,
                                    codecs: ["layers.0.bias": .raw, "layers.2.weight": .deflate, "extra.rank3": .deflate,
                                             "extra.scalar": .raw, "extra.empty": .deflate],
                                    chunkSize: 256, chunkSizes: ["layers.2.weight": 128], deflate: deflateProfile)
        return Fixture(name: "chunked-mixed-codecs", covers: "multi-chunk tensors (256- and 128-byte chunks, last chunk short) in shuffle+deflate and deflate, raw tensors beside them, f32 and f64 in one file, an empty tensor, a scalar, a rank-3 tensor, -0 and extreme f32 values, unreferenced tensors",
                       checkpoint: checkpoint, options: options, inputRows: rows)
    }

    /// The smallest useful file: one feature, one dense unit, raw f32, no optional sections.
    static func minimal() throws -> Fixture {
        let checkpoint = Checkpoint(
            writer: writer, input: InputSpec(features: ["x"]),
            layers: [.dense(DenseSpec(inputs: 1, outputs: 1, weight: "w", bias: "b"))],
            output: .regression(targets: ["y"]),
            tensors: [Tensor(name: "w", shape: [1, 1], floats: [2]), Tensor(name: "b", shape: [1], floats: [-1])])
        return Fixture(name: "minimal-raw", covers: "smallest model: y = 2x - 1, one dense unit, f32, raw codec, no optional sections (used for truncation and bit-flip tests)",
                       checkpoint: checkpoint, options: WriterOptions(codec: .raw, deflate: deflateProfile), inputRows: [[0], [1], [2.5]])
    }
}

/// A plain Double forward pass written from the spec, to compute and check verification vectors.
enum ReferenceForward {
    static func run(_ checkpoint: Checkpoint, _ row: [Double]) throws -> [Double] {
        func values(_ name: String) -> [Double] { checkpoint.tensor(named: name)!.values.doubles }
        var x = row
        if let offset = checkpoint.input.normalization.offset, let scale = checkpoint.input.normalization.scale {
            let o = values(offset), s = values(scale)
            x = x.indices.map { (x[$0] - o[$0]) / s[$0] }
        }
        for layer in checkpoint.layers {
            switch layer {
            case .dense(let d):
                let w = values(d.weight), b = values(d.bias)
                x = (0..<d.outputs).map { j in (0..<d.inputs).reduce(b[j]) { $0 + x[$1] * w[$1 * d.outputs + j] } }
            case .batchNorm(let n):
                let g = values(n.gamma), b = values(n.beta), m = values(n.runningMean), v = values(n.runningVar)
                x = x.indices.map { g[$0] * (x[$0] - m[$0]) / (v[$0] + n.epsilon).squareRoot() + b[$0] }
            case .dropout:
                break
            case .activation(let f):
                switch f {
                case .relu: x = x.map { max(0, $0) }
                case .leakyRelu(let slope): x = x.map { $0 > 0 ? $0 : slope * $0 }
                case .sigmoid: x = x.map { 1 / (1 + Foundation.exp(-$0)) }
                case .tanh: x = x.map { Foundation.tanh($0) }
                case .linear: break
                case .softmax:
                    let top = x.max()!
                    let e = x.map { Foundation.exp($0 - top) }
                    let sum = e.reduce(0, +)
                    x = e.map { $0 / sum }
                }
            }
        }
        return x
    }
}
