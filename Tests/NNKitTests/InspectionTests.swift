import Foundation
import NNEngine
import NNData
import NNFormat
import NNJSON
import XCTest
@testable import NNKit

/// The inspection logic on small hand-made checkpoints (the built tool on the fixtures is tested in
/// NNToolsTests/NNInspectTests).
final class InspectionTests: XCTestCase {
    // MARK: Statistics

    func testStatisticsCountSpecialValuesApartAndHistogramTheFiniteOnes() {
        let stats = TensorStatistics(.f32([1, 2, 3, 4, 0, .nan, .infinity, -.infinity]))
        XCTAssertEqual(stats.count, 8)
        XCTAssertEqual(stats.finiteCount, 5)
        XCTAssertEqual(stats.nanCount, 1)
        XCTAssertEqual(stats.infinityCount, 2)
        XCTAssertEqual(stats.zeroCount, 1)
        XCTAssertEqual(stats.zeroFraction, 1.0 / 8)
        XCTAssertEqual(stats.min, 0)
        XCTAssertEqual(stats.max, 4)
        XCTAssertEqual(stats.mean, 2)
        XCTAssertEqual(stats.std!, 2.0.squareRoot(), accuracy: 1e-15)  // population std of 0...4
        // Bins of width 0.4 over [0, 4]: 0 → 0, 1 → 2, 2 → 5, 3 → 7, 4 → 9 (the last bin holds max).
        XCTAssertEqual(stats.histogram, [1, 0, 1, 0, 0, 1, 0, 1, 0, 1])
        XCTAssertEqual(stats.sparkline, "█ █  █ █ █")
    }

    func testSparklineScalesToTheFullestBinAndKeepsSmallBinsVisible() {
        // 100 values in bin 0, 1 value in bin 9.
        let stats = TensorStatistics(.f64(Array(repeating: 0, count: 100) + [1]))
        XCTAssertEqual(stats.histogram, [100, 0, 0, 0, 0, 0, 0, 0, 0, 1])
        XCTAssertEqual(stats.sparkline, "█        ▁")
    }

    func testStatisticsOfEmptyConstantAndHugeRangeTensors() throws {
        let empty = TensorStatistics(.f32([]))
        XCTAssertNil(empty.min)
        XCTAssertNil(empty.std)
        XCTAssertEqual(empty.histogram, [])
        XCTAssertEqual(empty.sparkline, "")
        XCTAssertEqual(empty.zeroFraction, 0)

        let constant = TensorStatistics(.f32([0.5, 0.5, 0.5]))
        XCTAssertEqual(constant.std, 0)
        XCTAssertEqual(constant.histogram, [3, 0, 0, 0, 0, 0, 0, 0, 0, 0])
        XCTAssertEqual(constant.sparkline, "constant")

        let onlyNaN = TensorStatistics(.f64([.nan, .nan]))
        XCTAssertEqual(onlyNaN.nanCount, 2)
        XCTAssertNil(onlyNaN.mean)

        // A range wider than Double can hold must not overflow the bin arithmetic.
        let huge = TensorStatistics(.f64([-1e308, 1e308, 0]))
        XCTAssertEqual(huge.histogram, [1, 0, 0, 0, 0, 1, 0, 0, 0, 1])
        // The JSON form stays serializable (no NaN/Inf numbers).
        XCTAssertNoThrow(try huge.json.serialized())
        XCTAssertNoThrow(try onlyNaN.json.serialized())
    }

    // MARK: Description

    /// dense(2→3) · batchnorm(3) · relu · dropout · dense(3→2) · softmax, standard normalization,
    /// one unused tensor, optimizer slots, provenance and metadata.
    func sampleCheckpoint(weight0: [Float] = [0.1, -0.2, 0.3, 0.4, 0.5, -0.6], dropout: Double = 0.25) -> Checkpoint {
        let tensors = [
            Tensor(name: "input.offset", shape: [2], floats: [1, 2]),
            Tensor(name: "input.scale", shape: [2], floats: [2, 4]),
            Tensor(name: "layers.0.weight", shape: [2, 3], floats: weight0),
            Tensor(name: "layers.0.bias", shape: [3], floats: [0, 0.1, -0.1]),
            Tensor(name: "layers.1.gamma", shape: [3], floats: [1, 1, 1]),
            Tensor(name: "layers.1.beta", shape: [3], floats: [0, 0, 0]),
            Tensor(name: "layers.1.running_mean", shape: [3], floats: [0.1, 0.2, 0.3]),
            Tensor(name: "layers.1.running_var", shape: [3], floats: [1, 2, 3]),
            Tensor(name: "layers.4.weight", shape: [3, 2], floats: [1, -1, 0.5, 0.25, -0.5, 2]),
            Tensor(name: "layers.4.bias", shape: [2], floats: [0.01, -0.01]),
            Tensor(name: "optimizer.layers.4.bias.velocity", shape: [2], floats: [0, 0]),
            Tensor(name: "notes.extra", shape: [], floats: [7]),
        ]
        let layers: [NNFormat.LayerSpec] = [
            .dense(DenseSpec(inputs: 2, outputs: 3, weight: "layers.0.weight", bias: "layers.0.bias")),
            .batchNorm(BatchNormSpec(features: 3, epsilon: 1e-5, momentum: 0.1, momentumConvention: .pytorch, runningVariance: .unbiased,
                                     gamma: "layers.1.gamma", beta: "layers.1.beta",
                                     runningMean: "layers.1.running_mean", runningVar: "layers.1.running_var")),
            .activation(.relu),
            .dropout(rate: dropout),
            .dense(DenseSpec(inputs: 3, outputs: 2, weight: "layers.4.weight", bias: "layers.4.bias")),
            .activation(.softmax),
        ]
        return Checkpoint(
            writer: WriterInfo(name: "nnkit", version: NNKitVersion.string),
            input: InputSpec(features: ["a", "b"], normalization: .standard(offset: "input.offset", scale: "input.scale")),
            layers: layers, output: .classification(label: "kind", classes: ["cat", "dog"]),
            optimizer: OptimizerState(optimizer: "sgd", step: 12, hyperparameters: ["learning_rate": 0.1],
                                      slots: ["layers.4.bias": ["velocity": "optimizer.layers.4.bias.velocity"]]),
            training: TrainingProvenance(hyperparameters: ["batch_size": .integer(8)], seed: 5, epochs: 2,
                                         dataset: DatasetInfo(name: "pets", rows: 10, sha256: String(repeating: "ab", count: 32)),
                                         finalMetrics: ["accuracy": 0.75], history: [["loss": 1], ["loss": 0.5]]),
            metadata: ["note": "line one\nline two"],
            tensors: tensors)
    }

    func describe(_ checkpoint: Checkpoint, codec: Codec = .shuffleDeflate, source: String = "sample.nnck") throws -> CheckpointDescription {
        let bytes = try CheckpointWriter.encode(checkpoint, options: WriterOptions(codec: codec))
        return CheckpointDescription(try CheckpointReader.decodeDetailed(bytes: bytes, source: source), source: source)
    }

    func testLayerTableCountsParametersLikeKeras() throws {
        let description = try describe(sampleCheckpoint())
        XCTAssertEqual(description.layers.map(\.kind), ["dense", "batchnorm", "activation", "dropout", "dense", "activation"])
        XCTAssertEqual(description.layers.map(\.outputWidth), [3, 3, 3, 3, 2, 2])
        XCTAssertEqual(description.layers.map(\.parameters), [9, 12, 0, 0, 8, 0])
        XCTAssertEqual(description.layers[1].nonTrainableParameters, 6)  // running mean and variance
        XCTAssertEqual(description.totalParameters, 29)
        XCTAssertEqual(description.trainableParameters, 23)
        XCTAssertEqual(description.nonTrainableParameters, 6)
        XCTAssertEqual(description.layers[3].settings, "rate 0.25 (identity at inference)")
        XCTAssertEqual(description.roles["layers.1.running_var"], "layer 1 batchnorm running variance")
        XCTAssertEqual(description.roles["optimizer.layers.4.bias.velocity"], "optimizer slot velocity of layers.4.bias")
        XCTAssertEqual(description.roles["notes.extra"], "unused")
        XCTAssertEqual(description.rawTensorBytes, 4 * (2 + 2 + 6 + 3 + 4 * 3 + 6 + 2 + 2 + 1))
    }

    func testTextIsOneLinePerItemWithoutTrailingSpaces() throws {
        let text = try describe(sampleCheckpoint()).text()
        XCTAssertTrue(text.contains("Parameters: 29 total, 23 trainable, 6 non-trainable"), text)
        XCTAssertTrue(text.contains("Output: classification of kind into 2 classes: cat, dog"), text)
        XCTAssertTrue(text.contains("Optimizer state: sgd, step 12, learning_rate 0.1; 1 slot tensor for 1 parameter"), text)
        XCTAssertTrue(text.contains("  note: \"line one\\nline two\""), "a newline in metadata is escaped: \(text)")
        XCTAssertTrue(text.contains("Unused tensors (stored, referenced by nothing): notes.extra"), text)
        XCTAssertTrue(text.contains("  history: 2 entries"), text)
        for line in text.split(separator: "\n") { XCTAssertFalse(line.hasSuffix(" "), "trailing space: '\(line)'") }
        for line in try describe(sampleCheckpoint()).weightsText().split(separator: "\n") {
            XCTAssertFalse(line.hasSuffix(" "), "trailing space: '\(line)'")
        }
    }

    func testManyFeatureNamesAreAbbreviated() {
        let names = (0..<64).map { "px\($0)" }
        XCTAssertEqual(InspectText.names(names), "px0, px1, px2, px3, px4, px5, px6, px7, px8, px9, px10, px11, …, px61, px62, px63")
        XCTAssertEqual(InspectText.names(["a", ""]), "a, \"\"")
    }

    func testJSONHasStableKeysAndParses() throws {
        let description = try describe(sampleCheckpoint())
        let text = try description.json(includeStatistics: true).serialized(pretty: true)
        let json = try JSONValue.parse(text)
        XCTAssertEqual(json.objectValue?.map(\.0), ["file", "file_size", "format", "writer", "manifest_length", "tensor_bytes", "input",
                                                    "layers", "parameters", "output", "verification", "optimizer", "training",
                                                    "metadata", "tensors"])
        XCTAssertEqual(json["parameters"]?["non_trainable"]?.integerValue, 6)
        XCTAssertEqual(json["layers"]?.arrayValue?[1]["momentum_convention"]?.stringValue, "pytorch")
        XCTAssertEqual(json["input"]?["features"], .array([.string("a"), .string("b")]))
        let tensors = try XCTUnwrap(json["tensors"]?.arrayValue)
        XCTAssertEqual(tensors.count, 12)
        XCTAssertEqual(tensors[2]["name"]?.stringValue, "layers.0.weight")
        XCTAssertEqual(tensors[2]["statistics"]?["max"]?.doubleValue, Double(Float(0.5)))
        XCTAssertNil(try description.json().serialized().contains("statistics") ? "statistics without --weights" : nil)
    }

    func testTensorCSVAndUnknownName() throws {
        let description = try describe(sampleCheckpoint())
        XCTAssertEqual(try description.tensorCSV(named: "layers.0.weight"), "0.100000001,-0.200000003,0.300000012\n0.400000006,0.5,-0.600000024\n")
        XCTAssertEqual(try description.tensorCSV(named: "notes.extra"), "7\n")
        XCTAssertThrowsError(try description.tensorCSV(named: "layers.9.weight")) { error in
            let message = "\(error)"
            XCTAssertTrue(message.hasPrefix("sample.nnck: no tensor named \"layers.9.weight\"; available: input.offset, input.scale, layers.0.weight"), message)
        }
    }

    // MARK: Diff

    func testDiffIgnoresStorageButFindsValueAndSettingChanges() throws {
        let a = try describe(sampleCheckpoint(), codec: .raw, source: "a.nnck")
        let same = CheckpointDiff.compare(a, try describe(sampleCheckpoint(), codec: .deflate, source: "b.nnck"))
        XCTAssertTrue(same.isIdentical, same.text())
        XCTAssertEqual(same.comparedTensors, 12)
        XCTAssertTrue(same.notes.contains("layers.0.weight: codec raw vs deflate"), same.text())
        XCTAssertTrue(same.text().hasSuffix("Identical in content: 12 tensors, 36 values compared\n"), same.text())

        var changed = sampleCheckpoint(weight0: [0.1, -0.2, 0.3, 0.4, 0.75, -0.6], dropout: 0.5)
        changed.tensors.append(Tensor(name: "notes.more", shape: [1], floats: [1]))
        changed.metadata["note"] = "other"
        let diff = CheckpointDiff.compare(a, try describe(changed, source: "b.nnck"))
        XCTAssertFalse(diff.isIdentical)
        XCTAssertEqual(diff.manifest, ["layer 3 (dropout): rate 0.25 (identity at inference) vs rate 0.5 (identity at inference)",
                                       "metadata note: \"line one\\nline two\" vs other"])
        XCTAssertEqual(diff.tensors.count, 2)
        XCTAssertEqual(diff.tensors[0].name, "layers.0.weight")
        XCTAssertEqual(diff.tensors[0].role, "layer 0 dense weight")
        XCTAssertEqual(diff.tensors[0].kinds, [.values(differing: 1, count: 6, maxAbsDifference: 0.25)])
        XCTAssertEqual(diff.tensors[1].kinds, [.onlyInSecond])
        XCTAssertTrue(diff.text().contains("  layers.0.weight (layer 0 dense weight): 1 of 6 values differ, max abs difference 0.25\n"), diff.text())
    }

    func testValueComparisonTreatsNaNAsEqualToItselfOnly() {
        XCTAssertNil(CheckpointDiff.compareValues(.f32([.nan, 1]), .f32([.nan, 1])))
        XCTAssertEqual(CheckpointDiff.compareValues(.f32([.nan, 1]), .f32([0, 1])), .values(differing: 1, count: 2, maxAbsDifference: .infinity))
        // f32 against f64: compared after exact widening.
        XCTAssertEqual(CheckpointDiff.compareValues(.f32([0.5, 0.1]), .f64([0.5, 0.1])),
                       .values(differing: 1, count: 2, maxAbsDifference: abs(Double(Float(0.1)) - 0.1)))
    }

    // MARK: Verification

    func temporaryFile(_ name: String) throws -> String {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("nnkit-inspect-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        addTeardownBlock { try? FileManager.default.removeItem(at: directory) }
        return directory.appendingPathComponent(name).path
    }

    /// A float32 model with verification vectors computed by the engine itself.
    func verifiedCheckpoint() throws -> Checkpoint {
        let network = try Network<Float>(specs: [.dense(inputs: 2, outputs: 4), .activation(.tanh), .dense(inputs: 4, outputs: 3), .activation(.softmax)])
        var generator = RandomGenerator(seed: 11)
        network.initialize(.he, generator: &generator)
        let model = Model(features: ["x", "y"], normalization: .init(kind: .none, offset: [0, 0], scale: [1, 1]),
                          output: .classification(label: "c", classes: ["p", "q", "r"]), network: network)
        return try model.checkpoint(writer: WriterInfo(name: "nnkit", version: NNKitVersion.string),
                                    verificationRows: [0.5, -1, 2, 0.25, -3, 1])
    }

    func testVerifyRunsTheVectorsAndReportsWhatItChecked() throws {
        let path = try temporaryFile("good.nnck")
        try CheckpointWriter.write(try verifiedCheckpoint(), to: path)
        var printed: VerificationReport?
        let report = try CheckpointVerifier.verify(path: path) { printed = $0 }
        XCTAssertEqual(printed, report)
        XCTAssertEqual(report.vectors, 3)
        XCTAssertEqual(report.passedVectors, 3)
        XCTAssertEqual(report.precision, "float32")
        XCTAssertEqual(report.tensorCount, 6)
        XCTAssertEqual(report.checksums, 2 + 6 + report.chunkCount)
        XCTAssertLessThanOrEqual(report.maxDeviation!, 1e-6)
        XCTAssertTrue(report.text().hasSuffix("OK\n"))
    }

    func testVerifyFailsNamingTheVectorWhenOutputsAreWrong() throws {
        var checkpoint = try verifiedCheckpoint()
        let index = checkpoint.tensors.firstIndex { $0.name == TensorNames.verificationOutputs }!
        guard case var .f32(outputs) = checkpoint.tensors[index].values else { return XCTFail("f32 expected") }
        outputs[4] += 0.01  // vector 1, output 1
        checkpoint.tensors[index].values = .f32(outputs)
        let path = try temporaryFile("bad.nnck")
        try CheckpointWriter.write(checkpoint, to: path)
        var printed: VerificationReport?
        XCTAssertThrowsError(try CheckpointVerifier.verify(path: path) { printed = $0 }) { error in
            guard case let ModelError.verificationFailed(file, row, column, _, _, _) = error else { return XCTFail("\(error)") }
            XCTAssertEqual(file, path)
            XCTAssertEqual(row, 1)
            XCTAssertEqual(column, 1)
        }
        XCTAssertEqual(printed?.passedVectors, 2)
        XCTAssertEqual(printed?.vectors, 3)
        XCTAssertTrue(printed?.text().hasSuffix("FAILED\n") ?? false)
    }

    func testFloat64FixtureIsVerifiedInFloat64() throws {
        // The course text's Exercise 3.1 network stores f64 weights and a 1e-12 tolerance.
        var url = URL(fileURLWithPath: #filePath)
        for _ in 0..<3 { url.deleteLastPathComponent() }
        let path = url.appendingPathComponent("fixtures/checkpoints/seed-3.1.nnck").path
        try XCTSkipUnless(FileManager.default.fileExists(atPath: path), "fixture missing")
        let report = try CheckpointVerifier.verify(path: path)
        XCTAssertEqual(report.precision, "float64")
        XCTAssertEqual(report.vectors, 1)
        XCTAssertEqual(report.passedVectors, 1)
        XCTAssertLessThanOrEqual(report.maxDeviation!, 1e-12)
    }
}
