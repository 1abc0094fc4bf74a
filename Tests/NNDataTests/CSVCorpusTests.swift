import XCTest
@testable import NNData

/// The csv-spectrum style corpus in fixtures/csv: each file's expected parse or error message,
/// read both by the whole-file reader and by the streaming reader (3-byte blocks).
final class CSVCorpusTests: XCTestCase {
    enum Expected {
        case records(header: [String], rows: [[String]])
        case error(String)
    }

    static let cases: [(file: String, delimiter: UInt8, expected: Expected)] = [
        ("comma_in_quotes.csv", 44, .records(header: ["first", "last", "address", "city", "zip"],
                                             rows: [["John", "Doe", "120 any st.", "Anytown, WW", "08123"]])),
        ("escaped_quotes.csv", 44, .records(header: ["a", "b"], rows: [["1", "ha \"ha\" ha"], ["3", "4"]])),
        ("json.csv", 44, .records(header: ["key", "val"], rows: [["1", "{\"type\": \"Point\", \"coordinates\": [102.0, 0.5]}"]])),
        ("newlines.csv", 44, .records(header: ["a", "b", "c"], rows: [["1", "2", "3"], ["Once upon \na time", "5", "6"], ["7", "8", "9"]])),
        ("newlines_crlf.csv", 44, .records(header: ["a", "b", "c"], rows: [["1", "2", "3"], ["Once upon \r\na time", "5", "6"], ["7", "8", "9"]])),
        ("quotes_and_newlines.csv", 44, .records(header: ["a", "b"], rows: [["1", "ha \n\"ha\" \nha"], ["3", "4"]])),
        ("simple.csv", 44, .records(header: ["a", "b", "c"], rows: [["1", "2", "3"]])),
        ("simple_crlf.csv", 44, .records(header: ["a", "b", "c"], rows: [["1", "2", "3"]])),
        ("cr_only.csv", 44, .records(header: ["a", "b"], rows: [["1", "2"], ["3", "4"]])),
        ("no_final_newline.csv", 44, .records(header: ["a", "b"], rows: [["1", "2"], ["3", "4"]])),
        ("empty_fields.csv", 44, .records(header: ["a", "b", "c"], rows: [["1", "", ""], ["2", "3", "4"]])),
        ("utf8.csv", 44, .records(header: ["a", "b", "c"], rows: [["1", "2", "3"], ["4", "5", "ʤ"]])),
        ("bom.csv", 44, .records(header: ["a", "b"], rows: [["1", "2"]])),
        ("blank_lines.csv", 44, .records(header: ["a", "b"], rows: [["1", "2"], ["3", "4"]])),
        ("semicolon.csv", 59, .records(header: ["a", "b"], rows: [["1;5", "2"]])),
        ("tab.tsv", 9, .records(header: ["a", "b"], rows: [["1", "2"]])),
        ("empty_file.csv", 44, .error("SRC: empty file; expected a header row and data rows")),
        ("header_only.csv", 44, .error("SRC: header row only; expected at least one data row after it")),
        ("ragged_missing.csv", 44, .error("SRC, line 3: missing field: found 2 fields, expected 3 (no value for column 3 (\"c\"))")),
        ("ragged_extra.csv", 44, .error("SRC, line 2: extra field: found 4 fields, expected 3")),
        ("unterminated_quote.csv", 44, .error("SRC, line 3, column 2 (\"b\"): unterminated quoted field: the file ends inside quotes opened here; expected a closing '\"'")),
        ("quote_in_unquoted.csv", 44, .error("SRC, line 2, column 2 (\"b\"): quote character inside an unquoted field; expected the whole field in quotes with inner quotes doubled (\"\")")),
        ("text_after_quote.csv", 44, .error("SRC, line 2, column 1 (\"a\"): found 'y' after a closing quote; expected the delimiter ',' or the end of the line")),
        ("nul_byte.csv", 44, .error("SRC, line 2, column 2 (\"b\"): NUL byte (0x00) in a field; expected text (is this a binary file?)")),
        ("invalid_utf8_header.csv", 44, .error("SRC, line 1, column 2: header name is not valid UTF-8; expected UTF-8 text")),
        ("duplicate_header.csv", 44, .error("SRC, line 1: duplicate column name \"a\" (columns 1 and 3); expected unique header names")),
    ]

    func testEveryCorpusFileGivesItsExpectedResultInBothReaders() throws {
        for (file, delimiter, expected) in Self.cases {
            let path = fixturePath("csv/" + file)
            let bytes = readFile(path)
            let format = CSVFormat(delimiter: delimiter)
            switch expected {
            case let .records(header, rows):
                let csv = try CSVFile(path: path, format: format)
                XCTAssertEqual(csv.header.names, header, file)
                XCTAssertEqual(try csv.readRecords(), rows, file)
                let streamed = try streamRecords(bytes: bytes, source: path, format: format)
                XCTAssertEqual(streamed.header.names, header, file)
                XCTAssertEqual(streamed.records, rows, file)
            case let .error(message):
                let wanted = message.replacingOccurrences(of: "SRC", with: path)
                let whole = errorMessage { _ = try CSVFile(path: path, format: format).readRecords() }
                XCTAssertEqual(whole, wanted, "whole-file reader, \(file)")
                var streamedMessage: String? = nil
                do {
                    let streamed = try streamRecords(bytes: bytes, source: path, format: format)
                    if streamed.records.isEmpty {
                        streamedMessage = CSVError.headerOnly(source: path).description  // the stream reader leaves this to its caller
                    }
                } catch {
                    streamedMessage = String(describing: error)
                }
                XCTAssertEqual(streamedMessage, wanted, "streaming reader, \(file)")
            }
        }
    }

    func testCorpusFilesExistForEveryCase() {
        for (file, _, _) in Self.cases {
            XCTAssertTrue(access(fixturePath("csv/" + file), R_OK) == 0, file)
        }
    }
}
