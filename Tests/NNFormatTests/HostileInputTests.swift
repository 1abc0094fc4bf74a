// Hand-made files breaking each reader rule (formats/nnck-v1.md section 4), every truncation, every
// single-bit flip: each must be rejected with its specific typed error, never a crash.
import Foundation
import NNJSON
import NNParallel
import NNZlib
import XCTest
@testable import NNFormat

/// A checkpoint taken apart: header fields, manifest JSON and stored blocks, to be broken and reassembled.
struct Crafted {
    var major: UInt16 = 1
    var minor: UInt16 = 0
    var flags: UInt32 = 0
    var manifest: JSONValue
    var blocks: [[UInt8]]

    init(_ bytes: [UInt8]) throws {
        let result = try CheckpointReader.decodeDetailed(bytes: bytes)
        manifest = result.manifest
        blocks = result.storage.map { Array(bytes[$0.offset..<($0.offset + $0.storedLength)]) }
    }

    /// Reassembles the file with canonical offsets (unless `keepOffsets`) and correct CRCs (unless told).
    func bytes(keepOffsets: Bool = false, manifestBytes: [UInt8]? = nil, headerCRC: UInt32? = nil) -> [UInt8] {
        var manifest = self.manifest
        var text = manifestBytes ?? (try! manifest.serializedBytes())
        if !keepOffsets && manifestBytes == nil {
            for _ in 0..<8 {
                var offset = align64(32 + text.count)
                for index in blocks.indices {
                    manifest.set(["tensors", index, "offset"], .integer(Int64(offset)))
                    offset = align64(offset + blocks[index].count)
                }
                text = try! manifest.serializedBytes()
            }
        }
        var file: [UInt8] = [0x89, 0x4E, 0x4E, 0x43, 0x4B, 0x0D, 0x0A, 0x1A]
        func le(_ value: UInt64, _ count: Int) { for i in 0..<count { file.append(UInt8(truncatingIfNeeded: value >> (8 * UInt64(i)))) } }
        le(UInt64(major), 2); le(UInt64(minor), 2); le(UInt64(flags), 4); le(UInt64(text.count), 8); le(UInt64(Zlib.crc32(text)), 4)
        le(UInt64(headerCRC ?? Zlib.crc32(file)), 4)
        file += text
        var offsets = (manifest["tensors"]?.arrayValue ?? []).map { Int($0["offset"]?.integerValue ?? 0) }
        if manifestBytes != nil {
            // A replaced manifest text: blocks follow it at canonical positions.
            var offset = align64(32 + text.count)
            offsets = blocks.map { block in defer { offset = align64(offset + block.count) }; return offset }
        }
        for (index, block) in blocks.enumerated() {
            let target = offsets[index]
            if target > file.count { file += [UInt8](repeating: 0, count: target - file.count) }
            if target < file.count { file.removeSubrange(max(target, 0)...) }  // overlapping: later block overwrites
            file += block
        }
        return file
    }
}

extension JSONValue {
    /// Sets (or with nil removes) the value at a path of object keys (String) and array indices (Int).
    mutating func set(_ path: [Any], _ newValue: JSONValue?) {
        guard let head = path.first else { if let newValue { self = newValue }; return }
        let rest = Array(path.dropFirst())
        switch (self, head) {
        case (.object(var members), let key as String):
            if let index = members.firstIndex(where: { $0.0 == key }) {
                if rest.isEmpty && newValue == nil { members.remove(at: index) } else { members[index].1.set(rest, newValue) }
            } else if let newValue, rest.isEmpty {
                members.append((key, newValue))
            }
            self = .object(members)
        case (.array(var elements), let index as Int):
            if rest.isEmpty && newValue == nil { elements.remove(at: index) } else { elements[index].set(rest, newValue) }
            self = .array(elements)
        default:
            XCTFail("bad path \(path) in \(self.typeName)")
        }
    }
}

final class HostileInputTests: XCTestCase {
    var minimal: [UInt8] = []
    var chunked: [UInt8] = []

    override func setUpWithError() throws {
        minimal = try readBytes(Paths.fixture("minimal-raw"))
        chunked = try readBytes(Paths.fixture("chunked-mixed-codecs"))
    }

    func decode(_ bytes: [UInt8], limits: ReaderLimits = .default) throws -> Checkpoint {
        try CheckpointReader.decode(bytes: bytes, source: "crafted.nnck", limits: limits)
    }

    func expect(_ bytes: [UInt8], _ label: String, limits: ReaderLimits = .default, line: UInt = #line, _ matches: (CheckpointError) -> Bool) {
        assertCheckpointError(try decode(bytes, limits: limits), label, line: line, matches)
    }

    func testErrorMessagesNameTheFileOnceAndSplitIntoFileAndDetail() {
        let read = CheckpointError.tensorChecksum(file: "m.nnck", tensor: "w", found: 1, expected: 2)
        XCTAssertEqual(read.file, "m.nnck")
        XCTAssertEqual(read.detail, "tensor \"w\": CRC-32 of the raw bytes mismatch: computed 0x00000001, manifest says 0x00000002")
        XCTAssertEqual(read.description, "m.nnck: " + read.detail)
        let write = CheckpointError.unwritable(field: "options.level", found: "12", expected: "0...9")
        XCTAssertNil(write.file)
        XCTAssertEqual(write.description, write.detail)
    }

    func testCraftedCopyOfAFixtureIsAccepted() throws {
        // Guards the crafting helper itself: reassembling without changes gives the same bytes.
        XCTAssertEqual(try Crafted(chunked).bytes(), chunked)
        XCTAssertEqual(try Crafted(minimal).bytes(), minimal)
    }

    func testHeaderRules() throws {
        var bytes = minimal
        bytes[1] = UInt8(ascii: "X")
        expect(bytes, "bad magic") { if case .badMagic = $0 { return true } else { return false } }
        expect(Array("hello, this is not a checkpoint at all".utf8), "text file") { if case .badMagic = $0 { return true } else { return false } }
        expect([], "empty") { if case .truncated(_, "header", 32, 0) = $0 { return true } else { return false } }

        var crafted = try Crafted(minimal)
        crafted.major = 2
        expect(crafted.bytes(), "major 2") { if case .unsupportedMajorVersion(_, 2, 1) = $0 { return true } else { return false } }
        XCTAssertTrue("\(CheckpointError.unsupportedMajorVersion(file: "m.nnck", found: 2, supported: 1))".contains("major version 2"))

        crafted = try Crafted(minimal)
        crafted.flags = 4
        expect(crafted.bytes(), "flags") { if case .reservedFlags(_, 4) = $0 { return true } else { return false } }

        expect(try Crafted(minimal).bytes(headerCRC: 12345), "header CRC") { if case .headerChecksum(_, _, 12345) = $0 { return true } else { return false } }
    }

    func testNewerMinorVersionIsReadAndUnknownFieldsIgnored() throws {
        var crafted = try Crafted(minimal)
        crafted.minor = 7
        crafted.manifest.set(["format_version", "minor"], .integer(7))
        crafted.manifest.set(["future_member"], .object([("anything", .array([.integer(1)]))]))
        crafted.manifest.set(["model", "layers", 0, "future_option"], .bool(true))
        crafted.manifest.set(["tensors", 0, "future_hint"], .string("x"))
        let result = try CheckpointReader.decodeDetailed(bytes: crafted.bytes())
        XCTAssertEqual(result.formatMinor, 7)
        XCTAssertEqual(result.checkpoint, try FixtureFactory.minimal().checkpoint)
    }

    func testManifestRules() throws {
        // Manifest length past the end of the file.
        var bytes = minimal
        bytes[16] = 0xFF; bytes[17] = 0x0F
        bytes.replaceSubrange(28..<32, with: le32(Zlib.crc32(Array(bytes[0..<28]))))
        expect(bytes, "manifest past end") { if case .truncated(_, "manifest", _, _) = $0 { return true } else { return false } }
        // Manifest over the cap.
        expect(minimal, "manifest cap", limits: ReaderLimits(maxManifestBytes: 100)) {
            if case .limitExceeded(_, "maxManifestBytes", _, 100) = $0 { return true } else { return false }
        }
        XCTAssertTrue("\(CheckpointError.limitExceeded(file: "f", limit: "maxManifestBytes", found: 200, cap: 100))".contains("ReaderLimits(maxManifestBytes:"))
        // Manifest CRC.
        bytes = minimal
        bytes[40] ^= 0x01
        expect(bytes, "manifest CRC") { if case .manifestChecksum = $0 { return true } else { return false } }

        let crafted = try Crafted(minimal)
        let text = try crafted.manifest.serializedBytes()
        func withText(_ newText: [UInt8]) -> [UInt8] { crafted.bytes(manifestBytes: newText) }
        func jsonError(_ matches: @escaping (JSONError) -> Bool) -> (CheckpointError) -> Bool {
            { if case .manifestJSON(_, let error) = $0 { return matches(error) } else { return false } }
        }
        // Deep JSON (an unknown member, so only the depth cap can reject it).
        let deep = Array(text.dropLast()) + Array(",\"deep\":".utf8) + [UInt8](repeating: UInt8(ascii: "["), count: 200)
            + [UInt8](repeating: UInt8(ascii: "]"), count: 200) + [UInt8(ascii: "}")]
        expect(withText(deep), "deep JSON", jsonError { if case .tooDeep(64) = $0 { return true } else { return false } })
        // Duplicate keys.
        let duplicate = Array(text.dropLast()) + Array(",\"format\":\"nnck\"}".utf8)
        expect(withText(duplicate), "duplicate key", jsonError { $0 == .duplicateKey(path: "$", key: "format") })
        // Invalid UTF-8 inside a string.
        var invalid = text
        let quote = invalid.firstIndex(of: UInt8(ascii: "n"))!   // inside "nnck"... any string byte
        invalid[quote] = 0xFF
        expect(withText(invalid), "invalid UTF-8", jsonError { if case .invalidUTF8 = $0 { return true } else { return false } })
        // Trailing bytes after the JSON value.
        expect(withText(text + Array(" x".utf8)), "trailing JSON", jsonError { if case .trailingBytes = $0 { return true } else { return false } })
        expect(withText(Array("[1,2]".utf8)), "not an object") { if case .field(_, "(top level)", _, _) = $0 { return true } else { return false } }
    }

    func field(_ expectedField: String) -> (CheckpointError) -> Bool {
        { if case .field(_, let field, _, _) = $0 { return field == expectedField } else { return false } }
    }

    func mutate(_ base: [UInt8], _ change: (inout Crafted) -> Void) throws -> [UInt8] {
        var crafted = try Crafted(base)
        change(&crafted)
        return crafted.bytes()
    }

    func testManifestFieldRules() throws {
        expect(try mutate(minimal) { $0.manifest.set(["model"], nil) }, "missing model", field("model"))
        expect(try mutate(minimal) { $0.manifest.set(["format"], .string("npz")) }, "format name", field("format"))
        expect(try mutate(minimal) { $0.manifest.set(["format_version", "minor"], .integer(3)) }, "version mismatch", field("format_version"))
        expect(try mutate(minimal) { $0.manifest.set(["model", "input", "count"], .integer(2)) }, "feature count", field("model.input.count"))
        expect(try mutate(minimal) { $0.manifest.set(["model", "layers", 0, "outputs"], .string("1")) }, "type", field("model.layers[0].outputs"))
        expect(try mutate(minimal) { $0.manifest.set(["model", "layers", 0, "kind"], .string("conv2d")) }, "kind", field("model.layers[0].kind"))
        expect(try mutate(minimal) { $0.manifest.set(["tensors", 0, "dtype"], .string("f16")) }, "f16") {
            if case .reservedDType(_, "w", "f16") = $0 { return true } else { return false }
        }
        XCTAssertTrue("\(CheckpointError.reservedDType(file: "f", tensor: "w", dtype: "f16"))".contains("reserved, not supported"))
        expect(try mutate(minimal) { $0.manifest.set(["tensors", 0, "dtype"], .string("i8")) }, "unknown dtype", field("tensors[0].dtype"))
        expect(try mutate(minimal) { $0.manifest.set(["tensors", 0, "codec"], .string("zstd")) }, "unknown codec", field("tensors[0].codec"))
        expect(try mutate(minimal) { $0.manifest.set(["tensors", 0, "crc32"], .integer(1 << 32)) }, "crc range", field("tensors[0].crc32"))
        expect(try mutate(minimal) { $0.manifest.set(["tensors", 0, "shape", 0], .number(1.5)) }, "fractional shape", field("tensors[0].shape[0]"))
        expect(try mutate(minimal) { $0.manifest.set(["tensors", 0, "chunks"], .array([])) }, "raw with chunks", field("tensors[0].chunks"))
    }

    func testTensorTableRules() throws {
        expect(try mutate(minimal) { $0.manifest.set(["tensors", 1, "name"], .string("w")) }, "duplicate names") {
            if case .duplicateTensor(_, "w") = $0 { return true } else { return false }
        }
        let huge = JSONValue.array([.integer(1 << 40), .integer(1 << 40), .integer(1 << 40)])
        expect(try mutate(minimal) { $0.manifest.set(["tensors", 0, "shape"], huge) }, "shape overflow") {
            if case .shapeOverflow(_, "w", _) = $0 { return true } else { return false }
        }
        expect(try mutate(minimal) { $0.manifest.set(["tensors", 0, "shape"], .array([.integer(2), .integer(1)])) }, "raw_length vs shape") {
            if case .layout(_, "w", let found, _) = $0 { return found.hasPrefix("raw_length") } else { return false }
        }
        expect(minimal, "tensor count cap", limits: ReaderLimits(maxTensorCount: 1)) {
            if case .limitExceeded(_, "maxTensorCount", 2, 1) = $0 { return true } else { return false }
        }
        expect(chunked, "tensor size cap", limits: ReaderLimits(maxTensorBytes: 1000)) {
            if case .limitExceeded(_, "maxTensorBytes", 2048, 1000) = $0 { return true } else { return false }
        }
        expect(chunked, "total size cap", limits: ReaderLimits(maxTotalTensorBytes: 2100)) {
            if case .limitExceeded(_, "maxTotalTensorBytes", _, 2100) = $0 { return true } else { return false }
        }
        // A 2^40-element tensor is refused by the caps before anything is allocated.
        expect(try mutate(minimal) {
            $0.manifest.set(["tensors", 0, "shape"], .array([.integer(1 << 40)]))
            $0.manifest.set(["tensors", 0, "raw_length"], .integer(4 << 40))
        }, "huge declared tensor") { if case .limitExceeded(_, "maxTensorBytes", _, _) = $0 { return true } else { return false } }
        // Chunk table rules.
        expect(try mutate(chunked) { $0.manifest.set(["tensors", 0, "chunk_size"], .integer(250)) }, "chunk size multiple") {
            if case .layout(_, "layers.0.weight", let found, _) = $0 { return found.hasPrefix("chunk_size") } else { return false }
        }
        expect(try mutate(chunked) { $0.manifest.set(["tensors", 0, "chunks", 0], nil) }, "chunk count") {
            if case .layout(_, "layers.0.weight", let found, _) = $0 { return found.hasSuffix("chunks") } else { return false }
        }
        expect(try mutate(chunked) { $0.manifest.set(["tensors", 0, "stored_length"], .integer(5)) }, "stored sum") {
            if case .layout(_, "layers.0.weight", let found, _) = $0 { return found.hasPrefix("stored_length") } else { return false }
        }
        expect(try mutate(minimal) { $0.manifest.set(["tensors", 0, "stored_length"], .integer(8)) }, "raw stored length") {
            if case .layout(_, "w", _, _) = $0 { return true } else { return false }
        }
    }

    func testLayoutRules() throws {
        var crafted = try Crafted(chunked)
        let offsets = crafted.manifest["tensors"]!.arrayValue!.map { Int($0["offset"]!.integerValue!) }
        // Overlapping: tensor 1 claims tensor 0's block.
        crafted.manifest.set(["tensors", 1, "offset"], .integer(Int64(offsets[0])))
        expect(crafted.bytes(keepOffsets: true), "overlap") {
            if case .layout(_, "layers.0.bias", let found, _) = $0 { return found.contains("offset") } else { return false }
        }
        // A gap: tensor 1 starts 64 bytes later than it should.
        crafted = try Crafted(chunked)
        crafted.manifest.set(["tensors", 1, "offset"], .integer(Int64(offsets[1] + 64)))
        expect(crafted.bytes(keepOffsets: true), "gap") { if case .layout(_, "layers.0.bias", _, _) = $0 { return true } else { return false } }
        // Out of range: the last block reaches past the end of the file.
        crafted = try Crafted(minimal)
        crafted.manifest.set(["tensors", 1, "shape"], .array([.integer(2)]))
        crafted.manifest.set(["tensors", 1, "raw_length"], .integer(8))
        crafted.manifest.set(["tensors", 1, "stored_length"], .integer(8))
        var bytes = crafted.bytes()  // the block itself stays 4 bytes long
        expect(bytes, "out of range") {
            if case .layout(_, "b", let found, _) = $0 { return found.contains("ending at byte") } else { return false }
        }
        // Bytes after the last block (a polyglot tail).
        expect(minimal + [0], "one trailing zero byte") { if case .trailingBytes(_, _, _) = $0 { return true } else { return false } }
        expect(minimal + Array("PK\u{3}\u{4}zipdata".utf8), "trailing zip") { if case .trailingBytes = $0 { return true } else { return false } }
        // Non-zero padding between the manifest and the first block.
        let result = try CheckpointReader.decodeDetailed(bytes: minimal)
        bytes = minimal
        bytes[result.storage[0].offset - 1] = 0x20
        expect(bytes, "padding") { if case .nonzeroPadding(_, let offset) = $0 { return offset == result.storage[0].offset - 1 } else { return false } }
    }

    func testChecksumAndInflateRules() throws {
        let result = try CheckpointReader.decodeDetailed(bytes: chunked)
        let weight = result.storage[0]
        // Corrupt stored bytes of chunk 1: caught by the chunk CRC before inflating.
        var bytes = chunked
        bytes[weight.offset + weight.chunks[0].storedLength + 3] ^= 0x40
        expect(bytes, "chunk CRC") { if case .chunkChecksum(_, "layers.0.weight", 1, _, _) = $0 { return true } else { return false } }
        // Tensor CRC of a raw tensor.
        let minimalResult = try CheckpointReader.decodeDetailed(bytes: minimal)
        bytes = minimal
        bytes[minimalResult.storage[0].offset] ^= 0x01
        expect(bytes, "tensor CRC") { if case .tensorChecksum(_, "w", _, _) = $0 { return true } else { return false } }
        // Tensor CRC of a deflated tensor (chunk CRCs fine, raw CRC wrong).
        expect(try mutate(chunked) { $0.manifest.set(["tensors", 0, "crc32"], .integer(7)) }, "deflated tensor CRC") {
            if case .tensorChecksum(_, "layers.0.weight", _, 7) = $0 { return true } else { return false }
        }

        // Replace a tensor's stream with a crafted one (its chunk CRC made right) to reach the inflater.
        func withStream(_ stream: [UInt8], shape: [Int], name: String = "extra.rank3") throws -> [UInt8] {
            try mutate(chunked) { crafted in
                let index = crafted.manifest["tensors"]!.arrayValue!.firstIndex { $0["name"]?.stringValue == name }!
                crafted.blocks[index] = stream
                crafted.manifest.set(["tensors", index, "shape"], .array(shape.map { .integer(Int64($0)) }))
                let raw = shape.reduce(8, *)
                crafted.manifest.set(["tensors", index, "raw_length"], .integer(Int64(raw)))
                crafted.manifest.set(["tensors", index, "stored_length"], .integer(Int64(stream.count)))
                crafted.manifest.set(["tensors", index, "chunk_size"], .integer(Int64(max(raw, 8))))
                crafted.manifest.set(["tensors", index, "chunks"], .array([.object([("stored_length", .integer(Int64(stream.count))),
                                                                                      ("crc32", .integer(Int64(Zlib.crc32(stream))))])]))
            }
        }
        // Inflate bomb: 64 MiB of zeros (~64 KB deflated) declared as 192 bytes: inflation stops at 192.
        let zeros = [UInt8](repeating: 0, count: 64 << 20)
        let bomb = try Zlib.deflate(zeros, level: 9, container: .raw)
        expect(try withStream(bomb, shape: [2, 3, 4]), "inflate bomb") {
            if case .inflate(_, "extra.rank3", 0, .outputTooLong(192)) = $0 { return true } else { return false }
        }
        // Declared far bigger than deflate can expand: refused before inflating.
        let tiny = try Zlib.deflate([UInt8](repeating: 0, count: 16), level: 9, container: .raw)
        expect(try withStream(tiny, shape: [1 << 20]), "implausible ratio") {
            if case .implausibleCompression(_, "extra.rank3", 0, _, _) = $0 { return true } else { return false }
        }
        // Short stream: inflates to fewer bytes than declared.
        let short = try Zlib.deflate([UInt8](repeating: 1, count: 100), level: 6, container: .raw)
        expect(try withStream(short, shape: [2, 3, 4]), "short stream") {
            if case .inflate(_, _, 0, .outputShort(100, 192)) = $0 { return true } else { return false }
        }
        // Garbage that is not deflate at all.
        expect(try withStream([0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF], shape: [1]), "corrupt stream") {
            if case .inflate(_, _, 0, .corrupt) = $0 { return true } else { return false }
        }
        // A valid stream followed by extra bytes inside its chunk.
        let exact = try Zlib.deflate([UInt8](repeating: 2, count: 192), level: 6, container: .raw)
        expect(try withStream(exact + [0, 0], shape: [2, 3, 4]), "stream with tail") {
            if case .inflate(_, _, 0, .trailingInput(2)) = $0 { return true } else { return false }
        }
        // A truncated stream.
        expect(try withStream(Array(exact.dropLast(2)), shape: [2, 3, 4]), "truncated stream") {
            if case .inflate(_, _, 0, let error) = $0 {
                if case .truncatedStream = error { return true }
                if case .corrupt = error { return true }
            }
            return false
        }
    }

    func testInconsistentLayersAreRejectedBeforeInflating() throws {
        func inconsistent(_ prefix: String) -> (CheckpointError) -> Bool {
            { if case .inconsistent(_, let field, _, _) = $0 { return field.hasPrefix(prefix) } else { return false } }
        }
        expect(try mutate(chunked) { $0.manifest.set(["model", "layers", 2, "inputs"], .integer(31)) }, "dense inputs", inconsistent("model.layers[2].inputs"))
        expect(try mutate(chunked) { $0.manifest.set(["model", "layers", 0, "weight"], .string("nope")) }, "missing tensor", inconsistent("model.layers[0].weight"))
        expect(try mutate(chunked) { $0.manifest.set(["model", "output", "classes"], .array([.string("a"), .string("b"), .string("c")])) },
               "class count", inconsistent("model.layers"))
        expect(try mutate(chunked) { $0.manifest.set(["model", "layers", 0, "bias"], .string("extra.special")) }, "bias shape", inconsistent("model.layers[0].bias"))
        let bn = try readBytes(Paths.fixture("f64-deflate"))
        expect(try mutate(bn) { $0.manifest.set(["model", "layers", 1, "features"], .integer(4)) }, "batchnorm features", inconsistent("model.layers[1].features"))
        expect(try mutate(bn) { $0.manifest.set(["model", "layers", 1, "epsilon"], .integer(0)) }, "epsilon", inconsistent("model.layers[1].epsilon"))
    }

    func testEveryTruncationIsRejected() throws {
        for fixture in ["minimal-raw", "f64-deflate"] {
            let bytes = try readBytes(Paths.fixture(fixture))
            for length in 0..<bytes.count {
                assertCheckpointError(try decode(Array(bytes[0..<length])), "\(fixture) truncated to \(length)") { _ in true }
            }
        }
    }

    func testEverySingleBitFlipIsRejected() throws {
        // Every byte of the file is covered by a CRC or must be zero padding, so no flip can pass.
        var bytes = try readBytes(Paths.fixture("minimal-raw"))
        for index in bytes.indices {
            for bit in 0..<8 {
                bytes[index] ^= 1 << bit
                assertCheckpointError(try decode(bytes), "minimal-raw byte \(index) bit \(bit)") { _ in true }
                bytes[index] ^= 1 << bit
            }
        }
    }

    func testBitFlipsAcrossDeflatedAndShuffledFilesAreRejected() throws {
        // Whole files with compressed blocks: one flip per byte, the bit rotating with the offset
        // (all eight bits of every byte are covered for minimal-raw above; this keeps debug runs short).
        for fixture in ["f64-deflate", "chunked-mixed-codecs", "seed-3.1"] {
            var bytes = try readBytes(Paths.fixture(fixture))
            for index in bytes.indices {
                let bit = (index * 5) % 8
                bytes[index] ^= 1 << bit
                assertCheckpointError(try decode(bytes), "\(fixture) byte \(index) bit \(bit)") { _ in true }
                bytes[index] ^= 1 << bit
            }
        }
    }

    private func le32(_ value: UInt32) -> [UInt8] { (0..<4).map { UInt8(truncatingIfNeeded: value >> (8 * $0)) } }
}
