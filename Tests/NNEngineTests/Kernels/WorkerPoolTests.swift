import XCTest
import Glibc
import Synchronization
import NNParallel

final class WorkerPoolTests: XCTestCase {
    /// Runs `parallelFor(count)` and returns how many times each index ran.
    private func runCounts(_ pool: WorkerPool, _ count: Int) -> [Int] {
        let counts = UnsafeMutablePointer<Int>.allocate(capacity: max(count, 1))
        counts.initialize(repeating: 0, count: max(count, 1))
        defer { counts.deallocate() }
        // Each index writes only its own slot, so the body needs no synchronization.
        pool.parallelFor(count) { i in counts[i] += 1 }
        return Array(UnsafeBufferPointer(start: counts, count: max(count, 0)))
    }

    func testEachIndexRunsExactlyOnce() {
        for threads in [1, 2, 3] {
            let pool = WorkerPool(threads: threads)
            XCTAssertEqual(pool.threadCount, threads)
            for count in [2, 3, 17, 1000, 10_000] {
                XCTAssertEqual(runCounts(pool, count), [Int](repeating: 1, count: count), "\(threads) threads, count \(count)")
            }
        }
    }

    func testCountZeroAndOne() {
        let pool = WorkerPool(threads: 2)
        var calls = 0
        pool.parallelFor(0) { _ in calls += 1 }
        pool.parallelFor(-3) { _ in calls += 1 }
        XCTAssertEqual(calls, 0)
        let caller = pthread_self()
        var ranOnCaller = false
        pool.parallelFor(1) { i in
            XCTAssertEqual(i, 0)
            calls += 1
            ranOnCaller = pthread_equal(pthread_self(), caller) != 0
        }
        XCTAssertEqual(calls, 1)
        XCTAssertTrue(ranOnCaller, "count 1 must run inline on the calling thread")
    }

    /// Two indices that each wait for the other to start: completes only if two threads run them.
    func testWorkActuallyRunsConcurrently() {
        let pool = WorkerPool(threads: 2)
        let started = Atomic<Int>(0)
        let timedOut = Atomic<Bool>(false)
        pool.parallelFor(2) { _ in
            started.add(1, ordering: .sequentiallyConsistent)
            var ts = timespec()
            clock_gettime(CLOCK_MONOTONIC, &ts)
            let deadline = ts.tv_sec + 10
            while started.load(ordering: .sequentiallyConsistent) < 2 {
                clock_gettime(CLOCK_MONOTONIC, &ts)
                if ts.tv_sec > deadline {
                    timedOut.store(true, ordering: .sequentiallyConsistent)
                    return
                }
                sched_yield()
            }
        }
        XCTAssertFalse(timedOut.load(ordering: .sequentiallyConsistent), "the second index never ran concurrently")
    }

    func testNestedCallsComplete() {
        let pool = WorkerPool(threads: 2)
        let outer = 8, inner = 50
        let counts = UnsafeMutablePointer<Int>.allocate(capacity: outer * inner)
        counts.initialize(repeating: 0, count: outer * inner)
        defer { counts.deallocate() }
        pool.parallelFor(outer) { i in
            pool.parallelFor(inner) { j in counts[i * inner + j] += 1 }
        }
        XCTAssertEqual(Array(UnsafeBufferPointer(start: counts, count: outer * inner)), [Int](repeating: 1, count: outer * inner))
    }

    /// Many tiny jobs back to back, as small-batch training issues them; also exercises workers
    /// going to sleep and waking up between bursts.
    func testManyRapidCalls() {
        let pool = WorkerPool(threads: 2)
        let total = Atomic<Int>(0)
        for call in 0..<20_000 {
            let count = 2 + call % 3
            pool.parallelFor(count) { i in total.add(i + 1, ordering: .relaxed) }
        }
        // Sum over calls of count·(count+1)/2 for count cycling 2, 3, 4.
        let expected = (0..<20_000).reduce(0) { sum, call in let c = 2 + call % 3; return sum + c * (c + 1) / 2 }
        XCTAssertEqual(total.load(ordering: .sequentiallyConsistent), expected)
        usleep(50_000) // let the worker block, then use the pool again
        XCTAssertEqual(runCounts(pool, 64), [Int](repeating: 1, count: 64))
    }

    func testConcurrentCallersOnOnePool() {
        let pool = WorkerPool(threads: 2)
        final class Context: @unchecked Sendable {
            let pool: WorkerPool; let bad: UnsafeMutablePointer<Int>
            init(pool: WorkerPool, bad: UnsafeMutablePointer<Int>) { self.pool = pool; self.bad = bad }
        }
        // Each external thread runs its own jobs on the shared pool; a busy pool runs them inline.
        let errors = UnsafeMutablePointer<Int>.allocate(capacity: 2)
        errors.initialize(repeating: 0, count: 2)
        defer { errors.deallocate() }
        var threads: [pthread_t] = []
        for t in 0..<2 {
            let context = Unmanaged.passRetained(Context(pool: pool, bad: errors + t)).toOpaque()
            var thread = pthread_t()
            pthread_create(&thread, nil, { raw in
                let context = Unmanaged<Context>.fromOpaque(raw!).takeRetainedValue()
                for _ in 0..<2_000 {
                    let counts = UnsafeMutablePointer<Int>.allocate(capacity: 10)
                    counts.initialize(repeating: 0, count: 10)
                    context.pool.parallelFor(10) { i in counts[i] += 1 }
                    for i in 0..<10 where counts[i] != 1 { context.bad.pointee += 1 }
                    counts.deallocate()
                }
                return nil
            }, context)
            threads.append(thread)
        }
        for thread in threads { pthread_join(thread, nil) }
        XCTAssertEqual(errors[0] + errors[1], 0)
    }

    func testPoolsCanBeCreatedAndDestroyedRepeatedly() {
        for _ in 0..<50 {
            let pool = WorkerPool(threads: 3)
            XCTAssertEqual(runCounts(pool, 5), [1, 1, 1, 1, 1])
        }
    }

    func testRangeSplitCoversTotalInOrderedChunks() {
        let pool = WorkerPool(threads: 2)
        for (total, parts) in [(10, 3), (2, 5), (0, 2), (7, 1), (100, 7)] {
            let seen = UnsafeMutablePointer<Int>.allocate(capacity: max(total, 1))
            seen.initialize(repeating: 0, count: max(total, 1))
            let maxLength = Atomic<Int>(0), minLength = Atomic<Int>(Int.max)
            pool.parallelFor(total: total, parts: parts) { range in
                XCTAssertFalse(range.isEmpty)
                for i in range { seen[i] += 1 }
                maxLength.max(range.count, ordering: .relaxed)
                minLength.min(range.count, ordering: .relaxed)
            }
            XCTAssertEqual(Array(UnsafeBufferPointer(start: seen, count: total)), [Int](repeating: 1, count: total))
            if total > 0 {
                XCTAssertLessThanOrEqual(maxLength.load(ordering: .relaxed) - minLength.load(ordering: .relaxed), 1)
            }
            seen.deallocate()
        }
    }
}
