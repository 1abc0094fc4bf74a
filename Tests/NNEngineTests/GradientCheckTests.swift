// Course text 4.4: backpropagation agrees with central differences (Double, ε = 1e-5) to < 1e-6.
import XCTest
import NNEngine

final class GradientCheckTests: XCTestCase {
    private func check(_ specs: [LayerSpec], rows: Int = 5, loss: Loss, labels: [Int32]? = nil, values: [Double]? = nil,
                       seed: UInt64 = 1, file: StaticString = #filePath, line: UInt = #line) throws {
        let network = try Network<Double>(specs: specs, dropoutSeed: seed)
        var generator = RandomGenerator(seed: seed, stream: 7)
        network.initialize(.xavier, generator: &generator)
        // Non-zero biases and batchnorm γ/β so every term of the backward pass matters.
        for parameter in network.parameters where parameter.name.hasSuffix("bias") || parameter.name.hasSuffix("beta") {
            for i in 0..<parameter.value.count { parameter.value.pointer[i] = 0.1 * generator.normal() }
        }
        for parameter in network.parameters where parameter.name.hasSuffix("gamma") {
            for i in 0..<parameter.value.count { parameter.value.pointer[i] = 1 + 0.2 * generator.normal() }
        }
        let inputs = (0..<(rows * network.inputFeatures)).map { _ in generator.normal() }
        let results: [GradientCheckResult]
        if let labels {
            results = try labels.withUnsafeBufferPointer {
                try network.gradientCheck(inputs: inputs, rows: rows, targets: .classes($0), loss: loss)
            }
        } else {
            results = try values!.withUnsafeBufferPointer {
                try network.gradientCheck(inputs: inputs, rows: rows, targets: .values($0), loss: loss)
            }
        }
        XCTAssertEqual(results.count, network.parameters.count, file: file, line: line)
        for result in results {
            XCTAssertTrue(result.passes(), "\(specs): \(result)", file: file, line: line)
            XCTAssertTrue(result.analyticalNorm > 0 || result.numericalNorm < 1e-7, "\(result)", file: file, line: line)
        }
    }

    private let labels: [Int32] = [0, 2, 1, 2, 0]

    func testDenseWithEveryActivation() throws {
        for activation in [Activation.relu, .leakyReLU(slope: 0.1), .sigmoid, .tanh, .softmax, .linear] {
            try check([.dense(inputs: 3, outputs: 4), .activation(activation), .dense(inputs: 4, outputs: 3), .activation(.softmax)],
                      loss: .softmaxCrossEntropy, labels: labels)
        }
    }

    func testEachLoss() throws {
        // Cross-entropy fused with a final softmax, with class labels and with probability targets.
        try check([.dense(inputs: 3, outputs: 3), .activation(.softmax)], loss: .softmaxCrossEntropy, labels: labels)
        let soft: [Double] = [0.2, 0.3, 0.5, 1, 0, 0, 0, 1, 0, 0.1, 0.1, 0.8, 0.5, 0.5, 0]
        try check([.dense(inputs: 3, outputs: 3), .activation(.softmax)], loss: .softmaxCrossEntropy, values: soft)
        // Cross-entropy on raw logits (no final softmax layer).
        try check([.dense(inputs: 3, outputs: 3)], loss: .softmaxCrossEntropy, labels: labels)
        // Binary cross-entropy fused with a final sigmoid; labels and soft targets; and on logits.
        try check([.dense(inputs: 3, outputs: 4), .activation(.tanh), .dense(inputs: 4, outputs: 1), .activation(.sigmoid)],
                  loss: .binaryCrossEntropy, labels: [0, 1, 1, 0, 1])
        try check([.dense(inputs: 3, outputs: 1), .activation(.sigmoid)], loss: .binaryCrossEntropy, values: [0.1, 0.9, 0.5, 0, 1])
        try check([.dense(inputs: 3, outputs: 1)], loss: .binaryCrossEntropy, labels: [0, 1, 1, 0, 1])
        // MSE for regression, and MSE through a softmax (the unfused Jacobian path of 2.4).
        let targets: [Double] = [0.5, -1, 2, 0.1, 0.3, 0.7, -0.2, 1.5, 0, 0.9, 0.4, 0.2, -0.3, 0.8, 1.1]
        try check([.dense(inputs: 3, outputs: 4), .activation(.relu), .dense(inputs: 4, outputs: 3)], loss: .meanSquaredError, values: targets)
        try check([.dense(inputs: 3, outputs: 3), .activation(.softmax)], loss: .meanSquaredError, values: targets)
        try check([.dense(inputs: 3, outputs: 3), .activation(.sigmoid)], loss: .meanSquaredError, values: targets)
    }

    func testBatchNorm() throws {
        for config in [BatchNormConfig(), BatchNormConfig.courseText] {
            try check([.dense(inputs: 3, outputs: 4), .batchNorm(features: 4, config: config), .activation(.tanh),
                       .dense(inputs: 4, outputs: 3), .activation(.softmax)], loss: .softmaxCrossEntropy, labels: labels)
        }
        // Batchnorm as the first layer.
        try check([.batchNorm(features: 3, config: BatchNormConfig()), .dense(inputs: 3, outputs: 3)], loss: .softmaxCrossEntropy, labels: labels)
    }

    func testDropoutWithFrozenMask() throws {
        try check([.dense(inputs: 3, outputs: 6), .activation(.relu), .dropout(rate: 0.4), .dense(inputs: 6, outputs: 3),
                   .activation(.softmax)], loss: .softmaxCrossEntropy, labels: labels)
    }

    func testDeepMixedNetwork() throws {
        try check([.dense(inputs: 4, outputs: 6), .activation(.leakyReLU(slope: 0.05)), .batchNorm(features: 6, config: BatchNormConfig()),
                   .dense(inputs: 6, outputs: 5), .activation(.sigmoid), .dropout(rate: 0.2),
                   .dense(inputs: 5, outputs: 5), .activation(.tanh), .dense(inputs: 5, outputs: 4), .activation(.relu),
                   .dense(inputs: 4, outputs: 3), .activation(.softmax)],
                  rows: 6, loss: .softmaxCrossEntropy, labels: [0, 1, 2, 2, 1, 0])
    }

    func testCheckDetectsAWrongGradient() throws {
        // A loss whose gradient the check must not accept: perturb one analytical gradient via a
        // mismatched epsilon so large that curvature dominates.
        let network = try Network<Double>(specs: [.dense(inputs: 2, outputs: 3), .activation(.sigmoid), .dense(inputs: 3, outputs: 2)])
        var generator = RandomGenerator(seed: 3)
        network.initialize(.large, generator: &generator)
        let results = try [Int32(0), 1].withUnsafeBufferPointer {
            try network.gradientCheck(inputs: [3, -2, 1, 4], rows: 2, targets: .classes($0), loss: .softmaxCrossEntropy, epsilon: 1.5)
        }
        XCTAssertTrue(results.contains { !$0.passes() }, "a 1.5 step must show curvature error: \(results)")
    }
}
