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
import CCSVScan


/// Powers of ten as plain memory: table loads instead of switch jump tables (indirect branches
/// that mispredict when exponents vary), and no global-initialization check per number — the
/// row parser fetches `shared` once and passes it down.
struct DecimalTables {
    /// 10^k, k = 0…19.
    let integerPowers: UnsafePointer<UInt64>
    /// 10^k at k and -10^k at 16 + k, k = 0…10 (all exact in Float32; see `signedPowerOfTen`).
    let floatPowers: UnsafePointer<Float>

    static let shared: DecimalTables = {
        let integers = UnsafeMutablePointer<UInt64>.allocate(capacity: 20)
        var power: UInt64 = 1
        for k in 0..<20 {
            integers[k] = power
            if k < 19 { power *= 10 }
        }
        let floats = UnsafeMutablePointer<Float>.allocate(capacity: 32)
        let powers: [Float] = [1, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10]
        floats.initialize(repeating: 0, count: 32)
        (floats + 0).update(from: powers, count: powers.count)
        (floats + 16).update(from: powers.map { -$0 }, count: powers.count)
        return DecimalTables(integerPowers: integers, floatPowers: floats)
    }()
}

/// Parses `base[start..<end]`; nil when the text does not follow the grammar. Values beyond the
/// Float32 range give ±infinity (as strtof does); callers decide whether that is acceptable.
@inline(__always)
func parseFloat32(_ base: UnsafePointer<UInt8>, start: Int, end: Int) -> Float? {
    var i = start
    var stop = end
    while i < stop && (base[i] == 32 || base[i] == 9) { i += 1 }
    while stop > i && (base[stop - 1] == 32 || base[stop - 1] == 9) { stop -= 1 }
    guard let (value, numberEnd) = parseFloat32Prefix(base, start: i, end: stop, tables: DecimalTables.shared),
          numberEnd == stop else { return nil }
    return value
}

/// Parses the longest number of the grammar (without surrounding spaces) at `base[start...]`,
/// reading no further than `end`; returns the value and where the number stops, nil when no
/// number starts there. The fused row parser uses this directly and checks what follows.
@inline(__always)
func parseFloat32Prefix(_ base: UnsafePointer<UInt8>, start: Int, end: Int, tables: DecimalTables) -> (Float, Int)? {
    var i = start
    guard i < end else { return nil }
    // Branch-free sign: data signs are random, a branch on them would mispredict half the time.
    let first = base[i]
    let negative = first == UInt8(ascii: "-")
    i &+= (negative || first == UInt8(ascii: "+")) ? 1 : 0
    // Digits accumulate into a 64-bit mantissa; with more than 19 digits (leading zeros
    // included) it may have wrapped, and strtof decides.
    var mantissa: UInt64 = 0
    let integerStart = i
    accumulateDigits(base, &i, end, &mantissa, tables)
    var digitCount = i - integerStart
    var exponent = 0
    if i < end && base[i] == UInt8(ascii: ".") {
        i += 1
        let fractionStart = i
        accumulateDigits(base, &i, end, &mantissa, tables)
        digitCount += i - fractionStart
        exponent = fractionStart - i
    }
    if digitCount == 0 { return nil }
    if i < end && (base[i] | 0x20) == UInt8(ascii: "e") {
        var j = i + 1
        var exponentNegative = false
        if j < end && (base[j] == UInt8(ascii: "-") || base[j] == UInt8(ascii: "+")) {
            exponentNegative = base[j] == UInt8(ascii: "-")
            j += 1
        }
        let exponentStart = j
        var value = 0
        while j < end {
            let digit = base[j] &- 48
            if digit > 9 { break }
            if value < 100_000 { value = value * 10 + Int(digit) }
            j += 1
        }
        // "1e" or "1e+" is not a number with an exponent; the caller sees the 'e' as trailing text.
        if j == exponentStart { return (0, i) }
        exponent += exponentNegative ? -value : value
        i = j
    }
    if digitCount <= 19 {
        if mantissa == 0 { return (negative ? -0.0 : 0.0, i) }
        while mantissa > (1 << 24) && mantissa % 10 == 0 {
            mantissa /= 10
            exponent += 1
        }
        if mantissa <= (1 << 24) && exponent >= -10 && exponent <= 10 {
            let power = signedPowerOfTen(abs(exponent), negative: negative, tables)
            return (exponent >= 0 ? Float(mantissa) * power : Float(mantissa) / power, i)
        }
    }
    return (strtofFallback(base + start, count: i - start), i)
}

/// Bytes the short-decimal fast path reads from where a field starts, whatever the field's length.
let shortDecimalReadBytes = 16

/// The row parser's fast path, for a whole field `base[start..<start + length]` in the form nearly
/// every CSV number has: [+-]? digits [. digits?] or [+-]? . digits ("-0.0180993", "12.5137", "5.",
/// ".5", "42"), at most 16 bytes, at most 10 digits after the point, a mantissa ≤ 2^24, nothing
/// else (no spaces, no exponent). Reads `base[start..<start + shortDecimalReadBytes]` (the caller
/// guarantees they are readable). The value is numerator / divisor, both exact, left undivided so
/// that the row parser divides a whole row at once, eight lanes per instruction. Returns nil when
/// the field is not of that form: the caller then runs `parseFloat32` on the field, which accepts
/// a superset and gives the same value on this form (same Clinger-style arithmetic), so taking
/// this path changes no result. The digits are decoded with SIMD (csv_scan.h), in straight-line code.
@inline(__always)
func shortDecimalQuotient(_ base: UnsafePointer<UInt8>, start: Int, length: Int,
                          tables: DecimalTables) -> (numerator: Float, divisor: Float)? {
    guard let decimal = decodeShortDecimal(base, start: start, length: length),
          decimal.mantissa <= 1 << 24, decimal.fractionDigits <= 10 else { return nil }
    return (Float(decimal.mantissa), signedPowerOfTen(Int(decimal.fractionDigits), negative: decimal.negative != 0, tables))
}

/// The digits, point position and sign of a field of the short form (any mantissa), nil otherwise;
/// reads `base[start..<start + shortDecimalReadBytes]`.
@inline(__always)
func decodeShortDecimal(_ base: UnsafePointer<UInt8>, start: Int, length: Int) -> NNKitShortDecimal? {
    guard UInt(bitPattern: length &- 1) < 16 else { return nil }
    var decimal = NNKitShortDecimal()
    guard nnkit_short_decimal16(base + start, Int32(truncatingIfNeeded: length), &decimal) != 0 else { return nil }
    return decimal
}

/// How many of the word's bytes, from the lowest address, are ASCII digits before the first
/// other byte (0…8). A byte is a digit when its high nibble is 3 both before and after adding 6
/// (a carry out of a byte ≥ 0xFA only reaches bytes after the first non-digit, which do not count).
@inline(__always)
private func leadingDigitCount(_ bytes: UInt64) -> Int {
    let notDigit = ((bytes & 0xF0F0_F0F0_F0F0_F0F0) ^ 0x3030_3030_3030_3030)
        | (((bytes &+ 0x0606_0606_0606_0606) & 0xF0F0_F0F0_F0F0_F0F0) ^ 0x3030_3030_3030_3030)
    return notDigit.trailingZeroBitCount &>> 3  // 64 (no non-digit) gives 8
}

/// The value of the word's first `count` (0…8) bytes as decimal digits, the first the most significant.
@inline(__always)
private func digitsValue(_ bytes: UInt64, count: Int) -> UInt64 {
    // Keep the `count` leading digits in the top bytes (zeros below act as leading zeros). The shift
    // of 8·(8 − count) bits is split in two halves so that count = 0 (a shift by 64) clears
    // everything: a single shift by 64 would be by 0.
    let shift = UInt64(8 &* (8 &- count))
    var digits = ((bytes & 0x0F0F_0F0F_0F0F_0F0F) &<< (shift &>> 1)) &<< (shift &- (shift &>> 1))
    digits = (digits &* 2561) &>> 8
    digits = ((digits & 0x00FF_00FF_00FF_00FF) &* 6_553_601) &>> 16
    return ((digits & 0x0000_FFFF_0000_FFFF) &* 42_949_672_960_001) &>> 32
}

/// Appends the decimal digits at `base[i...]` (up to `end`) to `mantissa`, advancing `i` past them.
/// Eight bytes at a time where eight are readable (SWAR: find the leading digits with one mask,
/// convert them with three multiplications), byte by byte near the end. The mantissa wraps
/// silently beyond 19 digits; callers count digits and leave such numbers to strtof.
@inline(__always)
private func accumulateDigits(_ base: UnsafePointer<UInt8>, _ i: inout Int, _ end: Int, _ mantissa: inout UInt64,
                              _ tables: DecimalTables) {
    while i + 8 <= end {
        let bytes = UnsafeRawPointer(base + i).loadUnaligned(as: UInt64.self).littleEndian
        let count = leadingDigitCount(bytes)
        if count == 0 { return }
        mantissa = mantissa &* tables.integerPowers[count] &+ digitsValue(bytes, count: count)
        i += count
        if count < 8 { return }
    }
    while i < end {
        let digit = base[i] &- 48
        if digit > 9 { break }
        mantissa = mantissa &* 10 &+ UInt64(digit)
        i += 1
    }
}


/// ±10^k (k ≤ 10), exact in Float32. For m ≤ 2^24 (also exact), m · ±10^k and m / ±10^k are one
/// IEEE operation on exact operands, hence correctly rounded; the sign rides on the power (round
/// to nearest is symmetric), which also gives -0 for "-0". (A Double-reciprocal multiply with a
/// guard near halfway points, and a separate sign, took ten more instructions per number; the
/// row parser overlaps numbers, so instructions matter more than the division's latency.)
@inline(__always)
private func signedPowerOfTen(_ k: Int, negative: Bool, _ tables: DecimalTables) -> Float {
    tables.floatPowers[k | (negative ? 16 : 0)]
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
