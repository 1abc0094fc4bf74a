// The in-process workloads of the peers' README (G1, engine-only W1/W2, C1), shared by the timed-loop
// tool `nnbench` (JSON lines, interleaved with the peers by Benchmarks/run) and the package-benchmark
// suite (wall clock and allocation counts).

import Glibc
import NNKit
import NNEngine
import NNFormat
import NNData
import NNParallel

public func benchSeconds() -> Double {
    var t = timespec()
    clock_gettime(CLOCK_MONOTONIC, &t)
    return Double(t.tv_sec) + Double(t.tv_nsec) * 1e-9
}

// MARK: - G1: single-precision matrix product

/// The peers' G1 shapes (M, K, N): C[M,N] = A[M,K] · B[K,N].
public let gemmShapes: [(m: Int, k: Int, n: Int)] = [(32, 64, 128), (256, 32, 256), (256, 256, 256), (256, 784, 256), (1024, 1024, 1024)]

/// Operands of one G1 product, filled with a fixed pseudo-random sequence.
public final class GemmProblem {
    public let m: Int, k: Int, n: Int
    public let a: UnsafeMutablePointer<Float>  // [m, k]
    public let b: UnsafeMutablePointer<Float>  // [k, n]
    public let c: UnsafeMutablePointer<Float>  // [m, n]

    public init(m: Int, k: Int, n: Int) {
        self.m = m; self.k = k; self.n = n
        a = .allocate(capacity: m * k); b = .allocate(capacity: k * n); c = .allocate(capacity: m * n)
        var generator = RandomGenerator(seed: 0)
        WeightInitialization.large.fill(a, fanIn: m, fanOut: k, generator: &generator)
        WeightInitialization.large.fill(b, fanIn: k, fanOut: n, generator: &generator)
        c.initialize(repeating: 0, count: m * n)
    }

    deinit { a.deallocate(); b.deallocate(); c.deallocate() }

    public var flops: Double { 2 * Double(m) * Double(k) * Double(n) }

    @inline(never)
    public func run(pool: WorkerPool) {
        Gemm.sgemm(transA: false, transB: false, m: m, n: n, k: k, alpha: 1, a: a, lda: k, b: b, ldb: n,
                   beta: 0, c: c, ldc: n, pool: pool)
    }

    /// GFLOP/s as the peers measure it: `reps` products per timing (at least `flopBudget` flops),
    /// best of `rounds` timings.
    public func gflops(pool: WorkerPool, minimumRepeat: Int, flopBudget: Double, rounds: Int = 5) -> Double {
        let reps = max(minimumRepeat, Int(flopBudget / flops))
        run(pool: pool)
        var best = Double.infinity
        for _ in 0..<rounds {
            let start = benchSeconds()
            for _ in 0..<reps { run(pool: pool) }
            best = min(best, (benchSeconds() - start) / Double(reps))
        }
        return flops / best / 1e9
    }
}

// MARK: - W1 / W2: engine-only training

/// A training workload of the peers' README: hidden layers (width, batchnorm after, dropout after),
/// ReLU everywhere, softmax output, Adam.
public struct TrainingWorkload {
    public var name: String
    public var hidden: [(width: Int, batchNorm: Bool, dropout: Double)]
    public var batchSize: Int
    public var epochs: Int
    public var learningRate: Double

    public static let w1 = TrainingWorkload(name: "w1", hidden: [(128, false, 0), (64, false, 0)], batchSize: 32, epochs: 50, learningRate: 1e-3)
    public static let w2 = TrainingWorkload(name: "w2", hidden: [(256, true, 0), (256, false, 0.2)], batchSize: 256, epochs: 3, learningRate: 1e-3)

    /// The engine layers, in the peers' order: dense, relu, [batchnorm], [dropout]; dense, softmax.
    public func specs(inputs: Int, classes: Int) -> [NNEngine.LayerSpec] {
        var specs: [NNEngine.LayerSpec] = []
        var width = inputs
        for layer in hidden {
            specs += [.dense(inputs: width, outputs: layer.width), .activation(.relu)]
            if layer.batchNorm { specs.append(.batchNorm(features: layer.width, config: BatchNormConfig())) }
            if layer.dropout > 0 { specs.append(.dropout(rate: layer.dropout)) }
            width = layer.width
        }
        return specs + [.dense(inputs: width, outputs: classes), .activation(.softmax)]
    }
}

/// Training and test data in memory, standardized with the training statistics (as the peers do).
public struct InMemoryData {
    public var train: Dataset
    public var test: Dataset
    public var testLabels: [Int32]

    public init(trainPath: String, testPath: String, pool: WorkerPool) throws {
        let trainCSV = try loadCSV(path: trainPath, pool: pool, computeSHA256: false) { try ColumnPlan.training(header: $0) }
        let testCSV = try loadCSV(path: testPath, pool: pool, computeSHA256: false) { try ColumnPlan.training(header: $0) }
        let names = trainCSV.plan.featureNames
        train = Dataset.classification(from: trainCSV.rows, featureNames: names)
        test = Dataset.classification(from: testCSV.rows, featureNames: names)
        let normalization = Normalization.fit(.standard, features: train.features, featureCount: names.count)
        normalization.apply(to: &train.features)
        normalization.apply(to: &test.features)
        let testClassNames = test.classNames
        testLabels = train.classIndices(of: test.labels.map { testClassNames[Int($0)] }).map { $0 ?? -1 }
    }

    /// `rows` rows: the first ones, repeated if needed (used by --quick to subsample).
    public mutating func keepFirst(_ rows: Int) {
        guard rows < train.count else { return }
        train = train.subset(Array(0..<rows))
    }
}

/// One engine-only training run: the network, its optimizer and a shuffled batch loop that allocates
/// nothing after the first step (batch buffers are preallocated).
public final class EngineTrainer {
    public let workload: TrainingWorkload
    public let network: Network<Float>
    public let optimizer: Optimizer<Float>
    let data: Dataset
    let batchFeatures: UnsafeMutablePointer<Float>  // [batch, features]
    let batchLabels: UnsafeMutablePointer<Int32>     // [batch]
    var order: [Int]
    var generator: RandomGenerator

    public init(workload: TrainingWorkload, data: Dataset, pool: WorkerPool, seed: UInt64 = 0) throws {
        self.workload = workload
        self.data = data
        network = try Network<Float>(specs: workload.specs(inputs: data.featureCount, classes: data.classNames.count),
                                     pool: pool, maxBatchSize: workload.batchSize, dropoutSeed: seed)
        generator = RandomGenerator(seed: seed)
        network.initialize(.he, generator: &generator)
        optimizer = Optimizer(.adamDefaults, parameters: network.parameters)
        batchFeatures = .allocate(capacity: workload.batchSize * data.featureCount)
        batchLabels = .allocate(capacity: workload.batchSize)
        order = Array(0..<data.count)
    }

    deinit { batchFeatures.deallocate(); batchLabels.deallocate() }

    /// Gathers rows `order[start..<start+rows]` into the batch buffers and takes one Adam step.
    @inline(never)
    public func step(start: Int, rows: Int) throws {
        let width = data.featureCount
        data.features.withUnsafeBufferPointer { features in
            order.withUnsafeBufferPointer { order in
                let batchOrder = UnsafeBufferPointer(rebasing: order[start..<start + rows])
                gatherRows(features.baseAddress!, width: width, indices: batchOrder, into: batchFeatures)
                for (r, source) in batchOrder.enumerated() { batchLabels[r] = data.labels[source] }
            }
        }
        _ = try network.trainStep(inputs: UnsafeBufferPointer(start: batchFeatures, count: rows * width), rows: rows,
                                  targets: .classes(UnsafeBufferPointer(start: batchLabels, count: rows)),
                                  loss: .softmaxCrossEntropy, optimizer: optimizer, learningRate: workload.learningRate)
    }

    /// One epoch over a fresh shuffle by the seeded generator.
    public func epoch() throws {
        generator.shuffle(&order)
        var start = 0
        while start < order.count {
            let rows = min(workload.batchSize, order.count - start)
            try step(start: start, rows: rows)
            start += rows
        }
    }

    /// Fraction of test rows whose arg-max class is the true one.
    public func accuracy(on test: Dataset, labels: [Int32]) throws -> Double {
        let outputs = try network.predict(test.features, rows: test.count)
        let classes = network.outputFeatures
        var correct = 0
        for row in 0..<test.count {
            var best = 0
            for c in 1..<classes where outputs[row * classes + c] > outputs[row * classes + best] { best = c }
            if Int32(best) == labels[row] { correct += 1 }
        }
        return Double(correct) / Double(max(test.count, 1))
    }
}

// MARK: - C1: checkpoint save / load

/// The C1 network 784-2048-2048-10 as an nnkit model: He-normal weights, biases 0.01-normal, and with
/// `trainedLike` every value rounded to bfloat16 precision (low 16 bits cleared), as the peers do.
public func makeC1Model(trainedLike: Bool) throws -> Model {
    let network = try Network<Float>(specs: [.dense(inputs: 784, outputs: 2048), .activation(.relu),
                                             .dense(inputs: 2048, outputs: 2048), .activation(.relu),
                                             .dense(inputs: 2048, outputs: 10), .activation(.softmax)])
    var generator = RandomGenerator(seed: 0)
    network.initialize(.he, generator: &generator)
    for parameter in network.parameters {
        let tensor = parameter.value
        if tensor.shape.count == 1 {
            WeightInitialization.small.fill(tensor.pointer, fanIn: 1, fanOut: tensor.count, generator: &generator)
        }
        if trainedLike {
            for i in 0..<tensor.count {
                tensor.pointer[i] = Float(bitPattern: tensor.pointer[i].bitPattern & 0xFFFF_0000)
            }
        }
    }
    return Model(features: (0..<784).map { "px\($0)" },
                 normalization: Normalization(kind: .none, offset: Array(repeating: 0, count: 784), scale: Array(repeating: 1, count: 784)),
                 output: .classification(label: "label", classes: (0..<10).map { "d\($0)" }), network: network)
}

/// Float32 parameter bytes of a model (what the peers call raw_bytes).
public func parameterBytes(_ model: Model) -> Int {
    model.network.parameters.reduce(0) { $0 + $1.value.count * 4 }
}
