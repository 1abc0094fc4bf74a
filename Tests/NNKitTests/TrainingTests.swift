import XCTest
import NNData
import NNEngine
import NNJSON
@testable import NNKit

/// The training loop and its pieces, in process (the tool itself is tested in NNToolsTests).
final class TrainingLoopTests: XCTestCase {
    func testLayerSpecsChainWidthsAndAddTheOutputLayer() throws {
        var c = TrainingConfiguration()
        c.hidden = try Architecture.parse("8:relu,batchnorm,dropout:0.2,4:tanh")
        XCTAssertEqual(c.layerSpecs(inputs: 3, outputs: 5), [
            .dense(inputs: 3, outputs: 8), .activation(.relu), .batchNorm(features: 8, config: BatchNormConfig()),
            .dropout(rate: 0.2), .dense(inputs: 8, outputs: 4), .activation(.tanh),
            .dense(inputs: 4, outputs: 5), .activation(.softmax),
        ])
        c.task = .regression
        XCTAssertEqual(c.layerSpecs(inputs: 3, outputs: 1).last, .dense(inputs: 4, outputs: 1))
        XCTAssertEqual(c.resolvedInitialization(for: c.layerSpecs(inputs: 3, outputs: 1)), .he)
        c.hidden = try Architecture.parse("8:tanh")
        XCTAssertEqual(c.resolvedInitialization(for: c.layerSpecs(inputs: 3, outputs: 1)), .xavier)
    }

    func testScheduleMapping() {
        var c = TrainingConfiguration()
        c.learningRate = 0.1
        c.schedule = .cosine
        c.warmupSteps = 10
        let schedule = c.learningRateSchedule(stepsPerEpoch: 5, totalSteps: 110)
        XCTAssertEqual(schedule, .warmup(warmupSteps: 10, then: .cosine(tMax: 100, etaMin: 0)))
        XCTAssertEqual(schedule.learningRate(base: 0.1, step: 5), 0.05, accuracy: 1e-12)
        c.schedule = .step
        c.warmupSteps = 0
        XCTAssertEqual(c.learningRateSchedule(stepsPerEpoch: 5, totalSteps: 50), .step(decayRate: 0.5, decaySteps: 50))
    }

    func testModelFileErrorsNameTheJSONPath() throws {
        func message(_ json: String, task: TrainingTask = .classification) -> String {
            do {
                _ = try TrainingModelFile.parse(try JSONValue.parse(json), path: "m.json", inputs: 4, outputs: task == .regression ? 1 : 3, task: task)
                return "no error"
            } catch { return "\(error)" }
        }
        XCTAssertEqual(message(#"[{"kind": "dense", "inputs": 5, "outputs": 3}]"#),
                       "m.json: $[0].inputs: found 5; expected 4 (the width before this layer)")
        XCTAssertEqual(message(#"{"layers": [{"kind": "conv"}]}"#),
                       "m.json: $.layers[0].kind: found \"conv\"; expected one of \"dense\", \"activation\", \"batchnorm\", \"dropout\"")
        XCTAssertEqual(message(#"[{"kind": "dense", "outputs": 3}]"#),
                       "m.json: $[0]: found dense(4 → 3); expected an activation with function \"softmax\" (a classifier's last layer)")
        XCTAssertEqual(message(#"[{"kind": "dense", "outputs": 2}, {"kind": "activation", "function": "softmax"}]"#),
                       "m.json: $: found a last width of 2; expected 3 (the class count); end with a dense layer of 3 outputs")
        XCTAssertEqual(message(#"[{"kind": "dense", "outputs": "8"}]"#),
                       "m.json: $[0].outputs: found \"8\"; expected an integer from 1 to 1048576")
        XCTAssertEqual(message(#"[{"kind": "dense", "outputs": 3}]"#, task: .regression),
                       "m.json: $: found a last width of 3; expected 1 (the target count); end with a dense layer of 1 outputs")
        let specs = try TrainingModelFile.parse(try JSONValue.parse(#"[{"kind": "batchnorm", "momentum": 0.2, "momentum_convention": "keras"}, {"kind": "dense", "outputs": 3}, {"kind": "activation", "function": "softmax"}]"#),
                                                path: "m.json", inputs: 4, outputs: 3, task: .classification)
        XCTAssertEqual(specs.first, .batchNorm(features: 4, config: BatchNormConfig(momentum: 0.2, convention: .keras)))
    }

    private func blobs(_ samples: Int) throws -> TrainingData {
        var source = TrainingDataSource()
        source.syntheticName = "blobs"
        source.samples = samples
        source.validationSplit = 0.25
        return try TrainingData.load(source, task: .classification, seed: 1, pool: .serial)
    }

    private func makeTrainer(_ data: TrainingData, _ configure: (inout TrainingConfiguration) -> Void) throws -> Trainer {
        var c = TrainingConfiguration()
        c.hidden = try Architecture.parse("16:relu")
        c.epochs = 5
        configure(&c)
        let specs = c.layerSpecs(inputs: 2, outputs: data.train.classNames.count)
        let network = try Network<Float>(specs: specs)
        let model = Model(features: data.train.featureNames,
                          normalization: .fit(c.normalization, features: data.train.features, featureCount: 2),
                          output: .classification(label: "y", classes: data.train.classNames), network: network)
        return try Trainer(model: model, configuration: c, data: data,
                           optimizer: Optimizer(c.optimizerKind, parameters: network.parameters), initializeWeights: true)
    }

    func testTrainerLearnsRecordsHistoryAndStopsOnRequest() throws {
        let data = try blobs(300)
        XCTAssertEqual(data.validation?.count, 75)
        let trainer = try makeTrainer(data) { $0.learningRate = 0.02 }
        var seen: [Int] = []
        trainer.onEpoch = { seen.append($0.epoch) }
        XCTAssertEqual(try trainer.run(), .completed)
        XCTAssertEqual(seen, [1, 2, 3, 4, 5])
        XCTAssertEqual(trainer.history.count, 5)
        XCTAssertGreaterThan(trainer.history[4]["val_accuracy"]!, 0.9)
        XCTAssertLessThan(trainer.history[4]["loss"]!, trainer.history[0]["loss"]!)
        XCTAssertNil(trainer.history[0]["samples_per_s"], "no wall-clock figure in the provenance")

        let stopped = try makeTrainer(data) { _ in }
        var polls = 0
        stopped.shouldStop = { polls += 1; return polls >= 3 }
        XCTAssertEqual(try stopped.run(), .interrupted(epoch: 1, batch: 3, batches: 8))
        XCTAssertEqual(stopped.history.count, 0)
    }

    func testDivergenceIsReportedWithEpochAndBatch() throws {
        let data = try blobs(200)
        let trainer = try makeTrainer(data) {
            $0.learningRate = 1e30
            $0.optimizer = .sgd
            $0.initialization = .large
            $0.normalization = .none
        }
        XCTAssertThrowsError(try trainer.run()) { error in
            guard case let TrainingError.diverged(epoch, batch, _, _, _, initialization, _) = error else { return XCTFail("\(error)") }
            XCTAssertEqual(epoch, 1)
            XCTAssertGreaterThanOrEqual(batch, 1)
            XCTAssertEqual(initialization, "large")
            XCTAssertTrue("\(error)".contains("--init he"), "\(error)")
        }
    }

    func testEarlyStoppingRestoresTheBestWeights() throws {
        let data = try blobs(300)
        // A learning rate this high makes validation loss bounce, so patience 1 triggers.
        let trainer = try makeTrainer(data) { $0.learningRate = 0.5; $0.epochs = 40; $0.earlyStoppingPatience = 1 }
        let stop = try trainer.run()
        guard case let .earlyStopped(best) = stop else { return XCTFail("\(stop)") }
        XCTAssertEqual(best, trainer.bestEpoch)
        let restored = try trainer.evaluate(trainer.validation!, withMetrics: false)
        XCTAssertEqual(restored.loss, trainer.bestValidationLoss!, accuracy: 1e-9)
    }

    /// Ctrl-C mid-epoch then --resume: the resumed run skips the rows the first one trained and ends
    /// with the same weights as one uninterrupted run (dropout masks are seeded per batch).
    func testResumingAnInterruptedEpochContinuesExactly() throws {
        let data = try blobs(300)
        let layers = try Architecture.parse("16:relu,dropout:0.3,8:relu")
        let whole = try makeTrainer(data) { $0.epochs = 2; $0.batchSize = 20; $0.hidden = layers }
        XCTAssertEqual(try whole.run(), .completed)

        let first = try makeTrainer(data) { $0.epochs = 2; $0.batchSize = 20; $0.hidden = layers }
        var polls = 0
        first.shouldStop = { polls += 1; return polls == 4 }
        XCTAssertEqual(try first.run(), .interrupted(epoch: 1, batch: 4, batches: 12))
        XCTAssertEqual(first.interruptedRowsDone, 80)
        var c = first.configuration
        c.epochs = 2
        let resumed = try Trainer(model: first.model, configuration: c, data: data, optimizer: first.optimizer,
                                  initializeWeights: false, startEpoch: 0, resumePoint: ResumePoint(rowsDone: 80))
        XCTAssertEqual(try resumed.run(), .completed)
        XCTAssertEqual(resumed.history.compactMap { $0["epoch"] }, [1, 2])
        for ((name, a), (_, b)) in zip(whole.model.network.namedTensors, resumed.model.network.namedTensors) {
            XCTAssertEqual(a.values, b.values, name)
        }
    }

    /// Early stopping's state comes back from the stored history when the file holds the best epoch's
    /// weights; otherwise counting starts afresh.
    func testResumePointFromACheckpoint() throws {
        let data = try blobs(300)
        let trainer = try makeTrainer(data) { $0.learningRate = 0.5; $0.epochs = 40; $0.earlyStoppingPatience = 1 }
        guard case let .earlyStopped(best) = try trainer.run() else { return XCTFail("expected early stopping") }
        XCTAssertEqual(trainer.weightsEpoch, best)
        var options = TrainingRunOptions()
        options.configuration = trainer.configuration
        let checkpoint = try TrainingSession.makeCheckpoint(trainer: trainer, data: data, configuration: trainer.configuration,
                                                            options: options, stop: .earlyStopped(bestEpoch: best), finalMetrics: [:])
        XCTAssertEqual(checkpoint.metadata["nntrain.resume.weights_epoch"], String(best))
        let progress = TrainingProgress(quiet: true, terminal: false, totalEpochs: 0)
        let point = TrainingSession.resumePoint(of: checkpoint, path: "m.nnck", epochs: trainer.epochsCompleted, rows: 225,
                                                earlyStopping: true, progress: progress)
        XCTAssertEqual(point, ResumePoint(rowsDone: 0, bestEpoch: best, bestValidationLoss: trainer.bestValidationLoss,
                                          epochsWithoutImprovement: trainer.epochsCompleted - best, weightsAreBest: true))
        var elsewhere = checkpoint
        elsewhere.metadata["nntrain.resume.weights_epoch"] = String(trainer.epochsCompleted + 1)
        XCTAssertEqual(TrainingSession.resumePoint(of: elsewhere, path: "m.nnck", epochs: trainer.epochsCompleted, rows: 225,
                                                   earlyStopping: true, progress: progress), ResumePoint())
        var interrupted = checkpoint
        interrupted.metadata = ["nntrain.resume.rows_done": "60"]
        XCTAssertEqual(TrainingSession.resumePoint(of: interrupted, path: "m.nnck", epochs: 3, rows: 225,
                                                   earlyStopping: false, progress: progress), ResumePoint(rowsDone: 60))
        XCTAssertEqual(TrainingSession.resumePoint(of: interrupted, path: "m.nnck", epochs: 3, rows: 50,
                                                   earlyStopping: false, progress: progress), ResumePoint())
    }

    func testProgressLineAndLogFormats() {
        let record = EpochRecord(epoch: 3, loss: 0.41234, accuracy: 0.87123, validationLoss: 0.441, validationAccuracy: 0.86,
                                 learningRate: 0.001, gradientNorms: [], diagnostics: nil, seconds: 0.5, samplesPerSecond: 123456.4)
        XCTAssertEqual(TrainingProgress.epochLine(record, totalEpochs: 20),
                       "epoch 3/20 loss=0.4123 acc=0.8712 val_loss=0.4410 val_acc=0.8600 lr=0.001 samples_per_s=123456")
        XCTAssertEqual(TrainingLog.csv([record]),
                       "epoch,loss,accuracy,val_loss,val_accuracy,lr,seconds,samples_per_s\n3,0.41234,0.87123,0.441,0.86,0.001,0.5000,123456\n")
        XCTAssertEqual(TrainingSession.intermediatePath("out/m.nnck", epoch: 5), "out/m.epoch-0005.nnck")
        XCTAssertEqual(TrainingSession.intermediatePath("m", epoch: 12), "m.epoch-0012")
    }
}
