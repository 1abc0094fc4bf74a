import ArgumentParser
import NNCLI
import NNKit

/// `nninspect`: what an .nnck checkpoint holds (`show`, the default), `verify`, `diff`.
@main
struct NNInspect: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "nninspect",
        abstract: "Show what an .nnck checkpoint holds, verify it, or compare two.",
        discussion: """
            nninspect MODEL              describe the checkpoint (= nninspect show MODEL)
            nninspect MODEL --weights    per-tensor statistics and histograms
            nninspect MODEL --tensor N   one tensor's values as CSV
            nninspect MODEL --json       the description as JSON, for scripts
            nninspect verify MODEL       check every rule and CRC, run verification vectors
            nninspect diff A B           what differs between two checkpoints
            """,
        version: NNKitVersion.string,
        subcommands: [Show.self, Verify.self, Diff.self],
        defaultSubcommand: Show.self)
}
