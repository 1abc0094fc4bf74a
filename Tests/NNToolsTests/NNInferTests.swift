import Foundation
import XCTest

/// End-to-end tests of the built `nninfer` on the fixtures.
final class NNInferTests: XCTestCase {
    let digitsModel = ToolRunner.fixture("expected/digits-small.nnck")
    let digitsTest = ToolRunner.fixture("data/digits_test.csv")
    let seedModel = ToolRunner.fixture("checkpoints/seed-3.1.nnck")
    let seedInput = ToolRunner.fixture("checkpoints/seed-3.1.input.csv")

    func csvRows(_ text: String) -> [[String]] {
        text.split(separator: "\n", omittingEmptySubsequences: true).map { $0.split(separator: ",", omittingEmptySubsequences: false).map(String.init) }
    }

    func readJSON(_ path: String) throws -> [String: Any] {
        try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: path))) as! [String: Any]
    }

    func write(_ text: String, _ name: String, in directory: URL) throws -> String {
        let path = directory.appendingPathComponent(name).path
        try text.write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    // MARK: Predictions

    func testDigitsPredictionsMatchTheReferenceForwardPass() throws {
        let run = try ToolRunner.run("nninfer", [digitsModel, digitsTest, "--probabilities", "--quiet"])
        XCTAssertEqual(run.status, 0, run.stderr)
        let got = csvRows(run.stdout)
        let want = csvRows(try String(contentsOfFile: ToolRunner.fixture("expected/digits-small.expected.csv"), encoding: .utf8))
        XCTAssertEqual(got[0], ["prediction", "probability"] + (0..<10).map { "p_\($0)" })
        XCTAssertEqual(got.count, want.count)
        for (g, w) in zip(got.dropFirst(), want.dropFirst()) {
            XCTAssertEqual(g[0], w[0])
            let probabilities = g[2...].map { Double($0)! }
            for (p, q) in zip(probabilities, w[1...].map { Double($0)! }) { XCTAssertEqual(p, q, accuracy: 1e-5) }
            XCTAssertEqual(probabilities.reduce(0, +), 1, accuracy: 1e-5)
            XCTAssertEqual(Double(g[1])!, probabilities.max()!, accuracy: 0)
        }
    }

    func testSeedModelMatchesFixtureAndStdinGivesTheSame() throws {
        let fromFile = try ToolRunner.run("nninfer", [seedModel, seedInput, "--probabilities"])
        XCTAssertEqual(fromFile.status, 0, fromFile.stderr)
        let want = csvRows(try String(contentsOfFile: ToolRunner.fixture("checkpoints/seed-3.1.expected.csv"), encoding: .utf8)).dropFirst()
        for (g, w) in zip(csvRows(fromFile.stdout).dropFirst(), want) {
            XCTAssertEqual(Double(g[2])!, Double(w[0])!, accuracy: 1e-5)
            XCTAssertEqual(Double(g[3])!, Double(w[1])!, accuracy: 1e-5)
        }
        let input = try Data(contentsOf: URL(fileURLWithPath: seedInput))
        let fromStdin = try ToolRunner.run("nninfer", [seedModel, "--probabilities"], stdin: input)
        let fromDash = try ToolRunner.run("nninfer", [seedModel, "-", "--probabilities"], stdin: input)
        XCTAssertEqual(fromStdin.stdout, fromFile.stdout)
        XCTAssertEqual(fromDash.stdout, fromFile.stdout)
    }

    func testRegressionWritesOneColumnPerTarget() throws {
        let run = try ToolRunner.run("nninfer", [ToolRunner.fixture("checkpoints/f64-deflate.nnck"), ToolRunner.fixture("checkpoints/f64-deflate.input.csv")])
        XCTAssertEqual(run.status, 0, run.stderr)
        let got = csvRows(run.stdout)
        XCTAssertEqual(got[0], ["prediction_price", "prediction_days_on_market"])
        let want = csvRows(try String(contentsOfFile: ToolRunner.fixture("checkpoints/f64-deflate.expected.csv"), encoding: .utf8))
        for (g, w) in zip(got.dropFirst(), want.dropFirst()) {
            for (a, b) in zip(g, w) { XCTAssertEqual(Double(a)!, Double(b)!, accuracy: 1e-5 + 1e-5 * abs(Double(b)!)) }
        }
    }

    func testReorderedAndExtraColumnsAndKeep() throws {
        let dir = try ToolRunner.temporaryDirectory(self)
        let reordered = try write("id,x2,note,x1\nr1,2,\"a, b\",1\nr2,0,x,0\nr3,0.5,y,-1\nr4,-2,z,3\n", "reordered.csv", in: dir)
        let plain = try ToolRunner.run("nninfer", [seedModel, seedInput])
        let run = try ToolRunner.run("nninfer", [seedModel, reordered, "--keep", "id", "note"])
        XCTAssertEqual(run.status, 0, run.stderr)
        let lines = run.stdout.split(separator: "\n").map(String.init)
        XCTAssertEqual(lines[0], "id,note,prediction,probability")
        XCTAssertEqual(lines[1], "r1,\"a, b\"," + plain.stdout.split(separator: "\n")[1])
        XCTAssertEqual(lines.dropFirst().map { $0.split(separator: ",").suffix(2) }, plain.stdout.split(separator: "\n").dropFirst().map { $0.split(separator: ",").suffix(2) })
    }

    func testMissingColumnIsAnErrorNamingIt() throws {
        let dir = try ToolRunner.temporaryDirectory(self)
        let path = try write("x1,y\n1,2\n", "missing.csv", in: dir)
        let run = try ToolRunner.run("nninfer", [seedModel, path])
        XCTAssertNotEqual(run.status, 0)
        XCTAssertEqual(run.stderr, "Error: \(path): no column named \"x2\"; the file has \"x1\", \"y\"\n")
        XCTAssertEqual(run.stdout, "")
    }

    func testTopKAndJSONLines() throws {
        let run = try ToolRunner.run("nninfer", [digitsModel, digitsTest, "--format", "jsonl", "--top-k", "3", "--keep", "label", "-q"])
        XCTAssertEqual(run.status, 0, run.stderr)
        let lines = run.stdout.split(separator: "\n")
        XCTAssertEqual(lines.count, 360)
        for line in lines {
            let object = try JSONSerialization.jsonObject(with: Data(line.utf8)) as! [String: Any]
            XCTAssertEqual(Set(object.keys), ["label", "prediction", "probability", "top1", "p1", "top2", "p2", "top3", "p3"])
            XCTAssertEqual(object["top1"] as? String, object["prediction"] as? String)
            let p = ["p1", "p2", "p3"].map { (object[$0] as! NSNumber).doubleValue }
            XCTAssertEqual(p[0], (object["probability"] as! NSNumber).doubleValue)
            XCTAssertTrue(p[0] >= p[1] && p[1] >= p[2], "\(line)")
        }
        let tooMany = try ToolRunner.run("nninfer", [digitsModel, digitsTest, "--top-k", "11"])
        XCTAssertEqual(tooMany.stderr, "Error: --top-k 11: \(digitsModel) has 10 classes; expected at most 10\n")
    }

    func testOutputIsIdenticalForAnyThreadCountAndBatchSize() throws {
        let dir = try ToolRunner.temporaryDirectory(self)
        var outputs: [Data] = []
        for (threads, batch) in [("1", "4096"), ("2", "4096"), ("2", "7"), ("1", "1")] {
            let out = dir.appendingPathComponent("p-\(threads)-\(batch).csv").path
            let run = try ToolRunner.run("nninfer", [digitsModel, digitsTest, "--probabilities", "--top-k", "2", "--threads", threads,
                                                     "--batch-size", batch, "--output", out, "-q"])
            XCTAssertEqual(run.status, 0, run.stderr)
            XCTAssertEqual(run.stdout, "")
            outputs.append(try Data(contentsOf: URL(fileURLWithPath: out)))
        }
        XCTAssertGreaterThan(outputs[0].count, 10_000)
        for output in outputs.dropFirst() { XCTAssertEqual(output, outputs[0]) }
    }

    // MARK: Evaluation

    func testMetricsEqualScikitLearn() throws {
        let dir = try ToolRunner.temporaryDirectory(self)
        let metricsPath = dir.appendingPathComponent("m.json").path
        let reportPath = dir.appendingPathComponent("r.html").path
        let run = try ToolRunner.run("nninfer", [digitsModel, digitsTest, "--metrics", metricsPath, "--report", reportPath])
        XCTAssertEqual(run.status, 0, run.stderr)
        let m = try readJSON(metricsPath)
        let sk = try readJSON(ToolRunner.fixture("expected/digits-small.sklearn.json"))
        XCTAssertEqual(m["confusion"] as! [[Int]], sk["confusion"] as! [[Int]])
        XCTAssertEqual(m["rows"] as! Int, 360)
        XCTAssertEqual(m["classes"] as! [String], sk["classes"] as! [String])
        XCTAssertEqual(m["accuracy"] as! Double, sk["accuracy"] as! Double, accuracy: 1e-12)
        XCTAssertEqual(m["log_loss"] as! Double, sk["log_loss"] as! Double, accuracy: 1e-5)
        let perClass = m["per_class"] as! [[String: Any]]
        for (c, entry) in perClass.enumerated() {
            for key in ["precision", "recall", "f1"] {
                XCTAssertEqual(entry[key] as! Double, (sk[key] as! [Double])[c], accuracy: 1e-12, "\(key) of class \(c)")
            }
            XCTAssertEqual(entry["support"] as! Int, (sk["support"] as! [Int])[c])
        }
        for average in ["macro_avg", "weighted_avg"] {
            let mine = m[average] as! [String: Any], theirs = sk[average] as! [String: Double]
            for key in ["precision", "recall", "f1"] { XCTAssertEqual(mine[key] as! Double, theirs[key]!, accuracy: 1e-12, "\(average) \(key)") }
        }
        // The report on standard error shows the same figures.
        XCTAssertTrue(run.stderr.contains("rows: 360   accuracy: \(String(format: "%.4f", sk["accuracy"] as! Double))"), run.stderr)
        XCTAssertTrue(run.stderr.contains("weighted avg"))
        let html = try String(contentsOfFile: reportPath, encoding: .utf8)
        XCTAssertTrue(html.contains("id=\"confusion\"") && html.contains("id=\"per-class\""))
        XCTAssertFalse(html.contains("<script"))
    }

    func testShardMetricsMergeToTheWholeFile() throws {
        let dir = try ToolRunner.temporaryDirectory(self)
        let lines = try String(contentsOfFile: digitsTest, encoding: .utf8).split(separator: "\n").map(String.init)
        let header = lines[0], rows = Array(lines.dropFirst())
        var shardMetrics: [String] = []
        for (index, range) in [0..<100, 100..<101, 101..<250, 250..<rows.count].enumerated() {
            let shard = try write(([header] + rows[range]).joined(separator: "\n") + "\n", "shard\(index).csv", in: dir)
            let metrics = dir.appendingPathComponent("shard\(index).json").path
            let run = try ToolRunner.run("nninfer", [digitsModel, shard, "--metrics", metrics, "-q"])
            XCTAssertEqual(run.status, 0, run.stderr)
            shardMetrics.append(metrics)
        }
        let whole = dir.appendingPathComponent("whole.json").path
        XCTAssertEqual(try ToolRunner.run("nninfer", [digitsModel, digitsTest, "--metrics", whole, "-q"]).status, 0)
        let merged = dir.appendingPathComponent("merged.json").path
        let run = try ToolRunner.run("nninfer", ["merge-metrics"] + shardMetrics + ["--metrics", merged])
        XCTAssertEqual(run.status, 0, run.stderr)
        XCTAssertTrue(run.stdout.contains("rows: 360"), run.stdout)
        let a = try readJSON(whole), b = try readJSON(merged)
        for key in ["rows", "correct", "confusion", "classes", "unseen_labels", "log_loss_rows", "per_class", "macro_avg", "weighted_avg", "accuracy"] {
            XCTAssertEqual(a[key] as? NSObject, b[key] as? NSObject, key)
        }
        XCTAssertEqual(a["log_loss_sum"] as! Double, b["log_loss_sum"] as! Double, accuracy: 1e-9)
    }

    func testUnseenLabelsAreCountedAsWrongAndListed() throws {
        let dir = try ToolRunner.temporaryDirectory(self)
        var lines = try String(contentsOfFile: digitsTest, encoding: .utf8).split(separator: "\n").map(String.init)
        for i in [3, 7] { lines[i] = lines[i].split(separator: ",").dropLast().joined(separator: ",") + ",ten" }
        let path = try write(lines.joined(separator: "\n") + "\n", "unseen.csv", in: dir)
        let metrics = dir.appendingPathComponent("m.json").path
        let run = try ToolRunner.run("nninfer", [digitsModel, path, "--metrics", metrics])
        XCTAssertEqual(run.status, 0, run.stderr)
        XCTAssertTrue(run.stderr.contains("labels not seen in training, counted as wrong: ten (2)"), run.stderr)
        let m = try readJSON(metrics)
        XCTAssertEqual(m["unseen_labels"] as! [String: Int], ["ten": 2])
        XCTAssertEqual(m["rows"] as! Int, 360)
        XCTAssertEqual((m["confusion"] as! [[Int]]).joined().reduce(0, +), 358)
    }

    func testBadRowsErrorOrSkipWithCount() throws {
        let dir = try ToolRunner.temporaryDirectory(self)
        let path = try write("x1,x2\n1,2\n0,abc\n3,-2\n4\n", "bad.csv", in: dir)
        let failing = try ToolRunner.run("nninfer", [seedModel, path])
        XCTAssertNotEqual(failing.status, 0)
        XCTAssertTrue(failing.stderr.hasPrefix("Error: \(path), line 3, column 2 (\"x2\"): not a number"), failing.stderr)
        let skipping = try ToolRunner.run("nninfer", [seedModel, path, "--skip-bad-rows"])
        XCTAssertEqual(skipping.status, 0, skipping.stderr)
        XCTAssertEqual(csvRows(skipping.stdout).count, 3)
        XCTAssertTrue(skipping.stderr.hasPrefix("skipped 2 bad rows; the first:\n"), skipping.stderr)
    }

    func testFailedRunLeavesNoOutputFileOrTemporaryFile() throws {
        let dir = try ToolRunner.temporaryDirectory(self)
        var text = try String(contentsOfFile: digitsTest, encoding: .utf8)
        text += "oops\n"   // line 362: after many batches have been written
        let path = try write(text, "late-error.csv", in: dir)
        let out = dir.appendingPathComponent("predictions.csv").path
        let run = try ToolRunner.run("nninfer", [digitsModel, path, "--output", out, "--batch-size", "16"])
        XCTAssertNotEqual(run.status, 0)
        XCTAssertTrue(run.stderr.hasPrefix("Error: \(path), line 362"), run.stderr)
        let left = try FileManager.default.contentsOfDirectory(atPath: dir.path).sorted()
        XCTAssertEqual(left, ["late-error.csv"])
    }

    func testMergeMetricsRejectsInvalidFiles() throws {
        let dir = try ToolRunner.temporaryDirectory(self)
        let bad = try write("{\"format\": \"nnkit-metrics\", \"version\": 1, \"task\": \"classification\", \"rows\": 3, \"classes\": [\"a\"], \"confusion\": [[\"x\"]], \"unseen_labels\": {}, \"log_loss_sum\": 0}", "bad.json", in: dir)
        let run = try ToolRunner.run("nninfer", ["merge-metrics", bad])
        XCTAssertNotEqual(run.status, 0)
        XCTAssertEqual(run.stderr, "Error: \(bad): key \"confusion[0][0]\" is the string \"x\"; expected a non-negative integer\n")
        let notJSON = try write("rows: 3", "text.json", in: dir)
        XCTAssertTrue(try ToolRunner.run("nninfer", ["merge-metrics", notJSON]).stderr.hasPrefix("Error: \(notJSON): not a JSON metrics file"))
    }

    func testMetricsWithoutLabelsIsAnError() throws {
        let dir = try ToolRunner.temporaryDirectory(self)
        let metrics = dir.appendingPathComponent("m.json").path
        let run = try ToolRunner.run("nninfer", [seedModel, seedInput, "--metrics", metrics])
        XCTAssertNotEqual(run.status, 0)
        XCTAssertEqual(run.stderr, "Error: --metrics: \(seedInput) has no label column \"y\"; expected labels to evaluate (name the column with --label)\n")
        XCTAssertEqual(run.stdout, "")
    }
}
