// Bugs found by fuzzing (Fuzz/, scripts/fuzz.sh), each pinned by a small test. The fuzz inputs
// themselves (Fuzz/regressions/csv/) are replayed by NNToolsTests/RobustnessCorpusReplayTests.
import Foundation
import XCTest
@testable import NNData

final class RegressionTests: XCTestCase {
    /// Fuzz/regressions/csv/escaped-quotes-past-field-cap: a quoted field made of escaped quotes ("")
    /// skipped the maxFieldBytes check when the whole field was in memory (CSVFile), while the
    /// streaming reader, seeing it in pieces, refused it: the two readers disagreed. Both refuse it now.
    func testEscapedQuotesCountTowardsTheFieldCap() throws {
        let format = CSVFormat(hasHeader: false, limits: CSVLimits(maxFieldBytes: 16, maxColumns: 6, maxRecordBytes: 1024))
        let field = "\"" + String(repeating: "\"\"", count: 20) + "\""   // 40 raw content bytes, 20 quotes decoded
        let bytes = Array("a\n\(field)\nb\n".utf8)
        func expected(_ source: String) -> CSVError {
            .capExceeded(CSVPosition(source: source, line: 2, column: 1), cap: .maxFieldBytes, limit: 16)
        }

        XCTAssertThrowsError(try CSVFile(bytes: bytes, source: "x.csv", format: format).readRecords()) { error in
            XCTAssertEqual(error as? CSVError, expected("x.csv"))
        }
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("regression-\(UUID().uuidString).csv").path
        try Data(bytes).write(to: URL(fileURLWithPath: path))
        defer { try? FileManager.default.removeItem(atPath: path) }
        let reader = try CSVStreamReader(path: path, format: format, blockSize: 16)
        XCTAssertThrowsError(try reader.nextBatch(plan: .text(header: reader.header), maxRows: 10)) { error in
            XCTAssertEqual(error as? CSVError, expected(path))
        }
        // Within the cap (8 escaped quotes, 16 raw bytes) both read it.
        let fits = Array(("a\n\"" + String(repeating: "\"\"", count: 8) + "\"\n").utf8)
        XCTAssertEqual(try CSVFile(bytes: fits, source: "x.csv", format: format).readRecords(), [["a"], [String(repeating: "\"", count: 8)]])
    }
}
