import ArgumentParser
import NNFormat

/// The checkpoint reader's memory caps that a user may need to raise for a large, trusted model;
/// shared by every tool that reads a checkpoint (nninspect, nninfer, nntrain --resume). The other
/// caps (manifest size, JSON depth, tensor count) are far above any real file and stay fixed.
public struct CheckpointLimitOptions: ParsableArguments {
    @Option(help: ArgumentHelp("Largest decoded tensor accepted from a checkpoint, in bytes (default 4 GiB).", valueName: "bytes"))
    public var maxTensorBytes: Int = ReaderLimits.default.maxTensorBytes

    @Option(help: ArgumentHelp("Largest decoded size of all of a checkpoint's tensors together, in bytes: the memory a file can make the reader allocate (default 8 GiB).", valueName: "bytes"))
    public var maxTotalTensorBytes: Int = ReaderLimits.default.maxTotalTensorBytes

    public init() {}

    public func validate() throws {
        for (name, value) in [("--max-tensor-bytes", maxTensorBytes), ("--max-total-tensor-bytes", maxTotalTensorBytes)] where value < 1 {
            throw ValidationError("\(name) must be at least 1, got \(value)")
        }
    }

    /// The reader's caps with these two raised or lowered.
    public var limits: ReaderLimits {
        var limits = ReaderLimits.default
        limits.maxTensorBytes = maxTensorBytes
        limits.maxTotalTensorBytes = maxTotalTensorBytes
        return limits
    }
}
