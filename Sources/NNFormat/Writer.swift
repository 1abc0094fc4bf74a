// The deterministic, atomic writer (formats/nnck-v1.md section 5).
import Glibc
import NNJSON
import NNParallel
import NNZlib

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
    /// Deflate level 0...9. Level 1 with the RLE strategy compresses shuffled float planes nearly as
    /// well as level 6 at several times the speed.
    public var level: Int
    public var strategy: DeflateStrategy
    /// Threads for compression (nil: NNFormat's default pool, one thread per core up to 8).
    public var pool: WorkerPool?
    /// Upper bound for a recorded creation time; defaults to the SOURCE_DATE_EPOCH environment variable.
    public var sourceDateEpoch: Int64?

    public init(codec: Codec = .shuffleDeflate, codecs: [String: Codec] = [:], chunkSize: Int = 1 << 20,
                chunkSizes: [String: Int] = [:], level: Int = 1, strategy: DeflateStrategy = .rle,
                pool: WorkerPool? = nil, sourceDateEpoch: Int64? = WriterOptions.environmentSourceDateEpoch()) {
        self.codec = codec
        self.codecs = codecs
        self.chunkSize = chunkSize
        self.chunkSizes = chunkSizes
        self.level = level
        self.strategy = strategy
        self.pool = pool
        self.sourceDateEpoch = sourceDateEpoch
    }

    /// Options that store every tensor as it is stored in a file that was read (codec and chunk
    /// size), so writing back what was read gives the same bytes.
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
        guard (0...9).contains(options.level) else { throw CheckpointError.unwritable(field: "options.level", found: "\(options.level)", expected: "0...9") }
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
            blocks.append(try encodeBlock(tensor, codec: codec, chunkSize: chunkSize, level: options.level, strategy: options.strategy, pool: pool))
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

    private static func encodeBlock(_ tensor: Tensor, codec: Codec, chunkSize: Int, level: Int, strategy: DeflateStrategy,
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
                    var input = UnsafeRawBufferPointer(rebasing: raw[range])
                    let rawCRC = Zlib.crc32(input)
                    var scratch: UnsafeMutableRawBufferPointer?
                    defer { scratch?.deallocate() }
                    if codec == .shuffleDeflate {
                        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: input.count, alignment: 64)
                        ByteShuffle.shuffle(input.baseAddress!, into: buffer.baseAddress!, elements: input.count / elementSize, elementSize: elementSize)
                        scratch = buffer
                        input = UnsafeRawBufferPointer(buffer)
                    }
                    // Compress into a scratch of deflateBound, then keep an exact-size copy.
                    let bound = Zlib.deflateBound(input.count)
                    let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: bound, alignment: 64)
                    defer { buffer.deallocate() }
                    do {
                        let written = try Zlib.deflate(input, into: buffer, level: level, strategy: strategy, container: .raw)
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
