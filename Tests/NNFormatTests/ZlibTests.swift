import NNZlib
import XCTest

final class ZlibTests: XCTestCase {
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
