// `nninspect verify`: every rule and CRC of the format (the reader checks them all), then the
// verification vectors through the engine.
import NNEngine
import NNFormat
import NNParallel

/// What `verify` checked and found. Produced only when the file passed the reader's checks.
public struct VerificationReport: Equatable, Sendable {
    public var source: String
    public var fileSize: Int
    public var formatMajor: Int
    public var formatMinor: Int
    public var manifestLength: Int
    public var tensorCount: Int
    public var chunkCount: Int
    public var rawBytes: Int
    public var storedBytes: Int
    public var layerCount: Int
    /// Verification vectors in the file (0: none).
    public var vectors: Int
    /// Vectors whose every output was within tolerance (equal to `vectors` when all pass).
    public var passedVectors: Int
    /// "float32" or "float64": the engine precision the vectors were run in.
    public var precision: String
    /// Largest |got − expected| over all outputs (nil without vectors).
    public var maxDeviation: Double?
    public var absTolerance: Double
    public var relTolerance: Double

    /// CRC-32s checked: header, manifest, every tensor's raw bytes, every compressed chunk.
    public var checksums: Int { 2 + tensorCount + chunkCount }
    public var passed: Bool { passedVectors == vectors }

    public func text() -> String {
        var out = "File: \(InspectText.safe(source))\n"
        out += "  header: magic, format \(formatMajor).\(formatMinor), reserved flags, CRC-32: ok\n"
        out += "  manifest: \(grouped(manifestLength)) bytes, CRC-32, strict JSON, every field's type and range: ok\n"
        out += "  tensor table: \(InspectText.plural(tensorCount, "tensor")), \(InspectText.plural(chunkCount, "compressed chunk")); "
            + "shapes, sizes, codecs, 64-byte aligned blocks in order, no gaps, overlaps or trailing bytes; zero padding: ok\n"
        out += "  tensor data: \(grouped(rawBytes)) raw bytes from \(grouped(storedBytes)) stored, decoded to exactly the declared sizes: ok\n"
        out += "  checksums: \(grouped(checksums)) CRC-32s (header, manifest, \(tensorCount) tensors, \(chunkCount) chunks): ok\n"
        out += "  model: \(InspectText.plural(layerCount, "layer")) consistent (widths, tensor names, shapes, dtypes, output width): ok\n"
        if vectors == 0 {
            out += "  verification vectors: none in this file (nothing to run)\n"
        } else {
            out += "  verification vectors: \(passedVectors) of \(vectors) pass in the \(precision) engine "
                + "(|got - expected| <= \(InspectText.exact(absTolerance)) + \(InspectText.exact(relTolerance)) × |expected|; "
                + "largest deviation \(InspectText.short(maxDeviation)))\n"
        }
        out += passed ? "OK\n" : "FAILED\n"
        return out
    }
}

public enum CheckpointVerifier {
    /// Reads `path` with every check of the format, then runs its verification vectors.
    /// Throws the reader's `CheckpointError` (naming the file and the tensor or field) for a broken
    /// file, and `ModelError.verificationFailed` (naming the vector and output) for a model that
    /// does not reproduce its vectors — after `onReport` was given the report, so the caller can
    /// print what was checked first.
    ///
    /// Files storing model tensors in f64 are run in float64: their tolerances (often 1e-12) are
    /// stated for float64 arithmetic, which `Model` (float32 weights) cannot meet. Others run through
    /// `Model.verify`, the float32 engine nnkit's tools use.
    @discardableResult
    public static func verify(path: String, limits: ReaderLimits = .default, pool: WorkerPool = .serial,
                              onReport: (VerificationReport) -> Void = { _ in }) throws -> VerificationReport {
        let read = try CheckpointReader.readDetailed(path: path, limits: limits, pool: pool)
        let checkpoint = read.checkpoint
        var report = VerificationReport(
            source: path, fileSize: read.fileSize, formatMajor: read.formatMajor, formatMinor: read.formatMinor,
            manifestLength: read.manifestLength, tensorCount: read.storage.count,
            chunkCount: read.storage.reduce(0) { $0 + $1.chunks.count },
            rawBytes: read.storage.reduce(0) { $0 + $1.rawLength }, storedBytes: read.storage.reduce(0) { $0 + $1.storedLength },
            layerCount: checkpoint.layers.count, vectors: 0, passedVectors: 0, precision: "float32", maxDeviation: nil,
            absTolerance: checkpoint.verification?.absTolerance ?? 0, relTolerance: checkpoint.verification?.relTolerance ?? 0)

        let model = try Model(checkpoint: checkpoint, source: path, pool: pool)
        let outcome = try model.verificationOutcome(checkpoint: checkpoint, source: path, pool: pool)
        report.precision = outcome.precision
        report.vectors = outcome.vectors
        report.passedVectors = outcome.passedVectors
        report.maxDeviation = outcome.maxDeviation
        onReport(report)
        if let failure = outcome.firstFailure { throw failure }
        return report
    }
}
