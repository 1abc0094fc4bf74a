// Learning (XOR, the course text's 5.2/5.3 task), thread-count independence, optimizers and their state.
import XCTest
import NNEngine
import NNParallel

final class TrainingTests: XCTestCase {
    private func accuracy(_ network: Network<Float>, _ x: [Float], _ labels: [Int32]) throws -> Double {
        let p = try network.predict(x, rows: labels.count)
        let k = network.outputFeatures
        var correct = 0
        for r in 0..<labels.count {
            let row = Array(p[(r * k)..<(r * k + k)])
            if Int32(row.firstIndex(of: row.max()!)!) == labels[r] { correct += 1 }
        }
        return Double(correct) / Double(labels.count)
    }

    func testLearnsXOR() throws {
        let network = try Network<Float>(specs: [.dense(inputs: 2, outputs: 8), .activation(.tanh), .dense(inputs: 8, outputs: 2), .activation(.softmax)])
        var generator = RandomGenerator(seed: 5)
        network.initialize(.xavier, generator: &generator)
        let x: [Float] = [0, 0, 0, 1, 1, 0, 1, 1], labels: [Int32] = [0, 1, 1, 0]
        let optimizer = Optimizer(.adamDefaults, parameters: network.parameters)
        var loss = 0.0
        for _ in 0..<300 { loss = try network.train(inputs: x, rows: 4, labels: labels, optimizer: optimizer, learningRate: 0.05) }
        XCTAssertLessThan(loss, 0.05)
        XCTAssertEqual(try accuracy(network, x, labels), 1.0)
    }

    func testLearnsCourseTextSumTask() throws {
        // 5.2/5.3: x ~ N(0, 1)², class = x1 + x2 > 0; 1000 train, 200 test, mini-batch SGD 0.1, batch 32.
        var generator = RandomGenerator(seed: 42)
        func data(_ n: Int) -> ([Float], [Int32]) {
            let x = (0..<(2 * n)).map { _ in Float(generator.normal()) }
            return (x, (0..<n).map { x[2 * $0] + x[2 * $0 + 1] > 0 ? 1 : 0 })
        }
        let (trainX, trainY) = data(1000), (testX, testY) = data(200)
        let network = try Network<Float>(specs: [.dense(inputs: 2, outputs: 3), .activation(.relu), .dense(inputs: 3, outputs: 2), .activation(.softmax)],
                                         maxBatchSize: 32)
        // The text starts from its 3.1 weights.
        try network.tensor(named: "0.weight")!.setValues([0.1, 0.2, -0.1, 0.3, -0.2, 0.4])
        try network.tensor(named: "0.bias")!.setValues([0.1, 0.0, -0.1])
        try network.tensor(named: "2.weight")!.setValues([0.5, -0.3, 0.2, 0.4, -0.1, 0.2])
        try network.tensor(named: "2.bias")!.setValues([0.1, -0.1])
        let optimizer = Optimizer(.sgd, parameters: network.parameters)
        var shuffle = RandomGenerator(seed: 42, stream: 1)
        for _ in 0..<50 {
            let order = shuffle.permutation(1000)
            var start = 0
            while start < 1000 {
                let batch = order[start..<min(start + 32, 1000)]
                let x = batch.flatMap { [trainX[2 * $0], trainX[2 * $0 + 1]] }
                _ = try network.train(inputs: x, rows: batch.count, labels: batch.map { trainY[$0] }, optimizer: optimizer, learningRate: 0.1)
                start += 32
            }
        }
        XCTAssertGreaterThan(try accuracy(network, testX, testY), 0.98)
    }

    /// A W2-like network (batchnorm, dropout) trained a few steps with a given pool.
    private func trainedState(threads: Int) throws -> [[Float]] {
        let pool = WorkerPool(threads: threads)
        let network = try Network<Float>(specs: [.dense(inputs: 8, outputs: 16), .activation(.relu), .batchNorm(features: 16, config: BatchNormConfig()),
                                                 .dense(inputs: 16, outputs: 16), .activation(.relu), .dropout(rate: 0.2),
                                                 .dense(inputs: 16, outputs: 4), .activation(.softmax)],
                                         pool: pool, maxBatchSize: 24, dropoutSeed: 9)
        var generator = RandomGenerator(seed: 8)
        network.initialize(.he, generator: &generator)
        let optimizer = Optimizer(.adamWDefaults, weightDecay: 0.01, parameters: network.parameters)
        let x = (0..<(24 * 8)).map { _ in Float(generator.normal()) }
        let y = (0..<24).map { _ in Int32(generator.next(below: 4)) }
        for step in 0..<10 {
            let rows = step % 3 == 2 ? 17 : 24  // a partial batch too
            _ = try network.train(inputs: x, rows: rows, labels: y, optimizer: optimizer, learningRate: 1e-2)
        }
        return network.namedTensors.map { $0.tensor.values } + optimizer.exportSlots().map(\.values)
    }

    func testOneAndTwoThreadsAreBitIdentical() throws {
        let one = try trainedState(threads: 1), two = try trainedState(threads: 2)
        XCTAssertEqual(one.count, two.count)
        for (a, b) in zip(one, two) { XCTAssertEqual(a.map(\.bitPattern), b.map(\.bitPattern)) }
        // And training changed something (the comparison is not vacuous).
        let fresh = try Network<Float>(specs: [.dense(inputs: 8, outputs: 16)])
        XCTAssertNotEqual(one[0].count, 0)
        XCTAssertNotEqual(one[1], fresh.parameters[1].value.values)
    }

    func testOptimizerFormulas() throws {
        // One parameter tensor θ = [1, −2] (a dense weight, so weight decay applies), gradient g = [0.5, 0.25].
        func run(_ kind: OptimizerKind, decay: Double = 0, steps: Int = 2) throws -> [Double] {
            let network = try Network<Double>(specs: [.dense(inputs: 1, outputs: 2)])
            try network.parameters[0].value.setValues([1.0, -2.0])
            try network.parameters[0].gradient.setValues([0.5, 0.25])
            let optimizer = Optimizer(kind, weightDecay: decay, parameters: network.parameters)
            for _ in 0..<steps { optimizer.step(learningRate: 0.1) }
            XCTAssertEqual(network.parameters[1].value.values, [0, 0])  // zero bias gradient, no decay on biases
            return network.parameters[0].value.values
        }
        // sgd: θ − 2·0.1·g
        assertClose(try run(.sgd), [0.9, -2.05], accuracy: 1e-12)
        // momentum 0.9: v1 = g, v2 = 1.9g; θ − 0.1·2.9g
        assertClose(try run(.momentum(momentum: 0.9)), [1 - 0.145, -2 - 0.0725], accuracy: 1e-12)
        // nesterov 0.9: step1 g + 0.9g = 1.9g; step2 v2 = 1.9g, g + 0.9·1.9g = 2.71g; total 4.61g
        assertClose(try run(.nesterov(momentum: 0.9)), [1 - 0.1 * 4.61 * 0.5, -2 - 0.1 * 4.61 * 0.25], accuracy: 1e-12)
        // adam, one step: m̂ = g, v̂ = g², θ − lr·g/(|g| + ε) ≈ θ − 0.1·sign(g)
        assertClose(try run(.adamDefaults, steps: 1), [1 - 0.1 * 0.5 / (0.5 + 1e-8), -2 - 0.1 * 0.25 / (0.25 + 1e-8)], accuracy: 1e-12)
        // adam with L2 0.1: g' = g + 0.1θ = [0.6, 0.05]; still ≈ θ − 0.1·sign(g')
        assertClose(try run(.adamDefaults, decay: 0.1, steps: 1), [1 - 0.1 * 0.6 / (0.6 + 1e-8), -2 - 0.1 * 0.05 / (0.05 + 1e-8)], accuracy: 1e-12)
        // adamW 0.1: θ(1 − 0.01) then the plain adam step
        assertClose(try run(.adamWDefaults, decay: 0.1, steps: 1), [0.99 - 0.1 * 0.5 / (0.5 + 1e-8), -1.98 - 0.1 * 0.25 / (0.25 + 1e-8)], accuracy: 1e-12)
        // sgd with L2 0.1, one step: θ − 0.1(g + 0.1θ)
        assertClose(try run(.sgd, decay: 0.1, steps: 1), [1 - 0.1 * 0.6, -2 - 0.1 * 0.05], accuracy: 1e-12)
    }

    func testAdamTwoStepsMatchReference() throws {
        // Reference: the PyTorch formulas written out for two steps with a changing gradient.
        let network = try Network<Double>(specs: [.dense(inputs: 1, outputs: 1)])
        try network.parameters[0].value.setValues([0.3])
        let optimizer = Optimizer(.adam(beta1: 0.9, beta2: 0.999, epsilon: 1e-8), parameters: network.parameters)
        var theta = 0.3, m = 0.0, v = 0.0
        for (t, g) in [(1, 0.2), (2, -0.7)] {
            try network.parameters[0].gradient.setValues([g])
            optimizer.step(learningRate: 0.01)
            m = 0.9 * m + 0.1 * g
            v = 0.999 * v + 0.001 * g * g
            let mHat = m / (1 - Foundation.pow(0.9, Double(t))), vHat = v / (1 - Foundation.pow(0.999, Double(t)))
            theta -= 0.01 * mHat / (vHat.squareRoot() + 1e-8)
        }
        XCTAssertEqual(network.parameters[0].value.values[0], theta, accuracy: 1e-14)
    }

    /// The optimizer works a SIMD vector at a time; every lane, the partial last vector included,
    /// must give exactly the bits of the scalar formula (same operations in the same order).
    func testVectorizedAdamWMatchesScalarFormulaBitForBit() throws {
        let count = 19  // two full 8-lane vectors and a partial one
        let network = try Network<Float>(specs: [.dense(inputs: 1, outputs: count)])
        let weight = network.parameters[0]
        var generator = RandomGenerator(seed: 3)
        var theta = (0..<count).map { _ in Float(generator.normal()) }
        try weight.value.setValues(theta)
        let optimizer = Optimizer(.adamWDefaults, weightDecay: 0.01, parameters: network.parameters)
        var m = [Float](repeating: 0, count: count), v = m
        let lr: Float = 0.01, decay: Float = 0.01, b1: Float = 0.9, b2: Float = 0.999, eps: Float = 1e-8
        for t in 1...3 {
            let g = (0..<count).map { _ in Float(generator.normal()) }
            try weight.gradient.setValues(g)
            optimizer.step(learningRate: Double(lr))
            let stepSize = Float(Double(lr) / (1 - Foundation.pow(0.9, Double(t))))
            let inverseSqrtCorrection2 = Float(1 / (1 - Foundation.pow(0.999, Double(t))).squareRoot())
            for i in 0..<count {
                m[i] = b1 * m[i] + (1 - b1) * g[i]
                v[i] = b2 * v[i] + (1 - b2) * g[i] * g[i]
                let denominator = v[i].squareRoot() * inverseSqrtCorrection2 + eps
                theta[i] = theta[i] * (1 - lr * decay) - stepSize * m[i] / denominator
            }
            XCTAssertEqual(weight.value.values.map(\.bitPattern), theta.map(\.bitPattern), "step \(t)")
        }
    }

    func testOptimizerStateRoundTripsForResume() throws {
        func makeNetwork() throws -> Network<Float> {
            let network = try Network<Float>(specs: [.dense(inputs: 3, outputs: 4), .activation(.relu), .dense(inputs: 4, outputs: 2), .activation(.softmax)])
            var generator = RandomGenerator(seed: 1)
            network.initialize(.he, generator: &generator)
            return network
        }
        let x: [Float] = [1, 2, 3, -1, 0, 1], y: [Int32] = [0, 1]
        let a = try makeNetwork(), optimizerA = Optimizer(.adamDefaults, parameters: a.parameters)
        for _ in 0..<6 { _ = try a.train(inputs: x, rows: 2, labels: y, optimizer: optimizerA, learningRate: 0.01) }
        // Stop after 3 steps, save, restore into a fresh network + optimizer, continue.
        let b = try makeNetwork(), optimizerB = Optimizer(.adamDefaults, parameters: b.parameters)
        for _ in 0..<3 { _ = try b.train(inputs: x, rows: 2, labels: y, optimizer: optimizerB, learningRate: 0.01) }
        let savedTensors = b.namedTensors.map { ($0.name, $0.tensor.values) }
        let savedSlots = optimizerB.exportSlots()
        XCTAssertEqual(savedSlots.map(\.name), ["0.weight.m", "0.weight.v", "0.bias.m", "0.bias.v", "2.weight.m", "2.weight.v", "2.bias.m", "2.bias.v"])
        let c = try makeNetwork(), optimizerC = Optimizer(.adamDefaults, parameters: c.parameters)
        for (name, values) in savedTensors { try c.tensor(named: name)!.setValues(values) }
        try optimizerC.importSlots(savedSlots, stepCount: optimizerB.stepCount)
        for _ in 0..<3 { _ = try c.train(inputs: x, rows: 2, labels: y, optimizer: optimizerC, learningRate: 0.01) }
        for (p, q) in zip(a.parameters, c.parameters) { XCTAssertEqual(p.value.values, q.value.values, p.name) }
        // Missing or mis-sized state is a typed error naming the tensor.
        XCTAssertThrowsError(try optimizerC.importSlots(Array(savedSlots.dropLast()), stepCount: 3)) {
            XCTAssertEqual("\($0)", "optimizer state 2.bias.v: expected shape [2], found nothing")
        }
    }

    func testWeightInitializations() throws {
        let network = try Network<Double>(specs: [.dense(inputs: 200, outputs: 100), .activation(.relu), .dense(inputs: 100, outputs: 50)])
        for (initialization, expected) in [(WeightInitialization.small, 0.01), (.large, 1.0), (.xavier, (2.0 / 300).squareRoot()), (.he, (2.0 / 200).squareRoot())] {
            var generator = RandomGenerator(seed: 4)
            network.initialize(initialization, generator: &generator)
            let w = network.parameters[0].value.values
            let std = (w.reduce(0) { $0 + $1 * $1 } / Double(w.count)).squareRoot()
            XCTAssertEqual(std, expected, accuracy: expected * 0.03, "\(initialization)")
            XCTAssertEqual(network.parameters[1].value.values, [Double](repeating: 0, count: 100))
        }
        var generator = RandomGenerator(seed: 4)
        network.initialize(.zeros, generator: &generator)
        XCTAssertTrue(network.parameters[0].value.values.allSatisfy { $0 == 0 })
        // Same seed, same weights.
        var g1 = RandomGenerator(seed: 77), g2 = RandomGenerator(seed: 77)
        network.initialize(.he, generator: &g1)
        let first = network.parameters[2].value.values
        network.initialize(.he, generator: &g2)
        XCTAssertEqual(first, network.parameters[2].value.values)
    }

    func testDropoutIsInvertedTrainOnlyAndSeeded() throws {
        let specs: [LayerSpec] = [.dense(inputs: 4, outputs: 4), .dropout(rate: 0.25)]
        let network = try Network<Double>(specs: specs, dropoutSeed: 3)
        try network.parameters[0].value.setValues([1.0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1])
        let rows = 500
        let x = [Double](repeating: 1, count: rows * 4)
        XCTAssertEqual(try network.predict(x, rows: rows), x)  // identity at inference
        let layer = DropoutLayer<Double>(rate: 0.25, width: 4, generator: RandomGenerator(seed: 3, stream: 1001))
        layer.reserve(rows: rows)
        let y = Array(UnsafeBufferPointer(start: layer.forward(x, rows: rows, training: true), count: rows * 4))
        let kept = y.filter { $0 != 0 }
        XCTAssertTrue(kept.allSatisfy { abs($0 - 1 / 0.75) < 1e-15 })
        XCTAssertEqual(Double(kept.count) / Double(y.count), 0.75, accuracy: 0.03)
        XCTAssertEqual(y.reduce(0, +) / Double(y.count), 1, accuracy: 0.05)  // expectation preserved
        // The network's dropout at index 1 uses stream dropoutStreamBase + 1 of its seed: same mask.
        _ = try network.gradients(inputs: x, rows: rows, values: x, loss: .meanSquaredError)
        let again = DropoutLayer<Double>(rate: 0.25, width: 4, generator: RandomGenerator(seed: 3, stream: Network<Double>.dropoutStreamBase + 1))
        again.reserve(rows: rows)
        let z = Array(UnsafeBufferPointer(start: again.forward(x, rows: rows, training: true), count: rows * 4))
        XCTAssertEqual(y, z)
    }

    func testTypedErrors() throws {
        XCTAssertThrowsError(try Network<Float>(specs: [.dense(inputs: 2, outputs: 3), .dense(inputs: 4, outputs: 1)])) {
            XCTAssertEqual("\($0)", "layer 1 (dense): expects 4 input features but the previous layer produces 3")
        }
        XCTAssertThrowsError(try Network<Float>(specs: [.dense(inputs: 2, outputs: 3), .dropout(rate: 1.5)])) {
            XCTAssertEqual("\($0)", "layer 1 (dropout): rate = 1.5, expected a number in [0, 1)")
        }
        XCTAssertThrowsError(try Network<Float>(specs: [.activation(.relu)]))
        let network = try Network<Float>(specs: [.dense(inputs: 2, outputs: 3), .activation(.softmax)])
        XCTAssertThrowsError(try network.gradients(inputs: [1, 2, 3, 4], rows: 2, labels: [0, 3])) {
            XCTAssertEqual("\($0)", "labels: row 1 has class 3, expected 0..<3")
        }
        XCTAssertThrowsError(try network.predict([1, 2, 3], rows: 2)) {
            XCTAssertEqual("\($0)", "inputs: expected a multiple of 2 values (rows × features), found 3")
        }
        XCTAssertThrowsError(try network.tensor(named: "0.weight")!.setValues([1.0])) {
            XCTAssertEqual("\($0)", "tensor weight: shape [2, 3] needs 6 values, found 1")
        }
    }

    func testNamingOfParametersAndBuffers() throws {
        let network = try Network<Float>(specs: [.dense(inputs: 3, outputs: 4), .batchNorm(features: 4, config: BatchNormConfig()), .activation(.relu),
                                                 .dropout(rate: 0.1), .dense(inputs: 4, outputs: 2)])
        XCTAssertEqual(network.namedTensors.map(\.name),
                       ["0.weight", "0.bias", "1.gamma", "1.beta", "4.weight", "4.bias", "1.running_mean", "1.running_var"])
        XCTAssertEqual(network.namedTensors.map(\.tensor.shape), [[3, 4], [4], [4], [4], [4, 2], [2], [4], [4]])
        XCTAssertEqual(network.parameters.map(\.decays), [true, false, false, false, true, false])
        XCTAssertEqual(network.tensor(named: "1.gamma")!.values, [1, 1, 1, 1])
        XCTAssertEqual(network.tensor(named: "1.running_var")!.values, [1, 1, 1, 1])
        // A Double twin for gradient checks has the same values.
        try network.tensor(named: "0.weight")!.setValues((0..<12).map { Float($0) / 7 })
        let twin = try Network<Double>(converting: network)
        XCTAssertEqual(twin.tensor(named: "0.weight")!.values, (0..<12).map { Double(Float($0) / 7) })
    }
}

import Foundation
