import XCTest
@testable import NNKit

/// Expected figures computed once with scikit-learn 1.9.1 (`confusion_matrix`,
/// `precision_recall_fscore_support(zero_division=0)`, `accuracy_score`) on these predictions.
final class ClassificationMetricsTests: XCTestCase {
    let trueClasses = [2, 2, 0, 2, 1, 1, 1, 0, 2, 0, 0, 1, 1, 1, 0, 0, 0, 0, 0, 2, 0, 1, 2, 0, 0, 1, 0, 2, 0, 2]
    let predicted = [1, 2, 0, 2, 1, 1, 1, 0, 2, 0, 2, 1, 2, 2, 0, 1, 0, 0, 0, 2, 0, 2, 2, 0, 0, 1, 0, 2, 0, 2]
    let probabilityOfTrue = [0.077315, 0.74559, 0.64505, 0.797224, 0.690295, 0.599486, 0.520653, 0.710949, 0.558254,
                             0.818739, 0.158252, 0.828547, 0.054498, 0.263177, 0.676191, 0.185489, 0.765122, 0.887244,
                             0.503256, 0.698522, 0.675918, 0.183889, 0.648281, 0.888947, 0.871717, 0.655679, 0.702525,
                             0.624833, 0.641461, 0.692132]

    func metrics(_ range: Range<Int>) -> ClassificationMetrics {
        var m = ClassificationMetrics(classes: ["a", "b", "c"])
        for i in range { m.add(trueClass: trueClasses[i], predictedClass: predicted[i], probabilityOfTrue: probabilityOfTrue[i]) }
        return m
    }

    func testFiguresEqualScikitLearn() {
        let m = metrics(0..<30)
        XCTAssertEqual(m.confusion, [[12, 1, 1], [0, 5, 3], [0, 1, 7]])
        XCTAssertEqual(m.rows, 30)
        XCTAssertEqual(m.accuracy, 0.8, accuracy: 1e-12)
        let p = [1.0, 0.7142857142857143, 0.6363636363636364]
        let r = [0.8571428571428571, 0.625, 0.875]
        let f = [0.9230769230769231, 0.6666666666666666, 0.7368421052631579]
        for c in 0..<3 {
            XCTAssertEqual(m.precision(c), p[c], accuracy: 1e-12)
            XCTAssertEqual(m.recall(c), r[c], accuracy: 1e-12)
            XCTAssertEqual(m.f1(c), f[c], accuracy: 1e-12)
        }
        XCTAssertEqual([m.support(0), m.support(1), m.support(2)], [14, 8, 8])
        XCTAssertEqual(m.macroAverage.precision, 0.7835497835497836, accuracy: 1e-12)
        XCTAssertEqual(m.macroAverage.recall, 0.7857142857142857, accuracy: 1e-12)
        XCTAssertEqual(m.macroAverage.f1, 0.7755285650022493, accuracy: 1e-12)
        XCTAssertEqual(m.weightedAverage.precision, 0.8268398268398268, accuracy: 1e-12)
        XCTAssertEqual(m.weightedAverage.recall, 0.8, accuracy: 1e-12)
        XCTAssertEqual(m.weightedAverage.f1, 0.805038236617184, accuracy: 1e-12)
        XCTAssertEqual(m.logLoss, 0.6931179209085359, accuracy: 1e-12)
    }

    func testShardsMergeExactly() throws {
        let whole = metrics(0..<30)
        let merged = try metrics(0..<7).merged(with: metrics(7..<19)).merged(with: metrics(19..<30))
        XCTAssertEqual(merged.confusion, whole.confusion)
        XCTAssertEqual(merged.accuracy, whole.accuracy)
        XCTAssertEqual(merged.logLoss, whole.logLoss, accuracy: 1e-15)
    }

    func testMergingDifferentModelsIsRefused() {
        let other = ClassificationMetrics(classes: ["a", "b"])
        XCTAssertThrowsError(try metrics(0..<3).merged(with: other)) { error in
            XCTAssertEqual("\(error)", "cannot merge metrics of different models: classes [\"a\", \"b\", \"c\"] and [\"a\", \"b\"] differ")
        }
    }

    func testUnseenLabelsCountAsWrongAndAreListed() {
        var m = metrics(0..<10)
        m.addUnseen(label: "zebra")
        m.addUnseen(label: "zebra")
        XCTAssertEqual(m.rows, 12)
        XCTAssertEqual(m.accuracy, Double(m.correct) / 12)
        XCTAssertTrue(MetricsReport.text(m).contains("labels not seen in training, counted as wrong: zebra (2)"))
    }

    func testClassificationReportLayout() {
        let text = MetricsReport.classificationReport(metrics(0..<30), digits: 2)
        let expected = """
                         precision    recall  f1-score   support

                       a      1.00      0.86      0.92        14
                       b      0.71      0.62      0.67         8
                       c      0.64      0.88      0.74         8

                accuracy                          0.80        30
               macro avg      0.78      0.79      0.78        30
            weighted avg      0.83      0.80      0.81        30

            """
        XCTAssertEqual(text, expected)
    }
}

final class ArchitectureTests: XCTestCase {
    func testParsesTheIssueExample() throws {
        XCTAssertEqual(try Architecture.parse("128:relu,batchnorm,dropout:0.2,64:relu"), [
            .dense(units: 128), .activation(.relu, slope: nil), .batchnorm(momentum: nil),
            .dropout(rate: 0.2), .dense(units: 64), .activation(.relu, slope: nil),
        ])
        XCTAssertEqual(try Architecture.parse(" 8 , 4:leaky_relu:0.2, tanh, bn:0.05"), [
            .dense(units: 8), .activation(.relu, slope: nil), .dense(units: 4), .activation(.leakyRelu, slope: 0.2),
            .activation(.tanh, slope: nil), .batchnorm(momentum: 0.05),
        ])
        XCTAssertEqual(try Architecture.parse("16:leaky_relu"), [.dense(units: 16), .activation(.leakyRelu, slope: 0.01)])
    }

    func testRejectsBadSpecsWithTheItemNamed() {
        let cases: [(String, String)] = [
            ("", "--layers: no layers given (expected e.g. 64:relu,32:relu)"),
            ("64,,32", "--layers: item 2 '': empty item (two commas in a row, or a trailing comma?)"),
            ("64:relu,", "--layers: item 2 '': empty item (two commas in a row, or a trailing comma?)"),
            ("0:relu", "--layers: item 1 '0:relu': layer width must be a whole number from 1 to 1048576"),
            ("99999999999999999999", "--layers: item 1 '99999999999999999999': layer width must be a whole number from 1 to 1048576"),
            ("64:swish", "--layers: item 1 '64:swish': unknown activation 'swish' (expected one of relu, leaky_relu, sigmoid, tanh, linear)"),
            ("64:softmax", "--layers: item 1 '64:softmax': softmax is the output layer's activation; it is added for classification"),
            ("dropout:1", "--layers: item 1 'dropout:1': dropout rate must be in [0, 1), got 1"),
            ("dropout", "--layers: item 1 'dropout': expected dropout:RATE, e.g. dropout:0.2"),
            ("32:relu:0.1", "--layers: item 1 '32:relu:0.1': only leaky_relu takes a slope"),
            ("batchnorm:2", "--layers: item 1 'batchnorm:2': batchnorm momentum must be a number in (0, 1)"),
            ("8:relu:1:2", "--layers: item 1 '8:relu:1:2': expected UNITS[:ACTIVATION[:SLOPE]]"),
        ]
        for (spec, message) in cases {
            XCTAssertThrowsError(try Architecture.parse(spec), spec) { XCTAssertEqual("\($0)", message) }
        }
    }
}
