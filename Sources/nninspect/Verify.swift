import ArgumentParser
import NNCLI
import NNKit

/// `nninspect verify MODEL`: exit 0 only when every check holds.
struct Verify: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Check every rule and CRC of a checkpoint, then run its verification vectors.",
        discussion: """
            Checks the header, the manifest (CRC, strict JSON, every field), the tensor table and \
            layout, every tensor's and chunk's CRC-32, the model's consistency, then runs the \
            file's verification vectors through the engine (float64 when the model's tensors are \
            f64, else float32) and compares them within the file's tolerance. Exit status 0 when \
            everything holds; otherwise the first failure is printed naming the file and the \
            tensor, field or vector, and the exit status is 1.
            """)

    @Argument(help: ArgumentHelp("The .nnck checkpoint to verify.", valueName: "model"))
    var model: String

    @OptionGroup var threadOptions: ThreadOptions

    @OptionGroup var checkpointLimits: CheckpointLimitOptions

    func run() throws {
        try CheckpointVerifier.verify(path: model, limits: checkpointLimits.limits, pool: threadOptions.makePool()) { report in
            print(report.text(), terminator: "")
        }
    }
}
