// WorkerPool: runs independent pieces of work on a fixed number of threads.
//
// Contract (relied on by every kernel): work is split by *output* blocks only, so each output
// element is computed by exactly one thread with the same summation order whatever the thread
// count; results are bit-identical for 1, 2 or N threads.
// NOTE: placeholder implementation (serial); to be replaced by a real pthread pool, same API.

public final class WorkerPool {
    /// Number of threads that run work, the caller's included (>= 1).
    public let threadCount: Int

    public init(threads: Int) {
        precondition(threads >= 1, "WorkerPool needs at least one thread")
        self.threadCount = threads
    }

    /// Calls `body(i)` once for each i in 0..<count, possibly concurrently; returns when all are done.
    public func parallelFor(_ count: Int, _ body: (Int) -> Void) {
        for i in 0..<count { body(i) }
    }

    /// A pool that runs everything on the calling thread.
    public static let serial = WorkerPool(threads: 1)
}
