// Inflate (our raw DEFLATE decoder) against zlib, the reference: same output for every kind of
// stream zlib writes, and the same verdict — the same ZlibError, message and produced count
// included — for truncated, bit-flipped, random and hand-made hostile streams.
import Foundation
import NNEngine
import NNFormat
import NNZlib
import XCTest

/// What a decoder made of a stream: the output, or the error.
enum InflateOutcome: Equatable, CustomStringConvertible {
    case accepted([UInt8])
    case rejected(ZlibError)

    var description: String {
        switch self {
        case .accepted(let bytes): return "accepted \(bytes.count) bytes"
        case .rejected(let error): return "rejected: \(error)"
        }
    }
}

enum InflateDifferential {
    /// zlib's verdict: `Zlib.inflate` (bounded inflate plus the exact-size check), raw container.
    static func zlib(_ stream: [UInt8], size: Int) -> InflateOutcome {
        var output = [UInt8](repeating: 0, count: size)
        do {
            try output.withUnsafeMutableBytes { out in try stream.withUnsafeBytes { try Zlib.inflate($0, into: out, container: .raw) } }
            return .accepted(output)
        } catch {
            return .rejected(error as! ZlibError)
        }
    }

    static func ours(_ stream: [UInt8], size: Int) -> InflateOutcome {
        var output = [UInt8](repeating: 0, count: size)
        do {
            try output.withUnsafeMutableBytes { out in try stream.withUnsafeBytes { try Inflate.decode($0, into: out) } }
            return .accepted(output)
        } catch {
            return .rejected(error as! ZlibError)
        }
    }
}

/// nnkit's seeded generator, so every run tests the same streams.
struct TestRandom {
    var generator: RandomGenerator
    init(state seed: UInt64) { generator = RandomGenerator(seed: seed) }
    mutating func next() -> UInt64 { generator.next() }
    mutating func below(_ n: Int) -> Int { generator.next(below: n) }
    mutating func byte() -> UInt8 { UInt8(truncatingIfNeeded: generator.next()) }
    mutating func normal() -> Double { generator.normal() }
}

/// Writes a deflate bit stream: fields least significant bit first, Huffman codes most significant first.
struct BitWriter {
    var bytes: [UInt8] = []
    var bitCount = 0

    mutating func write(_ value: Int, _ bits: Int) {
        for index in 0..<bits {
            if bitCount % 8 == 0 { bytes.append(0) }
            bytes[bytes.count - 1] |= UInt8((value >> index) & 1) << (bitCount % 8)
            bitCount += 1
        }
    }

    mutating func writeCode(_ code: Int, _ length: Int) {
        for index in stride(from: length - 1, through: 0, by: -1) { write((code >> index) & 1, 1) }
    }

    /// Fixed-code literal/length symbol (RFC 1951 3.2.6).
    mutating func fixedSymbol(_ symbol: Int) {
        switch symbol {
        case 0..<144: writeCode(0x30 + symbol, 8)
        case 144..<256: writeCode(0x190 + symbol - 144, 9)
        case 256..<280: writeCode(symbol - 256, 7)
        default: writeCode(0xC0 + symbol - 280, 8)
        }
    }

    /// The canonical codes of `lengths`.
    static func canonicalCodes(_ lengths: [Int]) -> [Int] {
        var counts = [Int](repeating: 0, count: 16)
        for length in lengths where length > 0 { counts[length] += 1 }
        var next = [Int](repeating: 0, count: 16)
        var code = 0
        for length in 1...15 {
            code = (code + counts[length - 1]) << 1
            next[length] = code
        }
        return lengths.map { length in
            guard length > 0 else { return 0 }
            defer { next[length] += 1 }
            return next[length]
        }
    }

    /// A dynamic block header: HLIT/HDIST/HCLEN for `literalCount`/`distanceCount` codes, the
    /// code-length code `codeLengthLengths` (19 lengths, by symbol), then `symbols` coded with it
    /// (pairs of code-length symbol and extra-bit value).
    mutating func dynamicHeader(final: Bool = true, literalCount: Int, distanceCount: Int, codeLengthLengths: [Int],
                                symbols: [(Int, Int)]) {
        write(final ? 1 : 0, 1)
        write(2, 2)
        write(literalCount - 257, 5)
        write(distanceCount - 1, 5)
        let order = [16, 17, 18, 0, 8, 7, 9, 6, 10, 5, 11, 4, 12, 3, 13, 2, 14, 1, 15]
        write(19 - 4, 4)
        for symbol in order { write(codeLengthLengths[symbol], 3) }
        let codes = BitWriter.canonicalCodes(codeLengthLengths)
        for (symbol, extra) in symbols {
            writeCode(codes[symbol], codeLengthLengths[symbol])
            switch symbol {
            case 16: write(extra, 2)
            case 17: write(extra, 3)
            case 18: write(extra, 7)
            default: break
            }
        }
    }
}

final class InflateTests: XCTestCase {
    // MARK: Inputs

    static func floatPlanes(count: Int, trainedLike: Bool, _ random: inout TestRandom) -> [UInt8] {
        // He-normal weights, shuffled into 4 byte planes as the writer does (plane j = byte j).
        var planes = [UInt8](repeating: 0, count: 4 * count)
        for index in 0..<count {
            var bits = Float(random.normal() * (2.0 / 784).squareRoot()).bitPattern
            if trainedLike { bits &= 0xFFFF_0000 }
            for plane in 0..<4 { planes[plane * count + index] = UInt8(truncatingIfNeeded: bits >> (8 * plane)) }
        }
        return planes
    }

    static func textLike(count: Int, _ random: inout TestRandom) -> [UInt8] {
        let words = ["the", "weights", "of", "a", "layer", "are", "stored", "in", "chunks", "deflate", "matrix", "bias", "\n"]
        var text: [UInt8] = []
        while text.count < count { text += Array(words[random.below(words.count)].utf8) + [32] }
        return Array(text.prefix(count))
    }

    /// Runs of one byte and short repeating patterns (distances 1–7 and overlapping copies).
    static func runHeavy(count: Int, _ random: inout TestRandom) -> [UInt8] {
        var bytes: [UInt8] = []
        while bytes.count < count {
            let period = 1 + random.below(12)
            let pattern = (0..<period).map { _ in random.byte() }
            let length = random.below(700)
            for index in 0..<length { bytes.append(pattern[index % period]) }
            for _ in 0..<random.below(5) { bytes.append(random.byte()) }
        }
        return Array(bytes.prefix(count))
    }

    static func inputs(size: Int) -> [(String, [UInt8])] {
        var random = TestRandom(state: 2026)
        return [
            ("random", (0..<size).map { _ in random.byte() }),
            ("float planes", floatPlanes(count: size / 4, trainedLike: false, &random)),
            ("trained-like planes", floatPlanes(count: size / 4, trainedLike: true, &random)),
            ("text", textLike(count: size, &random)),
            ("runs", runHeavy(count: size, &random)),
            ("zeros", [UInt8](repeating: 0, count: size)),
            ("empty", []),
        ]
    }

    func assertSame(_ stream: [UInt8], size: Int, _ label: String, file: StaticString = #filePath, line: UInt = #line) {
        let theirs = InflateDifferential.zlib(stream, size: size)
        let mine = InflateDifferential.ours(stream, size: size)
        if mine != theirs { XCTFail("\(label): zlib \(theirs), ours \(mine)", file: file, line: line) }
    }

    // MARK: Valid streams

    func testDecodesEveryLevelAndStrategyLikeZlib() throws {
        for (name, input) in Self.inputs(size: 150_000) {
            for strategy in [DeflateStrategy.default, .filtered, .huffmanOnly, .rle, .fixed] {
                for level in [0, 1, 6, 9] {
                    let stream = try Zlib.deflate(input, level: level, strategy: strategy, container: .raw)
                    let label = "\(name), level \(level), \(strategy)"
                    XCTAssertEqual(InflateDifferential.ours(stream, size: input.count), .accepted(input), label)
                    // One byte of room too few or too many: too long, and short.
                    assertSame(stream, size: input.count + 1, label + ", size + 1")
                    if !input.isEmpty { assertSame(stream, size: input.count - 1, label + ", size - 1") }
                }
            }
        }
    }

    /// Long streams with many blocks, and matches ending exactly at the output's end.
    func testLargeMatchesNearTheEnd() throws {
        var random = TestRandom(state: 7)
        for tail in [0, 1, 3, 7, 8, 9, 15, 258, 300] {
            var input = Self.runHeavy(count: 40_000, &random)
            input += [UInt8](repeating: input.last ?? 0, count: tail)
            input += Array(input[1000..<(1000 + tail)])
            for level in [1, 9] {
                let stream = try Zlib.deflate(input, level: level, container: .raw)
                XCTAssertEqual(InflateDifferential.ours(stream, size: input.count), .accepted(input), "tail \(tail)")
            }
        }
    }

    // MARK: Damaged streams

    func testEveryTruncationIsJudgedLikeZlib() throws {
        var random = TestRandom(state: 11)
        let sources: [(String, [UInt8], Int, DeflateStrategy)] = [
            ("text dynamic", Self.textLike(count: 3000, &random), 6, .default),
            ("float fixed", Self.floatPlanes(count: 600, trainedLike: false, &random), 6, .fixed),
            ("runs", Self.runHeavy(count: 3000, &random), 9, .rle),
            ("random stored", (0..<2000).map { _ in random.byte() }, 0, .default),
            ("trained-like", Self.floatPlanes(count: 1000, trainedLike: true, &random), 9, .default),
        ]
        for (name, input, level, strategy) in sources {
            let stream = try Zlib.deflate(input, level: level, strategy: strategy, container: .raw)
            for length in 0..<stream.count {
                assertSame(Array(stream[0..<length]), size: input.count, "\(name) truncated to \(length) of \(stream.count)")
            }
            assertSame(stream + [0], size: input.count, "\(name) + 1 byte")
        }
    }

    func testBitFlipsAreJudgedLikeZlib() throws {
        var random = TestRandom(state: 12)
        let sources = [
            try Zlib.deflate(Self.textLike(count: 2000, &random), level: 6, container: .raw),
            try Zlib.deflate(Self.floatPlanes(count: 500, trainedLike: false, &random), level: 9, container: .raw),
            try Zlib.deflate(Self.runHeavy(count: 2000, &random), level: 1, container: .raw),
            try Zlib.deflate(Self.textLike(count: 2000, &random), level: 6, strategy: .fixed, container: .raw),
            try Zlib.deflate(Self.runHeavy(count: 2000, &random), level: 0, container: .raw),
        ]
        for trial in 0..<4000 {
            var stream = sources[trial % sources.count]
            for _ in 0...random.below(3) {
                let bit = random.below(min(stream.count * 8, trial % 2 == 0 ? 400 : stream.count * 8))
                stream[bit / 8] ^= 1 << (bit % 8)
            }
            assertSame(stream, size: trial % 3 == 0 ? 2000 : random.below(3000), "flip trial \(trial)")
        }
    }

    func testRandomBytesAreJudgedLikeZlib() {
        var random = TestRandom(state: 13)
        for trial in 0..<4000 {
            var stream = (0..<random.below(80)).map { _ in random.byte() }
            // Steer a third of them into fixed blocks, where random bits decode furthest.
            if trial % 3 == 0, !stream.isEmpty { stream[0] = stream[0] & ~0b110 | 0b010 }
            assertSame(stream, size: random.below(400), "random trial \(trial)")
        }
    }

    // MARK: Hand-made rejects, each with zlib's specific error

    func assertRejected(_ stream: [UInt8], size: Int = 16, _ expected: ZlibError, _ label: String, line: UInt = #line) {
        XCTAssertEqual(InflateDifferential.zlib(stream, size: size), .rejected(expected), "zlib: " + label, line: line)
        XCTAssertEqual(InflateDifferential.ours(stream, size: size), .rejected(expected), label, line: line)
    }

    /// Code-length code in which symbols 0, 1, 16, 17, 18 and 2 have codes (2, 2, 3, 3, 3, 3 bits: complete).
    static let codeLengthCode: [Int] = {
        var lengths = [Int](repeating: 0, count: 19)
        lengths[0] = 2; lengths[1] = 2; lengths[16] = 3; lengths[17] = 3; lengths[18] = 3; lengths[2] = 3
        return lengths
    }()

    func testBlockHeaderRejects() {
        assertRejected([0b111], .corrupt(message: "invalid block type"), "block type 3")
        assertRejected([0x01, 0x05, 0x00, 0x00, 0x00], .corrupt(message: "invalid stored block lengths"), "LEN/NLEN mismatch")
        var writer = BitWriter()
        writer.write(1, 1); writer.write(2, 2); writer.write(287 - 257, 5); writer.write(0, 5); writer.write(0, 4)
        assertRejected(writer.bytes + [0, 0], .corrupt(message: "too many length or distance symbols"), "HLIT 287")
        writer = BitWriter()
        writer.write(1, 1); writer.write(2, 2); writer.write(0, 5); writer.write(30, 5); writer.write(0, 4)
        assertRejected(writer.bytes + [0, 0], .corrupt(message: "too many length or distance symbols"), "HDIST 31")
    }

    func testCodeLengthCodeRejects() {
        var writer = BitWriter()
        writer.dynamicHeader(literalCount: 257, distanceCount: 1, codeLengthLengths: [Int](repeating: 1, count: 19), symbols: [])
        assertRejected(writer.bytes + [0, 0, 0], .corrupt(message: "invalid code lengths set"), "over-subscribed code-length code")
        var single = [Int](repeating: 0, count: 19)
        single[0] = 1
        writer = BitWriter()
        writer.dynamicHeader(literalCount: 257, distanceCount: 1, codeLengthLengths: single, symbols: [])
        assertRejected(writer.bytes + [0, 0, 0], .corrupt(message: "invalid code lengths set"), "incomplete code-length code")
        var incomplete = Self.codeLengthCode
        incomplete[18] = 0
        writer = BitWriter()
        writer.dynamicHeader(literalCount: 257, distanceCount: 1, codeLengthLengths: incomplete, symbols: [])
        assertRejected(writer.bytes + [0, 0, 0], .corrupt(message: "invalid code lengths set"), "code-length code missing one code")
        // An empty code-length code decodes every length as 0 (one bit each), as zlib does.
        writer = BitWriter()
        writer.dynamicHeader(literalCount: 257, distanceCount: 1, codeLengthLengths: [Int](repeating: 0, count: 19), symbols: [])
        assertRejected(writer.bytes + [UInt8](repeating: 0xFF, count: 40), .corrupt(message: "invalid code -- missing end-of-block"), "empty code-length code")
        assertRejected(writer.bytes + [UInt8](repeating: 0xFF, count: 20), .truncatedStream(produced: 0), "empty code-length code, short")
    }

    func testCodeLengthRejects() {
        var writer = BitWriter()
        writer.dynamicHeader(literalCount: 257, distanceCount: 1, codeLengthLengths: Self.codeLengthCode, symbols: [(16, 0)])
        assertRejected(writer.bytes + [0, 0, 0], .corrupt(message: "invalid bit length repeat"), "repeat 16 first")
        writer = BitWriter()
        writer.dynamicHeader(literalCount: 257, distanceCount: 1, codeLengthLengths: Self.codeLengthCode, symbols: [(18, 127), (18, 127)])
        assertRejected(writer.bytes + [0, 0, 0], .corrupt(message: "invalid bit length repeat"), "repeat past the count")
        writer = BitWriter()
        writer.dynamicHeader(literalCount: 257, distanceCount: 1, codeLengthLengths: Self.codeLengthCode, symbols: [(18, 127), (18, 109)])
        assertRejected(writer.bytes + [0, 0, 0], .corrupt(message: "invalid code -- missing end-of-block"), "no end-of-block code")
    }

    /// A dynamic header for literal/length code lengths `literal` (257 of them) and distance code
    /// lengths `distance` (1 or more), each length coded by symbols 0, 1, 2 or a run of zeros.
    static func header(literal: [Int], distance: [Int]) -> BitWriter {
        var symbols: [(Int, Int)] = []
        var zeros = 0
        func flush() {
            while zeros >= 11 { let run = min(zeros, 138); symbols.append((18, run - 11)); zeros -= run }
            while zeros > 0 { symbols.append((0, 0)); zeros -= 1 }
        }
        for length in literal + distance {
            if length == 0 { zeros += 1; continue }
            flush()
            symbols.append((length, 0))
        }
        flush()
        var writer = BitWriter()
        writer.dynamicHeader(literalCount: literal.count, distanceCount: distance.count, codeLengthLengths: codeLengthCode, symbols: symbols)
        return writer
    }

    func testLiteralAndDistanceCodeRules() {
        // Over-subscribed literal/length code: three codes of length 1.
        var literal = [Int](repeating: 0, count: 257)
        literal[0] = 1; literal[1] = 1; literal[256] = 1
        assertRejected(Self.header(literal: literal, distance: [1]).bytes + [0, 0], .corrupt(message: "invalid literal/lengths set"), "over-subscribed")
        // Incomplete literal/length code with codes of length 2.
        literal = [Int](repeating: 0, count: 257)
        literal[0] = 2; literal[256] = 2
        assertRejected(Self.header(literal: literal, distance: [1]).bytes + [0, 0], .corrupt(message: "invalid literal/lengths set"), "incomplete literal code")
        // Incomplete distance code with codes of length 2.
        literal[0] = 1; literal[256] = 1
        assertRejected(Self.header(literal: literal, distance: [2, 2]).bytes + [0, 0], .corrupt(message: "invalid distances set"), "incomplete distance code")

        // Allowed: a literal/length code whose one code (end-of-block) has length 1, no distance code.
        literal = [Int](repeating: 0, count: 257)
        literal[256] = 1
        var writer = Self.header(literal: literal, distance: [0])
        writer.write(0, 1)
        XCTAssertEqual(InflateDifferential.zlib(writer.bytes, size: 0), .accepted([]))
        XCTAssertEqual(InflateDifferential.ours(writer.bytes, size: 0), .accepted([]))
        writer = Self.header(literal: literal, distance: [0])
        writer.write(1, 1)
        assertRejected(writer.bytes, size: 0, .corrupt(message: "invalid literal/length code"), "the missing code of a one-code literal code")

        // Allowed: one distance code of length 1; its missing twin is an invalid distance code.
        literal = [Int](repeating: 0, count: 258)
        literal[65] = 1; literal[256] = 2; literal[257] = 2  // 'A', end, length 3
        let codes = BitWriter.canonicalCodes(literal)
        writer = Self.header(literal: literal, distance: [1])
        writer.writeCode(codes[65], 1); writer.writeCode(codes[257], 2); writer.write(0, 1); writer.writeCode(codes[256], 2)
        XCTAssertEqual(InflateDifferential.ours(writer.bytes, size: 4), .accepted([65, 65, 65, 65]))
        XCTAssertEqual(InflateDifferential.zlib(writer.bytes, size: 4), .accepted([65, 65, 65, 65]))
        writer = Self.header(literal: literal, distance: [1])
        writer.writeCode(codes[65], 1); writer.writeCode(codes[257], 2); writer.write(1, 1); writer.writeCode(codes[256], 2)
        assertRejected(writer.bytes, size: 4, .corrupt(message: "invalid distance code"), "the missing code of a one-code distance code")
        // Allowed: no distance code at all, until a length needs one.
        writer = Self.header(literal: literal, distance: [0])
        writer.writeCode(codes[65], 1); writer.writeCode(codes[256], 2)
        XCTAssertEqual(InflateDifferential.ours(writer.bytes, size: 1), .accepted([65]))
        writer = Self.header(literal: literal, distance: [0])
        writer.writeCode(codes[65], 1); writer.writeCode(codes[257], 2); writer.write(0, 1); writer.writeCode(codes[256], 2)
        assertRejected(writer.bytes, size: 4, .corrupt(message: "invalid distance code"), "a length with no distance code")
    }

    func testFixedBlockRejects() {
        for symbol in [286, 287] {
            var writer = BitWriter()
            writer.write(1, 1); writer.write(1, 2); writer.fixedSymbol(65); writer.fixedSymbol(symbol); writer.fixedSymbol(256)
            assertRejected(writer.bytes, .corrupt(message: "invalid literal/length code"), "fixed symbol \(symbol)")
        }
        for distance in [30, 31] {
            var writer = BitWriter()
            writer.write(1, 1); writer.write(1, 2); writer.fixedSymbol(65); writer.fixedSymbol(257); writer.writeCode(distance, 5)
            writer.write(0, 13); writer.fixedSymbol(256)
            assertRejected(writer.bytes, .corrupt(message: "invalid distance code"), "fixed distance \(distance)")
        }
        var writer = BitWriter()
        writer.write(1, 1); writer.write(1, 2); writer.fixedSymbol(65); writer.fixedSymbol(257); writer.writeCode(1, 5); writer.fixedSymbol(256)
        assertRejected(writer.bytes, .corrupt(message: "invalid distance too far back"), "distance 2 after one byte")
        writer = BitWriter()
        writer.write(1, 1); writer.write(1, 2); writer.fixedSymbol(257); writer.writeCode(0, 5); writer.fixedSymbol(256)
        assertRejected(writer.bytes, .corrupt(message: "invalid distance too far back"), "distance 1 at the start")
    }

    func testContainerRules() throws {
        let input = [UInt8](repeating: 9, count: 1000)
        let stream = try Zlib.deflate(input, level: 6, container: .raw)
        assertRejected(stream, size: 999, .outputTooLong(limit: 999), "too long")
        assertRejected(stream, size: 1001, .outputShort(produced: 1000, expected: 1001), "short")
        assertRejected(stream + [1, 2], size: 1000, .trailingInput(unused: 2), "trailing")
        assertRejected([], size: 0, .truncatedStream(produced: 0), "empty input")
        // A 16 MiB bomb never writes more than the 4 KiB asked for.
        let bomb = try Zlib.deflate([UInt8](repeating: 0, count: 16 << 20), level: 9, container: .raw)
        assertRejected(bomb, size: 4096, .outputTooLong(limit: 4096), "bomb")
        // Stored blocks: input ending inside the data, output ending inside the data.
        let stored = try Zlib.deflate(Array(input.prefix(100)), level: 0, container: .raw)
        assertRejected(Array(stored.dropLast(10)), size: 100, .truncatedStream(produced: 90), "stored, truncated")
        assertRejected(stored, size: 50, .outputTooLong(limit: 50), "stored, too long")
    }
}
