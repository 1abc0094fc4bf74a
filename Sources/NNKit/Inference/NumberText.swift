import Glibc

/// The one number format of prediction files: C's `%.6g` (6 significant digits, trailing zeros
/// dropped, exponent form below 1e-4 and from 1e6), applied to the Float widened to Double. Exact
/// `%.6g` output, but without snprintf's cost for the common range: the digits come from one exact
/// multiplication by a power of ten, and only near-ties of rounding fall back to snprintf. The text
/// is built in a small local buffer and appended at once (no per-byte appends, no log10).
public enum NumberText {
    /// Powers of ten exactly representable as Double (10^0 … 10^22).
    private static let powersOfTen: [Double] = (0...22).map { exponent in
        var value = 1.0
        for _ in 0..<exponent { value *= 10 }
        return value
    }
    /// 10^e for e = -4…5 (the decades of the fixed-point range), for a first guess of the exponent.
    private static let decadeStarts: [Double] = [1e-4, 1e-3, 1e-2, 1e-1, 1, 1e1, 1e2, 1e3, 1e4, 1e5]

    /// Appends `value` formatted as `%.6g` to `out`.
    public static func appendG6(_ value: Double, to out: inout [UInt8]) {
        if value == 0 {
            if value.sign == .minus { out.append(UInt8(ascii: "-")) }
            out.append(UInt8(ascii: "0"))
            return
        }
        let magnitude = abs(value)
        guard magnitude >= 1e-4 && magnitude < 999_999.5, magnitude.isFinite else {
            appendWithSnprintf(value, to: &out)
            return
        }
        // Decimal exponent e with 1e5 <= magnitude * 10^(5-e) < 1e6, for e in -4...5: a first guess
        // from the decade bounds (within one of the truth where they round), then checked on the product.
        var exponent = 5
        while exponent > -4 && magnitude < decadeStarts[exponent + 4] { exponent -= 1 }
        var scaled = scale(magnitude, by: 5 - exponent)
        if scaled >= 1e6 && exponent < 5 { exponent += 1; scaled = scale(magnitude, by: 5 - exponent) }
        if scaled < 1e5 && exponent > -4 { exponent -= 1; scaled = scale(magnitude, by: 5 - exponent) }
        guard scaled >= 1e5 && scaled < 1e6 else {
            appendWithSnprintf(value, to: &out)
            return
        }
        // The product carries at most ~1.2e-10 of error; a fraction that close to one half could
        // round either way, so let the C library decide those (rare) cases.
        let floor = scaled.rounded(.down)
        let fraction = scaled - floor
        if abs(fraction - 0.5) < 1e-8 {
            appendWithSnprintf(value, to: &out)
            return
        }
        var digits = Int(floor) + (fraction > 0.5 ? 1 : 0)
        if digits == 1_000_000 {
            // Rounded up to the next power of ten: one digit position more.
            guard exponent < 5 else { appendWithSnprintf(value, to: &out); return }
            exponent += 1
            digits = 100_000
        }
        // At most "-0.000123457": 12 bytes.
        var text: (UInt64, UInt64) = (0, 0)
        let length = withUnsafeMutableBytes(of: &text) { bytes -> Int in
            // The six digits, most significant first, then the last one worth printing.
            var sixDigits: (UInt8, UInt8, UInt8, UInt8, UInt8, UInt8) = (0, 0, 0, 0, 0, 0)
            var last = 5
            withUnsafeMutableBytes(of: &sixDigits) { six in
                var rest = digits
                for index in stride(from: 5, through: 0, by: -1) {
                    six[index] = UInt8(48 + rest % 10)
                    rest /= 10
                }
                while last > 0 && six[last] == 48 && last > exponent { last -= 1 }
            }
            var length = 0
            func put(_ byte: UInt8) { bytes[length] = byte; length += 1 }
            withUnsafeBytes(of: &sixDigits) { six in
                if value < 0 { put(UInt8(ascii: "-")) }
                if exponent >= 0 {
                    for index in 0...exponent { put(six[index]) }
                    if last > exponent {
                        put(UInt8(ascii: "."))
                        for index in (exponent + 1)...last { put(six[index]) }
                    }
                } else {
                    put(UInt8(ascii: "0"))
                    put(UInt8(ascii: "."))
                    for _ in 0..<(-exponent - 1) { put(UInt8(ascii: "0")) }
                    for index in 0...last { put(six[index]) }
                }
            }
            return length
        }
        withUnsafeBytes(of: &text) { bytes in
            out.append(contentsOf: UnsafeBufferPointer(start: bytes.baseAddress!.assumingMemoryBound(to: UInt8.self), count: length))
        }
    }

    /// `%.6g` as a String.
    public static func g6(_ value: Double) -> String {
        var bytes: [UInt8] = []
        appendG6(value, to: &bytes)
        return String(decoding: bytes, as: UTF8.self)
    }

    private static func scale(_ magnitude: Double, by power: Int) -> Double {
        power >= 0 ? magnitude * powersOfTen[power] : magnitude / powersOfTen[-power]
    }

    static func appendWithSnprintf(_ value: Double, to out: inout [UInt8]) {
        withUnsafeTemporaryAllocation(of: CChar.self, capacity: 32) { buffer in
            let count = withVaList([value]) { vsnprintf(buffer.baseAddress!, 32, "%.6g", $0) }
            for index in 0..<Int(min(max(count, 0), 31)) { out.append(UInt8(bitPattern: buffer[index])) }
        }
    }
}
