import ArgumentParser
import NNCLI
import NNKit

/// `nninspect diff A B`: exit 0 when identical in content, 1 when different, 2 on error (like cmp).
struct Diff: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Show what differs between two checkpoints.",
        discussion: """
            Compares the model descriptions (features, normalization, layers and their settings, \
            output, verification, optimizer state, training provenance, metadata) and every tensor \
            (present in one file only, shape or dtype, values: how many differ and the largest \
            absolute difference). Storage choices (writer, codec, chunking, tensor order) are \
            listed but do not count as differences. Exit status: 0 identical in content, \
            1 different, 2 trouble (a file cannot be read).
            """)

    @Argument(help: ArgumentHelp("The first checkpoint (A).", valueName: "a"))
    var first: String

    @Argument(help: ArgumentHelp("The second checkpoint (B).", valueName: "b"))
    var second: String

    @Flag(name: [.short, .long], help: "Print nothing; report by exit status only.")
    var quiet = false

    @OptionGroup var threadOptions: ThreadOptions

    @OptionGroup var checkpointLimits: CheckpointLimitOptions

    func run() throws {
        let diff: CheckpointDiff
        do {
            let pool = threadOptions.makePool()
            diff = CheckpointDiff.compare(try CheckpointDescription.read(path: first, limits: checkpointLimits.limits, pool: pool),
                                          try CheckpointDescription.read(path: second, limits: checkpointLimits.limits, pool: pool))
        } catch {
            // Exit status 2, not ArgumentParser's 1: 1 means "different".
            StandardStreams.printError("Error: \(error)\n")
            throw ExitCode(2)
        }
        if !quiet { print(diff.text(), terminator: "") }
        if !diff.isIdentical { throw ExitCode(1) }
    }
}
