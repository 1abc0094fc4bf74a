// Engine-only training throughput for the peers' W1 and W2 workloads (random in-memory data).
// A benchmark, not a timed test: it only runs when NNENGINE_BENCH=1 and prints figures, e.g.
//   NNENGINE_BENCH=1 swift test -c release --scratch-path .build-engine --filter EngineBenchmark
// It lives in the test module, i.e. another module than NNEngine, so it measures what NNKit will get
// through the exported Float specializations.
import XCTest
import Glibc
import NNEngine
import NNParallel

final class EngineBenchmark: XCTestCase {
    private func seconds() -> Double {
        var t = timespec()
        clock_gettime(CLOCK_MONOTONIC, &t)
        return Double(t.tv_sec) + Double(t.tv_nsec) * 1e-9
    }

    private func measure(_ name: String, specs: [LayerSpec], samples: Int, batch: Int, classes: Int, threads: Int, minimumSeconds: Double) throws {
        let pool = WorkerPool(threads: threads)
        let network = try Network<Float>(specs: specs, pool: pool, maxBatchSize: batch, dropoutSeed: 1)
        var generator = RandomGenerator(seed: 1)
        network.initialize(.he, generator: &generator)
        let optimizer = Optimizer(.adamDefaults, parameters: network.parameters)
        let features = network.inputFeatures
        let x = (0..<(samples * features)).map { _ in Float(generator.normal()) }
        let y = (0..<samples).map { _ in Int32(generator.next(below: classes)) }
        var trained = 0
        var elapsed = 0.0
        try x.withUnsafeBufferPointer { xp in
            try y.withUnsafeBufferPointer { yp in
                func epoch() throws {
                    var start = 0
                    while start < samples {
                        let rows = min(batch, samples - start)
                        _ = try network.trainStep(inputs: UnsafeBufferPointer(rebasing: xp[(start * features)..<((start + rows) * features)]),
                                                  rows: rows, targets: .classes(UnsafeBufferPointer(rebasing: yp[start..<(start + rows)])),
                                                  loss: .softmaxCrossEntropy, optimizer: optimizer, learningRate: 1e-3)
                        start += rows
                    }
                }
                try epoch()  // warm-up
                let begin = seconds()
                while elapsed < minimumSeconds {
                    try epoch()
                    trained += samples
                    elapsed = seconds() - begin
                }
            }
        }
        print("BENCH \(name) threads=\(threads) samples/s=\(Int(Double(trained) / elapsed)) (\(trained) samples in \(String(format: "%.2f", elapsed)) s)")
    }

    func testTrainingThroughput() throws {
        guard getenv("NNENGINE_BENCH") != nil else { throw XCTSkip("set NNENGINE_BENCH=1 to run the engine benchmark") }
        for threads in [1, 2] {
            try measure("W1", specs: [.dense(inputs: 64, outputs: 128), .activation(.relu), .dense(inputs: 128, outputs: 64), .activation(.relu),
                                      .dense(inputs: 64, outputs: 10), .activation(.softmax)],
                        samples: 1437, batch: 32, classes: 10, threads: threads, minimumSeconds: 3)
            try measure("W2", specs: [.dense(inputs: 32, outputs: 256), .activation(.relu), .batchNorm(features: 256, config: BatchNormConfig()),
                                      .dense(inputs: 256, outputs: 256), .activation(.relu), .dropout(rate: 0.2),
                                      .dense(inputs: 256, outputs: 4), .activation(.softmax)],
                        samples: 20_000, batch: 256, classes: 4, threads: threads, minimumSeconds: 3)
        }
    }
}
