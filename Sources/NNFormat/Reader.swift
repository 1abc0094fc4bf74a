// The strict reader: checks the header, manifest, table and layout before allocating or inflating
// anything (formats/nnck-v1.md section 4), then decodes tensors chunk by chunk, in parallel.
import Glibc
import NNJSON
import NNParallel
import NNZlib

/// Everything read from a file: the checkpoint plus how it was stored (for inspection tools).
public struct ReadResult: Sendable {
    public var checkpoint: Checkpoint
    /// The tensor table, in file order.
    public var storage: [TensorStorage]
    public var formatMajor: Int
    public var formatMinor: Int
    public var fileSize: Int
    public var manifestLength: Int
    /// The manifest as parsed (including members this reader does not know).
    public var manifest: JSONValue
}

/// Where the reader gets bytes from: a file (pread) or memory.
protocol ByteSource {
    var size: Int { get }
    func read(at offset: Int, into buffer: UnsafeMutableRawBufferPointer) throws
}

private struct MemorySource: ByteSource {
    let bytes: [UInt8]
    var size: Int { bytes.count }
    func read(at offset: Int, into buffer: UnsafeMutableRawBufferPointer) throws {
        guard buffer.count > 0 else { return }
        bytes.withUnsafeBytes { all in
            buffer.baseAddress!.copyMemory(from: all.baseAddress! + offset, byteCount: buffer.count)
        }
    }
}

private final class FileSource: ByteSource {
    let path: String
    let descriptor: Int32
    let size: Int

    init(path: String) throws {
        self.path = path
        // O_NONBLOCK: opening a FIFO for reading otherwise blocks until a writer appears (forever,
        // if none does); the regular-file check below then rejects it. No effect on regular files.
        descriptor = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK)
        guard descriptor >= 0 else { throw CheckpointError.io(file: path, operation: "open", message: String(cString: strerror(errno))) }
        var info = stat()
        guard fstat(descriptor, &info) == 0 else {
            let message = String(cString: strerror(errno))
            close(descriptor)
            throw CheckpointError.io(file: path, operation: "stat", message: message)
        }
        guard (info.st_mode & S_IFMT) == S_IFREG else {
            close(descriptor)
            throw CheckpointError.io(file: path, operation: "open", message: "not a regular file")
        }
        size = Int(info.st_size)
    }

    deinit { close(descriptor) }

    func read(at offset: Int, into buffer: UnsafeMutableRawBufferPointer) throws {
        var done = 0
        while done < buffer.count {
            let got = pread(descriptor, buffer.baseAddress! + done, buffer.count - done, off_t(offset + done))
            if got < 0 {
                if errno == EINTR { continue }
                throw CheckpointError.io(file: path, operation: "read", message: String(cString: strerror(errno)))
            }
            if got == 0 { throw CheckpointError.io(file: path, operation: "read", message: "file shrank while being read") }
            done += got
        }
    }
}

func align64(_ n: Int) -> Int { (n + 63) & ~63 }

/// Number of threads NNFormat uses by default to (de)compress chunks.
let defaultPool = WorkerPool(threads: max(1, min(Int(sysconf(Int32(_SC_NPROCESSORS_ONLN))), 8)))

public enum CheckpointReader {
    static let magic: [UInt8] = [0x89, 0x4E, 0x4E, 0x43, 0x4B, 0x0D, 0x0A, 0x1A]
    static let headerSize = 32

    /// Reads and fully checks the checkpoint at `path`.
    public static func read(path: String, limits: ReaderLimits = .default, pool: WorkerPool? = nil) throws -> Checkpoint {
        try readDetailed(path: path, limits: limits, pool: pool).checkpoint
    }

    public static func readDetailed(path: String, limits: ReaderLimits = .default, pool: WorkerPool? = nil) throws -> ReadResult {
        try decode(source: try FileSource(path: path), name: path, limits: limits, pool: pool ?? defaultPool)
    }

    /// Decodes a checkpoint held in memory; `source` names it in error messages.
    public static func decode(bytes: [UInt8], source: String = "<memory>", limits: ReaderLimits = .default, pool: WorkerPool? = nil) throws -> Checkpoint {
        try decodeDetailed(bytes: bytes, source: source, limits: limits, pool: pool).checkpoint
    }

    public static func decodeDetailed(bytes: [UInt8], source: String = "<memory>", limits: ReaderLimits = .default, pool: WorkerPool? = nil) throws -> ReadResult {
        try decode(source: MemorySource(bytes: bytes), name: source, limits: limits, pool: pool ?? defaultPool)
    }

    // MARK: Steps

    private static func decode(source: ByteSource, name file: String, limits: ReaderLimits, pool: WorkerPool) throws -> ReadResult {
        // 1. Header.
        guard source.size >= headerSize else {
            if source.size >= 8 { try checkMagic(source, file) }
            throw CheckpointError.truncated(file: file, section: "header", needed: headerSize, available: source.size)
        }
        var header = [UInt8](repeating: 0, count: headerSize)
        try header.withUnsafeMutableBytes { try source.read(at: 0, into: $0) }
        guard Array(header[0..<8]) == magic else { throw CheckpointError.badMagic(file: file, found: Array(header[0..<8])) }
        let headerCRC = Zlib.crc32(Array(header[0..<28]))
        let storedHeaderCRC = le32(header, 28)
        guard headerCRC == storedHeaderCRC else { throw CheckpointError.headerChecksum(file: file, found: headerCRC, expected: storedHeaderCRC) }
        let major = Int(le16(header, 8)), minor = Int(le16(header, 10))
        guard major == Checkpoint.formatMajor else {
            throw CheckpointError.unsupportedMajorVersion(file: file, found: major, supported: Checkpoint.formatMajor)
        }
        let flags = le32(header, 12)
        guard flags == 0 else { throw CheckpointError.reservedFlags(file: file, found: flags) }

        // 2. Manifest bytes.
        let manifestLength64 = le64(header, 16)
        guard manifestLength64 <= UInt64(limits.maxManifestBytes) else {
            throw CheckpointError.limitExceeded(file: file, limit: "maxManifestBytes", found: Int(clamping: manifestLength64), cap: limits.maxManifestBytes)
        }
        let manifestLength = Int(manifestLength64)
        guard headerSize + manifestLength <= source.size else {
            throw CheckpointError.truncated(file: file, section: "manifest", needed: headerSize + manifestLength, available: source.size)
        }
        var manifestBytes = [UInt8](repeating: 0, count: manifestLength)
        try manifestBytes.withUnsafeMutableBytes { try source.read(at: headerSize, into: $0) }
        let manifestCRC = Zlib.crc32(manifestBytes)
        guard manifestCRC == le32(header, 24) else {
            throw CheckpointError.manifestChecksum(file: file, found: manifestCRC, expected: le32(header, 24))
        }
        let json: JSONValue
        do {
            json = try JSONValue.parse(manifestBytes, maxDepth: limits.maxJSONDepth)
        } catch let error as JSONError {
            throw CheckpointError.manifestJSON(file: file, error: error)
        }

        // 3. Manifest members.
        var decoded = try ManifestDecoder.decode(json, file: file)
        guard decoded.majorVersion == major, decoded.minorVersion == minor else {
            throw CheckpointError.field(file: file, field: "format_version", found: "\(decoded.majorVersion).\(decoded.minorVersion)",
                                        expected: "\(major).\(minor) as in the header")
        }

        // 4. Tensor table and layout.
        let storage = decoded.storage
        try checkTable(storage, manifestEnd: headerSize + manifestLength, fileSize: source.size, limits: limits, file: file)

        // 5. Model consistency, from names and shapes only.
        var descriptors: [String: TensorDescriptor] = [:]
        for entry in storage { descriptors[entry.name] = TensorDescriptor(dtype: entry.dtype, shape: entry.shape) }
        try decoded.checkpoint.validateStructure(tensors: descriptors, source: file)

        // 6. Padding, then the tensors themselves.
        var paddingStart = headerSize + manifestLength
        for entry in storage {
            try checkZero(source, from: paddingStart, to: entry.offset, file: file)
            paddingStart = entry.offset + entry.storedLength
        }
        decoded.checkpoint.tensors = try storage.map { try readTensor($0, from: source, pool: pool, file: file) }
        try decoded.checkpoint.validateValues(source: file)
        return ReadResult(checkpoint: decoded.checkpoint, storage: storage, formatMajor: major, formatMinor: minor,
                          fileSize: source.size, manifestLength: manifestLength, manifest: json)
    }

    private static func checkMagic(_ source: ByteSource, _ file: String) throws {
        var start = [UInt8](repeating: 0, count: 8)
        try start.withUnsafeMutableBytes { try source.read(at: 0, into: $0) }
        guard start == magic else { throw CheckpointError.badMagic(file: file, found: start) }
    }

    private static func checkTable(_ storage: [TensorStorage], manifestEnd: Int, fileSize: Int, limits: ReaderLimits, file: String) throws {
        guard storage.count <= limits.maxTensorCount else {
            throw CheckpointError.limitExceeded(file: file, limit: "maxTensorCount", found: storage.count, cap: limits.maxTensorCount)
        }
        var names = Set<String>()
        var totalRaw = 0
        var expectedOffset = align64(manifestEnd)
        var end = manifestEnd
        for entry in storage {
            let name = entry.name
            guard names.insert(name).inserted else { throw CheckpointError.duplicateTensor(file: file, tensor: name) }
            guard let count = Shape.elementCount(entry.shape), case let (bytes, false) = count.multipliedReportingOverflow(by: entry.dtype.byteSize) else {
                throw CheckpointError.shapeOverflow(file: file, tensor: name, shape: entry.shape)
            }
            guard entry.rawLength == bytes else {
                throw CheckpointError.layout(file: file, tensor: name, found: "raw_length \(entry.rawLength)",
                                             expected: "\(bytes) = \(count) elements of shape \(Shape.text(entry.shape)) × \(entry.dtype.byteSize) bytes")
            }
            guard bytes <= limits.maxTensorBytes else {
                throw CheckpointError.limitExceeded(file: file, limit: "maxTensorBytes", found: bytes, cap: limits.maxTensorBytes)
            }
            totalRaw += bytes
            guard totalRaw <= limits.maxTotalTensorBytes else {
                throw CheckpointError.limitExceeded(file: file, limit: "maxTotalTensorBytes", found: totalRaw, cap: limits.maxTotalTensorBytes)
            }
            if entry.codec == .raw {
                guard entry.storedLength == entry.rawLength else {
                    throw CheckpointError.layout(file: file, tensor: name, found: "stored_length \(entry.storedLength) with codec raw",
                                                 expected: "\(entry.rawLength), the raw length")
                }
            } else {
                let chunkSize = entry.chunkSize!
                guard chunkSize % entry.dtype.byteSize == 0 else {
                    throw CheckpointError.layout(file: file, tensor: name, found: "chunk_size \(chunkSize)",
                                                 expected: "a multiple of \(entry.dtype.byteSize), the \(entry.dtype.rawValue) element size")
                }
                let chunkCount = bytes == 0 ? 0 : (bytes - 1) / chunkSize + 1
                guard entry.chunks.count == chunkCount else {
                    throw CheckpointError.layout(file: file, tensor: name, found: "\(entry.chunks.count) chunks",
                                                 expected: "\(chunkCount) = ceil(raw_length \(bytes) / chunk_size \(chunkSize))")
                }
                var storedSum = 0
                for (index, chunk) in entry.chunks.enumerated() {
                    let raw = min(chunkSize, bytes - index * chunkSize)
                    // Deflate's best case is ~1032:1; anything above is a lie (or a bomb).
                    guard raw <= 1032 * chunk.storedLength + 1032 else {
                        throw CheckpointError.implausibleCompression(file: file, tensor: name, chunk: index, rawLength: raw, storedLength: chunk.storedLength)
                    }
                    storedSum += chunk.storedLength
                }
                guard storedSum == entry.storedLength else {
                    throw CheckpointError.layout(file: file, tensor: name, found: "stored_length \(entry.storedLength)",
                                                 expected: "\(storedSum), the sum of its chunks' stored lengths")
                }
            }
            guard entry.offset == expectedOffset else {
                throw CheckpointError.layout(file: file, tensor: name, found: "block at offset \(entry.offset)",
                                             expected: "offset \(expectedOffset) (the first multiple of 64 after the previous block; blocks in table order, no gaps or overlaps)")
            }
            end = entry.offset + entry.storedLength
            guard end <= fileSize else {
                throw CheckpointError.layout(file: file, tensor: name, found: "block ending at byte \(end)",
                                             expected: "a block inside the file's \(fileSize) bytes (truncated file?)")
            }
            expectedOffset = align64(end)
        }
        guard fileSize == end else { throw CheckpointError.trailingBytes(file: file, fileSize: fileSize, expectedEnd: end) }
    }

    private static func checkZero(_ source: ByteSource, from start: Int, to end: Int, file: String) throws {
        guard end > start else { return }
        var padding = [UInt8](repeating: 0, count: end - start)
        try padding.withUnsafeMutableBytes { try source.read(at: start, into: $0) }
        if let index = padding.firstIndex(where: { $0 != 0 }) { throw CheckpointError.nonzeroPadding(file: file, offset: start + index) }
    }

    private static func readTensor(_ entry: TensorStorage, from source: ByteSource, pool: WorkerPool, file: String) throws -> Tensor {
        let count = entry.rawLength / entry.dtype.byteSize
        switch entry.dtype {
        case .f32:
            let values = try [Float](unsafeUninitializedCapacity: count) { buffer, initialized in
                adviseHugePages(UnsafeMutableRawBufferPointer(buffer))
                try decodeBlock(entry, from: source, into: UnsafeMutableRawBufferPointer(buffer), pool: pool, file: file)
                initialized = count
            }
            return Tensor(name: entry.name, shape: entry.shape, values: .f32(values))
        case .f64:
            let values = try [Double](unsafeUninitializedCapacity: count) { buffer, initialized in
                adviseHugePages(UnsafeMutableRawBufferPointer(buffer))
                try decodeBlock(entry, from: source, into: UnsafeMutableRawBufferPointer(buffer), pool: pool, file: file)
                initialized = count
            }
            return Tensor(name: entry.name, shape: entry.shape, values: .f64(values))
        }
    }

    /// Asks Linux to back the whole 2 MiB pages inside `buffer` (a new tensor's storage, about to be
    /// filled) with huge pages. Fresh memory otherwise faults in 4 KiB at a time while it is read or
    /// inflated into: loading C1's 23 MB in a new process took 6,100 page faults, 1,500 with this,
    /// and the faults cost more than the copy. Only advice: where transparent huge pages are off
    /// (or "always" already), or the memory was mapped by an earlier use, nothing changes.
    private static func adviseHugePages(_ buffer: UnsafeMutableRawBufferPointer) {
        let hugePage = 2 << 20
        guard let base = buffer.baseAddress, buffer.count >= hugePage else { return }
        let start = (Int(bitPattern: base) + hugePage - 1) & ~(hugePage - 1)
        let end = (Int(bitPattern: base) + buffer.count) & ~(hugePage - 1)
        guard end > start, let pointer = UnsafeMutableRawPointer(bitPattern: start) else { return }
        _ = madvise(pointer, end - start, MADV_HUGEPAGE)
    }

    /// Pieces of a raw-codec block that one thread reads and checksums (the CRC runs on each piece
    /// right after its read, while the bytes are still in cache).
    static let rawPieceSize = 1 << 20

    /// Fills `raw` (entry.rawLength bytes) with the tensor's decoded bytes, checking every CRC. Work
    /// is split by chunk (by `rawPieceSize` for the raw codec) on the pool: one thread reads a piece
    /// from the source, checks and decodes it straight into `raw`, and returns its raw bytes' CRC;
    /// those combine into the tensor's CRC.
    private static func decodeBlock(_ entry: TensorStorage, from source: ByteSource, into raw: UnsafeMutableRawBufferPointer,
                                    pool: WorkerPool, file: String) throws {
        let crc: UInt32
        if entry.codec == .raw {
            crc = try combinedCRC(length: raw.count, pieceSize: rawPieceSize, pool: pool) { range in
                let piece = UnsafeMutableRawBufferPointer(rebasing: raw[range])
                try source.read(at: entry.offset + range.lowerBound, into: piece)
                return Zlib.crc32(UnsafeRawBufferPointer(piece))
            }
        } else {
            let chunkSize = entry.chunkSize!
            var storedOffsets = [Int](repeating: entry.offset, count: entry.chunks.count)
            for index in entry.chunks.indices.dropFirst() { storedOffsets[index] = storedOffsets[index - 1] + entry.chunks[index - 1].storedLength }
            crc = try combinedCRC(length: raw.count, pieceSize: chunkSize, pool: pool) { range in
                let index = range.lowerBound / chunkSize
                return try decodeChunk(entry, index: index, from: source, at: storedOffsets[index],
                                       into: UnsafeMutableRawBufferPointer(rebasing: raw[range]), file: file)
            }
        }
        guard crc == entry.crc32 else { throw CheckpointError.tensorChecksum(file: file, tensor: entry.name, found: crc, expected: entry.crc32) }
    }

    /// Reads compressed chunk `index` of `entry` (stored at `offset`), checks its stored CRC, then
    /// inflates (and unshuffles) it into `output`, its exact raw size. Returns the CRC-32 of `output`.
    /// Inflating is `Inflate.decode` (our own decoder, several times zlib's speed), which accepts and
    /// rejects exactly what zlib's bounded inflate does, with the same `ZlibError`s.
    private static func decodeChunk(_ entry: TensorStorage, index: Int, from source: ByteSource, at offset: Int,
                                    into output: UnsafeMutableRawBufferPointer, file: String) throws -> UInt32 {
        let chunk = entry.chunks[index]
        let stored = UnsafeMutableRawBufferPointer.allocate(byteCount: chunk.storedLength, alignment: 64)
        defer { stored.deallocate() }
        try source.read(at: offset, into: stored)
        let storedCRC = Zlib.crc32(UnsafeRawBufferPointer(stored))
        guard storedCRC == chunk.crc32 else {
            throw CheckpointError.chunkChecksum(file: file, tensor: entry.name, chunk: index, found: storedCRC, expected: chunk.crc32)
        }
        do {
            guard entry.codec == .shuffleDeflate else {
                try Inflate.decode(UnsafeRawBufferPointer(stored), into: output)
                return Zlib.crc32(UnsafeRawBufferPointer(output))
            }
            // The byte planes, inflated; unshuffling writes them into `output`.
            let planes = UnsafeMutableRawBufferPointer.allocate(byteCount: output.count, alignment: 64)
            defer { planes.deallocate() }
            try Inflate.decode(UnsafeRawBufferPointer(stored), into: planes)
            let elementSize = entry.dtype.byteSize
            return ByteShuffle.unshuffleWithCRC(planes.baseAddress!, into: output.baseAddress!, elements: output.count / elementSize,
                                                elementSize: elementSize)
        } catch let error as ZlibError {
            throw CheckpointError.inflate(file: file, tensor: entry.name, chunk: index, error: error)
        }
    }

    private static func le16(_ b: [UInt8], _ at: Int) -> UInt16 { UInt16(b[at]) | UInt16(b[at + 1]) << 8 }
    private static func le32(_ b: [UInt8], _ at: Int) -> UInt32 { (0..<4).reduce(0) { $0 | UInt32(b[at + $1]) << (8 * $1) } }
    private static func le64(_ b: [UInt8], _ at: Int) -> UInt64 { (0..<8).reduce(0) { $0 | UInt64(b[at + $1]) << (8 * $1) } }
}

/// Calls `piece` on each consecutive `pieceSize` range of 0..<length (the last one shorter) on
/// `pool`, and combines the CRC-32s it returns (one per range) into the CRC-32 of the whole, as one
/// pass would compute it. If pieces fail, the error of the first failing piece (by position) is
/// rethrown, whichever thread met it first, so errors do not depend on the thread count.
func combinedCRC(length: Int, pieceSize: Int, pool: WorkerPool, _ piece: (Range<Int>) throws -> UInt32) throws -> UInt32 {
    let count = length == 0 ? 0 : (length - 1) / pieceSize + 1
    var crcs = [UInt32](repeating: 0, count: count)
    var errors = [Error?](repeating: nil, count: count)
    crcs.withUnsafeMutableBufferPointer { crcSlots in
        errors.withUnsafeMutableBufferPointer { errorSlots in
            pool.parallelFor(count) { index in
                let start = index * pieceSize
                do {
                    crcSlots[index] = try piece(start..<min(start + pieceSize, length))
                } catch {
                    errorSlots[index] = error
                }
            }
        }
    }
    if let error = errors.lazy.compactMap({ $0 }).first { throw error }
    // The CRC of no bytes is 0, and combining 0 with crc(B) gives crc(B).
    var crc: UInt32 = 0
    for (index, pieceCRC) in crcs.enumerated() {
        crc = Zlib.crc32Combine(crc, pieceCRC, lengthOfB: min(pieceSize, length - index * pieceSize))
    }
    return crc
}
