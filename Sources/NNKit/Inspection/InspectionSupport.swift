// Errors and small text helpers shared by the inspection reports.
import NNFormat
import NNJSON

/// Failures of `nninspect` that are not the file's fault (those are `CheckpointError`s).
public enum InspectionError: Error, CustomStringConvertible, Equatable {
    /// `--tensor NAME` names no tensor of the file.
    case unknownTensor(file: String, name: String, available: [String])

    public var description: String {
        switch self {
        case let .unknownTensor(file, name, available):
            let list = available.isEmpty ? "the file has no tensors" : "available: " + available.joined(separator: ", ")
            return "\(file): no tensor named \(InspectText.quoted(name)); \(list)"
        }
    }
}

/// Text conventions of the inspection reports: plain ASCII layout, no colours, no trailing spaces.
public enum InspectText {
    /// A setting or metric exactly (shortest text that reads back to the same Double: 0.1, 1e-05).
    public static func exact(_ value: Double) -> String { JSONValue.format(value) }

    /// A statistic in 4 significant digits (printf "%.4g"), "-" when undefined.
    public static func short(_ value: Double?) -> String {
        guard let value else { return "-" }
        return cFormat("%.4g", value)
    }

    /// A name or value as is, or JSON-quoted when it is empty, has control characters or outer
    /// spaces — so every report line stays one line and nothing hides in whitespace.
    public static func safe(_ text: String) -> String {
        let needsQuotes = text.isEmpty || text.first == " " || text.last == " "
            || text.unicodeScalars.contains { $0.value < 0x20 || $0.value == 0x7F }
        return needsQuotes ? JSONValue.quote(text) : text
    }

    /// Always JSON-quoted (names in error messages).
    public static func quoted(_ text: String) -> String { JSONValue.quote(text) }

    /// A list of names, abbreviated to the first and last few when long.
    public static func names(_ names: [String], limit: Int = 16) -> String {
        let shown = names.map(safe)
        guard shown.count > limit else { return shown.joined(separator: ", ") }
        let head = shown.prefix(limit - 4), tail = shown.suffix(3)
        return (head + ["…"] + tail).joined(separator: ", ")
    }

    /// "1 vector" / "3 vectors".
    public static func plural(_ count: Int, _ singular: String, _ plural: String? = nil) -> String {
        "\(grouped(count)) " + (count == 1 ? singular : (plural ?? singular + "s"))
    }

    /// The shape as "[2, 3]" ("[]" for a scalar).
    public static func shape(_ shape: [Int]) -> String { "[" + shape.map(String.init).joined(separator: ", ") + "]" }

    /// A JSON value on one line (hyperparameters); falls back to a description if unserializable.
    public static func json(_ value: JSONValue) -> String {
        (try? value.serialized()) ?? "\(value)"
    }

    /// Ratio a / b with 2 decimals, or "n/a" when b is 0.
    public static func ratio(_ a: Int, _ b: Int) -> String {
        b == 0 ? "n/a" : fixed(Double(a) / Double(b), 2)
    }
}
