import XCTest
@testable import NNData
#if canImport(Glibc)
import Glibc
#endif

/// The reader's Float32 parser must give exactly strtof's (correctly rounded) bits on every input
/// its grammar accepts, and reject what the grammar does not.
final class FloatParserTests: XCTestCase {
    private func reference(_ text: String) -> Float {
        strtof(text, nil)
    }

    private func assertMatchesStrtof(_ text: String, file: StaticString = #filePath, line: UInt = #line) {
        guard let value = parseFloat32(text) else {
            XCTFail("rejected \(text)", file: file, line: line)
            return
        }
        let expected = reference(text.trimmingCharacters(in: .whitespaces))
        XCTAssertEqual(value.bitPattern, expected.bitPattern, "\(text): got \(value), strtof \(expected)", file: file, line: line)
    }

    func testEdgeCasesAreBitEqualToStrtof() {
        let cases = [
            "0", "-0", "+0", "0.0", "-0.0", "00012", "1", "-1", "+1", ".5", "5.", "-.5", "+.5", "0.1", "0.2", "0.3",
            "1e10", "1e-10", "1E5", "1e+5", "1.5e-3", "3.4028235e38", "3.4028236e38", "1e38", "1e39", "-1e39",
            "1e-45", "1.4e-45", "7e-46", "1e-46", "1.17549435e-38", "1.1754942e-38", "5e-324", "1e-400", "1e400",
            "16777216", "16777217", "16777218", "16777219", "33554433", "0.000000001", "123456789", "1234567890123",
            "1.00000005960464477539062500", "1.0000000596046447753906250000001", "1.00000017881393432617187499",
            "0.1000000000000000055511151231257827", "3.14159265358979323846264338327950288", "2.7182818284590452354",
            "9999999999999999999", "99999999999999999999", "18446744073709551615", "18446744073709551616",
            "0.00000000000000000000000000000000000001", "1.5e-5", "1.23457e-05", "-3.06429", "12.5137", "1e0", "1e-0",
            "100000000000000000000000000000000000000", "340282356779733661637539395458142568448", "1e000000000010",
            "0e999999", "0.000e-99999", "4.9e-324", "  7.25", "7.25  ", "\t-3\t", "1.5000000000", "15000000000000000000000",
        ]
        for text in cases { assertMatchesStrtof(text) }
    }

    func testRandomInputsAreBitEqualToStrtof() {
        var state: UInt64 = 0x1234_5678_9ABC_DEF0
        func next() -> UInt64 {
            state = state &* 6364136223846793005 &+ 1442695040888963407
            return state >> 11
        }
        for _ in 0..<40_000 {
            var text = ""
            if next() % 3 == 0 { text += next() % 2 == 0 ? "-" : "+" }
            let integerDigits = Int(next() % 12)
            for _ in 0..<integerDigits { text += String(next() % 10) }
            let hasPoint = next() % 2 == 0 || integerDigits == 0
            if hasPoint {
                text += "."
                let fractionDigits = Int(next() % 14) + (integerDigits == 0 ? 1 : 0)
                for _ in 0..<fractionDigits { text += String(next() % 10) }
            }
            if next() % 3 == 0 {
                text += next() % 2 == 0 ? "e" : "E"
                let sign = next() % 3
                if sign == 0 { text += "-" } else if sign == 1 { text += "+" }
                text += String(next() % 50)
            }
            assertMatchesStrtof(text)
        }
        // Every Float32 printed with 6 to 9 significant digits (%.6g as pandas' peers write, up to round-trip).
        for _ in 0..<20_000 {
            let bits = UInt32(truncatingIfNeeded: next())
            let value = Float(bitPattern: bits)
            guard value.isFinite else { continue }
            for precision in [6, 7, 9] {
                var buffer = [CChar](repeating: 0, count: 64)
                _ = withVaList([Double(value)]) { vsnprintf(&buffer, 64, "%.\(precision)g", $0) }
                assertMatchesStrtof(String(cString: buffer))
            }
        }
    }

    /// The fast path's territory, m ≤ 2^24 scaled by 10^-k, k ≤ 10: random mantissas, and mantissas
    /// that are multiples of 5^k (quotients exactly on or near halfway points between floats).
    func testFastPathQuotientsAreBitEqualToStrtof() {
        var state: UInt64 = 99
        func next() -> UInt64 { state = state &* 6364136223846793005 &+ 1442695040888963407; return state >> 17 }
        for round in 0..<60_000 {
            let k = Int(next() % 10) + 1
            var m = next() % (1 << 24 + 1)
            if round % 3 == 0 {
                var five: UInt64 = 1
                for _ in 0..<k { five *= 5 }
                m = (m / five) * five + (round % 2 == 0 ? 0 : 1)
                m = min(m, 1 << 24)
            }
            var digits = String(m)
            while digits.count <= k { digits = "0" + digits }
            digits.insert(".", at: digits.index(digits.endIndex, offsetBy: -k))
            assertMatchesStrtof(digits)
            assertMatchesStrtof(String(m) + "e-" + String(k))
        }
    }

    /// The row parser's short-decimal fast path on the field `text`, followed by `after` and
    /// digits (it reads 16 bytes whatever the field's length; what follows the field must not
    /// count): nil when it declines, else the value.
    private func shortDecimal(_ text: String, followedBy after: String = ",") -> Float? {
        let bytes = Array((text + after).utf8) + Array("1234567890123456".utf8)
        return bytes.withUnsafeBufferPointer { buffer in
            shortDecimalQuotient(buffer.baseAddress!, start: 0, length: text.utf8.count, tables: DecimalTables.shared)
                .map { $0.numerator / $0.divisor }
        }
    }

    /// Where the fast path takes a number, it must give Swift's own correctly rounded Float(String)
    /// and stop at the number's end; where it declines, the general parser must accept or reject
    /// the text as before. A million random strings: short decimals in every shape, values printed
    /// near halfway points between adjacent floats, and text that only looks like a number.
    func testShortDecimalFastPathMatchesFloatFromStringOnAMillionStrings() {
        var state: UInt64 = 0x5EED_0F_F10A7
        func next() -> UInt64 {
            state = state &* 6364136223846793005 &+ 1442695040888963407
            return state >> 11
        }
        var taken = 0
        func check(_ text: String, file: StaticString = #filePath, line: UInt = #line) {
            guard let value = shortDecimal(text) else {
                return
            }
            taken += 1
            // The general parser, which the fast path stands in for, must agree.
            guard let expected = Float(text), let general = parseFloat32(text) else {
                XCTFail("fast path accepted \(text)", file: file, line: line)
                return
            }
            XCTAssertEqual(general.bitPattern, expected.bitPattern, "\(text): general parser", file: file, line: line)
            XCTAssertEqual(value.bitPattern, expected.bitPattern, "\(text): got \(value), Float(String) \(expected)", file: file, line: line)
        }
        let digits = Array("0123456789")
        for round in 0..<1_000_000 {
            var text = ""
            switch round % 4 {
            case 0, 1:
                // [+-]? digits{0…9} (. digits{0…9})?: inside and just outside the fast path's limits.
                let sign = next() % 4
                if sign == 0 { text += "-" } else if sign == 1 { text += "+" }
                let integerDigits = Int(next() % 10)
                for _ in 0..<integerDigits { text.append(digits[Int(next() % 10)]) }
                if next() % 4 != 0 || integerDigits == 0 {
                    text += "."
                    let fractionDigits = Int(next() % 10)
                    for _ in 0..<fractionDigits { text.append(digits[Int(next() % 10)]) }
                }
            case 2:
                // Near halfway between two adjacent floats: the midpoint printed with 6 to 9 digits.
                let bits = UInt32(truncatingIfNeeded: next()) & 0x7FFF_FFFF
                let low = Float(bitPattern: bits)
                guard low.isFinite, low.nextUp.isFinite else { continue }
                let middle = (Double(low) + Double(low.nextUp)) / 2
                var buffer = [CChar](repeating: 0, count: 64)
                let format = next() % 2 == 0 ? "%.\(6 + next() % 4)g" : "%.\(next() % 8)f"
                _ = withVaList([next() % 2 == 0 ? middle : -middle]) { vsnprintf(&buffer, 64, format, $0) }
                text = String(cString: buffer)
            default:
                // Short values as data sets print them (%g), small magnitudes included.
                let value = Float(bitPattern: UInt32(truncatingIfNeeded: next()) & 0xBFFF_FFFF)
                guard value.isFinite else { continue }
                var buffer = [CChar](repeating: 0, count: 64)
                _ = withVaList([Double(value)]) { vsnprintf(&buffer, 64, "%.\(1 + next() % 7)g", $0) }
                text = String(cString: buffer)
            }
            check(text)
        }
        // The fast path must really be taken (about a third of these strings are in its form).
        XCTAssertGreaterThan(taken, 300_000)
    }

    func testShortDecimalFastPathEdgeCases() {
        // Taken, with the exact value.
        for text in ["0", "-0", "+0", "0.0", "-0.0", "-0.", ".5", "-.5", "+.5", "5.", "+1", "-3.06429", "12.5137",
                     "-0.0180993", "1234567", "123.4567", "0000000.0000001", "1677721.6", "0.0000001", "9.999999",
                     "3.141592", "12345678", "16777216", "0.0000001234", "-0.0000000001", "000000000000.125",
                     "-00000000000.125", "16777.216"] {
            guard let value = shortDecimal(text) else {
                XCTFail("fast path declined \(text)")
                continue
            }
            XCTAssertEqual(value.bitPattern, Float(text)!.bitPattern, text)
        }
        XCTAssertEqual(shortDecimal("-0")!.sign, .minus)
        XCTAssertEqual(shortDecimal("-0.000")!.sign, .minus)
        // Declined (the general parser decides): no digit, exponents, spaces, anything else, more
        // than 16 bytes or 10 fraction digits, mantissas past 2^24.
        for text in ["", "-", "+", ".", "-.", "+.", "e5", "1e5", "1E-3", "2.5e1", "16777217", "99999999", "9999999.9",
                     "3.1415927", "1234567.1234567", "0.00000000001", "12345678901234567", "0000000000000000.5",
                     "nan", "inf", "abc", "\"1\"", " 1.5", "1.5 ", "1.5\t", "1..5", "1.5.", ".5.", "--1", "+-1", "-+1",
                     "1-", "1+", "1,5", "1/5", "1:5", "\u{0}1"] {
            XCTAssertNil(shortDecimal(text), "fast path took \(text)")
        }
        // Only the field's bytes count, whatever follows.
        for after in [".3", "5", "e5", "\r\n", " ", "x", "-"] {
            XCTAssertEqual(shortDecimal("1.5", followedBy: after), 1.5, after)
            XCTAssertEqual(shortDecimal("-7", followedBy: after), -7, after)
        }
    }

    func testNonNumbersAreRejected() {
        for text in ["", " ", "-", "+", ".", "-.", "e5", "1e", "1e+", "1.2.3", "1,5", "0x10", "nan", "inf", "-inf",
                     "infinity", "NaN", "1_000", "1 2", "--1", "+-1", "1e5.5", "١", "abc", "1a", "\"1\""] {
            XCTAssertNil(parseFloat32(text), "accepted \(text)")
        }
    }
}
