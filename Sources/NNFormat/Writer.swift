// The deterministic, atomic writer (formats/nnck-v1.md section 5).
import Glibc
import NNJSON
import NNParallel
import NNZlib

/// How the writer sets deflate's parameters inside a chunk. Either way each chunk is ONE raw deflate
/// stream that any inflater reads; the profile changes only the writer's speed, the file's size and
/// its exact bytes (not the format).
public enum DeflateProfile: Sendable, Equatable {
    /// One level (0...9) and strategy for the whole chunk. nnkit's writer used `.wholeChunk(level: 1,
    /// strategy: .rle)` until the per-plane profile; the committed fixtures were written with it.
    case wholeChunk(level: Int, strategy: DeflateStrategy)
    /// Shuffle+deflate chunks are compressed plane by plane within their one stream: with the `.rle`
    /// or `.huffmanOnly` strategy, a byte plane they cannot shrink (the random low mantissa bytes of
    /// float weights) goes into stored blocks, every other plane (exponents, zero runs) gets `level`
    /// and `strategy`. Stored planes cost a copy to write and to read instead of Huffman coding that
    /// would make them slightly larger. Plain deflate chunks have no planes, and other strategies
    /// find matches the plane test cannot predict: those get `level` and `strategy` throughout.
    case perPlane(level: Int, strategy: DeflateStrategy)

    /// The level and strategy for data the profile compresses.
    var settings: (level: Int, strategy: DeflateStrategy) {
        switch self {
        case .wholeChunk(let level, let strategy), .perPlane(let level, let strategy): return (level, strategy)
        }
    }
}

/// How the writer stores tensors. Output depends only on the checkpoint and these options (and,
/// for compressed codecs, on zlib's deflate implementation).
public struct WriterOptions {
    /// Codec for tensors not listed in `codecs`.
    public var codec: Codec
    /// Per-tensor codec overrides, by tensor name.
    public var codecs: [String: Codec]
    /// Raw bytes per independently compressed chunk (a multiple of every tensor's element size; 8 fits all).
    public var chunkSize: Int
    /// Per-tensor chunk size overrides.
    public var chunkSizes: [String: Int]
    /// Deflate settings of compressed chunks. Level 1 with the RLE strategy compresses shuffled float
    /// planes nearly as well as level 6 at several times the speed.
    public var deflate: DeflateProfile
    /// Threads for compression (nil: NNFormat's default pool, one thread per core up to 8).
    public var pool: WorkerPool?
    /// Upper bound for a recorded creation time; defaults to the SOURCE_DATE_EPOCH environment variable.
    public var sourceDateEpoch: Int64?

    public init(codec: Codec = .shuffleDeflate, codecs: [String: Codec] = [:], chunkSize: Int = 1 << 20,
                chunkSizes: [String: Int] = [:], deflate: DeflateProfile = .perPlane(level: 1, strategy: .rle),
                pool: WorkerPool? = nil, sourceDateEpoch: Int64? = WriterOptions.environmentSourceDateEpoch()) {
        self.codec = codec
        self.codecs = codecs
        self.chunkSize = chunkSize
        self.chunkSizes = chunkSizes
        self.deflate = deflate
        self.pool = pool
        self.sourceDateEpoch = sourceDateEpoch
    }

    /// Options that store every tensor as it is stored in a file that was read (codec and chunk
    /// size), so writing back what was read gives the same bytes, if that file was written with the
    /// same deflate profile (the file does not record it; this uses the default).
    public init(preserving storage: [TensorStorage]) {
        self.init()
        for entry in storage {
            codecs[entry.name] = entry.codec
            if let size = entry.chunkSize { chunkSizes[entry.name] = size }
        }
    }

    /// SOURCE_DATE_EPOCH parsed as an integer, or nil when unset or not an integer.
    public static func environmentSourceDateEpoch() -> Int64? {
        guard let text = getenv("SOURCE_DATE_EPOCH") else { return nil }
        return Int64(String(cString: text))
    }
}

public enum CheckpointWriter {
    /// The file's bytes. Validates the checkpoint first.
    public static func encode(_ checkpoint: Checkpoint, options: WriterOptions = WriterOptions()) throws -> [UInt8] {
        var checkpoint = checkpoint
        if let created = checkpoint.training?.createdUnix, let epoch = options.sourceDateEpoch, created > epoch {
            checkpoint.training?.createdUnix = epoch
        }
        try checkpoint.validate(source: "checkpoint to write")
        let level = options.deflate.settings.level
        guard (0...9).contains(level) else { throw CheckpointError.unwritable(field: "options.deflate level", found: "\(level)", expected: "0...9") }
        let pool = options.pool ?? defaultPool

        // Compress every tensor (chunks in parallel); the manifest needs the stored lengths.
        var blocks: [EncodedBlock] = []
        for tensor in checkpoint.tensors {
            let codec = options.codecs[tensor.name] ?? options.codec
            let chunkSize = options.chunkSizes[tensor.name] ?? options.chunkSize
            // The spec's rule (a positive multiple of the element size), no stricter: a file the reader
            // accepts must be writable again with its storage preserved (found by the
            // checkpoint-structured fuzzer: an f32 tensor stored in chunks of 252 bytes).
            let elementSize = tensor.dtype.byteSize
            guard chunkSize >= elementSize, chunkSize % elementSize == 0 else {
                throw CheckpointError.unwritable(field: "chunk size of \"\(tensor.name)\"", found: "\(chunkSize)",
                                                 expected: "a positive multiple of the \(tensor.dtype.rawValue) element size \(elementSize)")
            }
            blocks.append(try encodeBlock(tensor, codec: codec, chunkSize: chunkSize, profile: options.deflate, pool: pool))
        }

        // Offsets depend on the manifest's length, which depends on the offsets' digits: iterate to
        // the fixed point (lengths only grow with the data start, so this converges).
        var dataStart = 0
        var manifest: [UInt8] = []
        var storage: [TensorStorage] = []
        for _ in 0..<16 {
            storage = layout(blocks, checkpoint: checkpoint, dataStart: dataStart)
            manifest = try ManifestEncoder.encode(checkpoint, storage: storage)
            let needed = align64(CheckpointReader.headerSize + manifest.count)
            if needed == dataStart { break }
            dataStart = needed
        }
        storage = layout(blocks, checkpoint: checkpoint, dataStart: align64(CheckpointReader.headerSize + manifest.count))
        manifest = try ManifestEncoder.encode(checkpoint, storage: storage)
        precondition(storage.isEmpty || storage[0].offset == align64(CheckpointReader.headerSize + manifest.count), "manifest layout did not converge")

        let end = storage.last.map { $0.offset + $0.storedLength } ?? CheckpointReader.headerSize + manifest.count
        var file = [UInt8]()
        file.reserveCapacity(end)
        file += CheckpointReader.magic
        appendLE(&file, UInt64(Checkpoint.formatMajor), bytes: 2)
        appendLE(&file, UInt64(Checkpoint.formatMinor), bytes: 2)
        appendLE(&file, 0, bytes: 4)
        appendLE(&file, UInt64(manifest.count), bytes: 8)
        appendLE(&file, UInt64(Zlib.crc32(manifest)), bytes: 4)
        appendLE(&file, UInt64(Zlib.crc32(file)), bytes: 4)
        file += manifest
        for (index, block) in blocks.enumerated() {
            file += repeatElement(0, count: storage[index].offset - file.count)
            switch block.payload {
            case .raw:
                checkpoint.tensors[index].values.withUnsafeBytes { raw in
                    file.append(contentsOf: UnsafeBufferPointer(start: raw.baseAddress?.assumingMemoryBound(to: UInt8.self), count: raw.count))
                }
            case .chunks(let chunks): for chunk in chunks { file += chunk }
            }
        }
        assert(file.count == end)
        return file
    }

    /// Writes atomically: temporary file in the same directory, fsync, rename over `path`, fsync the
    /// directory. On failure the temporary file is removed and any previous file is left untouched.
    public static func write(_ checkpoint: Checkpoint, to path: String, options: WriterOptions = WriterOptions()) throws {
        let bytes = try encode(checkpoint, options: options)
        try writeAtomically(bytes, to: path)
    }

    /// The atomic replacement used by `write`, exposed for other files nnkit writes (reports, CSV):
    /// an `AtomicOutputFile` given the whole content at once. Its errors are reported as
    /// `CheckpointError.io`. It installs no signal handlers (nntrain has its own SIGINT handling
    /// while it writes); a killed writer's temporary file is removed by the next successful write.
    public static func writeAtomically(_ bytes: [UInt8], to path: String) throws {
        do {
            let file = try AtomicOutputFile(path: path, removeOnSignal: false)
            try file.write(bytes)
            try file.commit()
        } catch let OutputFileError.io(file, operation, reason) {
            throw CheckpointError.io(file: file, operation: operation, message: reason)
        }
    }

    // MARK: Blocks

    private enum Payload {
        case raw
        case chunks([[UInt8]])
    }

    private struct EncodedBlock {
        var codec: Codec
        var chunkSize: Int?
        var rawLength: Int
        var crc32: UInt32
        var payload: Payload
        var chunkTable: [StoredChunk]
        var storedLength: Int {
            switch payload {
            case .raw: return rawLength
            case .chunks(let chunks): return chunks.reduce(0) { $0 + $1.count }
            }
        }
    }

    private static func encodeBlock(_ tensor: Tensor, codec: Codec, chunkSize: Int, profile: DeflateProfile,
                                    pool: WorkerPool) throws -> EncodedBlock {
        try tensor.values.withUnsafeBytes { raw in
            if codec == .raw {
                return EncodedBlock(codec: .raw, chunkSize: nil, rawLength: raw.count,
                                    crc32: try combinedCRC(length: raw.count, pieceSize: chunkSize, pool: pool) { Zlib.crc32(UnsafeRawBufferPointer(rebasing: raw[$0])) },
                                    payload: .raw, chunkTable: [])
            }
            let count = raw.count == 0 ? 0 : (raw.count - 1) / chunkSize + 1
            var chunks = [[UInt8]](repeating: [], count: count)
            let elementSize = tensor.dtype.byteSize
            // Each chunk is compressed by one thread, which returns the CRC of its raw bytes.
            let crc = try chunks.withUnsafeMutableBufferPointer { chunkSlots in
                try combinedCRC(length: raw.count, pieceSize: chunkSize, pool: pool) { range in
                    let input = UnsafeRawBufferPointer(rebasing: raw[range])
                    let rawCRC = Zlib.crc32(input)
                    var segments = [DeflateSegment(input, level: profile.settings.level, strategy: profile.settings.strategy)]
                    var shuffled: UnsafeMutableRawBufferPointer?
                    defer { shuffled?.deallocate() }
                    if codec == .shuffleDeflate {
                        let planes = UnsafeMutableRawBufferPointer.allocate(byteCount: input.count, alignment: 64)
                        shuffled = planes
                        ByteShuffle.shuffle(input.baseAddress!, into: planes.baseAddress!, elements: input.count / elementSize, elementSize: elementSize)
                        segments = deflateSegments(planes: UnsafeRawBufferPointer(planes), elementSize: elementSize, profile: profile)
                    }
                    // Compress into a scratch of the bound, then keep an exact-size copy.
                    let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: Zlib.deflateBound(input.count, segments: segments.count), alignment: 64)
                    defer { buffer.deallocate() }
                    do {
                        let written = try Zlib.deflate(segments, into: buffer, container: .raw)
                        chunkSlots[range.lowerBound / chunkSize] = Array(UnsafeRawBufferPointer(rebasing: buffer[0..<written]))
                    } catch let error as ZlibError {
                        throw CheckpointError.unwritable(field: "tensor \"\(tensor.name)\"", found: error.description, expected: "deflate to succeed")
                    }
                    return rawCRC
                }
            }
            let table = chunks.map { StoredChunk(storedLength: $0.count, crc32: Zlib.crc32($0)) }
            return EncodedBlock(codec: codec, chunkSize: chunkSize, rawLength: raw.count, crc32: crc, payload: .chunks(chunks), chunkTable: table)
        }
    }

    /// The deflate segments of a shuffled chunk (`elementSize` planes of equal length, one after
    /// another in `planes`) under `profile`: the whole chunk as one segment, or one per plane with
    /// incompressible planes stored (level 0).
    static func deflateSegments(planes: UnsafeRawBufferPointer, elementSize: Int, profile: DeflateProfile) -> [DeflateSegment] {
        let (level, strategy) = profile.settings
        // The incompressibility test models run-length and Huffman coding only: other strategies find
        // repeated strings, which it cannot see, so with them every plane is compressed.
        guard case .perPlane = profile, level > 0, strategy == .rle || strategy == .huffmanOnly else {
            return [DeflateSegment(planes, level: level, strategy: strategy)]
        }
        let planeLength = planes.count / elementSize
        return (0..<elementSize).map { plane in
            let bytes = UnsafeRawBufferPointer(rebasing: planes[plane * planeLength..<(plane + 1) * planeLength])
            return looksIncompressible(bytes) ? DeflateSegment(bytes, level: 0) : DeflateSegment(bytes, level: level, strategy: strategy)
        }
    }

    /// Whether Z_RLE or Huffman-only deflate would gain (almost) nothing on `plane`, so stored blocks
    /// are as small and much faster to write and to read. Those strategies find only runs of one
    /// repeated byte and otherwise Huffman-code single bytes, so two counts decide:
    /// - the bytes equal to their predecessor: random bytes have n/256 of them; more than n/128
    ///   means runs worth coding;
    /// - the histogram's distance from uniform, χ² = 256·Σc²/n − n: the order-0 entropy is at least
    ///   8 − log2(1 + χ²/n) bits per byte (KL(p‖uniform) ≤ log(1 + χ²/n)), so χ²/n ≤ 1/16
    ///   leaves Huffman coding at most 0.09 bits per byte (1.1 %) to save. Uniform random bytes give
    ///   χ²/n ≈ 255/n, which passes only for planes of more than 4 KiB; shorter ones are compressed.
    /// Integer arithmetic only, so the decision, and the file's bytes, cannot vary between machines.
    static func looksIncompressible(_ plane: UnsafeRawBufferPointer) -> Bool {
        let n = plane.count
        guard n >= 4096, let base = plane.baseAddress else { return false }
        // Runs first: a cheap pass that turns down zero and exponent planes before the histogram.
        guard repeatedBytes(plane) <= n / 128 else { return false }
        // Four tables, so consecutive bytes rarely wait on each other's increment; 8 bytes per load.
        var counts = [Int](repeating: 0, count: 4 * 256)
        counts.withUnsafeMutableBufferPointer { counts in
            var index = 0
            while index + 8 <= n {
                let word = base.loadUnaligned(fromByteOffset: index, as: UInt64.self)
                for byte in 0..<8 { counts[(byte & 3) << 8 | Int(truncatingIfNeeded: word >> (8 * UInt64(byte))) & 0xFF] += 1 }
                index += 8
            }
            for index in index..<n { counts[Int(plane[index])] += 1 }
        }
        // χ²/n ≤ 1/16  ⇔  256·Σc² − n² ≤ n²/16  ⇔  4096·Σc² ≤ 17·n² (UInt128: n² overflows Int for n ≥ 2³¹·⁵).
        let sumOfSquares = (0..<256).reduce(UInt128(0)) { sum, value in
            let count = UInt128(counts[value] + counts[256 + value] + counts[512 + value] + counts[768 + value])
            return sum + count * count
        }
        return 4096 * sumOfSquares <= 17 * UInt128(n) * UInt128(n)
    }

    /// How many bytes of `bytes` equal the byte before them, 8 at a time: byte k of
    /// word ^ (word << 8 | previous byte) is zero exactly when byte k repeats byte k − 1.
    static func repeatedBytes(_ bytes: UnsafeRawBufferPointer) -> Int {
        guard bytes.count > 1, let base = bytes.baseAddress else { return 0 }
        let high: UInt64 = 0x8080_8080_8080_8080, low7: UInt64 = 0x7F7F_7F7F_7F7F_7F7F
        var repeats = 0
        var previous = UInt64(~bytes[0])  // the first byte has no predecessor: never a repeat
        var index = 0
        while index + 8 <= bytes.count {
            let word = base.loadUnaligned(fromByteOffset: index, as: UInt64.self)
            let difference = word ^ (word << 8 | previous)
            // A byte's top bit in `nonzero` is set iff that byte of `difference` is nonzero (exact, no carries).
            let nonzero = ((difference & low7) &+ low7 | difference) & high
            repeats += 8 - nonzero.nonzeroBitCount
            previous = word >> 56
            index += 8
        }
        for index in max(index, 1)..<bytes.count where bytes[index] == bytes[index - 1] { repeats += 1 }
        return repeats
    }

    private static func layout(_ blocks: [EncodedBlock], checkpoint: Checkpoint, dataStart: Int) -> [TensorStorage] {
        var offset = dataStart
        return zip(blocks, checkpoint.tensors).map { block, tensor in
            let entry = TensorStorage(name: tensor.name, dtype: tensor.dtype, shape: tensor.shape, offset: offset,
                                      storedLength: block.storedLength, rawLength: block.rawLength, codec: block.codec,
                                      crc32: block.crc32, chunkSize: block.chunkSize, chunks: block.chunkTable)
            offset = align64(offset + block.storedLength)
            return entry
        }
    }

    private static func appendLE(_ bytes: inout [UInt8], _ value: UInt64, bytes count: Int) {
        for index in 0..<count { bytes.append(UInt8(truncatingIfNeeded: value >> (8 * UInt64(index)))) }
    }
}
