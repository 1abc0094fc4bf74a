// Per-thread packing buffers for the GEMM kernels.
//
// Each OS thread (callers and pool workers alike) owns its own grow-only, 64-byte aligned buffers,
// found through a pthread key, so no call allocates after warm-up and two threads never share a
// buffer, whichever pool (or none) they run under. Freed when the thread exits.

import Glibc

final class GemmScratch {
    /// The buffers a thread uses: `packedA` for its own A block, `packedB` for the B panel of the
    /// GEMM it called (read by the pool's workers while that call runs).
    enum Slot: Int { case packedA = 0, packedB = 1 }

    private var buffers: [UnsafeMutableRawPointer?] = [nil, nil]
    private var capacities: [Int] = [0, 0]

    deinit {
        for buffer in buffers { free(buffer) }
    }

    /// A buffer of at least `bytes` bytes for `slot`, 64-byte aligned; contents are unspecified.
    func buffer(_ slot: Slot, bytes: Int) -> UnsafeMutableRawPointer {
        let index = slot.rawValue
        if capacities[index] < bytes, let old = buffers[index] {
            free(old)
            buffers[index] = nil
        }
        if let buffer = buffers[index] { return buffer }
        // Round up so slightly larger later requests do not reallocate.
        let size = gemmRoundUp(max(bytes, 4096), 4096)
        var raw: UnsafeMutableRawPointer? = nil
        guard posix_memalign(&raw, 64, size) == 0, let allocated = raw else {
            fatalError("GEMM scratch: out of memory allocating \(size) bytes")
        }
        buffers[index] = allocated
        capacities[index] = size
        return allocated
    }

    /// The calling thread's scratch, created on first use.
    static var current: GemmScratch {
        let key = scratchKey
        if let existing = pthread_getspecific(key) {
            return Unmanaged<GemmScratch>.fromOpaque(existing).takeUnretainedValue()
        }
        let scratch = GemmScratch()
        pthread_setspecific(key, Unmanaged.passRetained(scratch).toOpaque())
        return scratch
    }
}

private let scratchKey: pthread_key_t = {
    var key = pthread_key_t()
    let result = pthread_key_create(&key) { raw in
        if let raw { Unmanaged<GemmScratch>.fromOpaque(raw).release() }
    }
    precondition(result == 0, "pthread_key_create failed")
    return key
}()

/// Smallest multiple of `step` that is >= `value` (value >= 0, step > 0).
@inline(__always)
func gemmRoundUp(_ value: Int, _ step: Int) -> Int { (value + step - 1) / step * step }
