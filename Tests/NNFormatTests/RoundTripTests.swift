import Foundation
import NNJSON
import NNParallel
import XCTest
@testable import NNFormat

final class RoundTripTests: XCTestCase {
    /// Options that reproduce a stored file written with `deflate` (no clamping of recorded times by
    /// the environment).
    func preserving(_ storage: [TensorStorage], deflate: DeflateProfile = FixtureFactory.deflateProfile) -> WriterOptions {
        var options = WriterOptions(preserving: storage)
        options.sourceDateEpoch = nil
        options.deflate = deflate
        return options
    }

    func testEveryFixtureReadsAndWritesBackToTheSameBytes() throws {
        for fixture in try FixtureFactory.all() {
            let path = Paths.fixture(fixture.name)
            let bytes = try readBytes(path)
            let result = try CheckpointReader.readDetailed(path: path)
            XCTAssertEqual(result.fileSize, bytes.count)
            let rewritten = try CheckpointWriter.encode(result.checkpoint, options: preserving(result.storage))
            XCTAssertEqual(rewritten, bytes, "\(fixture.name): read → write changed the bytes")
        }
    }

    func testEveryFixtureDecodesToWhatTheFactoryBuilds() throws {
        for fixture in try FixtureFactory.all() {
            let checkpoint = try CheckpointReader.read(path: Paths.fixture(fixture.name))
            XCTAssertEqual(checkpoint, fixture.checkpoint, "\(fixture.name) differs from its factory definition")
        }
    }

    func testWriteThenReadGivesIdenticalValuesForEveryCodec() throws {
        for fixture in try FixtureFactory.all() {
            for codec in Codec.allCases {
                for chunkSize in [8, 64, 1 << 20] {
                    var options = WriterOptions(codec: codec, chunkSize: chunkSize, sourceDateEpoch: nil)
                    options.pool = WorkerPool(threads: 2)
                    let bytes = try CheckpointWriter.encode(fixture.checkpoint, options: options)
                    let back = try CheckpointReader.decode(bytes: bytes)
                    XCTAssertEqual(back, fixture.checkpoint, "\(fixture.name) with \(codec) chunk \(chunkSize)")
                    // Bit-exact values, including -0 and NaN payloads, not just ==.
                    for (a, b) in zip(back.tensors, fixture.checkpoint.tensors) {
                        a.values.withUnsafeBytes { x in b.values.withUnsafeBytes { y in XCTAssertTrue(x.elementsEqual(y), a.name) } }
                    }
                }
            }
        }
    }

    func testNaNAndInfinityValuesSurviveBitExactly() throws {
        var checkpoint = try FixtureFactory.minimal().checkpoint
        let specials: [Float] = [.nan, -.infinity, .infinity, Float(bitPattern: 0x7FC0_1234), -0.0, .leastNonzeroMagnitude]
        checkpoint.tensors.append(Tensor(name: "specials", shape: [6], floats: specials))
        for codec in Codec.allCases {
            let back = try CheckpointReader.decode(bytes: try CheckpointWriter.encode(checkpoint, options: WriterOptions(codec: codec)))
            guard case .f32(let values) = back.tensor(named: "specials")!.values else { return XCTFail("dtype") }
            XCTAssertEqual(values.map(\.bitPattern), specials.map(\.bitPattern))
            XCTAssertEqual(TensorText.csv(back.tensor(named: "specials")!), "nan,-inf,inf,nan,-0,1.40129846e-45\n")
        }
    }

    func testEncodingIsDeterministicAcrossRunsAndThreadCounts() throws {
        let fixture = try FixtureFactory.allLayers()
        var options = fixture.options
        options.chunkSize = 64
        options.pool = .serial
        let serial = try CheckpointWriter.encode(fixture.checkpoint, options: options)
        options.pool = WorkerPool(threads: 2)
        XCTAssertEqual(try CheckpointWriter.encode(fixture.checkpoint, options: options), serial)
        XCTAssertEqual(try CheckpointWriter.encode(fixture.checkpoint, options: options), serial)
    }

    func testSourceDateEpochClampsTheRecordedTime() throws {
        let checkpoint = try FixtureFactory.allLayers().checkpoint  // records created_unix 1_700_000_000
        let clamped = try CheckpointReader.decode(bytes: try CheckpointWriter.encode(checkpoint, options: WriterOptions(sourceDateEpoch: 1000)))
        XCTAssertEqual(clamped.training?.createdUnix, 1000)
        let later = try CheckpointReader.decode(bytes: try CheckpointWriter.encode(checkpoint, options: WriterOptions(sourceDateEpoch: 2_000_000_000)))
        XCTAssertEqual(later.training?.createdUnix, 1_700_000_000)
        var untimed = checkpoint
        untimed.training?.createdUnix = nil
        let none = try CheckpointReader.decode(bytes: try CheckpointWriter.encode(untimed, options: WriterOptions(sourceDateEpoch: 1000)))
        XCTAssertNil(none.training?.createdUnix, "no time is invented when the caller passes none")
    }

    func testAtomicWriteReplacesAndLeavesNoTemporaryFiles() throws {
        let directory = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let path = directory + "/model.nnck"
        let first = try FixtureFactory.minimal().checkpoint
        try CheckpointWriter.write(first, to: path)
        var second = first
        second.tensors[0] = Tensor(name: "w", shape: [1, 1], floats: [3])
        try CheckpointWriter.write(second, to: path)
        XCTAssertEqual(try CheckpointReader.read(path: path), second)
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: directory), ["model.nnck"])
    }

    func testFailedWriteLeavesTheOldFileAndNoTemporary() throws {
        let directory = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        // The destination is a non-empty directory: rename fails after the temporary file was written.
        let path = directory + "/model.nnck"
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: false)
        FileManager.default.createFile(atPath: path + "/keep", contents: Data([1, 2, 3]))
        assertCheckpointError(try CheckpointWriter.write(try FixtureFactory.minimal().checkpoint, to: path), "rename over a directory") {
            if case .io(_, let operation, _) = $0 { return operation.contains("rename") } else { return false }
        }
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: directory), ["model.nnck"])
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: path), ["keep"])
        // A missing directory: nothing is created.
        assertCheckpointError(try CheckpointWriter.write(try FixtureFactory.minimal().checkpoint, to: directory + "/missing/m.nnck"), "missing dir") {
            if case .io = $0 { return true } else { return false }
        }
        // An invalid checkpoint: the old file stays as it was.
        let good = directory + "/good.nnck"
        try CheckpointWriter.write(try FixtureFactory.minimal().checkpoint, to: good)
        let before = try readBytes(good)
        var broken = try FixtureFactory.minimal().checkpoint
        broken.layers = [.dense(DenseSpec(inputs: 2, outputs: 1, weight: "w", bias: "b"))]
        assertCheckpointError(try CheckpointWriter.write(broken, to: good), "invalid") {
            if case .inconsistent = $0 { return true } else { return false }
        }
        XCTAssertEqual(try readBytes(good), before)
    }

    func testWriterRejectsWhatTheFormatCannotHold() throws {
        var checkpoint = try FixtureFactory.minimal().checkpoint
        checkpoint.training = TrainingProvenance(finalMetrics: ["loss": .nan])
        assertCheckpointError(try CheckpointWriter.encode(checkpoint), "NaN metric") {
            if case .inconsistent(_, let field, _, _) = $0 { return field == "training.final_metrics.loss" } else { return false }
        }
        checkpoint.training = TrainingProvenance(hyperparameters: ["lr": .number(.infinity)])
        assertCheckpointError(try CheckpointWriter.encode(checkpoint), "infinite hyperparameter") {
            if case .unwritable = $0 { return true } else { return false }
        }
        checkpoint.training = nil
        assertCheckpointError(try CheckpointWriter.encode(checkpoint, options: WriterOptions(chunkSize: 6)), "chunk size not a multiple of the element size") {
            if case .unwritable = $0 { return true } else { return false }
        }
        checkpoint.tensors.append(Tensor(name: "w", shape: [1], floats: [1]))
        assertCheckpointError(try CheckpointWriter.encode(checkpoint), "duplicate") {
            if case .duplicateTensor(_, "w") = $0 { return true } else { return false }
        }
    }

    func testValidatorCatchesInconsistentModels() throws {
        let base = try FixtureFactory.allLayers().checkpoint
        func expectInconsistent(_ label: String, _ field: String, _ change: (inout Checkpoint) -> Void) {
            var checkpoint = base
            change(&checkpoint)
            assertCheckpointError(try checkpoint.validate(), label) {
                if case .inconsistent(_, let f, _, _) = $0 { return f.hasPrefix(field) } else { return false }
            }
        }
        expectInconsistent("dense inputs", "model.layers[4].inputs") {
            guard case .dense(var d) = $0.layers[4] else { return }
            d.inputs = 7
            $0.layers[4] = .dense(d)
        }
        expectInconsistent("batchnorm features", "model.layers[1].features") {
            guard case .batchNorm(var b) = $0.layers[1] else { return }
            b.features = 9
            $0.layers[1] = .batchNorm(b)
        }
        expectInconsistent("missing tensor", "model.layers[0].weight") { $0.tensors.removeAll { $0.name == "layers.0.weight" } }
        expectInconsistent("wrong shape", "model.layers[0].bias") {
            let index = $0.tensors.firstIndex { $0.name == "layers.0.bias" }!
            $0.tensors[index] = Tensor(name: "layers.0.bias", shape: [2, 4], floats: [Float](repeating: 0, count: 8))
        }
        expectInconsistent("class count", "model.layers") { $0.output = .classification(label: "y", classes: ["a", "b"]) }
        expectInconsistent("feature count", "model.input.normalization.offset") { $0.input.features.append("extra") }
        expectInconsistent("zero scale", "model.input.normalization.scale[2]") {
            let index = $0.tensors.firstIndex { $0.name == "input.scale" }!
            $0.tensors[index] = Tensor(name: "input.scale", shape: [4], floats: [1, 1, 0, 1])
        }
        expectInconsistent("dropout rate", "model.layers[3].rate") { $0.layers[3] = .dropout(rate: 1) }
        expectInconsistent("optimizer slot shape", "optimizer.slots") { $0.optimizer?.slots["layers.0.weight"]?["m"] = "layers.0.bias" }
        expectInconsistent("verification shape", "verification.outputs") { $0.output = .classification(label: "y", classes: ["a", "b", "c"]); $0.verification?.outputs = "layers.0.weight" }
        expectInconsistent("dtype mix", "model.layers[0].bias") {
            let index = $0.tensors.firstIndex { $0.name == "layers.0.bias" }!
            $0.tensors[index] = Tensor(name: "layers.0.bias", shape: [8], doubles: [Double](repeating: 0, count: 8))
        }
        expectInconsistent("duplicate class", "model.output.classes") { $0.output = .classification(label: "y", classes: ["a", "a", "b"]) }
    }

    func testTensorTextShapes() {
        XCTAssertEqual(TensorText.csv(Tensor(name: "s", shape: [], floats: [0.1])), "0.100000001\n")
        XCTAssertEqual(TensorText.csv(Tensor(name: "v", shape: [3], doubles: [0.1, -2, 1e300])), "0.10000000000000001,-2,1.0000000000000001e+300\n")
        XCTAssertEqual(TensorText.csv(Tensor(name: "m", shape: [2, 2], floats: [1, 2, 3, 4])), "1,2\n3,4\n")
        XCTAssertEqual(TensorText.csv(Tensor(name: "r3", shape: [2, 1, 2], floats: [1, 2, 3, 4])), "1,2\n3,4\n")
        XCTAssertEqual(TensorText.csv(Tensor(name: "e", shape: [0, 3], floats: [])), "")
    }
}
