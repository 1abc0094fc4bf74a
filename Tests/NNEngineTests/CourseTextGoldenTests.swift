// Every worked number of the course text (neural-networks-module-6.md), Parts 1–5 and Challenge 2.
import XCTest
import NNEngine

final class CourseTextGoldenTests: XCTestCase {
    func testExercise1_1And1_2SingleNeuronAndSigmoid() throws {
        let network = try Network<Double>(specs: [.dense(inputs: 3, outputs: 1)])
        try network.tensor(named: "0.weight")!.setValues([0.5, -0.3, 0.8])
        try network.tensor(named: "0.bias")!.setValues([0.1])
        let z = try network.predict([2, 3, -1], rows: 1)
        assertClose(z, [-0.6], accuracy: 1e-12)
        XCTAssertEqual(sigmoid(-0.6), 0.3543, accuracy: 5e-5)
        let withSigmoid = try Network<Double>(specs: [.dense(inputs: 3, outputs: 1), .activation(.sigmoid)])
        try withSigmoid.tensor(named: "0.weight")!.setValues([0.5, -0.3, 0.8])
        try withSigmoid.tensor(named: "0.bias")!.setValues([0.1])
        assertClose(try withSigmoid.predict([2, 3, -1], rows: 1), [0.3543], accuracy: 5e-5)
    }

    func testExercise1_3ReLUNeuron() throws {
        let network = try Network<Float>(specs: [.dense(inputs: 2, outputs: 1), .activation(.relu)])
        try network.tensor(named: "0.weight")!.setValues([0.4, -0.6])
        try network.tensor(named: "0.bias")!.setValues([0.5])
        assertClose(try network.predict([1, 2, 3, 1], rows: 2), [0, 1.1], accuracy: 1e-6)
        let linear = try Network<Float>(specs: [.dense(inputs: 2, outputs: 1)])
        try linear.tensor(named: "0.weight")!.setValues([0.4, -0.6])
        try linear.tensor(named: "0.bias")!.setValues([0.5])
        assertClose(try linear.predict([1, 2], rows: 1), [-0.3], accuracy: 1e-6)
    }

    func testPart2DerivativeTables() {
        // 2.1: σ'(z) = σ(z)(1 − σ(z)); table at −2…2, maximum 0.25 at 0.
        assertClose([-2.0, -1, 0, 1, 2].map { sigmoid($0) }, [0.1192, 0.2689, 0.5, 0.7311, 0.8808], accuracy: 5e-5)
        assertClose([-2.0, -1, 0, 1, 2].map { sigmoidDerivative($0) }, [0.1050, 0.1966, 0.25, 0.1966, 0.1050], accuracy: 5e-5)
        // Stable for large |z|: no overflow, no NaN.
        XCTAssertEqual(sigmoid(Float(-1000)), 0)
        XCTAssertEqual(sigmoid(Float(1000)), 1)
        XCTAssertEqual(sigmoid(-800.0), 0)
        XCTAssertFalse(sigmoidDerivative(Float(-200)).isNaN)
        // 2.2: ReLU and ReLU' with ReLU'(0) = 0.
        assertClose([-2.0, -1, -0.1, 0, 0.1, 1, 2].map { relu($0) }, [0, 0, 0, 0, 0.1, 1, 2], accuracy: 0)
        assertClose([-2.0, -1, -0.1, 0, 0.1, 1, 2].map { reluDerivative($0) }, [0, 0, 0, 0, 1, 1, 1], accuracy: 0)
        XCTAssertEqual(leakyReLU(-2.0, slope: 0.01), -0.02, accuracy: 1e-15)
        XCTAssertEqual(leakyReLUDerivative(-2.0, slope: 0.01), 0.01)
        // 2.3: tanh and 1 − tanh², and tanh(z) = 2σ(2z) − 1.
        assertClose([-2.0, -1, 0, 1, 2].map { tanh($0) }, [-0.9640, -0.7616, 0, 0.7616, 0.9640], accuracy: 5e-5)
        assertClose([-2.0, -1, 0, 1, 2].map { tanhDerivative($0) }, [0.0707, 0.4200, 1, 0.4200, 0.0707], accuracy: 5e-5)
        for z in [-2.0, -1, 0, 1, 2] { XCTAssertEqual(tanh(z), 2 * sigmoid(2 * z) - 1, accuracy: 1e-12) }
    }

    func testExercise2_4SoftmaxAndJacobian() {
        assertClose(softmax([2.0, 1.0, 0.1]), [0.659, 0.242, 0.099], accuracy: 5e-4)
        XCTAssertEqual(softmax([2.0, 1.0, 0.1]).reduce(0, +), 1, accuracy: 1e-12)
        assertClose(logSoftmax([2.0, 1.0, 0.1]), softmax([2.0, 1.0, 0.1]).map { Foundation.log($0) }, accuracy: 1e-12)
        // Huge logits: the max is subtracted, so nothing overflows.
        assertClose(softmax([Float(1000), 999, 0]), [0.7311, 0.2689, 0], accuracy: 1e-4)
        XCTAssertEqual(logSoftmax([Float(1000), 0])[1], -1000, accuracy: 1e-3)
        // Jacobian for [1.0, 0.5, 0.0]: J = diag(s) − s sᵀ.
        let s = softmax([1.0, 0.5, 0.0])
        assertClose(s, [0.5065, 0.3072, 0.1863], accuracy: 5e-5)
        let jacobian = softmaxJacobian([1.0, 0.5, 0.0])
        let expected: [[Double]] = [[0.2500, -0.1556, -0.0944], [-0.1556, 0.2128, -0.0572], [-0.0944, -0.0572, 0.1516]]
        for i in 0..<3 { assertClose(jacobian[i], expected[i], accuracy: 5e-5, "row \(i)") }
        for i in 0..<3 { XCTAssertEqual(jacobian[i].reduce(0, +), 0, accuracy: 1e-15) }
    }

    func testExercise3_1TwoLayerForward() throws {
        let network = try courseNetwork(Float.self)
        assertClose(try network.predict([1, 2], rows: 1), [0.44, -0.22], accuracy: 1e-6)
        // The hidden activation a1 = [0.8, 0, 0.6]: the same network cut after the relu.
        let hidden = try Network<Float>(specs: [.dense(inputs: 2, outputs: 3), .activation(.relu)])
        try hidden.tensor(named: "0.weight")!.setValues([0.1, 0.2, -0.1, 0.3, -0.2, 0.4])
        try hidden.tensor(named: "0.bias")!.setValues([0.1, 0.0, -0.1])
        assertClose(try hidden.predict([1, 2], rows: 1), [0.8, 0, 0.6], accuracy: 1e-6)
    }

    func testExercise3_2BatchedForwardEqualsPerSample() throws {
        let network = try courseNetwork(Float.self)
        let batch: [Float] = [1, 2, 0, 1, -1, 1]
        let together = try network.predict(batch, rows: 3)
        var separate: [Float] = []
        for r in 0..<3 { separate += try network.predict(Array(batch[(2 * r)..<(2 * r + 2)]), rows: 1) }
        assertClose(together, separate.map(Double.init), accuracy: 1e-6)
        // Hand values: rows [0, 1] → z1 = [0.4, −0.2, 0.3], a1 = [0.4, 0, 0.3], z2 = [0.27, −0.16];
        // [−1, 1] → z1 = [0.3, −0.4, 0.4], a1 = [0.3, 0, 0.4], z2 = [0.21, −0.11].
        assertClose(together, [0.44, -0.22, 0.27, -0.16, 0.21, -0.11], accuracy: 1e-6)
    }

    func testExercise4_1CrossEntropyLossAndGradient() throws {
        // Identity dense layer + softmax: the logits are the inputs, chosen so softmax = [0.3, 0.7].
        let network = try Network<Double>(specs: [.dense(inputs: 2, outputs: 2), .activation(.softmax)])
        try network.tensor(named: "0.weight")!.setValues([1, 0, 0, 1])
        let logits = [Foundation.log(0.3), Foundation.log(0.7)]
        assertClose(try network.predict(logits, rows: 1), [0.3, 0.7], accuracy: 1e-12)
        let loss = try network.gradients(inputs: logits, rows: 1, labels: [1])
        XCTAssertEqual(loss, 0.357, accuracy: 5e-4)
        XCTAssertEqual(loss, -Foundation.log(0.7), accuracy: 1e-12)
        // ∂L/∂z = ŷ − y = [0.3, −0.3], which is the bias gradient of the layer producing z.
        assertClose(network.gradient("0.bias"), [0.3, -0.3], accuracy: 1e-12)
        // One-hot targets give the same loss and gradient.
        XCTAssertEqual(try network.gradients(inputs: logits, rows: 1, values: [0, 1], loss: .softmaxCrossEntropy), loss, accuracy: 1e-12)
        assertClose(network.gradient("0.bias"), [0.3, -0.3], accuracy: 1e-12)
    }

    func testExercise4_2BackpropThroughHiddenLayer() throws {
        // With MSE over one row of 2 outputs, ∂L/∂z2 = ŷ − y; targets z2 − [0.3, −0.3] make it [0.3, −0.3].
        let network = try courseNetwork(Double.self)
        _ = try network.gradients(inputs: [1, 2], rows: 1, values: [0.44 - 0.3, -0.22 + 0.3], loss: .meanSquaredError)
        assertClose(network.gradient("2.weight"), [0.24, -0.24, 0, 0, 0.18, -0.18], accuracy: 1e-12)
        assertClose(network.gradient("2.bias"), [0.3, -0.3], accuracy: 1e-12)
        // ∂L/∂z1 = ∂L/∂a1 ⊙ ReLU'(z1) = [0.24, −0.06, −0.09] ⊙ [1, 0, 1] = [0.24, 0, −0.09] = ∂L/∂b1,
        // and ∂L/∂W1 = xᵀ·∂L/∂z1.
        assertClose(network.gradient("0.bias"), [0.24, 0, -0.09], accuracy: 1e-12)
        assertClose(network.gradient("0.weight"), [0.24, 0, -0.09, 0.48, 0, -0.18], accuracy: 1e-12)
        // ∂L/∂a1 itself, through the layer's own backward: dz2·W2ᵀ.
        let dense = DenseLayer<Double>(inputs: 3, outputs: 2)
        try dense.weight.setValues([0.5, -0.3, 0.2, 0.4, -0.1, 0.2])
        dense.reserve(rows: 1)
        let a1: [Double] = [0.8, 0, 0.6], dz2: [Double] = [0.3, -0.3]
        let da1 = dense.backward(input: a1, outputGradient: dz2, rows: 1, needsInputGradient: true, pool: .serial)!
        assertClose(Array(UnsafeBufferPointer(start: da1, count: 3)), [0.24, -0.06, -0.09], accuracy: 1e-12)
    }

    func testExercise4_3CompleteBackpropAgainstHandComputation() throws {
        let network = try courseNetwork(Double.self, extra: [.activation(.softmax)])
        let loss = try network.gradients(inputs: [1, 2], rows: 1, labels: [0])
        // Reference, step by step as in the text (y = [1, 0]).
        let x = [1.0, 2.0], z1 = [0.8, -0.2, 0.6], a1 = [0.8, 0.0, 0.6]
        let w2 = [[0.5, -0.3], [0.2, 0.4], [-0.1, 0.2]]
        let p = softmax([0.44, -0.22]), y = [1.0, 0.0]
        let dz2 = [p[0] - y[0], p[1] - y[1]]
        let dW2 = a1.flatMap { a in dz2.map { a * $0 } }
        let da1 = w2.map { row in row[0] * dz2[0] + row[1] * dz2[1] }
        let dz1 = zip(da1, z1).map { $0 * reluDerivative($1) }
        let dW1 = x.flatMap { xi in dz1.map { xi * $0 } }
        XCTAssertEqual(loss, -Foundation.log(p[0]), accuracy: 1e-12)
        assertClose(try network.predict([1, 2], rows: 1), p, accuracy: 1e-12)
        assertClose(network.gradient("2.weight"), dW2, accuracy: 1e-12)
        assertClose(network.gradient("2.bias"), dz2, accuracy: 1e-12)
        assertClose(network.gradient("0.weight"), dW1, accuracy: 1e-12)
        assertClose(network.gradient("0.bias"), dz1, accuracy: 1e-12)
        XCTAssertEqual(p[0], 0.6593, accuracy: 5e-5)  // softmax([0.44, −0.22])
    }

    func testExercise5_1SGDUpdate() throws {
        let network = try Network<Float>(specs: [.dense(inputs: 2, outputs: 2)])
        try network.tensor(named: "0.weight")!.setValues([0.5, -0.3, 0.2, 0.4])
        try network.parameters[0].gradient.setValues([0.1, -0.05, 0.08, 0.12])
        let optimizer = Optimizer(.sgd, parameters: network.parameters)
        optimizer.step(learningRate: 0.1)
        assertClose(network.tensor(named: "0.weight")!.values, [0.49, -0.295, 0.192, 0.388], accuracy: 1e-7)
        XCTAssertEqual(optimizer.stepCount, 1)
    }

    func testChallenge2Schedules() {
        let lr = 0.1
        let step = LearningRateSchedule.step(decayRate: 0.5, decaySteps: 100)
        assertClose([0, 99, 100, 250].map { step.learningRate(base: lr, step: $0) }, [0.1, 0.1, 0.05, 0.025], accuracy: 1e-15)
        let exponential = LearningRateSchedule.exponential(decayRate: 0.995)
        assertClose([0, 1, 100].map { exponential.learningRate(base: lr, step: $0) },
                    [0.1, 0.0995, 0.1 * Foundation.pow(0.995, 100)], accuracy: 1e-15)
        XCTAssertEqual(exponential.learningRate(base: lr, step: 100), 0.0606, accuracy: 5e-5)
        let cosine = LearningRateSchedule.cosine(tMax: 300, etaMin: 0)
        assertClose([0, 150, 300, 450].map { cosine.learningRate(base: lr, step: $0) }, [0.1, 0.05, 0, 0], accuracy: 1e-15)
        let cosineFloor = LearningRateSchedule.cosine(tMax: 300, etaMin: 0.01)
        assertClose([0, 150, 300, 301].map { cosineFloor.learningRate(base: lr, step: $0) }, [0.1, 0.055, 0.01, 0.01], accuracy: 1e-15)
        // The text's warmup: linear for t < 50, then constant.
        let warmup = LearningRateSchedule.warmup(warmupSteps: 50, then: .constant)
        assertClose([0, 25, 49, 50, 299].map { warmup.learningRate(base: lr, step: $0) }, [0, 0.05, 0.098, 0.1, 0.1], accuracy: 1e-15)
        // Warmup then cosine, evaluated at t − 50.
        let warmCosine = LearningRateSchedule.warmup(warmupSteps: 50, then: .cosine(tMax: 300, etaMin: 0))
        assertClose([10, 50, 200, 350].map { warmCosine.learningRate(base: lr, step: $0) }, [0.02, 0.1, 0.05, 0], accuracy: 1e-15)
        XCTAssertEqual(LearningRateSchedule.constant.learningRate(base: lr, step: 1234), 0.1)
    }
}

import Foundation
