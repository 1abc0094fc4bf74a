// Heap use of training steps and predictions once the workspace is warm.
//
// What this can and cannot see: glibc's mallinfo2() reports the bytes currently allocated, so a step
// that keeps memory (growing buffers, leaked or cached objects) is caught, but a malloc immediately
// followed by free is not. A counting malloc hook is not available here: glibc 2.34 removed
// __malloc_hook, and defining `malloc` in the test executable does not interpose without
// -export-dynamic (tried: the positive control saw 0 calls). The absence of transient allocations
// rests on construction: the step only touches preallocated UnsafeMutablePointer buffers.
import XCTest
import Glibc
import NNEngine
import NNParallel

/// glibc's mallinfo2() (not exported by the Glibc module). It returns a 10-word struct, which the
/// x86-64 SysV ABI returns through a hidden pointer in the first argument register, so it is called
/// as `void f(struct mallinfo2 *)`. The positive control below fails if this ever reads nonsense.
private let mallinfo2: (@convention(c) (UnsafeMutableRawPointer) -> UnsafeMutableRawPointer?)? = {
    guard let symbol = dlsym(UnsafeMutableRawPointer(bitPattern: 0), "mallinfo2") else { return nil }
    return unsafeBitCast(symbol, to: (@convention(c) (UnsafeMutableRawPointer) -> UnsafeMutableRawPointer?).self)
}()

/// uordblks (bytes in use in the arenas) + hblkhd (bytes in mmapped blocks).
private func allocatedBytes() -> Int {
    guard let mallinfo2 else { return -1 }
    var fields = [Int](repeating: 0, count: 10)  // arena, ordblks, smblks, hblks, hblkhd, usmblks, fsmblks, uordblks, fordblks, keepcost
    fields.withUnsafeMutableBytes { _ = mallinfo2($0.baseAddress!) }
    return fields[7] + fields[4]
}

/// Change in allocated heap bytes across `body`.
private func heapGrowth(_ body: () throws -> Void) rethrows -> Int {
    _ = allocatedBytes()  // first call resolves the symbol
    let before = allocatedBytes()
    try body()
    return allocatedBytes() - before
}

final class AllocationTests: XCTestCase {
    func testMeasureSeesKeptAllocations() {
        XCTAssertNotNil(mallinfo2, "mallinfo2 not found")
        // mallinfo2 counts the whole process: a worker thread of an earlier test freeing memory in
        // the window can hide part of the growth, so the best of three tries must see it.
        var kept: [[Int]] = []
        kept.reserveCapacity(30)
        var growth = 0
        for _ in 0..<3 {
            growth = max(growth, heapGrowth { for _ in 0..<10 { kept.append([Int](repeating: 7, count: 100)) } })
        }
        XCTAssertGreaterThanOrEqual(growth, 10 * 800, "mallinfo2 does not see allocations; the other test would be vacuous")
        XCTAssertEqual(kept.count, 30)
    }

    func testTrainingStepAndPredictDoNotAllocate() throws {
        let network = try Network<Float>(specs: [.dense(inputs: 16, outputs: 32), .activation(.relu), .batchNorm(features: 32, config: BatchNormConfig()),
                                                 .dense(inputs: 32, outputs: 32), .activation(.tanh), .dropout(rate: 0.2),
                                                 .dense(inputs: 32, outputs: 4), .activation(.softmax)],
                                         pool: WorkerPool(threads: 2), maxBatchSize: 32)
        var generator = RandomGenerator(seed: 1)
        network.initialize(.he, generator: &generator)
        let optimizer = Optimizer(.adamWDefaults, weightDecay: 1e-4, parameters: network.parameters)
        let x = (0..<(32 * 16)).map { _ in Float(generator.normal()) }
        let labels = (0..<32).map { _ in Int32(generator.next(below: 4)) }
        var output = [Float](repeating: 0, count: 32 * 4)
        try x.withUnsafeBufferPointer { xp in
            try labels.withUnsafeBufferPointer { yp in
                try output.withUnsafeMutableBufferPointer { out in
                    // Warm-up: the workspace reaches its size.
                    _ = try network.trainStep(inputs: xp, rows: 32, targets: .classes(yp), loss: .softmaxCrossEntropy, optimizer: optimizer, learningRate: 1e-3)
                    try network.predict(inputs: xp, rows: 32, into: out)
                    // mallinfo2 counts the whole process, so another thread (XCTest's, the pool's) may
                    // allocate or free a few bytes meanwhile. Memory the steps keep shows up in every
                    // window of 60 steps; noise does not: pass when one of five windows shows no growth.
                    var growths: [Int] = []
                    for _ in 0..<5 {
                        let growth = try heapGrowth {
                            for step in 0..<60 {
                                let rows = step % 4 == 3 ? 19 : 32  // full batches and a last partial one
                                _ = try network.trainStep(inputs: xp, rows: rows, targets: .classes(yp), loss: .softmaxCrossEntropy,
                                                          optimizer: optimizer, learningRate: 1e-3)
                            }
                            try network.predict(inputs: xp, rows: 32, into: out)
                        }
                        growths.append(growth)
                        if growth <= 0 { break }
                    }
                    XCTAssertLessThanOrEqual(growths.min() ?? 1, 0, "heap kept by each window of 60 training steps and a predict: \(growths)")
                }
            }
        }
    }
}
