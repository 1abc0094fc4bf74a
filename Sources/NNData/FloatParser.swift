// Decimal text → Float32, correctly rounded, without allocating.
//
// Grammar (stricter than strtof): optional spaces/tabs, [+-]? (digits [. digits?] | . digits)
// ([eE] [+-]? digits)?, optional spaces/tabs. No "nan", "inf", hex, or digit separators.
// Fast path: a mantissa m ≤ 2^24 is exact in Float32, and so is 10^k for |k| ≤ 10
// (5^10 < 2^24); one IEEE multiply or divide of exact operands is correctly rounded, so
// m · 10^k or m / 10^-k is the correctly rounded value. Everything else (long mantissas, large
// exponents, subnormals) goes to glibc's strtof on a NUL-terminated copy, which is correctly rounded.

#if canImport(Glibc)
import Glibc
#endif

private let exactPowersOfTen: [Float] = [1, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10]

/// Parses `base[start..<end]`; nil when the text does not follow the grammar. Values beyond the
/// Float32 range give ±infinity (as strtof does); callers decide whether that is acceptable.
@inline(__always)
func parseFloat32(_ base: UnsafePointer<UInt8>, start: Int, end: Int) -> Float? {
    var i = start
    var stop = end
    while i < stop && (base[i] == 32 || base[i] == 9) { i += 1 }
    while stop > i && (base[stop - 1] == 32 || base[stop - 1] == 9) { stop -= 1 }
    if i == stop { return nil }
    let textStart = i
    var negative = false
    if base[i] == UInt8(ascii: "-") {
        negative = true
        i += 1
    } else if base[i] == UInt8(ascii: "+") {
        i += 1
    }
    var mantissa: UInt64 = 0
    var significantDigits = 0
    var exponent = 0
    var sawDigit = false
    var inexactMantissa = false  // more than 19 significant digits: not held exactly
    while i < stop {
        let digit = base[i] &- 48
        if digit > 9 { break }
        sawDigit = true
        if significantDigits < 19 {
            mantissa = mantissa &* 10 &+ UInt64(digit)
            if mantissa != 0 { significantDigits += 1 }
        } else {
            exponent += 1
            if digit != 0 { inexactMantissa = true }
        }
        i += 1
    }
    if i < stop && base[i] == UInt8(ascii: ".") {
        i += 1
        while i < stop {
            let digit = base[i] &- 48
            if digit > 9 { break }
            sawDigit = true
            if significantDigits < 19 {
                mantissa = mantissa &* 10 &+ UInt64(digit)
                if mantissa != 0 { significantDigits += 1 }
                exponent -= 1
            } else if digit != 0 {
                inexactMantissa = true
            }
            i += 1
        }
    }
    if !sawDigit { return nil }
    if i < stop && (base[i] | 0x20) == UInt8(ascii: "e") {
        i += 1
        var exponentNegative = false
        if i < stop && (base[i] == UInt8(ascii: "-") || base[i] == UInt8(ascii: "+")) {
            exponentNegative = base[i] == UInt8(ascii: "-")
            i += 1
        }
        var value = 0
        var sawExponentDigit = false
        while i < stop {
            let digit = base[i] &- 48
            if digit > 9 { break }
            sawExponentDigit = true
            if value < 100_000 { value = value * 10 + Int(digit) }
            i += 1
        }
        if !sawExponentDigit { return nil }
        exponent += exponentNegative ? -value : value
    }
    if i != stop { return nil }
    if mantissa == 0 && !inexactMantissa { return negative ? -0.0 : 0.0 }
    if !inexactMantissa {
        while mantissa > (1 << 24) && mantissa % 10 == 0 {
            mantissa /= 10
            exponent += 1
        }
        if mantissa <= (1 << 24) && exponent >= -10 && exponent <= 10 {
            var value = Float(mantissa)
            if exponent >= 0 {
                value *= exactPowersOfTen[exponent]
            } else {
                value /= exactPowersOfTen[-exponent]
            }
            return negative ? -value : value
        }
    }
    return strtofFallback(base + textStart, count: stop - textStart)
}

/// strtof on a NUL-terminated copy of already validated text.
@inline(never)
private func strtofFallback(_ text: UnsafePointer<UInt8>, count: Int) -> Float {
    withUnsafeTemporaryAllocation(of: CChar.self, capacity: count + 1) { buffer in
        let raw = UnsafeMutableRawPointer(buffer.baseAddress!)
        raw.copyMemory(from: text, byteCount: count)
        buffer[count] = 0
        return strtof(buffer.baseAddress!, nil)
    }
}

/// Parses decimal text as Float32 with the reader's grammar; nil if it is not a number.
/// (Public for the CLI and tests; readers call the pointer version.)
public func parseFloat32(_ text: String) -> Float? {
    var text = text
    return text.withUTF8 { bytes in
        guard let base = bytes.baseAddress else { return nil }
        return parseFloat32(base, start: 0, end: bytes.count)
    }
}

/// True when the text spells NaN or infinity (for a clearer error than "not a number").
func spellsNonFinite(_ bytes: UnsafeRawBufferPointer) -> Bool {
    var text = String(decoding: bytes, as: UTF8.self).lowercased()
    text.removeAll { $0 == " " || $0 == "\t" }
    if text.hasPrefix("+") || text.hasPrefix("-") { text.removeFirst() }
    return ["nan", "inf", "infinity", "-nan", "1.#inf", "1.#ind"].contains(text)
}
