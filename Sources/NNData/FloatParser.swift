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


/// Powers of ten as plain memory: table loads instead of switch jump tables (indirect branches
/// that mispredict when exponents vary), and no global-initialization check per number — the
/// row parser fetches `shared` once and passes it down.
struct DecimalTables {
    /// 10^k, k = 0…19.
    let integerPowers: UnsafePointer<UInt64>
    /// 10^k, k = 0…10 (all exact in Float32).
    let floatPowers: UnsafePointer<Float>
    /// 10^-k rounded to Double, k = 0…10.
    let reciprocals: UnsafePointer<Double>

    static let shared: DecimalTables = {
        let integers = UnsafeMutablePointer<UInt64>.allocate(capacity: 20)
        var power: UInt64 = 1
        for k in 0..<20 {
            integers[k] = power
            if k < 19 { power *= 10 }
        }
        let floats = UnsafeMutablePointer<Float>.allocate(capacity: 11)
        floats.initialize(from: [1, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10], count: 11)
        let reciprocals = UnsafeMutablePointer<Double>.allocate(capacity: 11)
        reciprocals.initialize(from: [1, 1e-1, 1e-2, 1e-3, 1e-4, 1e-5, 1e-6, 1e-7, 1e-8, 1e-9, 1e-10], count: 11)
        return DecimalTables(integerPowers: integers, floatPowers: floats, reciprocals: reciprocals)
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
            var value: Float
            if exponent >= 0 {
                value = Float(mantissa) * tables.floatPowers[exponent]
            } else {
                value = dividedByPowerOfTen(mantissa, -exponent, tables)
            }
            return (Float(bitPattern: value.bitPattern | (negative ? 0x8000_0000 : 0)), i)
        }
    }
    return (strtofFallback(base + start, count: i - start), i)
}

/// `parseFloat32Prefix` as a call, for the row parser's rare cases: keeps its hot loop small.
@inline(never)
func parseFloat32PrefixOutOfLine(_ base: UnsafePointer<UInt8>, start: Int, end: Int, tables: DecimalTables) -> (Float, Int)? {
    parseFloat32Prefix(base, start: start, end: end, tables: tables)
}

/// Bytes the short-decimal fast path may read from where a number starts: a sign, eight integer
/// digits, the point and eight fraction digits (it looks at two 8-byte words after the sign).
let shortDecimalReadBytes = 18

/// The fused row parser's fast path, for the form nearly every CSV number has: [+-]? with at most
/// 7 integer digits and at most 7 fraction digits ("-0.0180993", "12.5137", "5.", ".5", "42"),
/// no exponent, a mantissa ≤ 2^24. Reads `base[start..<start + shortDecimalReadBytes]` (the
/// caller guarantees they are readable). Stores the value and returns where the number stops, or
/// returns -1 when the text is not of that form: the caller then runs `parseFloat32Prefix`, which
/// accepts a superset and gives the same value on this form (same Clinger-style arithmetic), so
/// taking this path changes no result. Straight-line code: the integer part and the fraction are
/// each one 8-byte word (digit count from a trailing-zero count, value from three multiplications).
@inline(__always)
func parseShortDecimal(_ base: UnsafePointer<UInt8>, start: Int, tables: DecimalTables, into value: inout Float) -> Int {
    let first = base[start]
    let negative = first == UInt8(ascii: "-")
    let integerStart = start &+ ((negative || first == UInt8(ascii: "+")) ? 1 : 0)
    let integerWord = UnsafeRawPointer(base + integerStart).loadUnaligned(as: UInt64.self).littleEndian
    let integerCount = leadingDigitCount(integerWord)
    // 8 digits: maybe more beyond the word; the general path decides.
    if integerCount == 8 { return -1 }
    var mantissa = digitsValue(integerWord, count: integerCount)
    var stop = integerStart &+ integerCount
    var fractionCount = 0
    // The byte after the integer digits (integerCount < 8, so it is in the word).
    var next = UInt8(truncatingIfNeeded: integerWord &>> UInt64(8 &* integerCount))
    if next == UInt8(ascii: ".") {
        let fractionWord = UnsafeRawPointer(base + (stop &+ 1)).loadUnaligned(as: UInt64.self).littleEndian
        fractionCount = leadingDigitCount(fractionWord)
        if fractionCount == 8 { return -1 }
        mantissa = mantissa &* tables.integerPowers[fractionCount] &+ digitsValue(fractionWord, count: fractionCount)
        stop = stop &+ 1 &+ fractionCount
        next = UInt8(truncatingIfNeeded: fractionWord &>> UInt64(8 &* fractionCount))
    }
    // No digit at all ("-", ".", text), an exponent, or a mantissa past 2^24: the general path.
    if integerCount &+ fractionCount == 0 || (next | 0x20) == UInt8(ascii: "e") || mantissa > (1 << 24) { return -1 }
    // m / 10^k with k ≤ 7 (k = 0 too: the reciprocal 1 makes the product exact).
    let magnitude = dividedByPowerOfTen(mantissa, fractionCount, tables)
    value = Float(bitPattern: magnitude.bitPattern | (negative ? 0x8000_0000 : 0))
    return stop
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


/// m / 10^k correctly rounded to Float32, for m ≤ 2^24 and 0 ≤ k ≤ 10 (k = 0: exact).
/// Multiplying by a Double reciprocal is within 2 units of the Double's last place of the exact
/// quotient; rounding that to Float32 is correct unless it lies within that distance of a
/// halfway point between two floats (29 discarded bits near 0x10000000), where the exact
/// division decides. (An exhaustive check of every m ≤ 2^24 and k ≤ 10 against the exact
/// quotient found no case where the product alone rounds wrongly; the guard keeps the argument
/// independent of that search.)
@inline(__always)
private func dividedByPowerOfTen(_ mantissa: UInt64, _ k: Int, _ tables: DecimalTables) -> Float {
    let approximate = Double(mantissa) * tables.reciprocals[k]
    let discarded = approximate.bitPattern & 0x1FFF_FFFF
    let distance = discarded > 0x1000_0000 ? discarded - 0x1000_0000 : 0x1000_0000 - discarded
    if distance > 8 { return Float(approximate) }
    return Float(mantissa) / tables.floatPowers[k]
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
