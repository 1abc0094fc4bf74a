// Typed errors of NNFormat and the reader's resource caps.
import NNJSON
import NNZlib

/// Every way reading or writing a checkpoint can fail. `description` is the one-line message for the
/// user: it names the file (or the in-memory source), the manifest field or tensor, what was found
/// and what was expected.
public enum CheckpointError: Error, CustomStringConvertible, Equatable {
    /// An operating-system call failed (`message` is strerror's text).
    case io(file: String, operation: String, message: String)
    /// The file ends inside `section` (header or manifest).
    case truncated(file: String, section: String, needed: Int, available: Int)
    case badMagic(file: String, found: [UInt8])
    case headerChecksum(file: String, found: UInt32, expected: UInt32)
    case unsupportedMajorVersion(file: String, found: Int, supported: Int)
    case reservedFlags(file: String, found: UInt32)
    /// A `ReaderLimits` cap (named by its property, e.g. "maxManifestBytes") is exceeded.
    case limitExceeded(file: String, limit: String, found: Int, cap: Int)
    case manifestChecksum(file: String, found: UInt32, expected: UInt32)
    case manifestJSON(file: String, error: JSONError)
    /// A manifest member is missing, has the wrong type, or a value out of range. `field` is a path
    /// like `model.layers[2].outputs`.
    case field(file: String, field: String, found: String, expected: String)
    case reservedDType(file: String, tensor: String, dtype: String)
    case duplicateTensor(file: String, tensor: String)
    case shapeOverflow(file: String, tensor: String, shape: [Int])
    /// A block's offset or length is not where the layout rules put it, or it leaves the file.
    case layout(file: String, tensor: String, found: String, expected: String)
    /// Bytes after where the last block (or the manifest) ends.
    case trailingBytes(file: String, fileSize: Int, expectedEnd: Int)
    case nonzeroPadding(file: String, offset: Int)
    /// A chunk's declared raw size is larger than deflate can produce from its stored size.
    case implausibleCompression(file: String, tensor: String, chunk: Int, rawLength: Int, storedLength: Int)
    case chunkChecksum(file: String, tensor: String, chunk: Int, found: UInt32, expected: UInt32)
    case tensorChecksum(file: String, tensor: String, found: UInt32, expected: UInt32)
    case inflate(file: String, tensor: String, chunk: Int, error: ZlibError)
    /// The model's parts do not fit together (widths, shapes, names, values).
    case inconsistent(file: String, field: String, found: String, expected: String)
    /// The writer was given something it cannot store (e.g. a NaN hyperparameter, a bad option).
    case unwritable(field: String, found: String, expected: String)

    public var description: String {
        guard let file else { return detail }
        return "\(file): \(detail)"
    }

    /// The file (or in-memory source) the error is about; nil for writer-side errors.
    public var file: String? {
        switch self {
        case let .io(file, _, _), let .truncated(file, _, _, _), let .badMagic(file, _), let .headerChecksum(file, _, _),
             let .unsupportedMajorVersion(file, _, _), let .reservedFlags(file, _), let .limitExceeded(file, _, _, _),
             let .manifestChecksum(file, _, _), let .manifestJSON(file, _), let .field(file, _, _, _),
             let .reservedDType(file, _, _), let .duplicateTensor(file, _), let .shapeOverflow(file, _, _),
             let .layout(file, _, _, _), let .trailingBytes(file, _, _), let .nonzeroPadding(file, _),
             let .implausibleCompression(file, _, _, _, _), let .chunkChecksum(file, _, _, _, _),
             let .tensorChecksum(file, _, _, _), let .inflate(file, _, _, _), let .inconsistent(file, _, _, _):
            return file
        case .unwritable:
            return nil
        }
    }

    /// The message without the file name, for callers that name the file themselves.
    public var detail: String {
        switch self {
        case let .io(_, operation, message):
            return "\(operation) failed: \(message)"
        case let .truncated(_, section, needed, available):
            return "file is truncated in the \(section): needs \(needed) bytes, the file has \(available)"
        case let .badMagic(_, found):
            let hex = found.map { byte in let h = String(byte, radix: 16); return h.count == 1 ? "0" + h : h }.joined(separator: " ")
            return "not an .nnck checkpoint: magic bytes are \(hex), expected 89 4e 4e 43 4b 0d 0a 1a"
        case let .headerChecksum(_, found, expected):
            return "header CRC-32 mismatch: computed \(hex(found)), header says \(hex(expected)) (corrupt header)"
        case let .unsupportedMajorVersion(_, found, supported):
            return "format major version \(found) is not supported: this reader supports major version \(supported); use a newer nnkit"
        case let .reservedFlags(_, found):
            return "header flags are \(hex(found)), expected 0 (reserved in v1)"
        case let .limitExceeded(_, limit, found, cap):
            let raise = ReaderLimits.option(for: limit).map { "\($0) or " } ?? ""
            return "\(found) exceeds the reader's cap ReaderLimits.\(limit) = \(cap); raise it with \(raise)ReaderLimits(\(limit): ...) if the file is trusted"
        case let .manifestChecksum(_, found, expected):
            return "manifest CRC-32 mismatch: computed \(hex(found)), header says \(hex(expected)) (corrupt manifest)"
        case let .manifestJSON(_, error):
            return "manifest: \(error.description)"
        case let .field(_, field, found, expected):
            return "manifest field \(field): found \(found), expected \(expected)"
        case let .reservedDType(_, tensor, dtype):
            return "tensor \"\(tensor)\": dtype \"\(dtype)\" is reserved, not supported by format v1 (expected f32 or f64)"
        case let .duplicateTensor(_, tensor):
            return "tensor name \"\(tensor)\" appears more than once in the tensor table, expected unique names"
        case let .shapeOverflow(_, tensor, shape):
            return "tensor \"\(tensor)\": shape \(Shape.text(shape)) has more elements than can be addressed, expected a product below 2^63"
        case let .layout(_, tensor, found, expected):
            return "tensor \"\(tensor)\": \(found), expected \(expected)"
        case let .trailingBytes(_, fileSize, expectedEnd):
            return "\(fileSize - expectedEnd) unexpected bytes after the last block: file is \(fileSize) bytes, expected it to end at \(expectedEnd)"
        case let .nonzeroPadding(_, offset):
            return "padding byte at offset \(offset) is not zero, expected zero padding"
        case let .implausibleCompression(_, tensor, chunk, rawLength, storedLength):
            return "tensor \"\(tensor)\" chunk \(chunk): declares \(rawLength) raw bytes from \(storedLength) stored bytes, expected at most 1032 × stored + 1032 (deflate cannot expand more)"
        case let .chunkChecksum(_, tensor, chunk, found, expected):
            return "tensor \"\(tensor)\" chunk \(chunk): stored-bytes CRC-32 mismatch: computed \(hex(found)), manifest says \(hex(expected))"
        case let .tensorChecksum(_, tensor, found, expected):
            return "tensor \"\(tensor)\": CRC-32 of the raw bytes mismatch: computed \(hex(found)), manifest says \(hex(expected))"
        case let .inflate(_, tensor, chunk, error):
            return "tensor \"\(tensor)\" chunk \(chunk): \(error.description)"
        case let .inconsistent(_, field, found, expected):
            return "inconsistent model at \(field): found \(found), expected \(expected)"
        case let .unwritable(field, found, expected):
            return "cannot write checkpoint: \(field): found \(found), expected \(expected)"
        }
    }

    private func hex(_ value: UInt32) -> String {
        let digits = String(value, radix: 16)
        return "0x" + String(repeating: "0", count: 8 - digits.count) + digits
    }
}

/// Caps on what a file can make the reader allocate or do. Defaults suit models up to a few GB;
/// each error names the cap it hit.
public struct ReaderLimits: Equatable, Sendable {
    /// Largest manifest accepted, in bytes (default 16 MiB).
    public var maxManifestBytes: Int
    /// Deepest JSON nesting accepted (default 64).
    public var maxJSONDepth: Int
    /// Most tensors in the table (default 65,536).
    public var maxTensorCount: Int
    /// Largest decoded size of one tensor, in bytes (default 4 GiB).
    public var maxTensorBytes: Int
    /// Largest decoded size of all tensors together, in bytes (default 8 GiB): bounds the memory a file can make the reader allocate.
    public var maxTotalTensorBytes: Int

    public init(maxManifestBytes: Int = 16 << 20, maxJSONDepth: Int = 64, maxTensorCount: Int = 65_536,
                maxTensorBytes: Int = 4 << 30, maxTotalTensorBytes: Int = 8 << 30) {
        self.maxManifestBytes = maxManifestBytes
        self.maxJSONDepth = maxJSONDepth
        self.maxTensorCount = maxTensorCount
        self.maxTensorBytes = maxTensorBytes
        self.maxTotalTensorBytes = maxTotalTensorBytes
    }

    public static let `default` = ReaderLimits()

    /// The command-line option of the tools that raises the cap named `limit` (only the memory caps
    /// have one: a real manifest, its nesting and its tensor count are far below the others).
    public static func option(for limit: String) -> String? {
        switch limit {
        case "maxTensorBytes": return "--max-tensor-bytes"
        case "maxTotalTensorBytes": return "--max-total-tensor-bytes"
        default: return nil
        }
    }
}
