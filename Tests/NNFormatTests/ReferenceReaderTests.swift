// The independent Python reader (formats/reference/nnck_read.py) and JSON Schema, run on every fixture.
import Foundation
import XCTest
@testable import NNFormat

final class ReferenceReaderTests: XCTestCase {
    func python() throws -> String {
        guard let python = Paths.python3() else { throw XCTSkip("python3 is not installed") }
        return python
    }

    func testPythonReaderPrintsTheSameTensorValuesAsSwift() throws {
        let python = try python()
        for fixture in try FixtureFactory.all() {
            let path = Paths.fixture(fixture.name)
            let checkpoint = try CheckpointReader.read(path: path)
            let all = try runProcess(python, [Paths.referenceReader, path, "--all-tensors"])
            XCTAssertEqual(all.status, 0, all.stderr)
            let expected = checkpoint.tensors.map { "== \($0.name)\n" + TensorText.csv($0) }.joined()
            XCTAssertEqual(all.stdout, expected, fixture.name)
        }
        // The --tensor mode nninspect mirrors, for every tensor of every fixture, in one Python process
        // (interpreter start-up dominates otherwise).
        let script = """
        import io, sys, contextlib
        sys.path.insert(0, sys.argv[1])
        import nnck_read
        for path in sys.argv[2:]:
            _, _, tensors = nnck_read.read_checkpoint(path)
            for name in tensors:
                out = io.StringIO()
                with contextlib.redirect_stdout(out):
                    status = nnck_read.main(["nnck_read.py", path, "--tensor", name])
                sys.stdout.write(f"== {status} {name}\\n" + out.getvalue())
        """
        let fixtures = try FixtureFactory.all().map { Paths.fixture($0.name) }
        let result = try runProcess(python, ["-c", script, Paths.root + "/formats/reference"] + fixtures)
        XCTAssertEqual(result.status, 0, result.stderr)
        let expected = try fixtures.map { path in
            try CheckpointReader.read(path: path).tensors.map { "== 0 \($0.name)\n" + TensorText.csv($0) }.joined()
        }.joined()
        XCTAssertEqual(result.stdout, expected)
    }

    func testPythonReaderRejectsACorruptFile() throws {
        let python = try python()
        var bytes = try readBytes(Paths.fixture("f64-deflate"))
        bytes[bytes.count - 3] ^= 0x10
        let directory = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let path = directory + "/corrupt.nnck"
        try Data(bytes).write(to: URL(fileURLWithPath: path))
        let result = try runProcess(python, [Paths.referenceReader, path])
        XCTAssertEqual(result.status, 1)
        XCTAssertTrue(result.stderr.contains("CRC"), result.stderr)
    }

    func testEveryFixtureManifestMatchesTheSchema() throws {
        let python = try python()
        let script = """
        import json, sys
        sys.path.insert(0, sys.argv[1])
        try:
            import jsonschema
        except ImportError:
            print("SKIP"); sys.exit(0)
        import nnck_read
        schema = json.load(open(sys.argv[2]))
        jsonschema.Draft202012Validator.check_schema(schema)
        validator = jsonschema.Draft202012Validator(schema)
        for path in sys.argv[3:]:
            _, manifest, _ = nnck_read.read_checkpoint(path)
            errors = sorted(validator.iter_errors(manifest), key=lambda e: list(e.path))
            for e in errors:
                print(f"{path}: {list(e.path)}: {e.message}")
        """
        let paths = try FixtureFactory.all().map { Paths.fixture($0.name) }
        let result = try runProcess(python, ["-c", script, Paths.root + "/formats/reference", Paths.schema] + paths)
        XCTAssertEqual(result.status, 0, result.stderr)
        if result.stdout == "SKIP\n" { throw XCTSkip("python3 has no jsonschema module") }
        XCTAssertEqual(result.stdout, "", "schema violations")
    }

    func testSchemaRejectsABrokenManifest() throws {
        let python = try python()
        let script = """
        import json, sys
        try:
            import jsonschema
        except ImportError:
            print("SKIP"); sys.exit(0)
        schema = json.load(open(sys.argv[1]))
        manifest = {"format": "nnck", "format_version": {"major": 1, "minor": 0}, "writer": {"name": "x", "version": "1"},
                    "model": {"input": {"features": ["a"], "count": 1, "normalization": {"kind": "bogus"}},
                              "layers": [{"kind": "dense", "inputs": 1}], "output": {"task": "regression", "targets": ["y"]}},
                    "tensors": [{"name": "w", "dtype": "f16"}]}
        print(len(list(jsonschema.Draft202012Validator(schema).iter_errors(manifest))))
        """
        let result = try runProcess(python, ["-c", script, Paths.schema])
        XCTAssertEqual(result.status, 0, result.stderr)
        if result.stdout == "SKIP\n" { throw XCTSkip("python3 has no jsonschema module") }
        XCTAssertGreaterThanOrEqual(Int(result.stdout.trimmingCharacters(in: .whitespacesAndNewlines)) ?? 0, 3)
    }

    func testExpectedOutputsAgreeWithTheIndependentNumpyForwardPass() throws {
        let python = try python()
        let result = try runProcess(python, [Paths.root + "/fixtures/checkpoints/compute_expected.py", "--check"])
        if result.stdout.hasPrefix("SKIP") { throw XCTSkip(result.stdout) }
        XCTAssertEqual(result.status, 0, result.stdout + result.stderr)
    }

    func testSwiftForwardPassMatchesTheCommittedExpectedOutputs() throws {
        for fixture in try FixtureFactory.all() {
            let checkpoint = try CheckpointReader.read(path: Paths.fixture(fixture.name))
            let text = try String(contentsOfFile: "\(Paths.fixtures)/\(fixture.name).expected.csv", encoding: .utf8)
            let lines = text.split(separator: "\n").dropFirst()
            XCTAssertEqual(lines.count, fixture.inputRows.count, fixture.name)
            for (line, row) in zip(lines, fixture.inputRows) {
                let expected = line.split(separator: ",").map { Double($0)! }
                let got = try ReferenceForward.run(checkpoint, row)
                for (g, e) in zip(got, expected) { XCTAssertEqual(g, e, accuracy: 1e-9 + 1e-9 * Swift.abs(e), fixture.name) }
            }
        }
    }
}
