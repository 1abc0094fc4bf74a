import Foundation
import NNFormat
import NNKit
import XCTest

/// End-to-end tests of the built `nntrain`: what a user runs, what they read, what they get.
final class NNTrainTests: XCTestCase {
    private func train(_ arguments: [String]) throws -> ToolRunner.Result {
        try ToolRunner.run("nntrain", arguments)
    }

    private func write(_ text: String, _ name: String, in directory: URL) throws -> String {
        let path = directory.appendingPathComponent(name).path
        try text.write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    func testHelpExitsZeroAndDocumentsDefaults() throws {
        let result = try train(["--help"])
        XCTAssertEqual(result.status, 0)
        for text in ["--data", "--layers", "Default: 64:relu", "--epochs", "(default: 20)", "--early-stopping", "--resume",
                     "--gradient-check", "--report", "samples_per_s="] {
            XCTAssertTrue(result.stdout.contains(text), "help lacks \(text)")
        }
    }

    func testEverySyntheticDataSetReachesItsAccuracy() throws {
        let dir = try ToolRunner.temporaryDirectory(self)
        let expected = ["linear": 0.95, "xor": 0.95, "moons": 0.95, "circles": 0.95, "spirals": 0.9, "blobs": 0.95]
        for (name, threshold) in expected.sorted(by: { $0.key < $1.key }) {
            let output = dir.appendingPathComponent("\(name).nnck").path
            let result = try train(["--dataset", name, "--samples", "400", "--epochs", "25", "--layers", "32:tanh,32:tanh",
                                    "--lr", "0.01", "--validation-split", "0.25", "--output", output])
            XCTAssertEqual(result.status, 0, result.stderr)
            let checkpoint = try CheckpointReader.read(path: output)
            let accuracy = try XCTUnwrap(checkpoint.training?.finalMetrics["val_accuracy"])
            XCTAssertGreaterThanOrEqual(accuracy, threshold, "\(name)")
            // The stable per-epoch line (output is not a terminal here).
            XCTAssertTrue(result.stdout.contains("epoch 25/25 loss="), result.stdout)
            XCTAssertNotNil(result.stdout.range(of: #"epoch 1/25 loss=\d+\.\d{4} acc=\d\.\d{4} val_loss=\d+\.\d{4} val_acc=\d\.\d{4} lr=0\.01 samples_per_s=\d+"#,
                                                options: .regularExpression), result.stdout)
        }
    }

    /// Digits: at least scikit-learn MLPClassifier's median test accuracy (fixtures/expected/nntrain_digits_sklearn.json,
    /// same architecture, optimizer, batch and epochs), comparing medians over seeds.
    func testDigitsReachScikitLearnAccuracy() throws {
        let dir = try ToolRunner.temporaryDirectory(self)
        let expectedURL = ToolRunner.repositoryRoot.appendingPathComponent("fixtures/expected/nntrain_digits_sklearn.json")
        let expected = try JSONSerialization.jsonObject(with: Data(contentsOf: expectedURL)) as! [String: Any]
        let sklearn = try XCTUnwrap(expected["test_accuracy"] as? Double)
        var accuracies: [Double] = []
        for seed in 0..<3 {
            let output = dir.appendingPathComponent("digits\(seed).nnck").path
            let result = try train(["--data", ToolRunner.fixture("data/digits_train.csv"), "--layers", "128:relu,64:relu",
                                    "--epochs", "20", "--batch-size", "32", "--lr", "0.001", "--seed", String(seed), "--quiet",
                                    "--output", output])
            XCTAssertEqual(result.status, 0, result.stderr)
            XCTAssertEqual(result.stdout, "", "--quiet prints nothing")
            accuracies.append(try testAccuracy(model: output))
        }
        let median = accuracies.sorted()[1]
        XCTAssertGreaterThanOrEqual(median, sklearn - 1e-9, "nntrain \(accuracies) vs scikit-learn median \(sklearn)")
    }

    /// Test-set accuracy of a checkpoint on digits_test.csv, through NNKit's Model (as nninfer runs it).
    private func testAccuracy(model path: String) throws -> Double {
        let checkpoint = try CheckpointReader.read(path: path)
        let model = try Model(checkpoint: checkpoint, source: path)
        XCTAssertEqual(try model.verify(against: checkpoint, source: path), 8)
        let text = try String(contentsOfFile: ToolRunner.fixture("data/digits_test.csv"), encoding: .utf8)
        var rows: [Float] = [], labels: [String] = []
        for line in text.split(separator: "\n").dropFirst() {
            let fields = line.split(separator: ",")
            rows += fields.dropLast().map { Float($0)! }
            labels.append(String(fields.last!))
        }
        let probabilities = try model.predict(rawRows: &rows, rows: labels.count)
        var correct = 0
        for (i, label) in labels.enumerated() {
            let p = probabilities[(i * 10)..<((i + 1) * 10)]
            if model.classes[p.firstIndex(of: p.max()!)! - i * 10] == label { correct += 1 }
        }
        return Double(correct) / Double(labels.count)
    }

    func testBadCSVMessages() throws {
        let dir = try ToolRunner.temporaryDirectory(self)
        let cases: [(String, [String], String)] = [
            ("missing field", ["--data", try write("a,b,y\n1,2,x\n3,y\n", "missing.csv", in: dir)], "missing.csv, line 3"),
            ("extra field", ["--data", try write("a,b,y\n1,2,x\n3,4,5,y\n", "extra.csv", in: dir)], "extra field"),
            ("not a number", ["--data", try write("a,b,y\n1,2,x\n3,abc,y\n", "nan_text.csv", in: dir)], "not a number"),
            ("unterminated quote", ["--data", try write("a,b,y\n1,2,x\n\"3,4,y\n", "quote.csv", in: dir)], "unterminated quoted field"),
            ("empty file", ["--data", try write("", "empty.csv", in: dir)], "empty file"),
            ("label absent", ["--data", try write("a,b,y\n1,2,x\n3,4,y\n", "label.csv", in: dir), "--label", "class"], "no column named \"class\""),
            ("single-sample class", ["--data", try write("a,b,y\n1,2,x\n3,4,x\n5,6,z\n", "single.csv", in: dir), "--validation-split", "0.5"],
             "class \"z\" has a single sample"),
            ("NaN", ["--data", try write("a,b,y\n1,2,x\nnan,4,y\n", "nan.csv", in: dir)], "expected a finite number"),
        ]
        for (name, arguments, message) in cases {
            let result = try train(arguments + ["--output", dir.appendingPathComponent("m.nnck").path, "--epochs", "1"])
            XCTAssertNotEqual(result.status, 0, name)
            XCTAssertTrue(result.stderr.contains(message), "\(name): \(result.stderr)")
            XCTAssertFalse(FileManager.default.fileExists(atPath: dir.appendingPathComponent("m.nnck").path), name)
        }
        // --skip-bad-rows trains on the rest and reports the count.
        let path = try write("a,b,y\n1,2,x\n3,oops,y\n5,6,y\n7,8,x\n", "skip.csv", in: dir)
        let result = try train(["--data", path, "--skip-bad-rows", "--epochs", "1", "--output", dir.appendingPathComponent("s.nnck").path])
        XCTAssertEqual(result.status, 0, result.stderr)
        XCTAssertTrue(result.stdout.contains("skipped 1 bad row in"), result.stdout)
    }

    func testCheckpointIsByteIdenticalAcrossRunsAndThreadCounts() throws {
        let dir = try ToolRunner.temporaryDirectory(self)
        var files: [Data] = []
        for (run, threads) in [(0, "1"), (1, "2"), (2, "2")] {
            let output = dir.appendingPathComponent("m\(run).nnck").path
            let result = try train(["--dataset", "spirals", "--samples", "600", "--layers", "32:relu,batchnorm,32:relu,dropout:0.2",
                                    "--epochs", "3", "--validation-split", "0.2", "--threads", threads, "--seed", "7",
                                    "--save-optimizer-state", "--output", output])
            XCTAssertEqual(result.status, 0, result.stderr)
            files.append(try Data(contentsOf: URL(fileURLWithPath: output)))
        }
        XCTAssertEqual(files[0], files[1], "threads 1 vs 2")
        XCTAssertEqual(files[1], files[2], "two runs")
        // A different seed gives a different model.
        let other = dir.appendingPathComponent("other.nnck").path
        _ = try train(["--dataset", "spirals", "--samples", "600", "--layers", "32:relu,batchnorm,32:relu,dropout:0.2", "--epochs", "3",
                       "--validation-split", "0.2", "--seed", "8", "--save-optimizer-state", "--output", other])
        XCTAssertNotEqual(files[0], try Data(contentsOf: URL(fileURLWithPath: other)))
    }

    /// 4 epochs in one run = 2 epochs saved with optimizer state + 2 resumed: the same bytes.
    func testResumeContinuesExactly() throws {
        let dir = try ToolRunner.temporaryDirectory(self)
        let common = ["--dataset", "moons", "--samples", "500", "--layers", "16:relu,batchnorm,16:relu,dropout:0.1",
                      "--validation-split", "0.2", "--seed", "3", "--save-optimizer-state", "--schedule", "cosine"]
        let whole = dir.appendingPathComponent("whole.nnck").path
        XCTAssertEqual(try train(common + ["--epochs", "4", "--output", whole]).status, 0)
        let half = dir.appendingPathComponent("half.nnck").path
        XCTAssertEqual(try train(common + ["--epochs", "2", "--output", half, "--cosine-steps", "40"]).status, 0)
        let resumed = dir.appendingPathComponent("resumed.nnck").path
        let result = try train(common + ["--epochs", "2", "--resume", half, "--output", resumed, "--cosine-steps", "40"])
        XCTAssertEqual(result.status, 0, result.stderr)
        XCTAssertTrue(result.stdout.contains("epoch 3/4 loss="), result.stdout)
        // Same schedule length on both sides (4 epochs × 10 batches), so the files must agree.
        let wholeAgain = dir.appendingPathComponent("whole2.nnck").path
        XCTAssertEqual(try train(common + ["--epochs", "4", "--output", wholeAgain, "--cosine-steps", "40"]).status, 0)
        let a = try CheckpointReader.read(path: wholeAgain), b = try CheckpointReader.read(path: resumed)
        XCTAssertEqual(b.training?.epochs, 4)
        XCTAssertEqual(b.training?.history.count, 4)
        for (x, y) in zip(a.tensors, b.tensors) { XCTAssertEqual(x, y, x.name) }
        XCTAssertEqual(try Data(contentsOf: URL(fileURLWithPath: wholeAgain)), try Data(contentsOf: URL(fileURLWithPath: resumed)))
        // Without optimizer state: a warning and a fresh optimizer.
        let plain = dir.appendingPathComponent("plain.nnck").path
        XCTAssertEqual(try train(["--dataset", "moons", "--samples", "200", "--epochs", "1", "--output", plain]).status, 0)
        let fresh = try train(["--dataset", "moons", "--samples", "200", "--epochs", "1", "--resume", plain,
                               "--output", dir.appendingPathComponent("p2.nnck").path])
        XCTAssertEqual(fresh.status, 0, fresh.stderr)
        XCTAssertTrue(fresh.stderr.contains("no optimizer state"), fresh.stderr)
        // A different architecture is refused.
        let mismatch = try train(["--dataset", "moons", "--samples", "200", "--epochs", "1", "--resume", plain, "--layers", "8:relu",
                                  "--output", dir.appendingPathComponent("p3.nnck").path])
        XCTAssertNotEqual(mismatch.status, 0)
        XCTAssertTrue(mismatch.stderr.contains("cannot resume"), mismatch.stderr)
    }

    func testDivergenceStopsAndLeavesOutputUntouched() throws {
        let dir = try ToolRunner.temporaryDirectory(self)
        let output = dir.appendingPathComponent("m.nnck").path
        try "previous model".write(toFile: output, atomically: true, encoding: .utf8)
        var csv = "a,b,y\n"
        for i in 0..<200 { csv += "\(Double(i) * 1e6),\(Double(i % 7) * -3e6),\(i % 2)\n" }
        let data = try write(csv, "big.csv", in: dir)
        let result = try train(["--data", data, "--normalize", "none", "--init", "large", "--lr", "1000", "--optimizer", "sgd",
                                "--layers", "32:relu,32:relu", "--epochs", "5", "--output", output])
        XCTAssertNotEqual(result.status, 0)
        XCTAssertTrue(result.stderr.contains("training diverged"), result.stderr)
        XCTAssertTrue(result.stderr.contains("in epoch 1, batch"), result.stderr)
        XCTAssertTrue(result.stderr.contains("learning rate"), result.stderr)
        XCTAssertEqual(try String(contentsOfFile: output, encoding: .utf8), "previous model")
    }

    private func startTraining(_ arguments: [String], stdout: URL) throws -> Process {
        let process = Process()
        process.executableURL = ToolRunner.binDirectory.appendingPathComponent("nntrain")
        process.arguments = arguments
        FileManager.default.createFile(atPath: stdout.path, contents: nil)
        process.standardOutput = try FileHandle(forWritingTo: stdout)
        process.standardError = try FileHandle(forWritingTo: stdout)
        try process.run()
        return process
    }

    private func waitFor(_ marker: String, in stdout: URL, _ process: Process) {
        let deadline = Date().addingTimeInterval(120)
        while Date() < deadline && process.isRunning {
            if let text = try? String(contentsOf: stdout, encoding: .utf8), text.contains(marker) { return }
            usleep(20_000)
        }
    }

    func testInterruptOnceSavesWhatWasLearned() throws {
        let dir = try ToolRunner.temporaryDirectory(self)
        let output = dir.appendingPathComponent("m.nnck").path
        let log = dir.appendingPathComponent("out.txt")
        let process = try startTraining(["--dataset", "moons", "--samples", "20000", "--epochs", "100000", "--layers", "64:relu",
                                         "--output", output], stdout: log)
        waitFor("epoch 1/", in: log, process)
        kill(process.processIdentifier, SIGINT)
        process.waitUntilExit()
        let text = try String(contentsOf: log, encoding: .utf8)
        XCTAssertEqual(process.terminationStatus, 130, text)
        XCTAssertTrue(text.contains("interrupted"), text)
        let checkpoint = try CheckpointReader.read(path: output)
        XCTAssertGreaterThanOrEqual(checkpoint.training?.epochs ?? 0, 1)
        XCTAssertTrue(checkpoint.metadata["nntrain.stop"]?.hasPrefix("interrupted") ?? false)
    }

    func testInterruptTwiceAbortsWithoutOutput() throws {
        let dir = try ToolRunner.temporaryDirectory(self)
        let output = dir.appendingPathComponent("m.nnck").path
        let log = dir.appendingPathComponent("out.txt")
        try "previous model".write(toFile: output, atomically: true, encoding: .utf8)
        // One batch of 8,000 rows through two 1024-wide layers takes well over a second, so both
        // signals arrive (separately: pending signals merge) while the first batch is computing.
        let process = try startTraining(["--dataset", "moons", "--samples", "16000", "--epochs", "10", "--batch-size", "8000",
                                         "--layers", "1024:relu,1024:relu", "--output", output], stdout: log)
        waitFor("model:", in: log, process)
        usleep(300_000)
        kill(process.processIdentifier, SIGINT)
        usleep(200_000)
        kill(process.processIdentifier, SIGINT)
        process.waitUntilExit()
        XCTAssertEqual(process.terminationStatus, 130)
        XCTAssertEqual(try String(contentsOfFile: output, encoding: .utf8), "previous model")
        let text = try String(contentsOf: log, encoding: .utf8)
        XCTAssertTrue(text.contains("interrupted twice"), text)
    }

    func testReportIsWellFormedWithEveryChart() throws {
        let dir = try ToolRunner.temporaryDirectory(self)
        let report = dir.appendingPathComponent("r.html").path
        let log = dir.appendingPathComponent("l.csv").path
        let result = try train(["--dataset", "moons", "--samples", "300", "--epochs", "3", "--validation-split", "0.2",
                                "--diagnostics", "--gradient-check", "--report", report, "--log", log,
                                "--output", dir.appendingPathComponent("m.nnck").path])
        XCTAssertEqual(result.status, 0, result.stderr)
        XCTAssertTrue(result.stdout.contains("gradient check on 8 training rows"), result.stdout)
        XCTAssertTrue(result.stdout.contains("grad_norm[0.weight]="), result.stdout)
        let html = try String(contentsOfFile: report, encoding: .utf8)
        for id in TrainingReport.figureIDs { XCTAssertTrue(html.contains("<figure id=\"\(id)\">"), id) }
        XCTAssertFalse(html.contains("<script"))
        try assertBalancedTags(html)
        let logText = try String(contentsOfFile: log, encoding: .utf8)
        let lines = logText.split(separator: "\n")
        XCTAssertEqual(lines.count, 4)
        XCTAssertTrue(lines[0].hasPrefix("epoch,loss,accuracy,val_loss,val_accuracy,lr,seconds,samples_per_s,"), String(lines[0]))
        XCTAssertTrue(lines[0].contains("grad_norm.0.weight"))
    }

    /// Every element closes in order (HTML void elements and the doctype excepted).
    private func assertBalancedTags(_ html: String, file: StaticString = #filePath, line: UInt = #line) throws {
        let void: Set<String> = ["meta", "br", "hr", "img", "input", "link", "!doctype"]
        let regex = try NSRegularExpression(pattern: #"<(/?)([A-Za-z!][A-Za-z0-9]*)[^>]*?(/?)>"#)
        var stack: [String] = []
        let text = html as NSString
        for match in regex.matches(in: html, range: NSRange(location: 0, length: text.length)) {
            let closing = text.substring(with: match.range(at: 1)) == "/"
            let name = text.substring(with: match.range(at: 2)).lowercased()
            let selfClosing = text.substring(with: match.range(at: 3)) == "/"
            if void.contains(name) || selfClosing { continue }
            if closing {
                guard stack.last == name else {
                    XCTFail("</\(name)> closes <\(stack.last ?? "nothing")>", file: file, line: line)
                    return
                }
                stack.removeLast()
            } else {
                stack.append(name)
            }
        }
        XCTAssertEqual(stack, [], "unclosed elements", file: file, line: line)
    }

    func testArgumentAndModelFileErrors() throws {
        let dir = try ToolRunner.temporaryDirectory(self)
        let output = dir.appendingPathComponent("m.nnck").path
        let badLayers = try train(["--dataset", "xor", "--layers", "64:relu,,32", "--output", output])
        XCTAssertNotEqual(badLayers.status, 0)
        XCTAssertTrue(badLayers.stderr.contains("--layers: item 2"), badLayers.stderr)
        let noData = try train(["--output", output])
        XCTAssertTrue(noData.stderr.contains("--data FILE.csv or --dataset NAME"), noData.stderr)
        let json = try write(#"[{"kind": "dense", "outputs": 8}, {"kind": "activation", "function": "relu"}, {"kind": "dropout", "rate": 1.5}, {"kind": "dense", "outputs": 2}, {"kind": "activation", "function": "softmax"}]"#,
                             "model.json", in: dir)
        let badModel = try train(["--dataset", "xor", "--model", json, "--output", output])
        XCTAssertNotEqual(badModel.status, 0)
        XCTAssertTrue(badModel.stderr.contains("$[2].rate: found 1.5"), badModel.stderr)
        let good = try write(#"{"layers": [{"kind": "dense", "inputs": 2, "outputs": 8}, {"kind": "activation", "function": "tanh"}, {"kind": "batchnorm"}, {"kind": "dense", "outputs": 2}, {"kind": "activation", "function": "softmax"}]}"#,
                             "good.json", in: dir)
        let ok = try train(["--dataset", "xor", "--samples", "200", "--epochs", "2", "--model", good, "--output", output])
        XCTAssertEqual(ok.status, 0, ok.stderr)
        let checkpoint = try CheckpointReader.read(path: output)
        XCTAssertEqual(checkpoint.layers.map(\.kind), ["dense", "activation", "batchnorm", "dense", "activation"])
    }

    func testEarlyStoppingAndIntermediateCheckpoints() throws {
        let dir = try ToolRunner.temporaryDirectory(self)
        let output = dir.appendingPathComponent("m.nnck").path
        let result = try train(["--dataset", "blobs", "--samples", "300", "--epochs", "200", "--lr", "0.05", "--early-stopping", "3",
                                "--checkpoint-every", "2", "--output", output])
        XCTAssertEqual(result.status, 0, result.stderr)
        let checkpoint = try CheckpointReader.read(path: output)
        let epochs = try XCTUnwrap(checkpoint.training?.epochs)
        XCTAssertLessThan(epochs, 200, "early stopping ended the run")
        XCTAssertTrue(checkpoint.metadata["nntrain.stop"]?.hasPrefix("early stopping") ?? false, "\(checkpoint.metadata)")
        XCTAssertNotNil(checkpoint.training?.finalMetrics["best_epoch"])
        XCTAssertTrue(FileManager.default.fileExists(atPath: dir.appendingPathComponent("m.epoch-0002.nnck").path))
    }
}
