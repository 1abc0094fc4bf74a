// Files that are not what they claim, given to each tool: one clear "Error: …" line naming the
// file, a non-zero exit, and a bounded time (every run has a timeout; a hang fails the test).
import Foundation
import XCTest

final class RobustnessHostileFileTests: XCTestCase {
    /// Each run may take at most this long (a blocked open or an endless read fails here).
    let timeout: TimeInterval = 20
    let model = ToolRunner.fixture("checkpoints/seed-3.1.nnck")
    let csv = ToolRunner.fixture("checkpoints/seed-3.1.input.csv")

    /// Runs `tool` and checks: non-zero exit, stderr's first line is "Error: …" naming `culprit` and
    /// containing `mentions`, and nothing printed to stdout.
    func expectClearFailure(_ tool: String, _ arguments: [String], culprit: String, mentions: String? = nil,
                            file: StaticString = #filePath, line: UInt = #line) throws {
        let started = Date()
        let run = try ToolRunner.run(tool, arguments, timeout: timeout)
        let command = "\(tool) \(arguments.joined(separator: " "))"
        XCTAssertLessThan(Date().timeIntervalSince(started), timeout, command, file: file, line: line)
        XCTAssertNotEqual(run.status, 0, command, file: file, line: line)
        let lines = run.stderr.split(separator: "\n")
        XCTAssertEqual(lines.count, 1, "\(command): expected one message line, got:\n\(run.stderr)", file: file, line: line)
        let message = String(lines.first ?? "")
        XCTAssertTrue(message.hasPrefix("Error: "), "\(command): \(message)", file: file, line: line)
        XCTAssertTrue(message.contains(culprit), "\(command): message does not name \(culprit): \(message)", file: file, line: line)
        if let mentions { XCTAssertTrue(message.contains(mentions), "\(command): \(message)", file: file, line: line) }
        XCTAssertEqual(run.stdout, "", command, file: file, line: line)
    }

    func testPNGNamedNNCK() throws {
        let dir = try ToolRunner.temporaryDirectory(self)
        let png = dir.appendingPathComponent("picture.nnck").path
        // A real PNG signature and the start of an IHDR chunk.
        try Data([0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A, 0, 0, 0, 13, 0x49, 0x48, 0x44, 0x52] + [UInt8](repeating: 7, count: 64))
            .write(to: URL(fileURLWithPath: png))
        try expectClearFailure("nninspect", [png], culprit: png, mentions: "not an .nnck checkpoint")
        try expectClearFailure("nninspect", ["verify", png], culprit: png, mentions: "not an .nnck checkpoint")
        try expectClearFailure("nninfer", [png, csv], culprit: png, mentions: "not an .nnck checkpoint")
        try expectClearFailure("nntrain", ["--dataset", "xor", "--epochs", "1", "--resume", png, "--output", dir.appendingPathComponent("o.nnck").path],
                               culprit: png, mentions: "not an .nnck checkpoint")
    }

    func testCheckpointGivenAsCSV() throws {
        let dir = try ToolRunner.temporaryDirectory(self)
        try expectClearFailure("nninfer", [model, model], culprit: model, mentions: "line 1")
        try expectClearFailure("nntrain", ["--data", model, "--epochs", "1", "--output", dir.appendingPathComponent("o.nnck").path],
                               culprit: model, mentions: "line 1")
        XCTAssertFalse(FileManager.default.fileExists(atPath: dir.appendingPathComponent("o.nnck").path))
    }

    func testCSVGivenAsCheckpoint() throws {
        try expectClearFailure("nninspect", [csv], culprit: csv, mentions: "not an .nnck checkpoint")
        try expectClearFailure("nninfer", [csv, csv], culprit: csv, mentions: "not an .nnck checkpoint")
    }

    func testDirectory() throws {
        let dir = try ToolRunner.temporaryDirectory(self)
        let out = dir.appendingPathComponent("o.nnck").path
        try expectClearFailure("nninspect", [dir.path], culprit: dir.path, mentions: "not a regular file")
        try expectClearFailure("nninfer", [dir.path, csv], culprit: dir.path)
        try expectClearFailure("nninfer", [model, dir.path], culprit: dir.path, mentions: "directory")
        try expectClearFailure("nntrain", ["--data", dir.path, "--epochs", "1", "--output", out], culprit: dir.path, mentions: "directory")
        // A directory where the output should go: the write fails, the directory stays.
        let target = dir.appendingPathComponent("taken")
        try FileManager.default.createDirectory(at: target, withIntermediateDirectories: false)
        try expectClearFailure("nntrain", ["--dataset", "xor", "--epochs", "1", "--quiet", "--output", target.path], culprit: "taken")
        var isDirectory: ObjCBool = false
        XCTAssertTrue(FileManager.default.fileExists(atPath: target.path, isDirectory: &isDirectory) && isDirectory.boolValue)
    }

    /// The memory caps a user may raise for a large trusted model are options of every tool that
    /// reads checkpoints, and the message names the option.
    func testCheckpointMemoryCapsAreOptions() throws {
        let dir = try ToolRunner.temporaryDirectory(self)
        let raise = "raise it with --max-total-tensor-bytes or ReaderLimits(maxTotalTensorBytes: ...)"
        try expectClearFailure("nninspect", [model, "--max-total-tensor-bytes", "16"], culprit: model, mentions: raise)
        try expectClearFailure("nninspect", ["verify", model, "--max-tensor-bytes", "8"], culprit: model, mentions: "--max-tensor-bytes")
        try expectClearFailure("nninfer", [model, csv, "--max-total-tensor-bytes", "16"], culprit: model, mentions: raise)
        try expectClearFailure("nntrain", ["--dataset", "xor", "--epochs", "1", "--resume", model, "--max-tensor-bytes", "8",
                                           "--output", dir.appendingPathComponent("o.nnck").path], culprit: model, mentions: "--max-tensor-bytes")
        XCTAssertEqual(try ToolRunner.run("nninspect", ["verify", model, "--max-total-tensor-bytes", "100000"]).status, 0)
        let invalid = try ToolRunner.run("nninspect", [model, "--max-tensor-bytes", "0"])
        XCTAssertNotEqual(invalid.status, 0)
        XCTAssertTrue(invalid.stderr.contains("--max-tensor-bytes must be at least 1, got 0"), invalid.stderr)
    }

    func testDevZero() throws {
        let dir = try ToolRunner.temporaryDirectory(self)
        try expectClearFailure("nninspect", ["/dev/zero"], culprit: "/dev/zero", mentions: "not a regular file")
        try expectClearFailure("nninfer", ["/dev/zero", csv], culprit: "/dev/zero")
        try expectClearFailure("nninfer", [model, "/dev/zero"], culprit: "/dev/zero", mentions: "NUL")
        try expectClearFailure("nntrain", ["--data", "/dev/zero", "--epochs", "1", "--output", dir.appendingPathComponent("o.nnck").path],
                               culprit: "/dev/zero", mentions: "NUL")
        try expectClearFailure("nntrain", ["--dataset", "xor", "--epochs", "1", "--resume", "/dev/zero", "--output", dir.appendingPathComponent("o.nnck").path],
                               culprit: "/dev/zero", mentions: "Error: /dev/zero: cannot resume: open failed: not a regular file")
    }

    /// A FIFO nobody writes to: as a checkpoint it must be refused at once (opening it for reading
    /// used to block forever); as CSV it is a legitimate stream, so the test's writer closes it
    /// without writing and the tool reports an empty input.
    func testFIFOWithNothingWritten() throws {
        let dir = try ToolRunner.temporaryDirectory(self)
        let fifo = dir.appendingPathComponent("pipe.nnck").path
        XCTAssertEqual(mkfifo(fifo, 0o600), 0)
        try expectClearFailure("nninspect", [fifo], culprit: fifo, mentions: "not a regular file")
        try expectClearFailure("nninspect", ["verify", fifo], culprit: fifo, mentions: "not a regular file")
        try expectClearFailure("nninfer", [fifo, csv], culprit: fifo, mentions: "not a regular file")
        try expectClearFailure("nntrain", ["--dataset", "xor", "--epochs", "1", "--resume", fifo, "--output", dir.appendingPathComponent("o.nnck").path],
                               culprit: fifo, mentions: "not a regular file")

        let csvFIFO = dir.appendingPathComponent("pipe.csv").path
        XCTAssertEqual(mkfifo(csvFIFO, 0o600), 0)
        let closer = Thread {
            // Opening for writing waits for the tool to open the read end; then close: end of input.
            let descriptor = open(csvFIFO, O_WRONLY)
            if descriptor >= 0 { close(descriptor) }
        }
        closer.start()
        try expectClearFailure("nninfer", [model, csvFIFO], culprit: csvFIFO, mentions: "empty")
    }

    func testUnreadableFile() throws {
        try XCTSkipIf(getuid() == 0, "running as root: permissions do not stop root from reading a chmod 000 file")
        let dir = try ToolRunner.temporaryDirectory(self)
        let locked = dir.appendingPathComponent("locked.nnck").path
        try FileManager.default.copyItem(atPath: model, toPath: locked)
        XCTAssertEqual(chmod(locked, 0), 0)
        try expectClearFailure("nninspect", [locked], culprit: locked, mentions: "Permission denied")
        try expectClearFailure("nninfer", [locked, csv], culprit: locked, mentions: "Permission denied")
    }
}
