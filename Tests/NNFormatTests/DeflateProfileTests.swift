// The writer's deflate profiles: the per-plane default stores incompressible byte planes and
// compresses the rest, inside one raw deflate stream per chunk that any reader inflates.
import Foundation
import NNParallel
import NNZlib
import XCTest
@testable import NNFormat

final class DeflateProfileTests: XCTestCase {
    /// A checkpoint with two 786 KB weight-like tensors besides the minimal model: "normal" holds f32
    /// values like a layer's weights (random sign and mantissa, magnitudes 2⁻⁸...2⁻³), "bfloat16" the
    /// same values with their low 16 bits cleared (what a model trained in bfloat16 stores).
    func weightLikeCheckpoint() throws -> Checkpoint {
        var random = FixtureRandom(state: 11)
        let normal: [Float] = (0..<196_608).map { _ in
            let mantissa = UInt32(random.next() * 8_388_608), exponent = UInt32(119 + Int(random.next() * 6))
            return Float(bitPattern: (random.next() < 0.5 ? 0x8000_0000 : 0) | exponent << 23 | mantissa)
        }
        let bfloat16 = normal.map { Float(bitPattern: $0.bitPattern & 0xFFFF_0000) }
        var checkpoint = try FixtureFactory.minimal().checkpoint
        checkpoint.tensors.append(Tensor(name: "normal", shape: [192, 1024], floats: normal))
        checkpoint.tensors.append(Tensor(name: "bfloat16", shape: [192, 1024], floats: bfloat16))
        return checkpoint
    }

    func options(_ deflate: DeflateProfile, chunkSize: Int = 1 << 20, pool: WorkerPool = .serial) -> WriterOptions {
        WriterOptions(codec: .shuffleDeflate, chunkSize: chunkSize, deflate: deflate, pool: pool, sourceDateEpoch: nil)
    }

    func pseudoRandomBytes(_ count: Int, seed: UInt64) -> [UInt8] {
        var random = FixtureRandom(state: seed)
        return (0..<count).map { _ in UInt8(random.next() * 256) }
    }

    func looksIncompressible(_ bytes: [UInt8]) -> Bool {
        bytes.withUnsafeBytes { CheckpointWriter.looksIncompressible($0) }
    }

    func testIncompressiblePlanesAreRecognizedByHistogramAndRuns() {
        let random = pseudoRandomBytes(65_536, seed: 1)
        XCTAssertTrue(looksIncompressible(random))
        XCTAssertFalse(looksIncompressible(Array(random[0..<4000])), "too short for the histogram to tell")
        XCTAssertFalse(looksIncompressible([UInt8](repeating: 0, count: 65_536)))
        XCTAssertFalse(looksIncompressible(random.map { $0 & 0x7F }), "7 bits of entropy per byte: Huffman saves 1/8")
        XCTAssertFalse(looksIncompressible(random[0..<32_768].flatMap { [$0, $0] }), "uniform histogram but runs of two")
        // A uniform histogram without runs is what Z_RLE cannot shrink, whatever the order.
        XCTAssertTrue(looksIncompressible((0..<65_536).map { UInt8(truncatingIfNeeded: $0) }))
    }

    func testRepeatedBytesCountsEveryByteEqualToItsPredecessor() {
        var random = FixtureRandom(state: 3)
        // Few distinct values, so repeats fall at every position within and across 8-byte words.
        let bytes = (0..<1000).map { _ in UInt8(random.next() * 3) }
        for start in 0..<9 {
            for length in [0, 1, 2, 7, 8, 9, 15, 16, 17, 100, 991 - start] {
                let piece = Array(bytes[start..<start + length])
                let expected = piece.indices.dropFirst().filter { piece[$0] == piece[$0 - 1] }.count
                XCTAssertEqual(piece.withUnsafeBytes { CheckpointWriter.repeatedBytes($0) }, expected, "start \(start) length \(length)")
            }
        }
    }

    func testPerPlaneSegmentsStoreTheRandomMantissaPlanesOnly() throws {
        let checkpoint = try weightLikeCheckpoint()
        func levels(_ name: String, _ profile: DeflateProfile) -> [Int] {
            checkpoint.tensor(named: name)!.values.withUnsafeBytes { raw in
                let planes = UnsafeMutableRawBufferPointer.allocate(byteCount: raw.count, alignment: 64)
                defer { planes.deallocate() }
                ByteShuffle.shuffle(raw.baseAddress!, into: planes.baseAddress!, elements: raw.count / 4, elementSize: 4)
                return CheckpointWriter.deflateSegments(planes: UnsafeRawBufferPointer(planes), elementSize: 4, profile: profile).map(\.level)
            }
        }
        let normal = levels("normal", .perPlane(level: 1, strategy: .rle))
        XCTAssertEqual(normal.count, 4)
        XCTAssertEqual(Array(normal[0..<2]), [0, 0], "low mantissa bytes are random: stored")
        XCTAssertEqual(normal[3], 1, "sign and exponent bytes compress")
        XCTAssertEqual(levels("bfloat16", .perPlane(level: 1, strategy: .rle)).enumerated().filter { $0.offset != 2 }.map(\.element), [1, 1, 1])
        XCTAssertEqual(levels("normal", .wholeChunk(level: 1, strategy: .rle)), [1])
        XCTAssertEqual(levels("normal", .perPlane(level: 1, strategy: .default)), [1], "LZ77 matches are beyond the plane test")
    }

    func testPerPlaneFilesReadBackExactlyAreNoLargerAndRewriteToTheSameBytes() throws {
        let checkpoint = try weightLikeCheckpoint()
        let perPlane = try CheckpointWriter.encode(checkpoint, options: options(.perPlane(level: 1, strategy: .rle)))
        let wholeChunk = try CheckpointWriter.encode(checkpoint, options: options(.wholeChunk(level: 1, strategy: .rle)))
        let read = try CheckpointReader.decodeDetailed(bytes: perPlane)
        XCTAssertEqual(read.checkpoint, checkpoint)
        for (a, b) in zip(read.checkpoint.tensors, checkpoint.tensors) {
            a.values.withUnsafeBytes { x in b.values.withUnsafeBytes { y in XCTAssertTrue(x.elementsEqual(y), a.name) } }
        }
        let normalStored = read.storage.first { $0.name == "normal" }!
        let wholeNormal = try CheckpointReader.decodeDetailed(bytes: wholeChunk).storage.first { $0.name == "normal" }!
        XCTAssertLessThanOrEqual(normalStored.storedLength, wholeNormal.storedLength, "stored planes must not cost more than Huffman-coded ones")
        XCTAssertLessThanOrEqual(perPlane.count, wholeChunk.count)
        // Each chunk is one raw deflate stream on its own: zlib inflates it to the shuffled planes.
        try perPlane.withUnsafeBytes { file in
            let chunk = UnsafeRawBufferPointer(rebasing: file[normalStored.offset..<normalStored.offset + normalStored.chunks[0].storedLength])
            let planes = try Zlib.inflate(chunk, expectedSize: normalStored.rawLength, container: .raw)
            checkpoint.tensor(named: "normal")!.values.withUnsafeBytes { raw in
                var shuffled = [UInt8](repeating: 0, count: raw.count)
                shuffled.withUnsafeMutableBytes { ByteShuffle.shuffle(raw.baseAddress!, into: $0.baseAddress!, elements: raw.count / 4, elementSize: 4) }
                XCTAssertEqual(planes, shuffled)
            }
        }
        var preserving = WriterOptions(preserving: read.storage)
        preserving.sourceDateEpoch = nil
        XCTAssertEqual(try CheckpointWriter.encode(read.checkpoint, options: preserving), perPlane, "the default profile is per-plane")
    }

    func testThePythonReferenceReaderReadsPerPlaneFiles() throws {
        guard let python = Paths.python3() else { throw XCTSkip("python3 is not installed") }
        let checkpoint = try weightLikeCheckpoint()
        let directory = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let path = directory + "/per-plane.nnck"
        try CheckpointWriter.write(checkpoint, to: path, options: options(.perPlane(level: 1, strategy: .rle), chunkSize: 1 << 18))
        let result = try runProcess(python, [Paths.referenceReader, path, "--all-tensors"])
        XCTAssertEqual(result.status, 0, result.stderr)
        XCTAssertEqual(result.stdout, checkpoint.tensors.map { "== \($0.name)\n" + TensorText.csv($0) }.joined())
    }

    func testPerPlaneOutputIsTheSameForAnyThreadCount() throws {
        let checkpoint = try weightLikeCheckpoint()
        let serial = try CheckpointWriter.encode(checkpoint, options: options(.perPlane(level: 1, strategy: .rle), chunkSize: 1 << 16))
        let parallel = try CheckpointWriter.encode(checkpoint, options: options(.perPlane(level: 1, strategy: .rle), chunkSize: 1 << 16,
                                                                                 pool: WorkerPool(threads: 2)))
        XCTAssertEqual(parallel, serial)
        XCTAssertEqual(try CheckpointReader.decode(bytes: serial), checkpoint)
    }

    func testEveryFixtureWrittenWithThePerPlaneProfileReadsAndWritesBack() throws {
        for fixture in try FixtureFactory.all() {
            var options = fixture.options
            options.deflate = .perPlane(level: 1, strategy: .rle)
            options.sourceDateEpoch = nil
            let bytes = try CheckpointWriter.encode(fixture.checkpoint, options: options)
            let read = try CheckpointReader.decodeDetailed(bytes: bytes)
            XCTAssertEqual(read.checkpoint, fixture.checkpoint, fixture.name)
            var preserving = WriterOptions(preserving: read.storage)
            preserving.sourceDateEpoch = nil
            XCTAssertEqual(try CheckpointWriter.encode(read.checkpoint, options: preserving), bytes, fixture.name)
        }
    }
}
