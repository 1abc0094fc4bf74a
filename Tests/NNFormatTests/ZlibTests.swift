import Foundation
@testable import NNZlib
import XCTest

final class ZlibTests: XCTestCase {
    /// Deterministic pseudo-random bytes (a 64-bit LCG's high bytes).
    func pseudoRandomBytes(_ count: Int, seed: UInt64) -> [UInt8] {
        var state = seed
        return (0..<count).map { _ in
            state = state &* 6364136223846793005 &+ 1442695040888963407
            return UInt8(truncatingIfNeeded: state >> 56)
        }
    }

    func testPCLMULIsUsedExactlyWhenTheCPUHasIt() throws {
        let cpuinfo = try String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8)
        let flags = cpuinfo.split(separator: "\n").first { $0.hasPrefix("flags") }.map { Set($0.split(separator: " ")) } ?? []
        XCTAssertEqual(Zlib.pclmulAvailable, flags.contains("pclmulqdq") && flags.contains("sse4_1"))
    }

    func testCRC32ByPCLMULEqualsZlibForEveryLengthAtEveryAlignment() throws {
        try XCTSkipUnless(Zlib.pclmulAvailable, "this CPU has no PCLMULQDQ")
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: 1024 + 16, alignment: 64)
        defer { buffer.deallocate() }
        buffer.copyBytes(from: pseudoRandomBytes(buffer.count, seed: 1))
        var mismatches: [String] = []
        for alignment in 0...15 {
            for length in 0...1024 {
                let piece = UnsafeRawBufferPointer(rebasing: buffer[alignment..<alignment + length])
                for initial: UInt32 in [0, UInt32(truncatingIfNeeded: length &* 2_654_435_761)] {
                    let fast = Zlib.crc32(piece, initial: initial, implementation: .pclmul)
                    let reference = Zlib.crc32(piece, initial: initial, implementation: .zlib)
                    if fast != reference { mismatches.append("length \(length) alignment \(alignment) initial \(initial)") }
                }
            }
        }
        XCTAssertEqual(mismatches, [])
    }

    func testCRC32OfLargeBuffersIncrementalAndCombinedAgreesAcrossImplementations() throws {
        try XCTSkipUnless(Zlib.pclmulAvailable, "this CPU has no PCLMULQDQ")
        for (count, seed) in [(1 << 20, UInt64(2)), (3_000_001, 3), (65_536 + 77, 4)] {
            let bytes = pseudoRandomBytes(count, seed: seed)
            bytes.withUnsafeBytes { all in
                let whole = Zlib.crc32(all, initial: 0, implementation: .zlib)
                XCTAssertEqual(Zlib.crc32(all), whole, "\(count) bytes")
                XCTAssertEqual(Zlib.crc32(all, initial: 0, implementation: .pclmul), whole, "\(count) bytes")
                // Split anywhere: continue from the first part's CRC, or combine the two CRCs.
                for split in [0, 1, 63, 64, 1000, count / 2 + 5, count - 17, count] {
                    let head = UnsafeRawBufferPointer(rebasing: all[0..<split]), tail = UnsafeRawBufferPointer(rebasing: all[split...])
                    for implementation in [Zlib.CRC32Implementation.zlib, .pclmul] {
                        let headCRC = Zlib.crc32(head, initial: 0, implementation: implementation)
                        XCTAssertEqual(Zlib.crc32(tail, initial: headCRC, implementation: implementation), whole, "\(count) split at \(split)")
                        let tailCRC = Zlib.crc32(tail, initial: 0, implementation: implementation)
                        XCTAssertEqual(Zlib.crc32Combine(headCRC, tailCRC, lengthOfB: tail.count), whole, "\(count) split at \(split)")
                    }
                    var incremental = CRC32()
                    incremental.update(head)
                    incremental.update(tail)
                    XCTAssertEqual(incremental.value, whole)
                }
            }
        }
    }

    func testCRC32KnownValuesIncrementalAndCombined() {
        XCTAssertEqual(Zlib.crc32(Array("123456789".utf8)), 0xCBF4_3926)
        XCTAssertEqual(Zlib.crc32([UInt8]()), 0)
        var crc = CRC32()
        crc.update(Array("1234".utf8))
        crc.update(Array("56789".utf8))
        XCTAssertEqual(crc.value, 0xCBF4_3926)
        XCTAssertEqual(Zlib.crc32Combine(Zlib.crc32(Array("1234".utf8)), Zlib.crc32(Array("56789".utf8)), lengthOfB: 5), 0xCBF4_3926)
    }

    func testDeflateInflateRoundTripInEveryContainerAndStrategy() throws {
        let input = (0..<100_000).map { UInt8(truncatingIfNeeded: $0 * 7 / 13) }
        for container in [DeflateContainer.raw, .zlib, .gzip] {
            for strategy in [DeflateStrategy.default, .filtered, .huffmanOnly, .rle, .fixed] {
                for level in [0, 1, 9] {
                    let packed = try Zlib.deflate(input, level: level, strategy: strategy, container: container)
                    XCTAssertEqual(try Zlib.inflate(packed, expectedSize: input.count, container: container), input)
                }
            }
        }
        XCTAssertEqual(try Zlib.inflate(try Zlib.deflate([UInt8](), container: .raw), expectedSize: 0, container: .raw), [])
        XCTAssertThrowsError(try Zlib.deflate(input, level: 12))
    }

    func testSegmentsWithTheirOwnSettingsMakeOneStream() throws {
        let runs = [UInt8](repeating: 7, count: 50_000)
        let random = pseudoRandomBytes(70_000, seed: 5)  // more than one stored block (65535 bytes)
        let text = (0..<30_000).map { UInt8(truncatingIfNeeded: $0 * 7 / 13) }
        let whole = runs + random + text
        for container in [DeflateContainer.raw, .zlib, .gzip] {
            let packed = try runs.withUnsafeBytes { a in
                try random.withUnsafeBytes { b in
                    try text.withUnsafeBytes { c in
                        let segments = [DeflateSegment(a, level: 1, strategy: .rle), DeflateSegment(b, level: 0),
                                        DeflateSegment(UnsafeRawBufferPointer(start: nil, count: 0), level: 9),
                                        DeflateSegment(c, level: 6)]
                        var output = [UInt8](repeating: 0, count: Zlib.deflateBound(whole.count, segments: segments.count))
                        let written = try output.withUnsafeMutableBytes { try Zlib.deflate(segments, into: $0, container: container) }
                        return Array(output[0..<written])
                    }
                }
            }
            XCTAssertEqual(try Zlib.inflate(packed, expectedSize: whole.count, container: container), whole, "\(container)")
            // Level 0 really stored the random segment: its first stored block's bytes appear verbatim.
            let block = Array(random[0..<1000])
            XCTAssertTrue((0...(packed.count - block.count)).contains { packed[$0] == block[0] && Array(packed[$0..<$0 + block.count]) == block })
            XCTAssertLessThan(packed.count, random.count + 2_000, "runs and text compressed")
        }
        // One segment is the plain deflate call.
        XCTAssertEqual(try text.withUnsafeBytes { input in
            var output = [UInt8](repeating: 0, count: Zlib.deflateBound(text.count, segments: 1))
            let written = try output.withUnsafeMutableBytes { try Zlib.deflate([DeflateSegment(input, level: 1, strategy: .rle)], into: $0, container: .raw) }
            return Array(output[0..<written])
        }, try Zlib.deflate(text, level: 1, strategy: .rle, container: .raw))
        // Too little output room is an error, never an overrun.
        XCTAssertThrowsError(try random.withUnsafeBytes { input in
            var output = [UInt8](repeating: 0, count: 100)
            return try output.withUnsafeMutableBytes { try Zlib.deflate([DeflateSegment(input, level: 0)], into: $0) }
        })
    }

    func testBoundedInflateReportsEachOutcomeDistinctly() throws {
        let input = [UInt8](repeating: 9, count: 1000)
        let packed = try Zlib.deflate(input, level: 6, container: .raw)
        XCTAssertThrowsError(try Zlib.inflate(packed, expectedSize: 999, container: .raw)) { XCTAssertEqual($0 as? ZlibError, .outputTooLong(limit: 999)) }
        XCTAssertThrowsError(try Zlib.inflate(packed, expectedSize: 1001, container: .raw)) {
            XCTAssertEqual($0 as? ZlibError, .outputShort(produced: 1000, expected: 1001))
        }
        XCTAssertThrowsError(try Zlib.inflate(packed + [1, 2], expectedSize: 1000, container: .raw)) { XCTAssertEqual($0 as? ZlibError, .trailingInput(unused: 2)) }
        XCTAssertThrowsError(try Zlib.inflate(Array(packed.dropLast()), expectedSize: 1000, container: .raw)) {
            guard case .truncatedStream = $0 as? ZlibError else { return XCTFail("\($0)") }
        }
        XCTAssertThrowsError(try Zlib.inflate([0xFF, 0xFF, 0xFF], expectedSize: 1000, container: .raw)) {
            guard case .corrupt = $0 as? ZlibError else { return XCTFail("\($0)") }
        }
        // zlib container: a wrong Adler-32 is corruption.
        var wrapped = try Zlib.deflate(input, container: .zlib)
        wrapped[wrapped.count - 1] ^= 1
        XCTAssertThrowsError(try Zlib.inflate(wrapped, expectedSize: 1000, container: .zlib)) {
            guard case .corrupt = $0 as? ZlibError else { return XCTFail("\($0)") }
        }
        // A bomb: 16 MiB of zeros never produces more than the 4 KiB asked for.
        let bomb = try Zlib.deflate([UInt8](repeating: 0, count: 16 << 20), level: 9, container: .raw)
        var small = [UInt8](repeating: 0, count: 4096)
        XCTAssertThrowsError(try small.withUnsafeMutableBytes { out in try bomb.withUnsafeBytes { try Zlib.inflate($0, into: out, container: .raw) } }) {
            XCTAssertEqual($0 as? ZlibError, .outputTooLong(limit: 4096))
        }
    }
}
