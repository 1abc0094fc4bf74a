import Glibc

// Number and table formatting for reports, without Foundation (start-up time matters: `--help`
// must answer in well under 20 ms).

/// printf-style formatting of one number, e.g. `cFormat("%.4f", 0.5)` → "0.5000".
public func cFormat(_ format: String, _ value: Double) -> String {
    withVaList([value]) { args in
        var buffer = [CChar](repeating: 0, count: 64)
        let needed = Int(vsnprintf(&buffer, buffer.count, format, args))
        if needed >= buffer.count {
            buffer = [CChar](repeating: 0, count: needed + 1)
            _ = withVaList([value]) { vsnprintf(&buffer, buffer.count, format, $0) }
        }
        return String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }
}

/// A number with a fixed count of decimals: `fixed(0.98765, 3)` → "0.988".
public func fixed(_ value: Double, _ decimals: Int) -> String {
    cFormat("%.\(decimals)f", value)
}

/// Right-aligns `text` in `width` columns (by character count).
public func padLeft(_ text: String, _ width: Int) -> String {
    let n = text.count
    return n >= width ? text : String(repeating: " ", count: width - n) + text
}

/// Left-aligns `text` in `width` columns.
public func padRight(_ text: String, _ width: Int) -> String {
    let n = text.count
    return n >= width ? text : text + String(repeating: " ", count: width - n)
}

/// A human-readable byte count: 1536 → "1.5 KiB".
public func byteCount(_ bytes: Int) -> String {
    let units = ["B", "KiB", "MiB", "GiB", "TiB"]
    var value = Double(bytes), unit = 0
    while value >= 1024 && unit < units.count - 1 { value /= 1024; unit += 1 }
    return unit == 0 ? "\(bytes) B" : fixed(value, 1) + " " + units[unit]
}

/// A count with thousands separators: 1234567 → "1,234,567".
public func grouped(_ value: Int) -> String {
    let digits = String(value.magnitude)
    var out = ""
    for (i, ch) in digits.enumerated() {
        if i > 0 && (digits.count - i) % 3 == 0 { out.append(",") }
        out.append(ch)
    }
    return value < 0 ? "-" + out : out
}

/// A plain text table: the first row is the header; `rightAligned` columns are numbers.
public struct TextTable {
    public var header: [String]
    public var rows: [[String]] = []
    public var rightAligned: Set<Int>

    public init(header: [String], rightAligned: Set<Int> = []) {
        self.header = header
        self.rightAligned = rightAligned
    }

    public mutating func add(_ row: [String]) { rows.append(row) }

    /// Renders with two spaces between columns and a rule under the header.
    public func render(rule: Character = "-") -> String {
        let all = [header] + rows
        var widths = [Int](repeating: 0, count: header.count)
        for row in all { for (i, cell) in row.enumerated() where i < widths.count { widths[i] = max(widths[i], cell.count) } }
        func line(_ row: [String]) -> String {
            var cells: [String] = []
            for i in 0..<widths.count {
                let cell = i < row.count ? row[i] : ""
                cells.append(rightAligned.contains(i) ? padLeft(cell, widths[i]) : padRight(cell, widths[i]))
            }
            var text = cells.joined(separator: "  ")
            while text.last == " " { text.removeLast() }
            return text
        }
        var out = line(header) + "\n"
        out += String(repeating: rule, count: widths.reduce(0, +) + 2 * (widths.count - 1)) + "\n"
        for row in rows { out += line(row) + "\n" }
        return out
    }
}
