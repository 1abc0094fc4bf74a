import XCTest
import NNEngine
import NNParallel
@testable import NNKit

/// The folded inference chain computes what the trained network computes in inference mode, the
/// same bits for any thread count and row count, and declines layer orders it cannot fold.
final class InferenceNetworkTests: XCTestCase {
    /// A network of `specs` with random weights and non-trivial batchnorm parameters and statistics.
    func makeNetwork(_ specs: [LayerSpec], seed: UInt64) throws -> Network<Float> {
        let network = try Network<Float>(specs: specs)
        var generator = RandomGenerator(seed: seed)
        network.initialize(.he, generator: &generator)
        for (name, tensor) in network.namedTensors {
            let suffix = name.split(separator: ".").last.map(String.init) ?? ""
            for i in 0..<tensor.count {
                switch suffix {
                case "bias", "beta", "running_mean": tensor.pointer[i] = Float(generator.normal(mean: 0, std: 0.3))
                case "gamma": tensor.pointer[i] = Float(generator.normal(mean: 1, std: 0.2))
                case "running_var": tensor.pointer[i] = 0.5 + generator.nextFloat()
                default: break
                }
            }
        }
        return network
    }

    func randomRows(_ rows: Int, _ width: Int, seed: UInt64) -> [Float] {
        var generator = RandomGenerator(seed: seed)
        return (0..<(rows * width)).map { _ in Float(generator.normal(mean: 0, std: 1.5)) }
    }

    func assertMatchesNetwork(_ specs: [LayerSpec], file: StaticString = #filePath, line: UInt = #line) throws {
        let network = try makeNetwork(specs, seed: 5)
        let rows = 700  // several chunks, the last one partial
        let x = randomRows(rows, network.inputFeatures, seed: 9)
        let want = try network.predict(x, rows: rows)
        var outputs: [[Float]] = []
        for threads in [1, 2, 3] {
            let pool = WorkerPool(threads: threads)
            let chain = try XCTUnwrap(InferenceNetwork(network: network, threads: threads), file: file, line: line)
            var got = [Float](repeating: .nan, count: rows * network.outputFeatures)
            x.withUnsafeBufferPointer { input in
                got.withUnsafeMutableBufferPointer { chain.predict(input.baseAddress!, rows: rows, into: $0.baseAddress!, pool: pool) }
            }
            outputs.append(got)
        }
        for (index, (g, w)) in zip(outputs[0], want).enumerated() {
            XCTAssertEqual(g, w, accuracy: 1e-5 + 1e-4 * abs(w), "output \(index)", file: file, line: line)
        }
        XCTAssertEqual(outputs[1], outputs[0], "2 threads differ from 1", file: file, line: line)
        XCTAssertEqual(outputs[2], outputs[0], "3 threads differ from 1", file: file, line: line)
        // Row by row (a batch of one) gives the same bits as the whole batch.
        let chain = try XCTUnwrap(InferenceNetwork(network: network, threads: 1), file: file, line: line)
        for row in [0, 257, rows - 1] {
            var one = [Float](repeating: .nan, count: network.outputFeatures)
            x.withUnsafeBufferPointer { input in
                one.withUnsafeMutableBufferPointer {
                    chain.predict(input.baseAddress! + row * network.inputFeatures, rows: 1, into: $0.baseAddress!, pool: .serial)
                }
            }
            XCTAssertEqual(one, Array(outputs[0][(row * network.outputFeatures)..<((row + 1) * network.outputFeatures)]), "row \(row) alone", file: file, line: line)
        }
    }

    func testBatchnormAfterActivationFoldsIntoTheNextDenseLayer() throws {
        // The W2 benchmark architecture, narrower (debug builds run this GEMM unspecialized).
        try assertMatchesNetwork([.dense(inputs: 32, outputs: 48), .activation(.relu), .batchNorm(features: 48, config: BatchNormConfig(epsilon: 1e-3)),
                                  .dense(inputs: 48, outputs: 48), .activation(.relu), .dropout(rate: 0.2),
                                  .dense(inputs: 48, outputs: 4), .activation(.softmax)])
    }

    func testBatchnormRightAfterDenseFoldsIntoIt() throws {
        try assertMatchesNetwork([.batchNorm(features: 6, config: BatchNormConfig()), .dense(inputs: 6, outputs: 40),
                                  .batchNorm(features: 40, config: BatchNormConfig()), .activation(.tanh),
                                  .dense(inputs: 40, outputs: 3), .activation(.leakyReLU(slope: 0.1))])
    }

    func testLayerOrdersThatCannotBeFoldedAreDeclined() throws {
        let activationFirst = try makeNetwork([.activation(.relu), .dense(inputs: 3, outputs: 2)], seed: 1)
        XCTAssertNil(InferenceNetwork(network: activationFirst, threads: 1))
        let batchnormLast = try makeNetwork([.dense(inputs: 3, outputs: 2), .activation(.relu), .batchNorm(features: 2, config: BatchNormConfig())], seed: 1)
        XCTAssertNil(InferenceNetwork(network: batchnormLast, threads: 1))
    }
}
