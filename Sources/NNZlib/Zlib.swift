// NNZlib: the one Swift file through which nnkit uses zlib.
//
// CRC-32 (one-shot, incremental, combinable), deflate with explicit level/strategy/container, and a
// bounded inflate that never produces more than the caller allows and says precisely why it stopped.
// The CRC-32 runs on nnkit's own PCLMULQDQ code (the CCRC32 target) when the CPU has it, else on zlib's.
import CCRC32
import CZlib

/// Which framing a deflate stream carries.
public enum DeflateContainer: Sendable {
    /// Bare RFC 1951 deflate data (zlib windowBits = -15). What `.nnck` stores.
    case raw
    /// RFC 1950: 2-byte header + deflate data + Adler-32 trailer.
    case zlib
    /// RFC 1952 gzip member.
    case gzip

    var windowBits: Int32 {
        switch self {
        case .raw: return -15
        case .zlib: return 15
        case .gzip: return 31
        }
    }
}

/// A piece of input that `Zlib.deflate(_:into:container:)` compresses with its own settings.
public struct DeflateSegment {
    public var bytes: UnsafeRawBufferPointer
    /// 0...9 (0 stores the bytes in stored blocks), or -1 for zlib's default.
    public var level: Int
    public var strategy: DeflateStrategy

    public init(_ bytes: UnsafeRawBufferPointer, level: Int, strategy: DeflateStrategy = .default) {
        self.bytes = bytes
        self.level = level
        self.strategy = strategy
    }
}

/// zlib's compression strategies.
public enum DeflateStrategy: Sendable {
    case `default`, filtered, huffmanOnly, rle, fixed

    var zlibValue: Int32 {
        switch self {
        case .default: return Z_DEFAULT_STRATEGY
        case .filtered: return Z_FILTERED
        case .huffmanOnly: return Z_HUFFMAN_ONLY
        case .rle: return Z_RLE
        case .fixed: return Z_FIXED
        }
    }
}

public enum ZlibError: Error, CustomStringConvertible, Equatable {
    /// The stream would inflate to more than `limit` bytes.
    case outputTooLong(limit: Int)
    /// The stream ended cleanly after `produced` bytes, fewer than the `expected` count.
    case outputShort(produced: Int, expected: Int)
    /// The input ran out before the deflate stream's final block ended (truncated stream).
    case truncatedStream(produced: Int)
    /// The stream ended before the input did: `unused` bytes follow it.
    case trailingInput(unused: Int)
    /// zlib rejected the data (bad block type, bad distance, bad checksum...).
    case corrupt(message: String)
    /// A parameter zlib refused (programmer error surfaced as a value, e.g. a level out of range).
    case invalidParameter(String)
    case outOfMemory

    public var description: String {
        switch self {
        case .outputTooLong(let limit): return "deflate stream inflates to more than the declared \(limit) bytes"
        case .outputShort(let produced, let expected): return "deflate stream inflates to \(produced) bytes, expected exactly \(expected)"
        case .truncatedStream(let produced): return "deflate stream is truncated (input ended after producing \(produced) bytes, before the final block ended)"
        case .trailingInput(let unused): return "deflate stream ends \(unused) bytes before the end of its stored data"
        case .corrupt(let message): return "corrupt deflate stream: \(message)"
        case .invalidParameter(let message): return "invalid zlib parameter: \(message)"
        case .outOfMemory: return "zlib ran out of memory"
        }
    }
}

public enum Zlib {
    /// The zlib library version string, e.g. "1.2.13".
    public static var version: String { String(cString: zlibVersion()) }

    // MARK: CRC-32

    /// Who computes a CRC-32. Both give the same values; `.pclmul` only where `pclmulAvailable`.
    enum CRC32Implementation {
        /// zlib's crc32 (table-driven): any CPU, any length.
        case zlib
        /// Carry-less multiplication folding (CCRC32) for inputs of at least `pclmulMinimumLength`
        /// bytes, their last `count % 16` bytes by zlib; shorter inputs by zlib alone.
        case pclmul
    }

    /// Whether this CPU has PCLMULQDQ and SSE4.1 (checked once).
    static let pclmulAvailable = nnkit_crc32_pclmul_available() != 0

    /// Below this many bytes zlib's table is as fast as setting up the folding (and the folding
    /// needs 64 bytes to start).
    static let pclmulMinimumLength = 64

    /// CRC-32 (ISO-HDLC, as zlib/PNG) of `bytes`, continuing from `initial` (0 to start).
    public static func crc32(_ bytes: UnsafeRawBufferPointer, initial: UInt32 = 0) -> UInt32 {
        crc32(bytes, initial: initial, implementation: pclmulAvailable ? .pclmul : .zlib)
    }

    /// `crc32` with a chosen implementation, so tests can run both on one machine.
    static func crc32(_ bytes: UnsafeRawBufferPointer, initial: UInt32, implementation: CRC32Implementation) -> UInt32 {
        guard let base = bytes.baseAddress?.assumingMemoryBound(to: UInt8.self), bytes.count > 0 else { return initial }
        var crc = initial
        var done = 0
        if implementation == .pclmul && bytes.count >= pclmulMinimumLength {
            precondition(pclmulAvailable, "CRC-32 by PCLMULQDQ asked for on a CPU without it")
            crc = nnkit_crc32_pclmul(crc, base, bytes.count)
            done = bytes.count & ~15
        }
        return zlibCRC32(UnsafeRawBufferPointer(start: base + done, count: bytes.count - done), initial: crc)
    }

    private static func zlibCRC32(_ bytes: UnsafeRawBufferPointer, initial: UInt32) -> UInt32 {
        var crc = UInt(initial)
        var base = bytes.baseAddress?.assumingMemoryBound(to: UInt8.self)
        var remaining = bytes.count
        // zlib takes a uInt length: feed at most 1 GiB at a time.
        while remaining > 0, let pointer = base {
            let step = min(remaining, 1 << 30)
            crc = CZlib.crc32(crc, pointer, UInt32(step))
            base = pointer + step
            remaining -= step
        }
        return UInt32(truncatingIfNeeded: crc)
    }

    public static func crc32(_ bytes: [UInt8], initial: UInt32 = 0) -> UInt32 {
        bytes.withUnsafeBytes { crc32($0, initial: initial) }
    }

    /// CRC-32 of A followed by B, from crc(A), crc(B) and B's length: lets pieces be checked in parallel.
    public static func crc32Combine(_ crcA: UInt32, _ crcB: UInt32, lengthOfB: Int) -> UInt32 {
        UInt32(truncatingIfNeeded: crc32_combine(UInt(crcA), UInt(crcB), off_t(lengthOfB)))
    }

    // MARK: Deflate

    /// Upper bound of the compressed size of `count` bytes (any level/strategy, raw container + slack).
    public static func deflateBound(_ count: Int) -> Int {
        // zlib's deflateBound for default settings plus room for a zlib/gzip wrapper.
        count + (count >> 12) + (count >> 14) + (count >> 25) + 13 + 18
    }

    /// Hands zlib the next piece of input once it has used the last one. zlib's counters are
    /// 32-bit, so input is given in steps of at most 1 GiB.
    private static func refillInput(_ stream: inout z_stream, _ pointer: inout UnsafeMutablePointer<UInt8>?, _ left: inout Int) {
        guard stream.avail_in == 0 && left > 0 else { return }
        let step = min(left, 1 << 30)
        stream.next_in = pointer
        stream.avail_in = UInt32(step)
        pointer = pointer.map { $0 + step }
        left -= step
    }

    /// Compresses `input` into `output` (capacity at least `deflateBound(input.count)`);
    /// returns the number of bytes written. `level` 0...9 (or -1 for zlib's default).
    public static func deflate(_ input: UnsafeRawBufferPointer, into output: UnsafeMutableRawBufferPointer,
                               level: Int = 6, strategy: DeflateStrategy = .default,
                               container: DeflateContainer = .zlib) throws -> Int {
        try deflate([DeflateSegment(input, level: level, strategy: strategy)], into: output, container: container)
    }

    /// Upper bound of the compressed size of `segments` totalling `count` bytes: each change of
    /// settings ends a deflate block, which costs at most a block header and an end code.
    public static func deflateBound(_ count: Int, segments: Int) -> Int {
        deflateBound(count) + 16 * max(0, segments - 1)
    }

    /// Compresses the concatenation of `segments` as ONE stream (a single `container`), each
    /// segment with its own level and strategy: between segments whose settings differ, zlib ends
    /// the current block and continues with the new settings (deflateParams). Any inflater reads
    /// the result as one ordinary stream. `output` needs `deflateBound(total, segments:)` bytes.
    /// Returns the number of bytes written.
    public static func deflate(_ segments: [DeflateSegment], into output: UnsafeMutableRawBufferPointer,
                               container: DeflateContainer = .zlib) throws -> Int {
        for segment in segments where !(-1...9).contains(segment.level) {
            throw ZlibError.invalidParameter("level \(segment.level), expected -1...9")
        }
        let total = segments.reduce(0) { $0 + $1.bytes.count }
        guard output.count >= deflateBound(total, segments: segments.count) else {
            throw ZlibError.invalidParameter("output capacity \(output.count) below deflateBound(\(total), segments: \(segments.count))")
        }
        // Empty segments change nothing (not even the settings): leave them out.
        let pieces = segments.filter { $0.bytes.count > 0 }
        var settings = (pieces.first ?? segments.first).map { ($0.level, $0.strategy) } ?? (6, DeflateStrategy.default)
        var stream = z_stream()
        var status = deflateInit2_(&stream, Int32(settings.0), Z_DEFLATED, container.windowBits, 8,
                                   settings.1.zlibValue, ZLIB_VERSION, Int32(MemoryLayout<z_stream>.size))
        guard status == Z_OK else { throw status == Z_MEM_ERROR ? ZlibError.outOfMemory : ZlibError.invalidParameter("deflateInit2 returned \(status)") }
        defer { deflateEnd(&stream) }
        stream.next_out = output.baseAddress?.assumingMemoryBound(to: UInt8.self)
        stream.avail_out = 0
        var outputLeft = output.count
        /// Gives zlib the next piece of `output` once it has filled the last one (32-bit counters).
        func refillOutput() {
            guard stream.avail_out == 0 && outputLeft > 0 else { return }
            let step = min(outputLeft, 1 << 30)
            stream.avail_out = UInt32(step)
            outputLeft -= step
        }
        let outputFull = ZlibError.invalidParameter("deflate output exceeded the \(output.count) bytes given")

        for (index, piece) in pieces.enumerated() {
            if piece.level != settings.0 || piece.strategy != settings.1 {
                // End the current block with the old settings (Z_BLOCK until zlib leaves output room,
                // i.e. has written everything), then switch; deflateParams then has nothing to flush.
                repeat {
                    refillOutput()
                    status = CZlib.deflate(&stream, Z_BLOCK)
                    guard status == Z_OK || status == Z_BUF_ERROR else { throw ZlibError.invalidParameter("deflate(Z_BLOCK) returned \(status)") }
                } while stream.avail_out == 0 && outputLeft > 0
                guard stream.avail_out > 0 else { throw outputFull }
                status = deflateParams(&stream, Int32(piece.level), piece.strategy.zlibValue)
                guard status == Z_OK else { throw ZlibError.invalidParameter("deflateParams(\(piece.level)) returned \(status)") }
                settings = (piece.level, piece.strategy)
            }
            // The last piece ends the stream (Z_FINISH once zlib has been given all of it).
            let flush = index == pieces.count - 1 ? Z_FINISH : Z_NO_FLUSH
            var inputLeft = piece.bytes.count
            var inputPointer = UnsafeMutablePointer(mutating: piece.bytes.baseAddress?.assumingMemoryBound(to: UInt8.self))
            repeat {
                refillInput(&stream, &inputPointer, &inputLeft)
                refillOutput()
                status = CZlib.deflate(&stream, inputLeft == 0 ? flush : Z_NO_FLUSH)
                if status == Z_BUF_ERROR && stream.avail_out == 0 && outputLeft == 0 { throw outputFull }
                guard status == Z_OK || status == Z_STREAM_END || status == Z_BUF_ERROR && stream.avail_out == 0 else {
                    throw ZlibError.invalidParameter("deflate returned \(status)")
                }
            } while flush == Z_FINISH ? status != Z_STREAM_END : stream.avail_in > 0 || inputLeft > 0
        }
        if pieces.isEmpty {
            refillOutput()
            status = CZlib.deflate(&stream, Z_FINISH)
        }
        guard status == Z_STREAM_END else { throw ZlibError.invalidParameter("deflate returned \(status)") }
        return Int(stream.total_out)
    }

    /// Compresses `input` and returns the compressed bytes.
    public static func deflate(_ input: UnsafeRawBufferPointer, level: Int = 6, strategy: DeflateStrategy = .default,
                               container: DeflateContainer = .zlib) throws -> [UInt8] {
        var output = [UInt8](repeating: 0, count: deflateBound(input.count))
        let written = try output.withUnsafeMutableBytes {
            try deflate(input, into: $0, level: level, strategy: strategy, container: container)
        }
        output.removeSubrange(written...)
        return output
    }

    public static func deflate(_ input: [UInt8], level: Int = 6, strategy: DeflateStrategy = .default,
                                                   container: DeflateContainer = .zlib) throws -> [UInt8] {
        try input.withUnsafeBytes { try deflate($0, level: level, strategy: strategy, container: container) }
    }

    // MARK: Bounded inflate

    /// Inflates `input`, which must be exactly one complete stream, into `output`, which it must fill
    /// exactly. Never writes past `output`. Errors: `.outputTooLong` (the stream has more data than
    /// `output.count`), `.outputShort`, `.truncatedStream`, `.trailingInput`, `.corrupt`.
    public static func inflate(_ input: UnsafeRawBufferPointer, into output: UnsafeMutableRawBufferPointer,
                               container: DeflateContainer = .zlib) throws {
        let produced = try inflateUpTo(input, into: output, container: container)
        guard produced == output.count else { throw ZlibError.outputShort(produced: produced, expected: output.count) }
    }

    /// Inflates `input` (exactly one complete stream) into `output`, returning how many bytes it
    /// produced (≤ output.count). Throws `.outputTooLong` if the stream would produce more.
    public static func inflateUpTo(_ input: UnsafeRawBufferPointer, into output: UnsafeMutableRawBufferPointer,
                                   container: DeflateContainer = .zlib) throws -> Int {
        var stream = z_stream()
        var status = inflateInit2_(&stream, container.windowBits, ZLIB_VERSION, Int32(MemoryLayout<z_stream>.size))
        guard status == Z_OK else { throw status == Z_MEM_ERROR ? ZlibError.outOfMemory : ZlibError.invalidParameter("inflateInit2 returned \(status)") }
        defer { inflateEnd(&stream) }
        var inputLeft = input.count
        var inputPointer = UnsafeMutablePointer(mutating: input.baseAddress?.assumingMemoryBound(to: UInt8.self))
        var outputLeft = output.count
        var outputPointer = output.baseAddress?.assumingMemoryBound(to: UInt8.self)
        var produced = 0
        // Once `output` is full, inflate continues into a 1-byte probe: if the stream writes it, it is
        // too long; if it ends without writing, the size was hit exactly. (zlib may need one more call
        // after filling the output to see the end-of-stream code.)
        let probe = UnsafeMutablePointer<UInt8>.allocate(capacity: 1)
        defer { probe.deallocate() }
        var probing = false
        var stalls = 0
        while true {
            refillInput(&stream, &inputPointer, &inputLeft)
            if stream.avail_out == 0 {
                if outputLeft > 0 {
                    let step = min(outputLeft, 1 << 30)
                    stream.next_out = outputPointer
                    stream.avail_out = UInt32(step)
                    outputPointer = outputPointer.map { $0 + step }
                    outputLeft -= step
                } else if !probing {
                    probing = true
                    stream.next_out = probe
                    stream.avail_out = 1
                }
            }
            let availInBefore = stream.avail_in
            let availOutBefore = stream.avail_out
            status = CZlib.inflate(&stream, Z_NO_FLUSH)
            if probing {
                if stream.avail_out == 0 { throw ZlibError.outputTooLong(limit: output.count) }
            } else {
                produced += Int(availOutBefore - stream.avail_out)
            }
            switch status {
            case Z_STREAM_END:
                let unused = Int(stream.avail_in) + inputLeft
                guard unused == 0 else { throw ZlibError.trailingInput(unused: unused) }
                return produced
            case Z_OK, Z_BUF_ERROR:
                if stream.avail_in == 0 && inputLeft == 0 && (status == Z_BUF_ERROR || availInBefore == 0) {
                    throw ZlibError.truncatedStream(produced: produced)
                }
                // No progress twice in a row cannot happen with valid buffers; never loop forever.
                stalls = (availInBefore == stream.avail_in && availOutBefore == stream.avail_out) ? stalls + 1 : 0
                if stalls > 2 { throw ZlibError.corrupt(message: "inflate made no progress") }
            case Z_NEED_DICT:
                throw ZlibError.corrupt(message: "stream needs a preset dictionary")
            case Z_MEM_ERROR:
                throw ZlibError.outOfMemory
            default:
                let message = stream.msg.map { String(cString: $0) } ?? "zlib status \(status)"
                throw ZlibError.corrupt(message: message)
            }
        }
    }

    /// Inflates `input` (one complete stream) to a new array of exactly `expectedSize` bytes.
    public static func inflate(_ input: UnsafeRawBufferPointer, expectedSize: Int,
                               container: DeflateContainer = .zlib) throws -> [UInt8] {
        var output = [UInt8](repeating: 0, count: expectedSize)
        try output.withUnsafeMutableBytes { try inflate(input, into: $0, container: container) }
        return output
    }

    public static func inflate(_ input: [UInt8], expectedSize: Int,
                                                   container: DeflateContainer = .zlib) throws -> [UInt8] {
        try input.withUnsafeBytes { try inflate($0, expectedSize: expectedSize, container: container) }
    }
}

/// Incremental CRC-32: `var c = CRC32(); c.update(a); c.update(b); c.value`.
public struct CRC32: Sendable, Equatable {
    public private(set) var value: UInt32

    public init(value: UInt32 = 0) { self.value = value }

    public mutating func update(_ bytes: UnsafeRawBufferPointer) { value = Zlib.crc32(bytes, initial: value) }

    public mutating func update(_ bytes: [UInt8]) { bytes.withUnsafeBytes { update($0) } }
}
