// Writes the compatibility fixtures, only when NNKIT_REGENERATE_FIXTURES=1. Fixtures are committed
// once; every later version must read them, so normally this test does nothing but say so.
import Foundation
import NNFormat
import XCTest

final class FixtureGenerationTests: XCTestCase {
    func testRegenerateFixturesWhenAsked() throws {
        guard ProcessInfo.processInfo.environment["NNKIT_REGENERATE_FIXTURES"] == "1" else {
            throw XCTSkip("set NNKIT_REGENERATE_FIXTURES=1 to rewrite fixtures/checkpoints")
        }
        try FileManager.default.createDirectory(atPath: Paths.fixtures, withIntermediateDirectories: true)
        for fixture in try FixtureFactory.all() {
            try CheckpointWriter.write(fixture.checkpoint, to: Paths.fixture(fixture.name), options: fixture.options)
            var csv = fixture.checkpoint.input.features.joined(separator: ",") + "\n"
            for row in fixture.inputRows {
                csv += row.map { "\($0)" }.joined(separator: ",") + "\n"
            }
            try csv.write(toFile: "\(Paths.fixtures)/\(fixture.name).input.csv", atomically: true, encoding: .utf8)
        }
    }
}
