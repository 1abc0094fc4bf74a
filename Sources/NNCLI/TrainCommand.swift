import ArgumentParser
import NNData
import NNEngine
import NNKit

extension TrainingTask: ExpressibleByArgument {}
extension OptimizerName: ExpressibleByArgument {}
extension ScheduleName: ExpressibleByArgument {}
extension WeightInitialization: ExpressibleByArgument {}
extension NNData.NormalizationKind: ExpressibleByArgument {}

/// `nntrain`: trains a multilayer perceptron from CSV (or a built-in data set) into a .nnck checkpoint.
/// All logic is in NNKit's `TrainingSession`; this maps options to a `TrainingRunOptions`.
public struct TrainCommand: ParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "nntrain",
        abstract: "Train a multilayer perceptron from CSV data into a .nnck checkpoint.",
        discussion: """
        Example:
          nntrain --data train.csv --label class --layers 64:relu,32:relu \\
                  --optimizer adam --lr 0.001 --batch-size 32 --epochs 200 \\
                  --seed 0 --output model.nnck

        --layers grammar (comma-separated; the output layer follows from the
        task: dense to the classes + softmax, or dense to 1 target, linear):
          UNITS[:ACTIVATION[:SLOPE]]  dense layer, then its activation (relu)
          ACTIVATION[:SLOPE]          relu, leaky_relu, sigmoid, tanh, linear
          batchnorm[:MOMENTUM]        batch normalization (momentum 0.1)
          dropout:RATE                inverted dropout, RATE in [0, 1)

        Progress: on a terminal a live line per epoch; otherwise one line per
        epoch, fields in this order (absent ones left out):
          epoch 3/20 loss=0.4123 acc=0.8712 val_loss=0.4410 val_acc=0.8600
          lr=0.001 samples_per_s=123456        (on one line)
        loss: mean batch loss of the epoch; acc: accuracy after the epoch on a
        fixed sample of 5% of the training rows (256 to 2,048); val_*: on the
        validation rows.

        Same data, flags and --seed give a byte-identical checkpoint, whatever
        --threads is. Ctrl-C once: finish the batch, save what was learned,
        exit 130. Twice: stop at once, output untouched. A NaN or infinite
        loss stops with an error and writes no checkpoint.
        """,
        version: NNKitVersion.string)

    // MARK: Data
    @Option(help: ArgumentHelp("Training data: a CSV file ('-' for standard input).", valueName: "file.csv"))
    var data: String?

    @Option(help: ArgumentHelp("A built-in data set instead of --data: \(SyntheticDataset.names.joined(separator: ", ")).", valueName: "name"))
    var dataset: String?

    @Option(help: ArgumentHelp("Rows to generate for --dataset.", valueName: "n"))
    var samples: Int = 1000

    @Option(help: ArgumentHelp("Noise of --dataset (its own default when left out).", valueName: "x"))
    var noise: Double?

    @Option(name: .customLong("dataset-classes"), help: ArgumentHelp("Classes of --dataset spirals (2 or 3) or blobs (default 3).", valueName: "n"))
    var datasetClasses: Int?

    @Option(help: ArgumentHelp("Label column, by name or 0-based index (default: the last column).", valueName: "column"))
    var label: String?

    @Option(help: ArgumentHelp("Feature columns: a comma-separated list to use, or to exclude when every item starts with '-' (e.g. -id,-date). Default: all but the label.", valueName: "list"))
    var features: String?

    @Option(help: ArgumentHelp("Validation data: a CSV file with the same columns.", valueName: "file.csv"))
    var validation: String?

    @Option(help: ArgumentHelp("Hold out this fraction of the training rows for validation (stratified for classification, shuffled, seeded).", valueName: "fraction"))
    var validationSplit: Double?

    @Option(help: "Task: classification (softmax over the classes, cross-entropy) or regression (linear output, MSE).")
    var task: TrainingTask = .classification

    @Option(help: "Input normalization fitted on the training rows and stored in the model: standard, minmax or none.")
    var normalize: NNData.NormalizationKind = .standard

    // MARK: Model
    @Option(help: ArgumentHelp("Hidden layers (grammar above). Default: 64:relu.", valueName: "spec"))
    var layers: String?

    @Option(help: ArgumentHelp("The whole layer list as JSON, in the checkpoint manifest's 'layers' form without tensor names (instead of --layers).", valueName: "file.json"))
    var model: String?

    @Option(help: ArgumentHelp("Weight initialization: zeros, small, large, xavier, he (default: he for relu/leaky_relu networks, xavier otherwise).", valueName: "name"))
    var `init`: WeightInitialization?

    // MARK: Optimization
    @Option(help: "Optimizer: sgd, momentum, nesterov, adam, adamw.")
    var optimizer: OptimizerName = .adam

    @Option(help: ArgumentHelp("Learning rate.", valueName: "rate"))
    var lr: Double = 0.001

    @Option(help: ArgumentHelp("Momentum of the momentum and nesterov optimizers.", valueName: "mu"))
    var momentum: Double = 0.9

    @Option(help: ArgumentHelp("Adam/AdamW beta1.", valueName: "b"))
    var beta1: Double = 0.9

    @Option(help: ArgumentHelp("Adam/AdamW beta2.", valueName: "b"))
    var beta2: Double = 0.999

    @Option(help: ArgumentHelp("Weight decay on dense weights (L2 for sgd/momentum/nesterov/adam, decoupled for adamw).", valueName: "lambda"))
    var weightDecay: Double = 0

    @Option(help: "Learning-rate schedule: constant, step, exponential, cosine.")
    var schedule: ScheduleName = .constant

    @Option(help: ArgumentHelp("step/exponential: the decay factor.", valueName: "factor"))
    var decayRate: Double = 0.5

    @Option(help: ArgumentHelp("step: optimizer steps between decays (default: 10 epochs' worth).", valueName: "steps"))
    var decaySteps: Int?

    @Option(help: ArgumentHelp("cosine: steps from lr down to --min-lr (default: the whole run).", valueName: "steps"))
    var cosineSteps: Int?

    @Option(help: ArgumentHelp("cosine: the final learning rate.", valueName: "rate"))
    var minLr: Double = 0

    @Option(help: ArgumentHelp("Linear warm-up over this many optimizer steps before the schedule.", valueName: "steps"))
    var warmup: Int = 0

    @Option(help: ArgumentHelp("Epochs to train (with --resume: epochs to add).", valueName: "n"))
    var epochs: Int = 20

    @Option(help: ArgumentHelp("Rows per batch.", valueName: "n"))
    var batchSize: Int = 32

    @Option(help: ArgumentHelp("Seed of every random choice (initialization, shuffling, dropout, validation split, --dataset).", valueName: "n"))
    var seed: UInt64 = 0

    // MARK: Training control
    @Option(help: ArgumentHelp("Stop when the validation loss has not improved for this many epochs, keeping the best weights (uses a 10% split without validation data).", valueName: "patience"))
    var earlyStopping: Int?

    @Option(help: ArgumentHelp("Every N epochs write an intermediate checkpoint next to --output (model.nnck → model.epoch-0005.nnck).", valueName: "n"))
    var checkpointEvery: Int?

    @Option(help: ArgumentHelp("Continue training from a checkpoint (same architecture; epochs continue its count).", valueName: "model.nnck"))
    var resume: String?

    @Flag(help: "Store the optimizer's state in the checkpoint so --resume continues exactly.")
    var saveOptimizerState = false

    @Flag(help: "Before training, check backpropagation against finite differences on 8 real rows; stop if any tensor's relative error exceeds 1e-6.")
    var gradientCheck = false

    @Flag(help: "Each epoch, print and log per-layer gradient norms and activation statistics (fixed batch of up to 256 rows).")
    var diagnostics = false

    // MARK: Output
    @Option(help: ArgumentHelp("Where to write the trained model (atomically).", valueName: "model.nnck"))
    var output: String

    @Option(help: ArgumentHelp("Write per-epoch metrics as CSV (atomically, when training ends).", valueName: "file.csv"))
    var log: String?

    @Option(help: ArgumentHelp("Write a self-contained HTML report with curves, schedule, gradient norms, confusion matrix and decision boundary.", valueName: "file.html"))
    var report: String?

    @Flag(help: "Print only errors.")
    var quiet = false

    @OptionGroup(title: "CSV") var csv: CSVOptions
    @OptionGroup(title: "Threads") var threadOptions: ThreadOptions
    @OptionGroup(title: "Checkpoint caps (--resume)") var checkpointLimits: CheckpointLimitOptions

    public init() {}

    public func validate() throws {
        switch (data, dataset) {
        case (nil, nil): throw ValidationError("give the training data: --data FILE.csv or --dataset NAME")
        case (.some, .some): throw ValidationError("--data and --dataset are alternatives; give one of them")
        default: break
        }
        if let dataset, !SyntheticDataset.names.contains(dataset) {
            throw ValidationError("--dataset must be one of \(SyntheticDataset.names.joined(separator: ", ")), got '\(dataset)'")
        }
        if samples < 2 { throw ValidationError("--samples must be at least 2, got \(samples)") }
        if let noise, !(noise >= 0 && noise.isFinite) { throw ValidationError("--noise must be a finite number ≥ 0, got \(noise)") }
        if validation != nil && validationSplit != nil { throw ValidationError("--validation and --validation-split are alternatives; give one of them") }
        if let split = validationSplit, !(split > 0 && split < 1) {
            throw ValidationError("--validation-split must be a fraction strictly between 0 and 1, got \(split)")
        }
        if layers != nil && model != nil { throw ValidationError("--layers and --model are alternatives; give one of them") }
        if let layers {
            do { _ = try Architecture.parse(layers) } catch { throw ValidationError("\(error)") }
        }
        if !(lr > 0 && lr.isFinite) { throw ValidationError("--lr must be a positive number, got \(lr)") }
        if !(weightDecay >= 0 && weightDecay.isFinite) { throw ValidationError("--weight-decay must be a number ≥ 0, got \(weightDecay)") }
        if !(momentum >= 0 && momentum < 1) { throw ValidationError("--momentum must be in [0, 1), got \(momentum)") }
        for (name, value) in [("--beta1", beta1), ("--beta2", beta2)] where !(value >= 0 && value < 1) {
            throw ValidationError("\(name) must be in [0, 1), got \(value)")
        }
        if !(decayRate > 0 && decayRate <= 1) { throw ValidationError("--decay-rate must be in (0, 1], got \(decayRate)") }
        if let decaySteps, decaySteps < 1 { throw ValidationError("--decay-steps must be at least 1, got \(decaySteps)") }
        if let cosineSteps, cosineSteps < 1 { throw ValidationError("--cosine-steps must be at least 1, got \(cosineSteps)") }
        if !(minLr >= 0 && minLr.isFinite) { throw ValidationError("--min-lr must be a number ≥ 0, got \(minLr)") }
        if warmup < 0 { throw ValidationError("--warmup must be ≥ 0, got \(warmup)") }
        if epochs < 1 { throw ValidationError("--epochs must be at least 1, got \(epochs)") }
        if batchSize < 1 || batchSize > 1 << 20 { throw ValidationError("--batch-size must be from 1 to \(1 << 20), got \(batchSize)") }
        if seed > UInt64(Int64.max) { throw ValidationError("--seed must be from 0 to \(Int64.max), got \(seed)") }
        if let earlyStopping, earlyStopping < 1 { throw ValidationError("--early-stopping must be at least 1 epoch, got \(earlyStopping)") }
        if let checkpointEvery, checkpointEvery < 1 { throw ValidationError("--checkpoint-every must be at least 1 epoch, got \(checkpointEvery)") }
        if output.isEmpty { throw ValidationError("--output must name a file") }
        if let features { _ = try Self.featureSelection(features) }
    }

    static func featureSelection(_ text: String) throws -> FeatureSelection {
        let items = text.split(separator: ",", omittingEmptySubsequences: false).map(String.init)
        guard !items.contains(where: \.isEmpty) else { throw ValidationError("--features: empty item in '\(text)'; expected comma-separated column names or indices") }
        let excluded = items.filter { $0.hasPrefix("-") }
        if excluded.isEmpty { return .include(items.map(ColumnReference.init)) }
        guard excluded.count == items.count else {
            throw ValidationError("--features: either list the columns to use, or list columns to exclude each with a leading '-'; not both (got '\(text)')")
        }
        return .exclude(items.map { ColumnReference(String($0.dropFirst())) })
    }

    public func run() throws {
        var options = TrainingRunOptions()
        var c = TrainingConfiguration()
        c.task = task
        if let layers {
            c.hidden = try Architecture.parse(layers)
            c.layersText = layers
        }
        c.initialization = `init`
        c.optimizer = optimizer
        c.learningRate = lr
        c.weightDecay = weightDecay
        c.momentum = momentum
        c.beta1 = beta1
        c.beta2 = beta2
        c.schedule = schedule
        c.decayRate = decayRate
        c.decaySteps = decaySteps
        c.cosineSteps = cosineSteps
        c.minLearningRate = minLr
        c.warmupSteps = warmup
        c.epochs = epochs
        c.batchSize = batchSize
        c.seed = seed
        c.normalization = normalize
        c.earlyStoppingPatience = earlyStopping
        c.checkpointEvery = checkpointEvery
        c.saveOptimizerState = saveOptimizerState
        c.gradientCheck = gradientCheck
        c.diagnostics = diagnostics
        options.configuration = c

        var source = TrainingDataSource()
        source.dataPath = data
        source.syntheticName = dataset
        source.samples = samples
        source.noise = noise
        source.syntheticClasses = datasetClasses
        source.label = label
        if let features { source.features = try Self.featureSelection(features) }
        source.validationPath = validation
        source.validationSplit = validationSplit
        source.format = csv.format
        source.skipBadRows = csv.skipBadRows
        options.data = source
        options.modelPath = model
        options.architectureGiven = layers != nil || model != nil
        options.outputPath = output
        options.resumePath = resume
        options.readerLimits = checkpointLimits.limits
        options.logPath = log
        options.reportPath = report
        options.quiet = quiet
        options.terminal = StandardStreams.standardOutputIsTerminal

        TrainingInterrupt.install()
        let result = try TrainingSession.run(options, pool: threadOptions.makePool())
        if result.exitStatus != 0 { throw ExitCode(result.exitStatus) }
    }
}
