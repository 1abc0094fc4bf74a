import XCTest
@testable import NNData
import NNParallel
import CCSVScan

/// The row parser's fast path (RowAssembler.addPlainRecord) finds field ends with 64-byte SIMD
/// masks and decodes short decimals with SIMD: its pieces must match their portable versions, and
/// whole files must parse as the general path would, wherever fields, quotes and line ends fall
/// relative to 16-, 32- and 64-byte blocks and to the ends of stream buffers.
final class RowFastPathTests: XCTestCase {
    private struct Generator {
        var state: UInt64
        mutating func next() -> UInt64 {
            state = state &* 6364136223846793005 &+ 1442695040888963407
            return state >> 17
        }
        mutating func below(_ n: Int) -> Int { Int(next() % UInt64(n)) }
    }

    private func isRecordStop(_ byte: UInt8) -> Bool { byte == 34 || byte == 13 || byte == 10 || byte == 0 }

    /// Every window of random text full of stop bytes, cut by the buffer's end at every distance.
    func testFieldStopsMarkDelimitersRecordStopsAndTheEnd() {
        var random = Generator(state: 11)
        let alphabet = Array("0123456789.-,;\t|\"\r\n xy".utf8) + [0, 0x80, 0xAC, 0xFF]
        for delimiter in Array(",;\t|x".utf8) {
            for _ in 0..<300 {
                let bytes = (0..<(1 + random.below(200))).map { _ in alphabet[random.below(alphabet.count)] }
                bytes.withUnsafeBufferPointer { buffer in
                    let base = buffer.baseAddress!
                    for window in 0...bytes.count {
                        let (delimiters, recordStops) = fieldStops(base, window: window, end: bytes.count, delimiter: delimiter)
                        var expectedDelimiters: UInt64 = 0, expectedStops: UInt64 = 0
                        for k in 0..<64 {
                            let i = window + k
                            if i == bytes.count {
                                expectedStops |= 1 << UInt64(k)
                                break
                            }
                            if bytes[i] == delimiter { expectedDelimiters |= 1 << UInt64(k) }
                            if isRecordStop(bytes[i]) { expectedStops |= 1 << UInt64(k) }
                        }
                        XCTAssertEqual(delimiters, expectedDelimiters, "window \(window) of \(bytes.count)")
                        XCTAssertEqual(recordStops, expectedStops, "window \(window) of \(bytes.count)")
                        if bytes.count - window >= 64 {
                            var portableStops: UInt64 = 0
                            XCTAssertEqual(nnkit_csv_delimiters64_portable(base + window, delimiter, &portableStops), delimiters)
                            XCTAssertEqual(portableStops, recordStops)
                        }
                    }
                }
            }
        }
    }

    /// The SIMD decoder (as NNData is compiled) and the portable one agree on random fields of
    /// every length 1…16, mostly number-like, followed by bytes that must not count.
    func testShortDecimalDecoderMatchesPortableVersion() {
        var random = Generator(state: 12)
        let alphabet = Array("0123456789".utf8) + Array("0123456789".utf8) + Array(".-+e ,x".utf8) + [0, 0xB0]
        var taken = 0
        for _ in 0..<200_000 {
            let length = 1 + random.below(16)
            var bytes = (0..<32).map { _ in alphabet[random.below(alphabet.count)] }
            // Mostly of the form: [sign] digits [. digits].
            if random.below(4) != 0 {
                for i in 0..<length { bytes[i] = UInt8(ascii: "0") + UInt8(random.below(10)) }
                if random.below(3) == 0 { bytes[0] = random.below(2) == 0 ? UInt8(ascii: "-") : UInt8(ascii: "+") }
                if random.below(4) != 0 { bytes[random.below(length)] = UInt8(ascii: ".") }
            }
            bytes.withUnsafeBufferPointer { buffer in
                let base = buffer.baseAddress!
                var portable = NNKitShortDecimal()
                let portableTook = nnkit_short_decimal16_portable(base, Int32(length), &portable) != 0
                let simd = decodeShortDecimal(base, start: 0, length: length)
                let text = String(decoding: bytes[0..<length], as: UTF8.self)
                XCTAssertEqual(simd != nil, portableTook, text)
                if let simd, portableTook {
                    taken += 1
                    XCTAssertEqual(simd.mantissa, portable.mantissa, text)
                    XCTAssertEqual(simd.fractionDigits, portable.fractionDigits, text)
                    XCTAssertEqual(simd.negative, portable.negative, text)
                }
            }
        }
        XCTAssertGreaterThan(taken, 50_000)
    }

    /// A random file of plain and not-so-plain rows: numbers of 1 to 20 bytes (exponents, spaces,
    /// quotes now and then), labels of varied length (quoted ones with commas and line breaks),
    /// LF or CRLF, with or without a last line end.
    private func randomFile(_ random: inout Generator, rows: Int, crlf: Bool, finalNewline: Bool) -> (text: String, features: [[String]], labels: [String]) {
        let lineEnd = crlf ? "\r\n" : "\n"
        var text = "a,b,c,d,label" + lineEnd
        var features: [[String]] = []
        var labels: [String] = []
        let plainLabels = ["x", "delta", "a_label_long_enough_to_reach_the_next_block_of_64_bytes", ""]
        for row in 0..<rows {
            var fields: [String] = []
            for _ in 0..<4 {
                var field = ""
                switch random.below(10) {
                case 0: field = "\(random.below(1000))e-\(random.below(5))"
                case 1: field = " \(random.below(100)).25"
                case 2: field = "\"\(random.below(100)).5\""
                case 3: field = String(repeating: "0", count: random.below(12)) + "\(random.below(100_000))"
                default:
                    if random.below(2) == 0 { field = "-" }
                    field += "\(random.below(100_000))"
                    if random.below(4) != 0 {
                        field += "."
                        for _ in 0..<random.below(9) { field += "\(random.below(10))" }
                    }
                }
                fields.append(field)
            }
            let label: String
            let labelText: String
            if random.below(12) == 0 {
                label = "q,\(random.below(3))" + lineEnd + "z"
                labelText = "\"" + label + "\""
            } else {
                label = plainLabels[random.below(plainLabels.count)]
                labelText = label
            }
            features.append(fields)
            labels.append(label)
            text += fields.joined(separator: ",") + "," + labelText
            if row < rows - 1 || finalNewline { text += lineEnd }
        }
        return (text, features, labels)
    }

    func testFilesParseAsTheFieldsSayWhereverBlocksAndBuffersEnd() throws {
        let directory = makeTemporaryDirectory(self)
        let savedThreshold = CSVFile.minimumBytesToSplit
        CSVFile.minimumBytesToSplit = 256
        defer { CSVFile.minimumBytesToSplit = savedThreshold }
        var random = Generator(state: 13)
        let plan = { (header: CSVHeader) in try ColumnPlan.training(header: header) }
        for round in 0..<24 {
            let (text, features, labels) = randomFile(&random, rows: 1 + random.below(120), crlf: round % 2 == 1, finalNewline: round % 4 < 2)
            let path = directory + "/\(round).csv"
            writeFile(path, Array(text.utf8))
            let expected = features.flatMap { $0.map { parseFloat32($0.trimmingCharacters(in: CharacterSet(charactersIn: "\""))) } }
            XCTAssertFalse(expected.contains(nil))
            let expectedBits = expected.map { $0!.bitPattern }
            for threads in [1, 3] {
                let loaded = try loadCSV(path: path, pool: WorkerPool(threads: threads), makePlan: plan)
                XCTAssertEqual(loaded.rows.features.map(\.bitPattern), expectedBits, "round \(round), \(threads) threads")
                XCTAssertEqual(loaded.rows.labels, labels, "round \(round), \(threads) threads")
            }
            for blockSize in [16, 31, 32, 33, 63, 64, 65, 100, 1 << 16] {
                let reader = try CSVStreamReader(path: path, blockSize: blockSize)
                var streamed: [Float] = []
                var streamedLabels: [String] = []
                while let rows = try reader.nextBatch(plan: try plan(reader.header), maxRows: 7) {
                    streamed += rows.features
                    streamedLabels += rows.labels
                }
                XCTAssertEqual(streamed.map(\.bitPattern), expectedBits, "round \(round), block \(blockSize)")
                XCTAssertEqual(streamedLabels, labels, "round \(round), block \(blockSize)")
            }
        }
    }

    /// A bad byte (a quote inside an unquoted field, a NUL, a letter in a number, a missing or an
    /// extra field) at every position of a long row: the same error, naming the same line and
    /// column, from the mapped file and from streams cut at every few bytes.
    func testErrorsAtEveryPositionOfARow() throws {
        let directory = makeTemporaryDirectory(self)
        let good = "-0.736674,12.5137,0.285577,-3.06429,6.48178,0.96384,1.2784,-1.41792,3.00174,0.338339,delta"
        let plan = { (header: CSVHeader) in try ColumnPlan.training(header: header) }
        let header = (0..<10).map { "f\($0)" }.joined(separator: ",") + ",label\n"
        let labelStart = good.utf8.count - "delta".utf8.count
        var cases = 0
        for position in 0..<good.utf8.count {
            for bad in ["\"", "\u{0}", "x", ",", ""] {
                var bytes = Array(good.utf8)
                if bad.isEmpty {
                    guard bytes[position] == UInt8(ascii: ",") else { continue }
                    bytes.remove(at: position)
                } else {
                    // (A letter in the label, or a comma for a comma, leaves the row good.)
                    if bad == "x" && position >= labelStart || bytes[position] == bad.utf8.first! { continue }
                    bytes[position] = bad.utf8.first!
                }
                let text = header + good + "\n" + String(decoding: bytes, as: UTF8.self) + "\n" + good + "\n"
                let path = directory + "/bad.csv"
                writeFile(path, Array(text.utf8))
                let mapped = errorMessage { _ = try loadCSV(path: path, makePlan: plan) }
                XCTAssertNotNil(mapped)
                XCTAssertTrue(mapped?.contains(", line 3") ?? false, mapped ?? "")
                for blockSize in [16, 29, 64] {
                    let streamed = errorMessage {
                        let reader = try CSVStreamReader(path: path, blockSize: blockSize)
                        while try reader.nextBatch(plan: try plan(reader.header), maxRows: 2) != nil {}
                    }
                    XCTAssertEqual(streamed, mapped, "byte \(position) set to \(bad.debugDescription), block \(blockSize)")
                }
                cases += 1
            }
        }
        XCTAssertGreaterThan(cases, 300)
    }
}
