// NNJSON: the one Swift file through which nnkit uses json-c.
//
// `JSONValue` is a plain, ordered JSON tree. `JSONValue.parse` is strict: json-c's tokener in strict
// mode with UTF-8 validation and a depth cap, plus what json-c does not check itself (duplicate keys,
// which it silently collapses; NUL in keys; trailing bytes; non-finite numbers). `serialized()` is
// deterministic: members in insertion order, numbers in shortest round-trip form.
import CJSONC

/// A JSON value. Objects keep their members in order (the order they were parsed or built in).
public enum JSONValue: Equatable, Sendable {
    case null
    case bool(Bool)
    /// A number written without fraction or exponent that fits in Int64.
    case integer(Int64)
    /// Any other (finite) number.
    case number(Double)
    case string(String)
    case array([JSONValue])
    case object([(String, JSONValue)])

    public static func == (lhs: JSONValue, rhs: JSONValue) -> Bool {
        switch (lhs, rhs) {
        case (.null, .null): return true
        case let (.bool(a), .bool(b)): return a == b
        case let (.integer(a), .integer(b)): return a == b
        case let (.number(a), .number(b)): return a == b
        case let (.string(a), .string(b)): return a == b
        case let (.array(a), .array(b)): return a == b
        case let (.object(a), .object(b)):
            return a.count == b.count && zip(a, b).allSatisfy { $0.0 == $1.0 && $0.1 == $1.1 }
        default: return false
        }
    }

    // MARK: Accessors (nil when the value has another type)

    /// The member named `key` of an object (nil for a missing key or a non-object).
    public subscript(key: String) -> JSONValue? {
        guard case .object(let members) = self else { return nil }
        return members.first(where: { $0.0 == key })?.1
    }

    public var isNull: Bool { if case .null = self { return true } else { return false } }
    public var boolValue: Bool? { if case .bool(let b) = self { return b } else { return nil } }
    public var stringValue: String? { if case .string(let s) = self { return s } else { return nil } }
    public var arrayValue: [JSONValue]? { if case .array(let a) = self { return a } else { return nil } }
    public var objectValue: [(String, JSONValue)]? { if case .object(let o) = self { return o } else { return nil } }
    /// The value of an `.integer` (a `.number` never converts: 2.0 stays a non-integer).
    public var integerValue: Int64? { if case .integer(let i) = self { return i } else { return nil } }
    /// The value of a `.number` or `.integer`, as Double.
    public var doubleValue: Double? {
        switch self {
        case .number(let d): return d
        case .integer(let i): return Double(i)
        default: return nil
        }
    }

    /// A short name of the value's type, for error messages ("object", "string", ...).
    public var typeName: String {
        switch self {
        case .null: return "null"
        case .bool: return "boolean"
        case .integer: return "integer"
        case .number: return "number"
        case .string: return "string"
        case .array: return "array"
        case .object: return "object"
        }
    }
}

public enum JSONError: Error, CustomStringConvertible, Equatable {
    /// json-c's tokener rejected the text (message from json-c, byte offset where it stopped).
    case syntax(message: String, offset: Int)
    /// Nesting deeper than the cap.
    case tooDeep(maxDepth: Int)
    /// The text is not valid UTF-8.
    case invalidUTF8(offset: Int)
    /// An object has the same key twice (`path` is the object's location, like `$.model.layers[2]`).
    case duplicateKey(path: String, key: String)
    /// An object key contains U+0000, which json-c cannot represent.
    case nulInKey(path: String)
    /// Non-whitespace bytes follow the top-level value.
    case trailingBytes(offset: Int)
    /// Empty input (or only whitespace).
    case empty
    /// A number that is not finite after parsing (e.g. 1e999), or a non-finite Double to serialize.
    case nonFiniteNumber(path: String)
    /// A string to serialize is not valid Unicode (cannot happen for Swift Strings; kept for completeness).
    case unrepresentable(path: String)

    public var description: String {
        switch self {
        case .syntax(let message, let offset): return "JSON syntax error at byte \(offset): \(message)"
        case .tooDeep(let maxDepth): return "JSON nesting deeper than the limit of \(maxDepth) levels"
        case .invalidUTF8(let offset): return "invalid UTF-8 in JSON text near byte \(offset)"
        case .duplicateKey(let path, let key): return "duplicate key \"\(key)\" in JSON object at \(path)"
        case .nulInKey(let path): return "JSON object key containing U+0000 in object at \(path)"
        case .trailingBytes(let offset): return "unexpected bytes after the JSON value, starting at byte \(offset)"
        case .empty: return "empty JSON text"
        case .nonFiniteNumber(let path): return "number at \(path) is not finite (JSON has no NaN or infinity)"
        case .unrepresentable(let path): return "value at \(path) cannot be represented in JSON"
        }
    }
}

// MARK: - Parsing

extension JSONValue {
    /// The default nesting cap of `parse` (arrays + objects).
    public static let defaultMaxDepth = 64

    /// Parses one JSON value from UTF-8 `bytes` (RFC 8259, strict). Surrounding ASCII whitespace is
    /// allowed; anything else after the value is an error. `maxDepth` caps array/object nesting.
    public static func parse(_ bytes: [UInt8], maxDepth: Int = defaultMaxDepth) throws -> JSONValue {
        try bytes.withUnsafeBufferPointer { try parse($0, maxDepth: maxDepth) }
    }

    public static func parse(_ text: String, maxDepth: Int = defaultMaxDepth) throws -> JSONValue {
        try parse(Array(text.utf8), maxDepth: maxDepth)
    }

    public static func parse(_ bytes: UnsafeBufferPointer<UInt8>, maxDepth: Int = defaultMaxDepth) throws -> JSONValue {
        guard bytes.contains(where: { !isJSONWhitespace($0) }) else { throw JSONError.empty }
        guard bytes.count < Int(Int32.max) else { throw JSONError.syntax(message: "text over 2 GiB", offset: 0) }
        guard let tokener = json_tokener_new_ex(Int32(max(1, min(maxDepth, 1 << 20)))) else {
            throw JSONError.syntax(message: "json-c could not allocate a tokener", offset: 0)
        }
        defer { json_tokener_free(tokener) }
        json_tokener_set_flags(tokener, JSON_TOKENER_STRICT | JSON_TOKENER_VALIDATE_UTF8)
        var root = bytes.baseAddress!.withMemoryRebound(to: CChar.self, capacity: bytes.count) {
            json_tokener_parse_ex(tokener, $0, Int32(bytes.count))
        }
        var error = json_tokener_get_error(tokener)
        var end = Int(json_tokener_get_parse_end(tokener))
        if root == nil, error == json_tokener_continue {
            // A top-level number or literal ends only at a delimiter, so json-c waits for more text
            // after "8": a space (which the text could have had) completes it, with strict checks.
            // (Found by the manifest-json fuzzer.)
            var terminator = CChar(UInt8(ascii: " "))
            let finished = json_tokener_parse_ex(tokener, &terminator, 1)
            if json_tokener_get_error(tokener) == json_tokener_success {
                root = finished
                error = json_tokener_success
                end = bytes.count
            }
        }
        guard error == json_tokener_success else {
            if let root { json_object_put(root) }
            // Strict json-c also fails on bytes after a complete value: report those as trailing bytes.
            if let valueEnd = topLevelValueEnd(bytes), valueEnd < bytes.count,
               let garbage = bytes[valueEnd...].firstIndex(where: { !isJSONWhitespace($0) }), garbage <= end,
               (try? parse(UnsafeBufferPointer(rebasing: bytes[..<valueEnd]), maxDepth: maxDepth)) != nil {
                throw JSONError.trailingBytes(offset: garbage)
            }
            switch error {
            case json_tokener_error_depth: throw JSONError.tooDeep(maxDepth: maxDepth)
            case json_tokener_error_parse_utf8_string: throw JSONError.invalidUTF8(offset: end)
            case json_tokener_continue: throw JSONError.syntax(message: "unexpected end of text", offset: bytes.count)
            default: throw JSONError.syntax(message: String(cString: json_tokener_error_desc(error)), offset: end)
            }
        }
        // json-c returns no object, with success, for the literal `null` (no number or key to check).
        guard let root else { return .null }
        defer { json_object_put(root) }
        if let garbage = bytes[end...].firstIndex(where: { !isJSONWhitespace($0) }) {
            throw JSONError.trailingBytes(offset: garbage)
        }
        // json-c keeps only the last of duplicate keys: count the keys in the text and compare.
        let keyCounts = try ObjectKeyScan(bytes[..<end])
        var converter = Converter(scan: keyCounts)
        return try converter.convert(root, path: "$")
    }

    /// Where a top-level object or array ends (just past its closing bracket), by bracket matching
    /// outside strings; nil for scalars or unbalanced text.
    fileprivate static func topLevelValueEnd(_ bytes: UnsafeBufferPointer<UInt8>) -> Int? {
        guard let start = bytes.firstIndex(where: { !isJSONWhitespace($0) }),
              bytes[start] == UInt8(ascii: "{") || bytes[start] == UInt8(ascii: "[") else { return nil }
        var depth = 0
        var i = start
        while i < bytes.count {
            switch bytes[i] {
            case UInt8(ascii: "\""):
                i += 1
                while i < bytes.count && bytes[i] != UInt8(ascii: "\"") { i += bytes[i] == UInt8(ascii: "\\") ? 2 : 1 }
            case UInt8(ascii: "{"), UInt8(ascii: "["):
                depth += 1
            case UInt8(ascii: "}"), UInt8(ascii: "]"):
                depth -= 1
                if depth == 0 { return i + 1 }
            default:
                break
            }
            i += 1
        }
        return nil
    }

    fileprivate static func isJSONWhitespace(_ byte: UInt8) -> Bool {
        byte == 0x20 || byte == 0x0A || byte == 0x0D || byte == 0x09
    }
}

/// Every object of a (valid) JSON text in document order with the raw byte ranges of its keys.
private struct ObjectKeyScan {
    var objects: [[Range<Int>]] = []
    let text: UnsafeBufferPointer<UInt8>

    init(_ slice: Slice<UnsafeBufferPointer<UInt8>>) throws {
        text = UnsafeBufferPointer(rebasing: slice)
        // Stack of open containers: the index into `objects` for an object, -1 for an array.
        var open: [Int] = []
        var expectingKey = false
        var i = 0
        while i < text.count {
            let byte = text[i]
            switch byte {
            case UInt8(ascii: "{"):
                open.append(objects.count)
                objects.append([])
                expectingKey = true
            case UInt8(ascii: "["):
                open.append(-1)
                expectingKey = false
            case UInt8(ascii: "}"), UInt8(ascii: "]"):
                open.removeLast()
                expectingKey = false
            case UInt8(ascii: ","):
                expectingKey = (open.last ?? -1) >= 0
            case UInt8(ascii: "'"):
                // Outside a double-quoted string: json-c accepted a single-quoted string, JSON does not.
                throw JSONError.syntax(message: "single-quoted string", offset: i)
            case UInt8(ascii: "\""):
                let start = i + 1
                i += 1
                while text[i] != UInt8(ascii: "\"") { i += text[i] == UInt8(ascii: "\\") ? 2 : 1 }
                if expectingKey, let object = open.last, object >= 0 {
                    objects[object].append(start..<i)
                    expectingKey = false
                }
            case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"):
                // json-c's strict mode still takes "1." and "01"; RFC 8259's grammar does not.
                i = try Self.numberEnd(text, from: i) - 1
            default:
                break
            }
            i += 1
        }
    }

    /// Just past the number starting at `start`, checked against RFC 8259:
    /// `-? (0 | [1-9][0-9]*) (. [0-9]+)? ([eE] [+-]? [0-9]+)?`.
    static func numberEnd(_ text: UnsafeBufferPointer<UInt8>, from start: Int) throws -> Int {
        func isDigit(_ i: Int) -> Bool { i < text.count && (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(text[i]) }
        func digits(_ i: inout Int) -> Bool {
            let first = i
            while isDigit(i) { i += 1 }
            return i > first
        }
        var i = start
        if text[i] == UInt8(ascii: "-") { i += 1 }
        if i < text.count, text[i] == UInt8(ascii: "0") {
            i += 1
            if isDigit(i) { throw JSONError.syntax(message: "number with a leading zero", offset: start) }
        } else if !digits(&i) {
            throw JSONError.syntax(message: "malformed number", offset: start)
        }
        if i < text.count, text[i] == UInt8(ascii: ".") {
            i += 1
            guard digits(&i) else { throw JSONError.syntax(message: "number without digits after its decimal point", offset: start) }
        }
        if i < text.count, text[i] | 0x20 == UInt8(ascii: "e") {
            i += 1
            if i < text.count, text[i] == UInt8(ascii: "+") || text[i] == UInt8(ascii: "-") { i += 1 }
            guard digits(&i) else { throw JSONError.syntax(message: "number without digits in its exponent", offset: start) }
        }
        return i
    }

    func rawKey(_ range: Range<Int>) -> [UInt8] { Array(text[range]) }
}

private struct Converter {
    let scan: ObjectKeyScan
    var nextObject = 0

    init(scan: ObjectKeyScan) { self.scan = scan }

    mutating func convert(_ object: OpaquePointer?, path: String) throws -> JSONValue {
        guard let object else { return .null }
        switch json_object_get_type(object) {
        case json_type_null:
            return .null
        case json_type_boolean:
            return .bool(json_object_get_boolean(object) != 0)
        case json_type_int:
            let value = json_object_get_int64(object)
            if value == Int64.max, json_object_get_uint64(object) > UInt64(Int64.max) {
                return .number(Double(json_object_get_uint64(object)))
            }
            return .integer(value)
        case json_type_double:
            let value = json_object_get_double(object)
            guard value.isFinite else { throw JSONError.nonFiniteNumber(path: path) }
            return .number(value)
        case json_type_string:
            let length = Int(json_object_get_string_len(object))
            guard let pointer = json_object_get_string(object) else { return .string("") }
            let buffer = UnsafeRawBufferPointer(start: pointer, count: length)
            return .string(String(decoding: buffer, as: UTF8.self))
        case json_type_array:
            let count = json_object_array_length(object)
            var elements: [JSONValue] = []
            elements.reserveCapacity(count)
            for index in 0..<count {
                elements.append(try convert(json_object_array_get_idx(object, index), path: "\(path)[\(index)]"))
            }
            return .array(elements)
        case json_type_object:
            let rawKeys = scan.objects[nextObject]
            nextObject += 1
            let count = Int(json_object_object_length(object))
            if rawKeys.count != count { throw duplicate(in: rawKeys, path: path) }
            if rawKeys.contains(where: { containsEscapedNUL(scan.rawKey($0)) }) { throw JSONError.nulInKey(path: path) }
            var members: [(String, JSONValue)] = []
            members.reserveCapacity(count)
            var iterator = json_object_iter_begin(object)
            var end = json_object_iter_end(object)
            while json_object_iter_equal(&iterator, &end) == 0 {
                let key = String(cString: json_object_iter_peek_name(&iterator))
                let value = try convert(json_object_iter_peek_value(&iterator), path: "\(path).\(key)")
                members.append((key, value))
                json_object_iter_next(&iterator)
            }
            return .object(members)
        default:
            throw JSONError.syntax(message: "unknown json-c value type", offset: 0)
        }
    }

    /// Finds which key repeats (decoding escapes the way json-c does) for the error message.
    func duplicate(in rawKeys: [Range<Int>], path: String) -> JSONError {
        var seen = Set<String>()
        for range in rawKeys {
            let quoted = [UInt8(ascii: "\"")] + scan.rawKey(range) + [UInt8(ascii: "\""), 0]
            let key: String = quoted.withUnsafeBufferPointer { buffer in
                buffer.baseAddress!.withMemoryRebound(to: CChar.self, capacity: buffer.count) { cText in
                    guard let parsed = json_tokener_parse(cText) else { return "" }
                    defer { json_object_put(parsed) }
                    return String(cString: json_object_get_string(parsed))
                }
            }
            if !seen.insert(key).inserted { return .duplicateKey(path: path, key: key) }
        }
        return .duplicateKey(path: path, key: "?")
    }

    func containsEscapedNUL(_ raw: [UInt8]) -> Bool {
        // "\u0000" in any hex case; a preceding backslash pair ("\\u0000") is literal text, not NUL.
        var i = 0
        while i < raw.count {
            if raw[i] == UInt8(ascii: "\\") {
                if i + 5 < raw.count, raw[i + 1] == UInt8(ascii: "u"),
                   raw[(i + 2)...(i + 5)].allSatisfy({ $0 == UInt8(ascii: "0") }) { return true }
                i += 2
            } else {
                i += 1
            }
        }
        return false
    }
}

// MARK: - Serialization

extension JSONValue {
    /// Deterministic JSON text: members in order, integers as integers, other numbers in the shortest
    /// form that reads back to the same Double (always with "." or "e", so they stay non-integers),
    /// non-ASCII characters as UTF-8, control characters escaped. `pretty` indents by two spaces.
    /// Throws `JSONError.nonFiniteNumber` for NaN or infinity, `JSONError.nulInKey` for an object key
    /// containing U+0000 (which `parse` rejects).
    public func serialized(pretty: Bool = false) throws -> String {
        var output = ""
        try write(to: &output, pretty: pretty, indent: 0, path: "$")
        return output
    }

    /// `serialized` as UTF-8 bytes.
    public func serializedBytes(pretty: Bool = false) throws -> [UInt8] {
        Array(try serialized(pretty: pretty).utf8)
    }

    /// Shortest round-trip text of a finite Double, as `serialized` writes it (e.g. "0.1", "1e-05", "2.0").
    public static func format(_ number: Double) -> String {
        "\(number)"
    }

    /// `string` as a quoted, escaped JSON string.
    public static func quote(_ string: String) -> String {
        var output = ""
        appendQuoted(string, to: &output)
        return output
    }

    private func write(to output: inout String, pretty: Bool, indent: Int, path: String) throws {
        switch self {
        case .null: output += "null"
        case .bool(let b): output += b ? "true" : "false"
        case .integer(let i): output += String(i)
        case .number(let d):
            guard d.isFinite else { throw JSONError.nonFiniteNumber(path: path) }
            output += JSONValue.format(d)
        case .string(let s): JSONValue.appendQuoted(s, to: &output)
        case .array(let elements):
            if elements.isEmpty { output += "[]"; return }
            output += "["
            for (index, element) in elements.enumerated() {
                if index > 0 { output += "," }
                if pretty { JSONValue.newline(&output, indent + 1) }
                try element.write(to: &output, pretty: pretty, indent: indent + 1, path: "\(path)[\(index)]")
            }
            if pretty { JSONValue.newline(&output, indent) }
            output += "]"
        case .object(let members):
            if members.isEmpty { output += "{}"; return }
            output += "{"
            for (index, (key, value)) in members.enumerated() {
                if index > 0 { output += "," }
                if pretty { JSONValue.newline(&output, indent + 1) }
                // parse rejects such keys (json-c cannot hold them): never write what cannot be read back.
                guard !key.utf8.contains(0) else { throw JSONError.nulInKey(path: path) }
                JSONValue.appendQuoted(key, to: &output)
                output += pretty ? ": " : ":"
                try value.write(to: &output, pretty: pretty, indent: indent + 1, path: "\(path).\(key)")
            }
            if pretty { JSONValue.newline(&output, indent) }
            output += "}"
        }
    }

    private static func newline(_ output: inout String, _ indent: Int) {
        output += "\n"
        output += String(repeating: "  ", count: indent)
    }

    private static func appendQuoted(_ string: String, to output: inout String) {
        output += "\""
        for scalar in string.unicodeScalars {
            switch scalar {
            case "\"": output += "\\\""
            case "\\": output += "\\\\"
            case "\n": output += "\\n"
            case "\r": output += "\\r"
            case "\t": output += "\\t"
            case "\u{08}": output += "\\b"
            case "\u{0C}": output += "\\f"
            default:
                if scalar.value < 0x20 {
                    let hex = String(scalar.value, radix: 16)
                    output += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
                } else {
                    output.unicodeScalars.append(scalar)
                }
            }
        }
        output += "\""
    }
}
