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
        guard let spec = checkpoint.verification,
              let inputs = checkpoint.tensor(named: spec.inputs), let expected = checkpoint.tensor(named: spec.outputs) else {
            onReport(report)
            return report
        }
        let rows = inputs.shape.first ?? 0
        report.vectors = rows
        let want = expected.values.doubles
        let got: [Double]
        if usesFloat64(checkpoint) {
            report.precision = "float64"
            got = try float64Outputs(checkpoint: checkpoint, model: model, source: path, pool: pool)
        } else {
            var raw = inputs.values.doubles.map { Float($0) }
            got = try model.predict(rawRows: &raw, rows: rows).map(Double.init)
        }
        guard got.count == want.count else {
            onReport(report)
            throw ModelError.checkpoint(path: path, reason: "verification outputs have \(want.count) values, the model gives \(got.count)")
        }
        // Per vector (row): passes when every output is within tolerance.
        let width = max(1, want.count / max(1, rows))
        var failure: ModelError?
        var maxDeviation = 0.0
        var failedRows = Set<Int>()
        for i in 0..<want.count {
            let deviation = abs(got[i] - want[i])
            if deviation.isNaN || deviation > maxDeviation { maxDeviation = deviation }  // NaN sticks
            let tolerance = spec.absTolerance + spec.relTolerance * abs(want[i])
            if !(deviation <= tolerance) {
                failedRows.insert(i / width)
                if failure == nil {
                    failure = .verificationFailed(path: path, row: i / width, column: i % width, got: got[i], expected: want[i], tolerance: tolerance)
                }
            }
        }
        report.maxDeviation = maxDeviation
        report.passedVectors = rows - failedRows.count
        if report.precision == "float32", failure == nil {
            // The authoritative float32 check is the one nnkit's tools share.
            try model.verify(against: checkpoint, source: path)
        }
        onReport(report)
        if let failure { throw failure }
        return report
    }

    /// Whether any tensor the forward pass reads (layers, normalization, verification) is f64.
    static func usesFloat64(_ checkpoint: Checkpoint) -> Bool {
        var names = checkpoint.layers.flatMap(\.tensorNames)
        if let offset = checkpoint.input.normalization.offset { names.append(offset) }
        if let scale = checkpoint.input.normalization.scale { names.append(scale) }
        if let spec = checkpoint.verification { names += [spec.inputs, spec.outputs] }
        return names.contains { checkpoint.tensor(named: $0)?.dtype == .f64 }
    }

    /// The verification inputs through a float64 copy of `model`'s network built from the file's
    /// own (unrounded) values: [rows, output width].
    static func float64Outputs(checkpoint: Checkpoint, model: Model, source: String, pool: WorkerPool) throws -> [Double] {
        func fail(_ reason: String) -> ModelError { .checkpoint(path: source, reason: reason) }
        func values(_ name: String) throws -> [Double] {
            guard let tensor = checkpoint.tensor(named: name) else { throw fail("tensor '\(name)' is missing") }
            return tensor.values.doubles
        }
        let network: Network<Double>
        do {
            network = try Network<Double>(specs: model.network.specs, pool: pool)
        } catch {
            throw fail("its layers do not form a float64 network: \(error)")
        }
        // Same tensor mapping as Model(checkpoint:): engine "i.weight" ← the name the layer spec gives.
        for (index, layer) in checkpoint.layers.enumerated() {
            let pairs: [(String, String)]
            switch layer {
            case let .dense(d): pairs = [("\(index).weight", d.weight), ("\(index).bias", d.bias)]
            case let .batchNorm(b):
                pairs = [("\(index).gamma", b.gamma), ("\(index).beta", b.beta),
                         ("\(index).running_mean", b.runningMean), ("\(index).running_var", b.runningVar)]
            case .activation, .dropout: pairs = []
            }
            for (engineName, fileName) in pairs {
                guard let target = network.tensor(named: engineName) else { throw fail("layer \(index) has no tensor \(engineName)") }
                let newValues = try values(fileName)
                do { try target.setValues(newValues) } catch { throw fail("tensor '\(fileName)': \(error)") }
            }
        }
        guard let spec = checkpoint.verification else { return [] }
        var inputs = try values(spec.inputs)
        let featureCount = checkpoint.input.features.count
        let rows = inputs.count / max(1, featureCount)
        let normalization = checkpoint.input.normalization
        if normalization.kind != .none, let offsetName = normalization.offset, let scaleName = normalization.scale {
            let offset = try values(offsetName), scale = try values(scaleName)
            for row in 0..<rows {
                for j in 0..<featureCount { inputs[row * featureCount + j] = (inputs[row * featureCount + j] - offset[j]) / scale[j] }
            }
        }
        do {
            return try network.predict(inputs, rows: rows)
        } catch {
            throw fail("running the verification inputs in float64: \(error)")
        }
    }
}
