import ArgumentParser
import Glibc
import NNParallel

/// `--threads`, shared by every tool. Results never depend on it (see WorkerPool's contract).
public struct ThreadOptions: ParsableArguments {
    @Option(help: ArgumentHelp("Threads to compute with (default: all cores). Results are identical for any count.", valueName: "n"))
    public var threads: Int?

    public init() {}

    public static let maxThreads = 256

    public func validate() throws {
        if let threads, threads < 1 || threads > Self.maxThreads {
            throw ValidationError("--threads must be from 1 to \(Self.maxThreads), got \(threads)")
        }
    }

    /// The thread count to use: the option, or the number of online cores.
    public var count: Int {
        threads ?? max(1, min(Self.maxThreads, Int(sysconf(Int32(_SC_NPROCESSORS_ONLN)))))
    }

    /// A worker pool of `count` threads.
    public func makePool() -> WorkerPool { WorkerPool(threads: count) }
}
