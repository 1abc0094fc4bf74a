// WorkerPool: runs independent pieces of work on a fixed number of threads.
//
// Contract (relied on by every kernel): work is split by *output* blocks only, so each output
// element is computed by exactly one thread with the same summation order whatever the thread
// count; results are bit-identical for 1, 2 or N threads. The pool itself only promises that
// `body(i)` runs exactly once per index; which thread runs which index is unspecified.
//
// Implementation: threadCount - 1 persistent pthreads created once in `init`. The calling thread
// takes part in every job, so a pool of 1 thread has no extra threads at all. Idle workers spin
// briefly on a generation counter (small-batch training issues thousands of jobs per second and a
// futex wake-up costs tens of microseconds), then block on a condition variable.

import Glibc
import Synchronization

public final class WorkerPool: @unchecked Sendable {
    /// Number of threads that run work, the caller's included (>= 1).
    public let threadCount: Int

    private let state: PoolState
    private var threads: [pthread_t] = []

    public init(threads: Int) {
        precondition(threads >= 1, "WorkerPool needs at least one thread")
        self.threadCount = threads
        self.state = PoolState()
        for _ in 1..<max(threads, 1) {
            var thread = pthread_t()
            let context = Unmanaged.passRetained(state).toOpaque()
            let result = pthread_create(&thread, nil, { raw in
                let state = Unmanaged<PoolState>.fromOpaque(raw!).takeRetainedValue()
                state.workerLoop()
                return nil
            }, context)
            // Running out of threads is a system condition, not a user input: degrade to fewer helpers.
            if result != 0 {
                Unmanaged<PoolState>.fromOpaque(context).release()
                break
            }
            self.threads.append(thread)
        }
    }

    deinit {
        state.shutDown()
        for thread in threads { pthread_join(thread, nil) }
    }

    /// Calls `body(i)` once for each i in 0..<count, possibly concurrently; returns when all are done.
    ///
    /// Runs inline on the calling thread when count <= 1, when the pool has one thread, or when the
    /// pool is already busy (a nested call from inside `body`, or a concurrent call from another
    /// thread). Callers decide granularity: pass count = 1 for work too small to be worth sharing.
    public func parallelFor(_ count: Int, _ body: (Int) -> Void) {
        if count <= 1 || threads.isEmpty || !state.tryAcquire() {
            for i in 0..<max(count, 0) { body(i) }
            return
        }
        withoutActuallyEscaping(body) { escapable in
            state.run(count: count, body: escapable)
        }
        state.release()
    }

    /// Splits 0..<total into `parts` contiguous, nearly equal ranges (the first ones one longer) and
    /// calls `body` on each, in parallel. Empty ranges are skipped. Ranges depend only on the arguments.
    public func parallelFor(total: Int, parts: Int, _ body: (Range<Int>) -> Void) {
        let parts = max(1, min(parts, total))
        if total <= 0 { return }
        let base = total / parts, extra = total % parts
        parallelFor(parts) { part in
            let start = part * base + min(part, extra)
            let length = base + (part < extra ? 1 : 0)
            body(start..<(start + length))
        }
    }

    /// A pool that runs everything on the calling thread.
    public static let serial = WorkerPool(threads: 1)

    /// Number of processors currently online (>= 1), a sensible default for `WorkerPool(threads:)`.
    public static var availableProcessors: Int {
        max(1, Int(sysconf(Int32(_SC_NPROCESSORS_ONLN))))
    }
}

/// Shared between the pool object and its worker threads (which retain it), so the pool can be
/// deinitialized while the threads are still parked.
private final class PoolState: @unchecked Sendable {
    // Job protocol (all atomics sequentially consistent):
    //  caller: write job fields, open = true, generation += 1, wake sleepers, take indices itself,
    //          open = false, then wait until joined == 0.
    //  worker: on a new generation: joined += 1, and only if open is still true read the job fields
    //          and take indices; joined -= 1.
    // A worker counted in `joined` keeps the caller from returning, so the fields it reads stay
    // valid; a worker that joins after the caller saw joined == 0 must then see open == false.
    let generation = Atomic<Int>(0)
    let open = Atomic<Bool>(false)
    let joined = Atomic<Int>(0)
    let nextIndex = Atomic<Int>(0)
    let busy = Atomic<Bool>(false)
    let sleepers = Atomic<Int>(0)
    let stopping = Atomic<Bool>(false)

    // Job fields, written by the caller before `open` is set.
    private var jobCount = 0
    private var jobBody: ((Int) -> Void)? = nil

    // Heap-allocated: pthread objects need stable addresses, and `&property` would be an
    // exclusive Swift access held across a blocking call.
    private let mutex = UnsafeMutablePointer<pthread_mutex_t>.allocate(capacity: 1)
    private let wakeUp = UnsafeMutablePointer<pthread_cond_t>.allocate(capacity: 1)

    /// Spin iterations before a worker blocks (~tens of microseconds).
    private static let spinLimit = 20_000

    init() {
        mutex.initialize(to: pthread_mutex_t())
        wakeUp.initialize(to: pthread_cond_t())
        pthread_mutex_init(mutex, nil)
        pthread_cond_init(wakeUp, nil)
    }

    deinit {
        pthread_cond_destroy(wakeUp)
        pthread_mutex_destroy(mutex)
        wakeUp.deallocate()
        mutex.deallocate()
    }

    func tryAcquire() -> Bool {
        busy.compareExchange(expected: false, desired: true, ordering: .sequentiallyConsistent).exchanged
    }

    func release() {
        busy.store(false, ordering: .sequentiallyConsistent)
    }

    func run(count: Int, body: @escaping (Int) -> Void) {
        jobCount = count
        jobBody = body
        nextIndex.store(0, ordering: .sequentiallyConsistent)
        open.store(true, ordering: .sequentiallyConsistent)
        generation.add(1, ordering: .sequentiallyConsistent)
        if sleepers.load(ordering: .sequentiallyConsistent) > 0 {
            pthread_mutex_lock(mutex)
            pthread_cond_broadcast(wakeUp)
            pthread_mutex_unlock(mutex)
        }
        while true {
            let i = nextIndex.add(1, ordering: .sequentiallyConsistent).oldValue
            if i >= count { break }
            body(i)
        }
        open.store(false, ordering: .sequentiallyConsistent)
        var spins = 0
        while joined.load(ordering: .sequentiallyConsistent) != 0 {
            spins += 1
            if spins > 1_000 { sched_yield() }
        }
        // Drop the closure before withoutActuallyEscaping checks that it did not escape.
        jobBody = nil
    }

    func workerLoop() {
        // Generation 0 is "no job yet"; a thread that starts late simply finds jobs already closed.
        var seen = 0
        while true {
            // Wait for a new generation: spin first, then block.
            var spins = 0
            var current = generation.load(ordering: .sequentiallyConsistent)
            while current == seen && spins < PoolState.spinLimit {
                spins += 1
                current = generation.load(ordering: .sequentiallyConsistent)
            }
            if current == seen {
                pthread_mutex_lock(mutex)
                sleepers.add(1, ordering: .sequentiallyConsistent)
                current = generation.load(ordering: .sequentiallyConsistent)
                // `stopping` is checked too: shutDown may have run before this thread first looked.
                while current == seen && !stopping.load(ordering: .sequentiallyConsistent) {
                    pthread_cond_wait(wakeUp, mutex)
                    current = generation.load(ordering: .sequentiallyConsistent)
                }
                sleepers.subtract(1, ordering: .sequentiallyConsistent)
                pthread_mutex_unlock(mutex)
            }
            seen = current
            if stopping.load(ordering: .sequentiallyConsistent) { return }

            joined.add(1, ordering: .sequentiallyConsistent)
            if open.load(ordering: .sequentiallyConsistent), let body = jobBody {
                let count = jobCount
                while true {
                    let i = nextIndex.add(1, ordering: .sequentiallyConsistent).oldValue
                    if i >= count { break }
                    body(i)
                }
            }
            joined.subtract(1, ordering: .sequentiallyConsistent)
        }
    }

    func shutDown() {
        stopping.store(true, ordering: .sequentiallyConsistent)
        generation.add(1, ordering: .sequentiallyConsistent)
        pthread_mutex_lock(mutex)
        pthread_cond_broadcast(wakeUp)
        pthread_mutex_unlock(mutex)
    }
}
