// Course text 6.3: batch normalization outputs, its backward against the text's formula, running statistics.
import XCTest
import NNEngine

final class BatchNormTests: XCTestCase {
    private let rows = 6, features = 3

    private func sampleBatch() -> [Double] {
        var generator = RandomGenerator(seed: 11)
        return (0..<(rows * features)).map { _ in generator.normal(mean: 10, std: 5) }  // mean ~10, std ~5
    }

    func testTrainingOutputHasZeroMeanAndUnitStd() {
        let layer = BatchNormLayer<Float>(features: features)
        layer.reserve(rows: rows)
        let x = sampleBatch().map(Float.init)
        let y = Array(UnsafeBufferPointer(start: layer.forward(x, rows: rows, training: true, updateRunningStatistics: true), count: rows * features))
        for j in 0..<features {
            let column = (0..<rows).map { Double(y[$0 * features + j]) }
            let mean = column.reduce(0, +) / Double(rows)
            let std = (column.reduce(0) { $0 + ($1 - mean) * ($1 - mean) } / Double(rows)).squareRoot()
            XCTAssertEqual(mean, 0, accuracy: 1e-5)
            XCTAssertEqual(std, 1, accuracy: 1e-3)  // ε = 1e-5 against a variance of ~25
        }
    }

    func testBackwardEqualsCourseTextFormula() throws {
        let layer = BatchNormLayer<Double>(features: features)
        try layer.gamma.setValues([1.5, 0.5, -2.0])
        try layer.beta.setValues([0.1, -0.2, 0.3])
        layer.reserve(rows: rows)
        let x = sampleBatch()
        var generator = RandomGenerator(seed: 12)
        let dout = (0..<(rows * features)).map { _ in generator.normal() }
        _ = layer.forward(x, rows: rows, training: true, updateRunningStatistics: false)
        let dx = Array(UnsafeBufferPointer(start: layer.backward(input: x, outputGradient: dout, rows: rows), count: rows * features))

        // The text's BatchNorm.backward, transcribed literally per feature.
        let eps = 1e-5, gamma = [1.5, 0.5, -2.0], n = Double(rows)
        for j in 0..<features {
            let xs = (0..<rows).map { x[$0 * features + j] }, ds = (0..<rows).map { dout[$0 * features + j] }
            let mean = xs.reduce(0, +) / n
            let variance = xs.reduce(0) { $0 + ($1 - mean) * ($1 - mean) } / n
            let xNorm = xs.map { ($0 - mean) / (variance + eps).squareRoot() }
            let dgamma = zip(ds, xNorm).reduce(0) { $0 + $1.0 * $1.1 }
            let dbeta = ds.reduce(0, +)
            let dxNorm = ds.map { $0 * gamma[j] }
            let dvar = zip(dxNorm, xs).reduce(0) { $0 + $1.0 * ($1.1 - mean) * -0.5 * Foundation.pow(variance + eps, -1.5) }
            let dmean = dxNorm.reduce(0) { $0 + $1 * -1 / (variance + eps).squareRoot() }
                + dvar * xs.reduce(0) { $0 + -2 * ($1 - mean) } / n
            for r in 0..<rows {
                let expected = dxNorm[r] / (variance + eps).squareRoot() + dvar * 2 * (xs[r] - mean) / n + dmean / n
                XCTAssertEqual(dx[r * features + j], expected, accuracy: 1e-10)
            }
            XCTAssertEqual(layer.gammaGradient.values[j], dgamma, accuracy: 1e-10)
            XCTAssertEqual(layer.betaGradient.values[j], dbeta, accuracy: 1e-10)
        }
    }

    func testRunningStatisticsBothConventions() throws {
        let x = sampleBatch()
        let n = Double(rows)
        for config in [BatchNormConfig(), BatchNormConfig.courseText,
                       BatchNormConfig(momentum: 0.2, convention: .pytorch, runningVariance: .biased),
                       BatchNormConfig(momentum: 0.8, convention: .keras, runningVariance: .unbiased)] {
            let layer = BatchNormLayer<Double>(features: features, config: config)
            layer.reserve(rows: rows)
            try layer.runningMean.setValues([1.0, 2.0, 3.0])
            try layer.runningVariance.setValues([4.0, 5.0, 6.0])
            _ = layer.forward(x, rows: rows, training: true, updateRunningStatistics: true)
            for j in 0..<features {
                let xs = (0..<rows).map { x[$0 * features + j] }
                let mean = xs.reduce(0, +) / n
                let squares = xs.reduce(0) { $0 + ($1 - mean) * ($1 - mean) }
                let batchVariance = config.runningVariance == .unbiased ? squares / (n - 1) : squares / n
                let m = config.momentum
                let (keep, take) = config.convention == .pytorch ? (1 - m, m) : (m, 1 - m)
                XCTAssertEqual(layer.runningMean.values[j], keep * [1.0, 2, 3][j] + take * mean, accuracy: 1e-12)
                XCTAssertEqual(layer.runningVariance.values[j], keep * [4.0, 5, 6][j] + take * batchVariance, accuracy: 1e-12)
            }
        }
        // Course text 6.3 literally: running ← 0.9·running + 0.1·batch with np.var (biased).
        let text = BatchNormConfig.courseText
        XCTAssertEqual(text.momentum, 0.9)
        XCTAssertEqual(text.convention, .keras)
        XCTAssertEqual(text.runningVariance, .biased)
        let defaults = BatchNormConfig()
        XCTAssertEqual(defaults.momentum, 0.1)
        XCTAssertEqual(defaults.epsilon, 1e-5)
        XCTAssertEqual(defaults.convention, .pytorch)
        XCTAssertEqual(defaults.runningVariance, .unbiased)
    }

    func testInferenceUsesRunningStatistics() throws {
        let network = try Network<Double>(specs: [.batchNorm(features: 2, config: BatchNormConfig())])
        try network.tensor(named: "0.running_mean")!.setValues([1.0, -1.0])
        try network.tensor(named: "0.running_var")!.setValues([4.0, 0.25])
        try network.tensor(named: "0.gamma")!.setValues([2.0, 1.0])
        try network.tensor(named: "0.beta")!.setValues([0.5, 0.0])
        let y = try network.predict([3, 0], rows: 1)
        assertClose(y, [2 * (3 - 1) / (4 + 1e-5).squareRoot() + 0.5, (0 + 1) / (0.25 + 1e-5).squareRoot()], accuracy: 1e-12)
    }
}

import Foundation
