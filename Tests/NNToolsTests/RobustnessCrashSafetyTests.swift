// Crash-safe writes: a tool killed at any moment, or failing for lack of space, never leaves a
// half-written file at its --output path, and the next successful run leaves no temporary files.
import Foundation
import NNFormat
import XCTest

final class RobustnessCrashSafetyTests: XCTestCase {
    /// Starts `tool`, sends SIGKILL after `delay` seconds (if still running) and waits for it.
    /// With `countingFromWrite`, the delay counts from the moment this process's temporary file
    /// (".NAME.tmp-PID-N") appears in `directory`, i.e. from the start of the atomic write.
    /// Returns whether the kill landed, and whether it left the process's temporary file behind.
    @discardableResult
    func runAndKill(_ tool: String, _ arguments: [String], in directory: URL, after delay: TimeInterval,
                    countingFromWrite: Bool = false) throws -> (killed: Bool, midWrite: Bool) {
        let process = Process()
        process.executableURL = ToolRunner.binDirectory.appendingPathComponent(tool)
        process.arguments = arguments
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        let ownTemporary = ".tmp-\(process.processIdentifier)-"
        if countingFromWrite {
            let giveUp = Date().addingTimeInterval(120)
            while process.isRunning, Date() < giveUp, try !temporaries(in: directory).contains(where: { $0.contains(ownTemporary) }) { usleep(200) }
        }
        let deadline = Date().addingTimeInterval(delay)
        while process.isRunning && Date() < deadline { usleep(500) }
        let killed = process.isRunning
        if killed { kill(process.processIdentifier, SIGKILL) }
        process.waitUntilExit()
        return (killed, try temporaries(in: directory).contains { $0.contains(ownTemporary) })
    }

    /// Seconds a run of `tool` takes (it must succeed).
    func timedRun(_ tool: String, _ arguments: [String]) throws -> TimeInterval {
        let started = Date()
        let run = try ToolRunner.run(tool, arguments)
        XCTAssertEqual(run.status, 0, "\(tool) \(arguments.joined(separator: " ")): \(run.stderr)")
        return Date().timeIntervalSince(started)
    }

    func temporaries(in directory: URL) throws -> [String] {
        try FileManager.default.contentsOfDirectory(atPath: directory.path).filter { $0.contains(".tmp-") }.sorted()
    }

    /// The release tools (scripts/test.sh) are fast enough for big workloads; the debug ones
    /// (plain `swift test`) get smaller ones so the suite stays quick.
    var releaseTools: Bool { ToolRunner.binDirectory.path.contains("/release") }

    /// 20 kills spread over runs of nntrain that end by writing a large checkpoint (two 1024-wide
    /// layers with Adam state, about 10 MB, written in about 0.4 s) over a good one: the file at
    /// --output is always the old checkpoint byte for byte, or a new one that `nninspect verify`
    /// accepts. (Debug tools: a small model and 8 kills.)
    func testSIGKILLNeverLeavesAPartialCheckpoint() throws {
        let dir = try ToolRunner.temporaryDirectory(self)
        let output = dir.appendingPathComponent("model.nnck").path
        let layers = releaseTools ? "1024:relu,1024:relu" : "64:relu"
        let kills = releaseTools ? 20 : 8
        func arguments(seed: Int) -> [String] {
            ["--dataset", "blobs", "--samples", "256", "--layers", layers, "--epochs", "1", "--seed", "\(seed)",
             "--optimizer", "adam", "--save-optimizer-state", "--quiet", "--output", output]
        }
        let duration = try timedRun("nntrain", arguments(seed: 1))
        let old = try Data(contentsOf: URL(fileURLWithPath: output))
        if releaseTools { XCTAssertGreaterThan(old.count, 8 << 20, "the checkpoint should be large enough for its write to take time") }

        var outcomes: [String: Int] = [:]
        var killedWhileWriting = 0
        let half = kills / 2
        for index in 0..<kills {
            // Half the kills at delays spread over the whole run; half during the write itself:
            // 0 to 30 ms after the temporary file appears (writing ~10 MB, fsync, rename).
            let (killed, midWrite) = index < half
                ? try runAndKill("nntrain", arguments(seed: 2 + index), in: dir, after: duration * (Double(index) + 0.5) / Double(half))
                : try runAndKill("nntrain", arguments(seed: 2 + index), in: dir, after: Double(index - half) * 0.030 / Double(half), countingFromWrite: true)
            if midWrite { killedWhileWriting += 1 }
            let now = try Data(contentsOf: URL(fileURLWithPath: output))
            if now == old {
                outcomes["old", default: 0] += 1
            } else {
                let verify = try ToolRunner.run("nninspect", ["verify", output])
                XCTAssertEqual(verify.status, 0, "after kill \(index) the file is neither the old checkpoint nor a verifying one: \(verify.stdout)\(verify.stderr)")
                outcomes[killed ? "new (killed after the rename)" : "new (finished)", default: 0] += 1
            }
        }
        if releaseTools { XCTAssertGreaterThan(killedWhileWriting, 0, "no kill landed during a write: the test did not test the write") }
        print("SIGKILL outcomes over \(kills) runs of \(String(format: "%.2f", duration)) s: \(outcomes); kills that left a temporary file: \(killedWhileWriting)")

        // The next successful run cleans up what the killed writers left.
        _ = try timedRun("nntrain", arguments(seed: 99))
        XCTAssertEqual(try temporaries(in: dir), [])
        XCTAssertEqual(try ToolRunner.run("nninspect", ["verify", output]).status, 0)
    }

    /// The writer removes stale temporaries of the path it writes (dead writer processes only).
    func testWriterRemovesOnlyStaleTemporaries() throws {
        let dir = try ToolRunner.temporaryDirectory(self)
        let path = dir.appendingPathComponent("m.nnck").path
        // A process id that cannot be alive (above the kernel's maximum), the test's own live parent,
        // another file's temporary, and a name that only looks similar.
        let stale = ".m.nnck.tmp-99999999-0", live = ".m.nnck.tmp-\(getppid())-0"
        let others = [".other.nnck.tmp-99999999-0", ".m.nnck.tmp-x-0", "m.nnck.tmp-99999999-0"]
        for name in [stale, live] + others { _ = FileManager.default.createFile(atPath: dir.appendingPathComponent(name).path, contents: Data([1])) }
        try CheckpointWriter.writeAtomically([1, 2, 3], to: path)
        let left = try FileManager.default.contentsOfDirectory(atPath: dir.path).sorted()
        XCTAssertEqual(left, ([live, "m.nnck"] + others).sorted())
    }

    /// A full disk: nntrain under a file-size limit (ulimit -f, SIGXFSZ ignored so write() fails with
    /// EFBIG) cannot write its checkpoint: one clear error, the old file intact, no temporary file.
    func testFullDiskKeepsTheOldCheckpoint() throws {
        let dir = try ToolRunner.temporaryDirectory(self)
        let output = dir.appendingPathComponent("model.nnck").path
        let arguments = ["--dataset", "blobs", "--samples", "256", "--layers", "512:relu", "--epochs", "1", "--quiet", "--output", output]
        XCTAssertEqual(try ToolRunner.run("nntrain", arguments + ["--seed", "1"]).status, 0)
        let old = try Data(contentsOf: URL(fileURLWithPath: output))

        // dash's ulimit -f counts 512-byte blocks: allow a quarter of the checkpoint's size.
        let blocks = max(1, old.count / 4 / 512)
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/bin/sh")
        process.arguments = ["-c", "trap '' XFSZ; ulimit -f \(blocks); exec \"$0\" \"$@\"",
                             ToolRunner.binDirectory.appendingPathComponent("nntrain").path] + arguments + ["--seed", "2"]
        let errorFile = dir.appendingPathComponent("stderr.txt")
        _ = FileManager.default.createFile(atPath: errorFile.path, contents: nil)
        let errorHandle = try FileHandle(forWritingTo: errorFile)
        process.standardError = errorHandle
        process.standardOutput = FileHandle.nullDevice
        try process.run()
        process.waitUntilExit()
        try errorHandle.close()
        let message = try String(contentsOf: errorFile, encoding: .utf8)
        try FileManager.default.removeItem(at: errorFile)

        XCTAssertNotEqual(process.terminationStatus, 0)
        XCTAssertEqual(process.terminationReason, .exit, "killed by a signal instead of reporting the error")
        XCTAssertTrue(message.hasPrefix("Error: "), message)
        XCTAssertTrue(message.contains("model.nnck"), message)
        XCTAssertTrue(message.contains("File too large"), message)
        XCTAssertEqual(message.split(separator: "\n").count, 1, message)
        XCTAssertEqual(try Data(contentsOf: URL(fileURLWithPath: output)), old, "the old checkpoint was damaged")
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: dir.path), ["model.nnck"])
    }

    /// nninfer --output killed mid-stream: the output path holds the old predictions or the
    /// complete new ones, never a partial file.
    func testSIGKILLNeverLeavesPartialPredictions() throws {
        let dir = try ToolRunner.temporaryDirectory(self)
        let model = ToolRunner.fixture("checkpoints/seed-3.1.nnck")
        // Long enough that the kills land while predictions stream out.
        var text = "x1,x2\n"
        for row in 0..<(releaseTools ? 400_000 : 40_000) { text += "\(Double(row % 1000) / 100),\(Double(row % 37) / 10 - 1.5)\n" }
        let input = dir.appendingPathComponent("input.csv").path
        try text.write(toFile: input, atomically: true, encoding: .utf8)
        let reference = dir.appendingPathComponent("reference.csv").path
        let duration = try timedRun("nninfer", [model, input, "--output", reference, "--quiet"])
        let complete = try Data(contentsOf: URL(fileURLWithPath: reference))

        let output = dir.appendingPathComponent("predictions.csv").path
        let old = Data("old predictions\n".utf8)
        try old.write(to: URL(fileURLWithPath: output))
        var outcomes: [String: Int] = [:]
        for index in 0..<12 {
            try runAndKill("nninfer", [model, input, "--output", output, "--quiet"], in: dir, after: duration * (Double(index) + 0.5) / 12)
            let now = try Data(contentsOf: URL(fileURLWithPath: output))
            if now == old {
                outcomes["old", default: 0] += 1
            } else {
                XCTAssertEqual(now, complete, "after a kill at \(index) twelfths of the run the output is partial (\(now.count) of \(complete.count) bytes)")
                outcomes["complete", default: 0] += 1
                try old.write(to: URL(fileURLWithPath: output))
            }
        }
        let left = try temporaries(in: dir)
        print("nninfer SIGKILL outcomes over 12 runs of \(String(format: "%.2f", duration)) s: \(outcomes); temporary files left: \(left.count)")
        // The next successful run removes what the killed runs left behind.
        let again = try ToolRunner.run("nninfer", [model, input, "--output", output, "--quiet"])
        XCTAssertEqual(again.status, 0, again.stderr)
        XCTAssertEqual(try temporaries(in: dir), [])
    }

    /// Ctrl-C (SIGINT) while nninfer streams predictions to --output: it prints a one-line message
    /// naming the file and ends by SIGINT (the shell's status 130, so calling scripts stop too), the
    /// old file at the path is untouched, and neither the new partial predictions nor a temporary
    /// file is left in the directory.
    func testSIGINTLeavesNoPartialPredictionsAndSaysSo() throws {
        let dir = try ToolRunner.temporaryDirectory(self)
        let model = ToolRunner.fixture("checkpoints/seed-3.1.nnck")
        // Long enough that the run is still streaming when the signal lands.
        var text = "x1,x2\n"
        for row in 0..<(releaseTools ? 2_000_000 : 200_000) { text += "\(Double(row % 1000) / 100),\(Double(row % 37) / 10 - 1.5)\n" }
        let input = dir.appendingPathComponent("input.csv").path
        try text.write(toFile: input, atomically: true, encoding: .utf8)
        let output = dir.appendingPathComponent("predictions.csv").path
        let old = Data("old predictions\n".utf8)
        try old.write(to: URL(fileURLWithPath: output))

        let process = Process()
        process.executableURL = ToolRunner.binDirectory.appendingPathComponent("nninfer")
        process.arguments = [model, input, "--output", output, "--threads", "2"]
        let errURL = dir.appendingPathComponent("stderr.txt")
        FileManager.default.createFile(atPath: errURL.path, contents: nil)
        let err = try FileHandle(forWritingTo: errURL)
        process.standardOutput = FileHandle.nullDevice
        process.standardError = err
        try process.run()
        // Signal once predictions are streaming: the temporary file exists and has grown.
        let ownTemporary = ".predictions.csv.tmp-\(process.processIdentifier)-"
        let giveUp = Date().addingTimeInterval(120)
        func temporarySize() throws -> Int {
            guard let name = try temporaries(in: dir).first(where: { $0.hasPrefix(ownTemporary) }) else { return -1 }
            let attributes = try? FileManager.default.attributesOfItem(atPath: dir.appendingPathComponent(name).path)
            return (attributes?[.size] as? Int) ?? -1
        }
        while process.isRunning, Date() < giveUp, try temporarySize() <= 0 { usleep(200) }
        XCTAssertTrue(process.isRunning, "nninfer finished before it could be interrupted; make the input longer")
        kill(process.processIdentifier, SIGINT)
        process.waitUntilExit()
        try err.close()
        let message = try String(contentsOf: errURL, encoding: .utf8)

        XCTAssertEqual(process.terminationReason, .uncaughtSignal, "nninfer exited instead of ending by SIGINT: \(message)")
        XCTAssertEqual(process.terminationStatus, SIGINT, message)
        XCTAssertEqual(message, "Error: interrupted; \(output) was not written (a file already there is unchanged)\n")
        XCTAssertEqual(try Data(contentsOf: URL(fileURLWithPath: output)), old, "the old predictions were damaged")
        XCTAssertEqual(try temporaries(in: dir), [], "a temporary file was left behind")
    }
}
