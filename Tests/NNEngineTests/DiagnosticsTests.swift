// Course text Part 6: diagnostics on a batch and the 6.1 / 6.2 experiments.
import XCTest
import NNEngine

final class DiagnosticsTests: XCTestCase {
    func testVanishingGradientsSigmoidVersusReLU() {
        let sigmoidNorms = vanishingGradientExperiment(activation: .sigmoid, seed: 1)
        XCTAssertEqual(sigmoidNorms.count, 11)
        XCTAssertEqual(sigmoidNorms.last!, 10.0.squareRoot(), accuracy: 1e-12)  // the ones at the output
        // Sigmoid: σ' ≤ 0.25 per layer with 0.5-scaled weights: the norm collapses by orders of magnitude.
        XCTAssertLessThan(sigmoidNorms[0], sigmoidNorms.last! * 1e-4)
        // The text's relu variant uses 0.01-scaled weights, which vanish too; with He-sized weights
        // (√(2/10) ≈ 0.45) relu keeps the gradient far larger than sigmoid does.
        let reluHe = vanishingGradientExperiment(activation: .relu, weightScale: 0.45, seed: 1)
        let sigmoidSame = vanishingGradientExperiment(activation: .sigmoid, weightScale: 0.45, seed: 1)
        XCTAssertGreaterThan(reluHe[0], sigmoidSame[0] * 100)
        XCTAssertEqual(vanishingGradientExperiment(activation: .relu, seed: 1).count, 11)
    }

    func testInitializationExperiment() {
        func stats(_ initialization: WeightInitialization) -> [(mean: Double, std: Double)] {
            initializationExperiment(initialization, layers: 5, neurons: 50, batch: 200, seed: 2)
        }
        XCTAssertTrue(stats(.zeros).allSatisfy { $0.mean == 0 && $0.std == 0 })       // symmetry: all zero
        XCTAssertLessThan(stats(.small).last!.std, 1e-4)                             // vanishing
        let large = stats(.large)
        XCTAssertGreaterThan(large.last!.std, 0.9)                                   // saturated tanh (±1)
        let xavier = stats(.xavier)
        XCTAssertGreaterThan(xavier.last!.std, 0.2)
        XCTAssertLessThan(xavier.last!.std, 0.8)                                     // alive, not saturated
        XCTAssertEqual(stats(.xavier).map(\.std), xavier.map(\.std))                 // seeded
    }

    func testLayerDiagnosticsOnABatch() throws {
        let network = try Network<Float>(specs: [.dense(inputs: 4, outputs: 6), .activation(.relu), .dense(inputs: 6, outputs: 3), .activation(.sigmoid),
                                                 .dense(inputs: 3, outputs: 3), .activation(.tanh), .dense(inputs: 3, outputs: 2), .activation(.softmax)])
        var generator = RandomGenerator(seed: 6)
        network.initialize(.large, generator: &generator)
        // Kill relu unit 0: a large negative bias makes it never positive.
        try network.tensor(named: "0.bias")!.setValues([-100, 0, 0, 0, 0, 0])
        let rows = 16
        let x = (0..<(rows * 4)).map { _ in Float(generator.normal()) }
        let y = (0..<rows).map { _ in Int32(generator.next(below: 2)) }
        let report = try x.withUnsafeBufferPointer { xp in
            try y.withUnsafeBufferPointer { try network.diagnose(inputs: xp, rows: rows, targets: .classes($0), loss: .softmaxCrossEntropy) }
        }
        XCTAssertEqual(report.count, 8)
        XCTAssertEqual(report[1].kind, "relu")
        XCTAssertGreaterThanOrEqual(report[1].deadUnitFraction!, 1.0 / 6)
        XCTAssertGreaterThanOrEqual(report[1].zeroFraction, 1.0 / 6)
        XCTAssertNotNil(report[3].saturatedFraction)
        XCTAssertNotNil(report[5].saturatedFraction)
        XCTAssertNil(report[0].saturatedFraction)
        XCTAssertEqual(report[0].gradientNorms.map(\.name), ["0.weight", "0.bias"])
        XCTAssertEqual(report[7].mean, 0.5, accuracy: 1e-6)  // softmax over 2: rows sum to 1
        XCTAssertGreaterThan(report[6].gradientNorms[0].norm, 0)
        // Unit 0 is dead, so its weight column gets no gradient: the first-layer weight gradient has zeros there.
        let dW = network.parameters[0].gradient.values
        XCTAssertTrue((0..<4).allSatisfy { dW[$0 * 6] == 0 })
    }
}
