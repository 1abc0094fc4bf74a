import NNJSON
import XCTest

final class JSONTests: XCTestCase {
    func testParsesEveryTypeInOrder() throws {
        let value = try JSONValue.parse(#" {"b": [1, -2, 3.5, 1e-05, true, false, null], "a": "x\u00e9\n", "c": {}} "#)
        XCTAssertEqual(value, .object([
            ("b", .array([.integer(1), .integer(-2), .number(3.5), .number(1e-05), .bool(true), .bool(false), .null])),
            ("a", .string("xé\n")), ("c", .object([])),
        ]))
        XCTAssertEqual(value["a"]?.stringValue, "xé\n")
        XCTAssertNil(value["zz"])
    }

    func testSerializationIsDeterministicAndRoundTrips() throws {
        let value = JSONValue.object([("z", .number(0.1)), ("a", .integer(3)), ("f", .number(2)), ("s", .string("q\"\\\u{1}/ü")),
                                      ("big", .number(1e300)), ("tiny", .number(5e-324)), ("arr", .array([.null, .bool(true)]))])
        let text = try value.serialized()
        XCTAssertEqual(text, #"{"z":0.1,"a":3,"f":2.0,"s":"q\"\\\u0001/ü","big":1e+300,"tiny":5e-324,"arr":[null,true]}"#)
        XCTAssertEqual(try JSONValue.parse(text), value)
        XCTAssertEqual(try JSONValue.parse(try value.serialized(pretty: true)), value)
        XCTAssertEqual(try JSONValue.object([("a", .array([.integer(1)]))]).serialized(pretty: true), "{\n  \"a\": [\n    1\n  ]\n}")
        for double in [0.1, 1.0 / 3, 123456789.123, -0.0, 1e-310, Double.greatestFiniteMagnitude] {
            XCTAssertEqual(try JSONValue.parse(try JSONValue.array([.number(double)]).serialized()), .array([.number(double)]))
        }
        XCTAssertThrowsError(try JSONValue.number(.nan).serialized())
    }

    func testRejectsDuplicateKeysAtAnyDepth() {
        XCTAssertThrowsError(try JSONValue.parse(#"{"a":1,"a":2}"#)) { XCTAssertEqual($0 as? JSONError, .duplicateKey(path: "$", key: "a")) }
        XCTAssertThrowsError(try JSONValue.parse(#"{"x":[{"k":1},{"k":1,"\u006b":2}]}"#)) {
            XCTAssertEqual($0 as? JSONError, .duplicateKey(path: "$.x[1]", key: "k"))
        }
        XCTAssertNoThrow(try JSONValue.parse(#"{"a":{"a":{"a":1}},"b":"{\"a\":1,\"a\":2}"}"#))
        XCTAssertThrowsError(try JSONValue.parse(#"{"a\u0000":1}"#)) { XCTAssertEqual($0 as? JSONError, .nulInKey(path: "$")) }
    }

    func testRejectsMalformedText() {
        func expect(_ text: [UInt8], _ check: (JSONError) -> Bool, line: UInt = #line) {
            XCTAssertThrowsError(try JSONValue.parse(text, maxDepth: 8), line: line) { error in
                guard let error = error as? JSONError else { return XCTFail("\(error)", line: line) }
                XCTAssertTrue(check(error), "\(error)", line: line)
            }
        }
        expect(Array("[[[[[[[[[[1]]]]]]]]]]".utf8)) { $0 == .tooDeep(maxDepth: 8) }
        expect(Array("{\"a\":1} x".utf8)) { if case .trailingBytes(8) = $0 { return true } else { return false } }
        expect(Array("{\"a\":1}{}".utf8)) { if case .trailingBytes = $0 { return true } else { return false } }
        expect([0x22, 0xC3, 0x28, 0x22]) { if case .invalidUTF8 = $0 { return true } else { return false } }
        expect(Array("   ".utf8)) { $0 == .empty }
        expect(Array("{\"a\":}".utf8)) { if case .syntax = $0 { return true } else { return false } }
        expect(Array("[1,]".utf8)) { if case .syntax = $0 { return true } else { return false } }
        expect(Array("{'a':1}".utf8)) { if case .syntax = $0 { return true } else { return false } }
        expect(Array("[NaN]".utf8)) { if case .syntax = $0 { return true }; if case .nonFiniteNumber = $0 { return true }; return false }
        expect(Array("[Infinity]".utf8)) { if case .syntax = $0 { return true }; if case .nonFiniteNumber = $0 { return true }; return false }
        expect(Array("[1e999]".utf8)) { if case .syntax = $0 { return true }; if case .nonFiniteNumber = $0 { return true }; return false }
        expect(Array("{\"a\":1".utf8)) { if case .syntax = $0 { return true } else { return false } }
        XCTAssertNoThrow(try JSONValue.parse(Array("\n{\"a\" : [ 1 , 2 ] }\r\n\t".utf8)))
    }

    /// RFC 8259's number grammar, which json-c's strict mode does not fully enforce ("1.", "01").
    func testNumbersFollowTheJSONGrammar() throws {
        for text in ["1.", "[1.]", "{\"a\":1.e5}", "01", "[-01]", "[1e]", "[1e+]", "[-]", "[.5]", "[+1]"] {
            XCTAssertThrowsError(try JSONValue.parse(text), text) { error in
                guard case .syntax = error as? JSONError else { return XCTFail("\(text): \(error)") }
            }
        }
        XCTAssertEqual(try JSONValue.parse("[0, -0.5, 10, 1.25e-3, 2E+2, 0e0]"),
                       .array([.integer(0), .number(-0.5), .integer(10), .number(1.25e-3), .number(200), .number(0)]))
        XCTAssertEqual(try JSONValue.parse("{\"k\": \"01 and 1.\"}"), .object([("k", .string("01 and 1."))]))
    }

    func testTopLevelScalars() throws {
        XCTAssertEqual(try JSONValue.parse("null"), .null)
        XCTAssertEqual(try JSONValue.parse(" null\n"), .null)
        XCTAssertEqual(try JSONValue.parse("true"), .bool(true))
        XCTAssertEqual(try JSONValue.parse("8"), .integer(8))
        XCTAssertEqual(try JSONValue.parse("\"s\""), .string("s"))
        XCTAssertThrowsError(try JSONValue.parse("nul"))
        XCTAssertThrowsError(try JSONValue.parse("null null"))
    }

    func testIntegersKeepTheirKind() throws {
        XCTAssertEqual(try JSONValue.parse("[9007199254740993, -5, 2.0, 1E2]"),
                       .array([.integer(9007199254740993), .integer(-5), .number(2), .number(100)]))
        XCTAssertEqual(try JSONValue.parse("[18446744073709551615]"), .array([.number(18446744073709551615)]))
    }
}
