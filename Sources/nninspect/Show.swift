import ArgumentParser
import NNCLI
import NNKit

/// `nninspect [show] MODEL [--weights | --tensor NAME | --json]`.
struct Show: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "show",
        abstract: "Describe a checkpoint (the default subcommand).",
        discussion: """
            Prints the format version, file size and compression ratio, writer, input features and \
            normalization, a layer table with parameter counts (batchnorm running statistics are \
            non-trainable; verification and optimizer tensors are not parameters), classes or \
            targets, verification vectors, optimizer state, training provenance and metadata.

            --json prints one object with the keys: file, file_size, format, writer, manifest_length, \
            tensor_bytes, input, layers, parameters, output, verification, optimizer, training, \
            metadata, tensors (with --weights each tensor also has "statistics").
            """)

    @Argument(help: ArgumentHelp("The .nnck checkpoint to describe.", valueName: "model"))
    var model: String

    @Flag(help: "Per tensor: shape, dtype, codec, stored/raw size, min, max, mean, std, share of zeros, NaN/Inf counts and a 10-bin histogram.")
    var weights = false

    @Option(help: ArgumentHelp("Print this tensor's values as CSV, one row per line (%.9g for f32, %.17g for f64).", valueName: "name"))
    var tensor: String?

    @Flag(help: "Print the description as JSON (add --weights for per-tensor statistics).")
    var json = false

    @OptionGroup var threadOptions: ThreadOptions

    @OptionGroup var checkpointLimits: CheckpointLimitOptions

    func validate() throws {
        if let tensor {
            guard !weights && !json else {
                throw ValidationError("--tensor prints one tensor's values; it cannot be combined with --weights or --json")
            }
            guard !tensor.isEmpty else { throw ValidationError("--tensor needs a tensor name, got an empty string") }
        }
    }

    func run() throws {
        let description = try CheckpointDescription.read(path: model, limits: checkpointLimits.limits, pool: threadOptions.makePool())
        if let tensor {
            print(try description.tensorCSV(named: tensor), terminator: "")
        } else if json {
            print(try description.json(includeStatistics: weights).serialized(pretty: true))
        } else if weights {
            print(description.weightsText(), terminator: "")
        } else {
            print(description.text(), terminator: "")
        }
    }
}
