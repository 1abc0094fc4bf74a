import Foundation
import XCTest

/// The built `nninspect` on every compatibility fixture: golden outputs, verify, diff, JSON and
/// `--tensor` against the Python reference reader.
///
/// Golden files live in fixtures/expected/inspect/; `NNKIT_UPDATE_GOLDEN=1` rewrites them from the
/// tool's output (check the diff by eye before committing).
final class NNInspectTests: XCTestCase {
    var root: URL { ToolRunner.repositoryRoot }

    /// Fixture checkpoints, as paths relative to the repository root (so outputs do not depend on
    /// where the repository lives).
    func fixtures() throws -> [String] {
        let directory = root.appendingPathComponent("fixtures/checkpoints")
        let names = try FileManager.default.contentsOfDirectory(atPath: directory.path).filter { $0.hasSuffix(".nnck") }.sorted()
        XCTAssertFalse(names.isEmpty, "no fixtures in \(directory.path)")
        return names.map { "fixtures/checkpoints/" + $0 }
    }

    func inspect(_ arguments: [String]) throws -> ToolRunner.Result {
        try ToolRunner.run("nninspect", arguments, currentDirectory: root)
    }

    func compareWithGolden(_ output: String, _ name: String, file: StaticString = #filePath, line: UInt = #line) throws {
        let url = root.appendingPathComponent("fixtures/expected/inspect").appendingPathComponent(name)
        if ProcessInfo.processInfo.environment["NNKIT_UPDATE_GOLDEN"] == "1" {
            try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
            try output.write(to: url, atomically: true, encoding: .utf8)
            return
        }
        guard let expected = try? String(contentsOf: url, encoding: .utf8) else {
            return XCTFail("missing golden file \(url.path); run with NNKIT_UPDATE_GOLDEN=1", file: file, line: line)
        }
        if output != expected {
            let got = output.split(separator: "\n", omittingEmptySubsequences: false)
            let want = expected.split(separator: "\n", omittingEmptySubsequences: false)
            let first = (0..<min(got.count, want.count)).first { got[$0] != want[$0] } ?? min(got.count, want.count)
            XCTFail("\(name) differs at line \(first + 1):\n got: \(first < got.count ? got[first] : "<end>")\nwant: \(first < want.count ? want[first] : "<end>")",
                    file: file, line: line)
        }
    }

    func baseName(_ fixture: String) -> String {
        String(fixture.split(separator: "/").last!.dropLast(".nnck".count))
    }

    // MARK: Golden outputs

    func testDescriptionWeightsAndVerifyMatchGoldenFiles() throws {
        for fixture in try fixtures() {
            let name = baseName(fixture)
            for (arguments, suffix) in [([fixture], "txt"), ([fixture, "--weights"], "weights.txt"), (["verify", fixture], "verify.txt")] {
                let result = try inspect(arguments)
                XCTAssertEqual(result.status, 0, "nninspect \(arguments): \(result.stderr)")
                XCTAssertEqual(result.stderr, "")
                for line in result.stdout.split(separator: "\n") {
                    XCTAssertFalse(line.hasSuffix(" "), "trailing space in nninspect \(arguments): '\(line)'")
                    XCTAssertFalse(line.contains("\u{1B}"), "escape sequence in piped output of nninspect \(arguments)")
                }
                try compareWithGolden(result.stdout, "\(name).\(suffix)")
            }
        }
    }

    func testShowIsTheDefaultSubcommand() throws {
        let fixture = try fixtures()[0]
        XCTAssertEqual(try inspect([fixture]).stdout, try inspect(["show", fixture]).stdout)
    }

    // MARK: verify

    func testVerifyFailsOnACorruptedCopyNamingTheFileAndTensor() throws {
        let directory = try ToolRunner.temporaryDirectory(self)
        for fixture in ["fixtures/checkpoints/seed-3.1.nnck", "fixtures/checkpoints/all-layers-f32-shuffle.nnck"] {
            var bytes = try Data(contentsOf: root.appendingPathComponent(fixture))
            // The last byte belongs to the last tensor's block (verification.outputs in both).
            bytes[bytes.count - 1] ^= 0x40
            let copy = directory.appendingPathComponent(baseName(fixture) + "-corrupt.nnck").path
            try bytes.write(to: URL(fileURLWithPath: copy))
            let result = try inspect(["verify", copy])
            XCTAssertEqual(result.status, 1, result.stdout)
            XCTAssertEqual(result.stdout, "", "nothing is reported as checked for a broken file")
            XCTAssertTrue(result.stderr.hasPrefix("Error: \(copy): tensor \"verification.outputs\""), result.stderr)
            XCTAssertTrue(result.stderr.contains("CRC-32"), result.stderr)
        }
    }

    func testMissingFileAndUnknownTensorAreErrorsOnStderr() throws {
        let missing = try inspect(["verify", "no/such/file.nnck"])
        XCTAssertNotEqual(missing.status, 0)
        XCTAssertEqual(missing.stdout, "")
        XCTAssertEqual(missing.stderr, "Error: no/such/file.nnck: open failed: No such file or directory\n")

        let fixture = "fixtures/checkpoints/seed-3.1.nnck"
        let unknown = try inspect([fixture, "--tensor", "layers.7.weight"])
        XCTAssertNotEqual(unknown.status, 0)
        XCTAssertEqual(unknown.stderr, "Error: \(fixture): no tensor named \"layers.7.weight\"; available: layers.0.weight, layers.0.bias, "
                                      + "layers.2.weight, layers.2.bias, verification.inputs, verification.outputs\n")

        let combined = try inspect([fixture, "--tensor", "layers.0.bias", "--json"])
        XCTAssertNotEqual(combined.status, 0)
        XCTAssertTrue(combined.stderr.contains("--tensor prints one tensor's values; it cannot be combined with --weights or --json"), combined.stderr)
    }

    // MARK: diff

    func testDiffOfAFixtureWithItselfIsIdentical() throws {
        for fixture in try fixtures() {
            let result = try inspect(["diff", fixture, fixture])
            XCTAssertEqual(result.status, 0, result.stdout + result.stderr)
            XCTAssertTrue(result.stdout.contains("Identical in content:"), result.stdout)
        }
    }

    func testDiffOfTwoFixturesListsDifferences() throws {
        let a = "fixtures/checkpoints/seed-3.1.nnck", b = "fixtures/checkpoints/chunked-mixed-codecs.nnck"
        let result = try inspect(["diff", a, b])
        XCTAssertEqual(result.status, 1, result.stderr)
        try compareWithGolden(result.stdout, "diff-seed-3.1-chunked-mixed-codecs.txt")
        XCTAssertTrue(result.stdout.contains("  layers.2.bias (layer 2 dense bias): 2 of 2 values differ, max abs difference"), result.stdout)
        XCTAssertTrue(result.stdout.contains("  extra.scalar (unused): only in B"), result.stdout)

        let quiet = try inspect(["diff", "--quiet", a, b])
        XCTAssertEqual(quiet.status, 1)
        XCTAssertEqual(quiet.stdout, "")

        let broken = try inspect(["diff", a, "no/such/file.nnck"])
        XCTAssertEqual(broken.status, 2, "trouble is exit status 2, not 1 (= different)")
        XCTAssertEqual(broken.stderr, "Error: no/such/file.nnck: open failed: No such file or directory\n")
    }

    // MARK: JSON

    func testJSONParsesAndHasTheDocumentedKeys() throws {
        for fixture in try fixtures() {
            let result = try inspect([fixture, "--json", "--weights"])
            XCTAssertEqual(result.status, 0, result.stderr)
            let object = try XCTUnwrap(try JSONSerialization.jsonObject(with: result.stdoutBytes) as? [String: Any], fixture)
            XCTAssertEqual(Set(object.keys), ["file", "file_size", "format", "writer", "manifest_length", "tensor_bytes", "input", "layers",
                                              "parameters", "output", "verification", "optimizer", "training", "metadata", "tensors"])
            XCTAssertEqual(object["file"] as? String, fixture)
            let parameters = try XCTUnwrap(object["parameters"] as? [String: Int])
            XCTAssertEqual(parameters["total"], parameters["trainable"]! + parameters["non_trainable"]!)
            let tensors = try XCTUnwrap(object["tensors"] as? [[String: Any]])
            XCTAssertFalse(tensors.isEmpty)
            for tensor in tensors {
                XCTAssertEqual(Set(tensor.keys), ["name", "role", "dtype", "shape", "codec", "stored_length", "raw_length", "chunks", "crc32", "statistics"])
            }
        }
    }

    // MARK: --tensor against the reference reader

    func testTensorValuesEqualThePythonReferenceReader() throws {
        let python = ["/usr/bin/python3", "/usr/local/bin/python3"].first { FileManager.default.isExecutableFile(atPath: $0) }
        try XCTSkipIf(python == nil, "python3 is not installed")
        let reader = root.appendingPathComponent("formats/reference/nnck_read.py").path
        for fixture in try fixtures() {
            // The reference prints every tensor as "== NAME" then its CSV.
            let process = Process()
            process.executableURL = URL(fileURLWithPath: python!)
            process.arguments = [reader, fixture, "--all-tensors"]
            process.currentDirectoryURL = root
            let pipe = Pipe()
            process.standardOutput = pipe
            try process.run()
            let data = pipe.fileHandleForReading.readDataToEndOfFile()
            process.waitUntilExit()
            XCTAssertEqual(process.terminationStatus, 0, "reference reader failed on \(fixture)")
            var expected: [(name: String, csv: String)] = []
            var lines = String(decoding: data, as: UTF8.self).split(separator: "\n", omittingEmptySubsequences: false)
            if lines.last == "" { lines.removeLast() }  // the text ends with "\n"
            for line in lines {
                if line.hasPrefix("== ") {
                    expected.append((String(line.dropFirst(3)), ""))
                } else if !expected.isEmpty {
                    expected[expected.count - 1].csv += line + "\n"
                }
            }
            XCTAssertFalse(expected.isEmpty, fixture)
            for (name, csv) in expected {
                let result = try inspect([fixture, "--tensor", name])
                XCTAssertEqual(result.status, 0, result.stderr)
                XCTAssertEqual(result.stdout, csv, "\(fixture) tensor \(name)")
            }
        }
    }
}
