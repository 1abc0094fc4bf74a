import XCTest
import NNData
import NNEngine
import NNFormat
@testable import NNKit

/// Writes fixtures/expected/digits-small.nnck, the model the nninfer end-to-end tests run: a small
/// digits classifier (64 → 16 relu → 10 softmax, standard normalization), trained briefly so that
/// its test-set predictions have mistakes worth a confusion matrix. Runs only with
/// NNKIT_REGENERATE_INFER_FIXTURES=1; afterwards run fixtures/expected/compute_expected.py.
final class InferenceFixtureGeneration: XCTestCase {
    func testRegenerateDigitsModel() throws {
        guard ProcessInfo.processInfo.environment["NNKIT_REGENERATE_INFER_FIXTURES"] == "1" else {
            throw XCTSkip("set NNKIT_REGENERATE_INFER_FIXTURES=1 to rewrite fixtures/expected/digits-small.nnck")
        }
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        let loaded = try loadCSV(path: root.appendingPathComponent("fixtures/data/digits_train.csv").path) {
            try ColumnPlan.training(header: $0, label: .name("label"))
        }
        let data = Dataset.classification(from: loaded.rows, featureNames: loaded.plan.featureNames)
        let normalization = Normalization.fit(.standard, features: data.features, featureCount: data.featureCount)
        var inputs = data.features
        normalization.apply(to: &inputs)
        let network = try Network<Float>(specs: [.dense(inputs: 64, outputs: 16), .activation(.relu),
                                                 .dense(inputs: 16, outputs: 10), .activation(.softmax)])
        var generator = RandomGenerator(seed: 31)
        network.initialize(.he, generator: &generator)
        let optimizer = Optimizer<Float>(.adamDefaults, parameters: network.parameters)
        let batch = 64
        // One short epoch: accuracy in the high 80s, so the confusion matrix has off-diagonal counts.
        for start in stride(from: 0, to: min(data.count, 640), by: batch) {
            let rows = min(batch, data.count - start)
            try inputs[(start * 64)..<((start + rows) * 64)].withUnsafeBufferPointer { x in
                try data.labels[start..<(start + rows)].withUnsafeBufferPointer { y in
                    _ = try network.trainStep(inputs: x, rows: rows, targets: .classes(y), loss: .softmaxCrossEntropy,
                                              optimizer: optimizer, learningRate: 0.01)
                }
            }
        }
        let model = Model(features: data.featureNames, normalization: normalization,
                          output: .classification(label: "label", classes: data.classNames), network: network)
        let checkpoint = try model.checkpoint(writer: WriterInfo(name: "nnkit-tests", version: NNKitVersion.string),
                                              verificationRows: Array(data.features[0..<(4 * 64)]))
        try CheckpointWriter.write(checkpoint, to: root.appendingPathComponent("fixtures/expected/digits-small.nnck").path)
    }
}

/// Writes the W2-architecture model of the I1 inference benchmark (random He weights, like the
/// peers' infer_peers.py) to $NNKIT_W2_MODEL: 32 → 256 relu → batchnorm → 256 relu → dropout 0.2 →
/// 4 softmax, features f0…f31, classes alpha, beta, delta, gamma. Runs only when the variable is set.
final class InferenceBenchmarkModel: XCTestCase {
    func testWriteW2Model() throws {
        guard let path = ProcessInfo.processInfo.environment["NNKIT_W2_MODEL"] else {
            throw XCTSkip("set NNKIT_W2_MODEL=/path/w2.nnck to write the I1 benchmark model")
        }
        let network = try Network<Float>(specs: [
            .dense(inputs: 32, outputs: 256), .activation(.relu), .batchNorm(features: 256, config: BatchNormConfig()),
            .dense(inputs: 256, outputs: 256), .activation(.relu), .dropout(rate: 0.2),
            .dense(inputs: 256, outputs: 4), .activation(.softmax)])
        var generator = RandomGenerator(seed: 7)
        network.initialize(.he, generator: &generator)
        try network.tensor(named: "2.running_var")!.setValues((0..<256).map { 1 + Float($0 % 7) / 7 })
        let features = (0..<32).map { "f\($0)" }
        let model = Model(features: features,
                          normalization: Normalization(kind: .standard, offset: Array(repeating: 0, count: 32), scale: Array(repeating: 1, count: 32)),
                          output: .classification(label: "label", classes: ["alpha", "beta", "delta", "gamma"]), network: network)
        try CheckpointWriter.write(try model.checkpoint(writer: WriterInfo(name: "nnkit-tests", version: NNKitVersion.string)), to: path)
    }
}
