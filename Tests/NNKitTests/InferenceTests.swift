import Glibc
import XCTest
import NNFormat
import NNJSON
@testable import NNKit

final class InferenceTests: XCTestCase {
    func snprintfG6(_ value: Double) -> String {
        var bytes: [UInt8] = []
        NumberText.appendWithSnprintf(value, to: &bytes)
        return String(decoding: bytes, as: UTF8.self)
    }

    func testFastG6EqualsSnprintf() {
        var generator = SystemRandomNumberGenerator()
        var values: [Double] = [0, -0.0, 1, 0.5, 1e-4, 9.99999e-5, 0.000123456, 999999, 999999.5, 1e6, 123456.5, 0.1, 0.3,
                                2.5, 0.0000999995, 1.0000005, 12345.65, 99999.95, -3.25, 1e-30, 3e38]
        for _ in 0..<200_000 {
            let exponent = Double.random(in: -6...7, using: &generator)
            values.append(Double(Float(pow(10, exponent) * (Bool.random(using: &generator) ? 1 : -1))))
        }
        // Ties and near-ties of the 6th digit.
        for digits in stride(from: 100_000, to: 1_000_000, by: 997) {
            for exponent in -9...0 { values.append((Double(digits) + 0.5) * pow(10, Double(exponent))) }
        }
        // Decade bounds (the exponent's first guess compares with them) and their neighbours, as
        // Doubles and as Floats widened.
        for exponent in -6...7 {
            let power = pow(10, Double(exponent))
            for bound in [power, Double(Float(power))] {
                var below = bound, above = bound
                for _ in 0..<4 {
                    values += [below, above, -below]
                    below = below.nextDown
                    above = above.nextUp
                }
                values += [Double(Float(bound).nextDown), Double(Float(bound).nextUp)]
            }
        }
        for value in values { XCTAssertEqual(NumberText.g6(value), snprintfG6(value), "\(value)") }
    }

    func testCSVEscaping() {
        XCTAssertEqual(csvEscaped("plain"), "plain")
        XCTAssertEqual(csvEscaped("a,b"), "\"a,b\"")
        XCTAssertEqual(csvEscaped("say \"hi\""), "\"say \"\"hi\"\"\"")
        XCTAssertEqual(csvEscaped("two\nlines"), "\"two\nlines\"")
        XCTAssertEqual(csvEscaped(" padded"), "\" padded\"")
    }

    func testColumnNames() {
        let layout = PredictionLayout(keepNames: ["id"], output: .classification(label: "y", classes: ["a", "b,c"]), probabilities: true, topK: 2)
        XCTAssertEqual(layout.columnNames, ["id", "prediction", "probability", "top1", "p1", "top2", "p2", "p_a", "p_b,c"])
        XCTAssertEqual(String(decoding: PredictionWriter(layout: layout).header, as: UTF8.self),
                       "id,prediction,probability,top1,p1,top2,p2,p_a,\"p_b,c\"\n")
        XCTAssertEqual(PredictionLayout(output: .regression(targets: ["t"])).columnNames, ["prediction"])
    }

    func testMetricsJSONRoundTripsAndMerges() throws {
        var a = ClassificationMetrics(classes: ["x", "y"])
        a.add(trueClass: 0, predictedClass: 1, probabilityOfTrue: 0.25)
        a.add(trueClass: 1, predictedClass: 1, probabilityOfTrue: 0.75)
        a.addUnseen(label: "z")
        let text = try MetricsFile.json(.classification(a), skippedRows: 0).serialized(pretty: true)
        let back = try MetricsFile.decode(try JSONValue.parse(text), source: "a.json")
        XCTAssertEqual(back, .classification(a))
        let merged = try EvaluationMetrics.merge([("a.json", back), ("b.json", back)])
        guard case .classification(let m) = merged else { return XCTFail() }
        XCTAssertEqual(m.confusion, [[0, 2], [0, 2]])
        XCTAssertEqual(m.unseenLabels, ["z": 2])
        XCTAssertEqual(m.rows, 6)
        var other = ClassificationMetrics(classes: ["x", "q"])
        other.add(trueClass: 0, predictedClass: 0, probabilityOfTrue: 1)
        XCTAssertThrowsError(try EvaluationMetrics.merge([("a.json", back), ("b.json", .classification(other))])) { error in
            XCTAssertEqual("\(error)", "b.json: cannot merge: its classes [\"x\", \"q\"] differ from a.json's [\"x\", \"y\"]")
        }
    }

    func testMetricsJSONValidation() throws {
        func decodeError(_ text: String) -> String {
            do { _ = try MetricsFile.decode(try JSONValue.parse(text), source: "m.json"); return "no error" } catch { return "\(error)" }
        }
        let head = "\"format\": \"nnkit-metrics\", \"version\": 1, \"task\": \"classification\""
        XCTAssertEqual(decodeError("{\"rows\": 1}"), "m.json: key \"format\" is missing; expected an nninfer metrics file (written by --metrics)")
        XCTAssertEqual(decodeError("{\(head), \"rows\": 2, \"classes\": [\"a\"], \"confusion\": [[1]], \"unseen_labels\": {}, \"log_loss_sum\": 0}"),
                       "m.json: key \"rows\": found 2; expected 1, the total of confusion and unseen_labels")
        XCTAssertEqual(decodeError("{\(head), \"rows\": 1, \"classes\": [\"a\", \"b\"], \"confusion\": [[1]], \"unseen_labels\": {}, \"log_loss_sum\": 0}"),
                       "m.json: key \"confusion\" is an array of 1; expected an array of 2 rows (one per class)")
        XCTAssertEqual(decodeError("{\(head), \"rows\": 1, \"classes\": [\"a\"], \"confusion\": [[1]], \"unseen_labels\": {}, \"log_loss_sum\": -1}"),
                       "m.json: key \"log_loss_sum\" is the integer -1; expected a non-negative number")
    }

    func testAtomicOutputFileAppearsOnlyOnCommit() throws {
        let directory = "/tmp/nnkit-atomic-\(getpid())"
        mkdir(directory, 0o755)
        defer { rmdir(directory) }
        let path = directory + "/out.csv"
        let file = try AtomicOutputFile(path: path)
        try file.write("hello\n")
        try file.flush()
        XCTAssertNotEqual(access(file.temporaryPath, F_OK), -1)
        XCTAssertEqual(access(path, F_OK), -1)
        file.discard()
        XCTAssertEqual(access(file.temporaryPath, F_OK), -1)
        XCTAssertEqual(access(path, F_OK), -1)
        let second = try AtomicOutputFile(path: path)
        try second.write("done\n")
        try second.commit()
        XCTAssertEqual(try readWholeFile(path: path, limit: 100), Array("done\n".utf8))
        XCTAssertEqual(access(second.temporaryPath, F_OK), -1)
        unlink(path)
    }

    /// nninfer's Ctrl-C message must survive files created after it is installed (with predictions
    /// on stdout, the first atomic file is the --metrics one, whose signal cleanup used to replace
    /// the message handler, so an interrupt there said nothing).
    func testInterruptMessageHandlerSurvivesLaterAtomicOutputFiles() throws {
        func currentHandler() -> UnsafeRawPointer? {
            var action = sigaction()
            sigaction(SIGINT, nil, &action)
            return action.__sigaction_handler.sa_handler.map { unsafeBitCast($0, to: UnsafeRawPointer.self) }
        }
        InferenceInterrupt.install(message: "Error: interrupted (InferenceTests)")
        let installed = currentHandler()
        XCTAssertNotNil(installed)
        let path = "/tmp/nnkit-interrupt-order-\(getpid()).json"
        let file = try AtomicOutputFile(path: path)
        XCTAssertEqual(currentHandler(), installed, "an AtomicOutputFile replaced the interrupt-message handler")
        file.discard()
        XCTAssertEqual(access(path, F_OK), -1)
    }
}
