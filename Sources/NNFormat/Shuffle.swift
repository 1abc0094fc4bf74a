// Byte-plane shuffle: n elements of k bytes become k planes of n bytes (plane j = byte j of every
// element), so the similar sign/exponent bytes of floats sit together and deflate finds them.
// shuffled[j·n + i] = raw[i·k + j]. Tight pointer loops: this runs over every byte of a checkpoint.

import NNZlib

enum ByteShuffle {
    static func shuffle(_ source: UnsafeRawPointer, into destination: UnsafeMutableRawPointer, elements n: Int, elementSize k: Int) {
        let out = destination.assumingMemoryBound(to: UInt8.self)
        if k == 4 {
            for i in 0..<n {
                let word = source.loadUnaligned(fromByteOffset: 4 * i, as: UInt32.self)
                out[i] = UInt8(truncatingIfNeeded: word)
                out[n + i] = UInt8(truncatingIfNeeded: word >> 8)
                out[2 * n + i] = UInt8(truncatingIfNeeded: word >> 16)
                out[3 * n + i] = UInt8(truncatingIfNeeded: word >> 24)
            }
            return
        }
        let input = source.assumingMemoryBound(to: UInt8.self)
        for j in 0..<k {
            let plane = out + j * n
            for i in 0..<n { plane[i] = input[i * k + j] }
        }
    }

    /// Unshuffles `n` elements of `k` bytes from `source` (k planes of n bytes) into `destination`
    /// (n·k bytes) and returns the CRC-32 of what it wrote. Works in blocks of 4096 elements, so each
    /// block is checksummed while it is still in L1 cache instead of in a second pass over memory.
    static func unshuffleWithCRC(_ source: UnsafeRawPointer, into destination: UnsafeMutableRawPointer, elements n: Int, elementSize k: Int) -> UInt32 {
        let blockElements = 4096
        var crc = CRC32()
        var start = 0
        while start < n {
            let end = min(start + blockElements, n)
            unshuffle(source, into: destination, elements: n, elementSize: k, range: start..<end)
            crc.update(UnsafeRawBufferPointer(start: destination + start * k, count: (end - start) * k))
            start = end
        }
        return crc.value
    }

    /// Writes elements `range` (of n) of the unshuffled output: out[i·k + j] = planes[j·n + i].
    static func unshuffle(_ source: UnsafeRawPointer, into destination: UnsafeMutableRawPointer, elements n: Int, elementSize k: Int,
                          range: Range<Int>) {
        let input = source.assumingMemoryBound(to: UInt8.self)
        if k == 4 {
            for i in range {
                let word = UInt32(input[i]) | UInt32(input[n + i]) << 8 | UInt32(input[2 * n + i]) << 16 | UInt32(input[3 * n + i]) << 24
                destination.storeBytes(of: word, toByteOffset: 4 * i, as: UInt32.self)
            }
            return
        }
        let out = destination.assumingMemoryBound(to: UInt8.self)
        for j in 0..<k {
            let plane = input + j * n
            for i in range { out[i * k + j] = plane[i] }
        }
    }
}
