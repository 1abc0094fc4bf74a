// Bugs found by fuzzing (Fuzz/, scripts/fuzz.sh) and by the robustness tests, each pinned by a small test.
// The fuzz inputs themselves are replayed by NNToolsTests/RobustnessCorpusReplayTests.
import XCTest
import NNFormat
import NNJSON

final class RegressionTests: XCTestCase {
    /// Fuzz/regressions/checkpoint-structured/nul-in-metadata-key: the writer wrote a metadata key
    /// holding U+0000, which the reader (json-c) cannot parse, so a checkpoint written without error
    /// could not be read back. The serializer now refuses such keys and the writer reports it.
    func testWriterRefusesKeysTheReaderCannotRead() throws {
        XCTAssertThrowsError(try JSONValue.object([("a\u{0}b", .integer(1))]).serialized()) { error in
            XCTAssertEqual(error as? JSONError, .nulInKey(path: "$"))
        }
        XCTAssertThrowsError(try JSONValue.object([("x", .object([("\u{0}", .null)]))]).serialized(pretty: true)) { error in
            XCTAssertEqual(error as? JSONError, .nulInKey(path: "$.x"))
        }
        // String values may hold U+0000: json-c reads them back.
        let value = JSONValue.object([("k", .string("a\u{0}b"))])
        XCTAssertEqual(try JSONValue.parse(try value.serialized()), value)

        let checkpoint = Checkpoint(
            writer: WriterInfo(name: "test", version: "1"), input: InputSpec(features: ["x"]),
            layers: [.dense(DenseSpec(inputs: 1, outputs: 1, weight: "w", bias: "b"))], output: .regression(targets: ["y"]),
            metadata: ["bad\u{0}key": "v"],
            tensors: [Tensor(name: "w", shape: [1, 1], floats: [2]), Tensor(name: "b", shape: [1], floats: [-1])])
        XCTAssertThrowsError(try CheckpointWriter.encode(checkpoint)) { error in
            guard case .unwritable(let field, let found, _)? = error as? CheckpointError else {
                return XCTFail("expected CheckpointError.unwritable, got \(error)")
            }
            XCTAssertEqual(field, "manifest")
            XCTAssertTrue(found.contains("U+0000"), found)
        }
        var fixed = checkpoint
        fixed.metadata = ["good key": "v\u{0}alue"]
        XCTAssertEqual(try CheckpointReader.decode(bytes: try CheckpointWriter.encode(fixed)), fixed)
    }

    /// Fuzz/regressions/checkpoint-structured/f32-chunk-size-not-multiple-of-8: the spec lets chunk_size
    /// be any positive multiple of the element size, and the reader took an f32 tensor in 252-byte
    /// chunks, but the writer demanded a multiple of 8, so read-then-write (which preserves storage)
    /// failed on a valid file. The writer now applies the spec's rule per tensor.
    func testWriterAcceptsEveryChunkSizeTheSpecAllows() throws {
        let checkpoint = Checkpoint(
            writer: WriterInfo(name: "test", version: "1"), input: InputSpec(features: ["a", "b", "c"]),
            layers: [.dense(DenseSpec(inputs: 3, outputs: 2, weight: "w", bias: "b"))], output: .regression(targets: ["y", "z"]),
            tensors: [Tensor(name: "w", shape: [3, 2], floats: [1, -2, 3.5, 4, 5e-3, 6]), Tensor(name: "b", shape: [2], floats: [-1, 0.25])])
        for codec in [Codec.deflate, .shuffleDeflate] {
            let options = WriterOptions(codec: codec, chunkSize: 12, chunkSizes: ["b": 4])
            let bytes = try CheckpointWriter.encode(checkpoint, options: options)
            let read = try CheckpointReader.decodeDetailed(bytes: bytes, source: "t.nnck")
            XCTAssertEqual(read.checkpoint, checkpoint)
            XCTAssertEqual(try CheckpointWriter.encode(read.checkpoint, options: WriterOptions(preserving: read.storage)), bytes)
        }
        XCTAssertThrowsError(try CheckpointWriter.encode(checkpoint, options: WriterOptions(chunkSize: 6))) { error in
            XCTAssertEqual("\(error)".contains("a positive multiple of the f32 element size 4"), true, "\(error)")
        }
    }

    /// Found by the hostile-file tests: reading a FIFO nobody writes to as a checkpoint blocked in
    /// open(2) forever (nninspect, nninfer, nntrain --resume hung). It is now refused at once.
    func testFIFOIsRefusedWithoutBlocking() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("nnck-fifo-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let fifo = directory.appendingPathComponent("pipe.nnck").path
        XCTAssertEqual(mkfifo(fifo, 0o600), 0)
        let started = Date()
        XCTAssertThrowsError(try CheckpointReader.read(path: fifo)) { error in
            XCTAssertEqual(error as? CheckpointError, .io(file: fifo, operation: "open", message: "not a regular file"))
        }
        XCTAssertLessThan(Date().timeIntervalSince(started), 5)
    }

    /// Fuzz/regressions/manifest-json/top-level-number-*: JSON.parse("8") failed ("unexpected end of
    /// text": json-c waits for a delimiter after a number) although "8\n" parsed, so serializing a
    /// parsed number and parsing it back failed. A terminating NUL now ends the text.
    func testTopLevelScalarsWithoutTrailingWhitespace() throws {
        for (text, value) in [("8", JSONValue.integer(8)), ("-0.5", .number(-0.5)), ("1e3", .number(1000)), ("true", .bool(true)),
                              ("false", .bool(false)), ("\"s\"", .string("s")), ("8\n\n", .integer(8))] {
            XCTAssertEqual(try JSONValue.parse(text), value, text)
            XCTAssertEqual(try JSONValue.parse(try value.serialized()), value, text)
        }
        for text in ["-", "tru", "[1,", "{\"a\":1", "8 9", "1e"] {
            XCTAssertThrowsError(try JSONValue.parse(text), text)
        }
        XCTAssertThrowsError(try JSONValue.parse("-")) { XCTAssertEqual($0 as? JSONError, .syntax(message: "unexpected end of text", offset: 1)) }
    }
}
