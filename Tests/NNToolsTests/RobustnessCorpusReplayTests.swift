// Replays every fuzz seed (Fuzz/corpus/TARGET) and every input a fuzzer ever flagged
// (Fuzz/regressions/TARGET) through the same property checks the libFuzzer targets run
// (RobustnessFuzzChecks.swift is a link to Fuzz/Sources/FuzzChecks/FuzzChecks.swift), without sanitizers.
import Foundation
import NNZlib
import XCTest

final class RobustnessCorpusReplayTests: XCTestCase {
    static let fuzzRoot = ToolRunner.repositoryRoot.appendingPathComponent("Fuzz")

    /// Files of Fuzz/<folder>/<target>, sorted (README files excluded).
    static func inputs(_ folder: String, _ target: FuzzTarget) -> [URL] {
        let directory = fuzzRoot.appendingPathComponent(folder).appendingPathComponent(target.rawValue)
        let names = (try? FileManager.default.contentsOfDirectory(atPath: directory.path)) ?? []
        return names.filter { !$0.hasPrefix(".") && !$0.hasPrefix("README") }.sorted().map { directory.appendingPathComponent($0) }
    }

    func replay(_ target: FuzzTarget) throws {
        let seeds = Self.inputs("corpus", target)
        XCTAssertFalse(seeds.isEmpty, "no seed corpus for \(target.rawValue)")
        for file in seeds + Self.inputs("regressions", target) {
            let bytes = [UInt8](try Data(contentsOf: file))
            do {
                try FuzzChecks.check(target, bytes)
            } catch {
                XCTFail("\(target.rawValue): \(file.lastPathComponent): \(error)")
            }
        }
    }

    func testCheckpointBytes() throws { try replay(.checkpointBytes) }
    func testCheckpointStructured() throws { try replay(.checkpointStructured) }
    func testCSV() throws { try replay(.csv) }
    func testLayers() throws { try replay(.layers) }
    func testManifestJSON() throws { try replay(.manifestJSON) }
    func testInflate() throws { try replay(.inflate) }

    /// The checks must be able to fail: a broken property is reported, not swallowed.
    func testChecksDetectViolations() throws {
        // A checkpoint whose manifest is valid JSON but not a model: a CheckpointError, so no finding…
        XCTAssertNoThrow(try FuzzChecks.manifestJSON(Array(#"{"format":"nnck"}"#.utf8)))
        // …and a valid fixture decodes, re-encodes and round-trips.
        let fixture = [UInt8](try Data(contentsOf: URL(fileURLWithPath: ToolRunner.fixture("checkpoints/minimal-raw.nnck"))))
        XCTAssertNoThrow(try FuzzChecks.checkpointBytes(fixture))
        // The inflate check sees a difference between its two outcomes: a Result of ZlibError compares them.
        XCTAssertNotEqual(Result<[UInt8], ZlibError>.failure(.truncatedStream(produced: 1)), .failure(.truncatedStream(produced: 2)))
        XCTAssertNoThrow(try FuzzChecks.inflate([3, 0, 0x01, 0x03, 0x00, 0xFC, 0xFF, 1, 2, 3]))
        // The comparison the CSV check relies on tells different outcomes apart.
        let header = ["a", "b"]
        XCTAssertNotEqual(FuzzChecks.CSVOutcome(error: .emptyFile(source: "x")), FuzzChecks.CSVOutcome(error: .headerOnly(source: "x")))
        XCTAssertNotEqual(FuzzChecks.CSVOutcome(error: .emptyFile(source: "x")),
                          FuzzChecks.CSVOutcome(header: header, rows: .init(rowCount: 0, featureCount: 0, features: [])))
    }
}
