// nnbench: nnkit's in-process side of the benchmark suite, driven by Benchmarks/run.
//   nnbench gemm [--quick]                          G1 GFLOP/s, one JSON line per shape
//   nnbench train DATADIR w1|w2 [--rows N] [--epochs E]   engine-only training (data in memory)
//   nnbench c1 OUTDIR [--trained-like] [--repeat R] [--chunk-size BYTES]
//                                                   C1 save/load of the 784-2048-2048-10 checkpoint
//   nnbench load FILE.nnck [--repeat R]             checkpoint read only, best of R (for profiling the reader)
//   nnbench inflate [--trained-like] [--repeat R]   Inflate vs zlib MB/s on each byte plane of C1's 2048×2048 weight
//   nnbench csv FILE.csv                            CSV loading (file → float32 matrix), best of 2
//   nnbench make-w2 DIR TRAIN TEST                  W2-shaped synthetic data when the peers' Python is absent
//   nnbench report RESULTS.jsonl                    Markdown tables (ratios to the peers) on stdout
//   nnbench plot RESULTS.jsonl OUTDIR               SVG scaling plots
// Threads come from BENCH_THREADS (default 1), as for the peers' scripts. Results are JSON lines
// with the peers' field names, peer = "nnkit".

import Glibc
import NNKit
import NNEngine
import NNFormat
import NNJSON
import NNParallel
import NNZlib
import NNData
import BenchSupport

struct UsageError: Error, CustomStringConvertible {
    var description: String
}

var arguments = Array(CommandLine.arguments.dropFirst())
let threads = Int(getenv("BENCH_THREADS").map { String(cString: $0) } ?? "1") ?? 1
let pool = WorkerPool(threads: threads)

/// Removes `--name VALUE` from the arguments and returns VALUE.
func option(_ name: String) -> String? {
    guard let index = arguments.firstIndex(of: name), index + 1 < arguments.count else { return nil }
    let value = arguments[index + 1]
    arguments.removeSubrange(index...(index + 1))
    return value
}

/// Removes `--name` from the arguments and says whether it was there.
func flag(_ name: String) -> Bool {
    guard let index = arguments.firstIndex(of: name) else { return false }
    arguments.remove(at: index)
    return true
}

func emit(_ fields: [(String, JSONValue)]) {
    print((try? JSONValue.object(fields + [("threads", .integer(Int64(threads)))]).serialized()) ?? "{}")
    fflush(stdout)
}

func rounded(_ value: Double, _ digits: Int) -> JSONValue {
    var scale = 1.0
    for _ in 0..<digits { scale *= 10 }
    return .number((value * scale).rounded() / scale)
}

func runGemm() {
    let quick = flag("--quick")
    // --shape MxKxN: that product only (for profiling one shape).
    let only = option("--shape")
    for shape in gemmShapes where only == nil || only == "\(shape.m)x\(shape.k)x\(shape.n)" {
        let problem = GemmProblem(m: shape.m, k: shape.k, n: shape.n)
        let gflops = problem.gflops(pool: pool, minimumRepeat: quick ? 2 : 20, flopBudget: quick ? 2e8 : 2e9, rounds: quick ? 2 : 5)
        emit([("workload", .string("g1")), ("peer", .string("nnkit")), ("m", .integer(Int64(shape.m))),
              ("k", .integer(Int64(shape.k))), ("n", .integer(Int64(shape.n))), ("gflops", rounded(gflops, 1))])
    }
}

func runTrain() throws {
    guard arguments.count >= 2 else { throw UsageError(description: "usage: nnbench train DATADIR w1|w2 [--rows N] [--epochs E]") }
    let rows = option("--rows").flatMap { Int($0) }
    let epochs = option("--epochs").flatMap { Int($0) }
    let directory = arguments[0]
    guard var workload = [TrainingWorkload.w1, .w2].first(where: { $0.name == arguments[1] }) else {
        throw UsageError(description: "nnbench train: workload must be w1 or w2, found '\(arguments[1])'")
    }
    if let epochs { workload.epochs = epochs }
    let start = benchSeconds()
    var data = try InMemoryData(trainPath: "\(directory)/\(workload.name)_train.csv", testPath: "\(directory)/\(workload.name)_test.csv", pool: pool)
    if let rows { data.keepFirst(rows) }
    let trainer = try EngineTrainer(workload: workload, data: data.train, pool: pool)
    let fitStart = benchSeconds()
    for _ in 0..<workload.epochs { try trainer.epoch() }
    let fitSeconds = benchSeconds() - fitStart
    let accuracy = try trainer.accuracy(on: data.test, labels: data.testLabels)
    let total = benchSeconds() - start
    emit([("workload", .string(workload.name)), ("peer", .string("nnkit-engine")), ("train_seconds", rounded(fitSeconds, 4)),
          ("total_seconds", rounded(total, 4)),
          ("samples_per_s", .integer(Int64((Double(data.train.count * workload.epochs) / fitSeconds).rounded()))),
          ("test_accuracy", rounded(accuracy, 4))])
}

func runC1() throws {
    guard let directory = arguments.first else { throw UsageError(description: "usage: nnbench c1 OUTDIR [--trained-like] [--repeat R] [--chunk-size BYTES]") }
    let trainedLike = flag("--trained-like")
    let repeatCount = option("--repeat").flatMap { Int($0) } ?? 5
    let chunkSize = option("--chunk-size").flatMap { Int($0) } ?? WriterOptions().chunkSize
    let model = try makeC1Model(trainedLike: trainedLike)
    let checkpoint = try model.checkpoint(writer: WriterInfo(name: "nnbench", version: NNKitVersion.string))
    for (peer, codec) in [("nnkit", Codec.shuffleDeflate), ("nnkit_raw", Codec.raw)] {
        let path = "\(directory)/c1_\(peer)\(trainedLike ? "_trained" : "").nnck"
        let options = WriterOptions(codec: codec, chunkSize: chunkSize, pool: pool)
        func best(_ body: () throws -> Void) rethrows -> Double {
            var best = Double.infinity
            for _ in 0..<repeatCount {
                let start = benchSeconds()
                try body()
                best = min(best, benchSeconds() - start)
            }
            return best
        }
        let save = try best { try CheckpointWriter.write(checkpoint, to: path, options: options) }
        let load = try best { _ = try CheckpointReader.read(path: path, pool: pool) }
        // The file must give back the same values (as the peers assert).
        let back = try Model(checkpoint: try CheckpointReader.read(path: path, pool: pool), source: path)
        for (mine, theirs) in zip(model.network.parameters, back.network.parameters) {
            for i in 0..<mine.value.count where mine.value.pointer[i] != theirs.value.pointer[i] {
                throw UsageError(description: "\(path): tensor \(mine.name) differs at \(i) after a round trip")
            }
        }
        var info = stat()
        stat(path, &info)
        emit([("workload", .string("c1")), ("peer", .string(peer)), ("trained_like", .bool(trainedLike)),
              ("raw_bytes", .integer(Int64(parameterBytes(model)))), ("file_bytes", .integer(Int64(info.st_size))),
              ("save_seconds", rounded(save, 5)), ("load_seconds", rounded(load, 5))])
    }
}

/// Reading one existing checkpoint, nothing else: what a profiler should see of C1's load.
func runLoad() throws {
    let repeatCount = option("--repeat").flatMap { Int($0) } ?? 20
    guard let path = arguments.first else { throw UsageError(description: "usage: nnbench load FILE.nnck [--repeat R]") }
    var best = Double.infinity
    for _ in 0..<repeatCount {
        let start = benchSeconds()
        _ = try CheckpointReader.read(path: path, pool: pool)
        best = min(best, benchSeconds() - start)
    }
    emit([("workload", .string("load")), ("peer", .string("nnkit")), ("file", .string(path)), ("load_seconds", rounded(best, 5))])
}

/// Decoder speed on C1's largest weight (2048×2048 float32, 16 MiB): each 1 MiB chunk shuffled into
/// 4 byte planes as the writer does, each plane deflated on its own (the writer's level 1, RLE) and
/// also the whole shuffled chunk; then the best of R decodes of all chunks of each, by zlib's
/// bounded inflate and by Inflate. MB/s of output, one JSON line per plane.
func runInflate() throws {
    let repeatCount = option("--repeat").flatMap { Int($0) } ?? 5
    let trainedLike = flag("--trained-like")
    let model = try makeC1Model(trainedLike: trainedLike)
    guard let weight = model.network.parameters.max(by: { $0.value.count < $1.value.count })?.value else { return }
    let chunkElements = (1 << 20) / 4
    let chunks = weight.count / chunkElements
    // streams[plane][chunk]; plane 4 is the whole shuffled chunk.
    var raw = [[[UInt8]]](repeating: [], count: 5)
    for chunk in 0..<chunks {
        var planes = [[UInt8]](repeating: [UInt8](repeating: 0, count: chunkElements), count: 4)
        for i in 0..<chunkElements {
            let bits = weight.pointer[chunk * chunkElements + i].bitPattern
            for plane in 0..<4 { planes[plane][i] = UInt8(truncatingIfNeeded: bits >> (8 * plane)) }
        }
        for plane in 0..<4 { raw[plane].append(planes[plane]) }
        raw[4].append(planes.flatMap { $0 })
    }
    for plane in 0..<5 {
        let streams = try raw[plane].map { try Zlib.deflate($0, level: 1, strategy: .rle, container: .raw) }
        var output = [UInt8](repeating: 0, count: raw[plane][0].count)
        func best(_ decode: (UnsafeRawBufferPointer, UnsafeMutableRawBufferPointer) throws -> Void) throws -> Double {
            var best = Double.infinity
            for _ in 0..<repeatCount {
                let start = benchSeconds()
                for stream in streams {
                    try output.withUnsafeMutableBytes { out in try stream.withUnsafeBytes { try decode($0, out) } }
                }
                best = min(best, benchSeconds() - start)
            }
            guard output == raw[plane][chunks - 1] else { throw UsageError(description: "plane \(plane): wrong output") }
            return best
        }
        let zlib = try best { try Zlib.inflate($0, into: $1, container: .raw) }
        let ours = try best { try Inflate.decode($0, into: $1) }
        let megabytes = Double(raw[plane].reduce(0) { $0 + $1.count }) / 1e6
        let stored = Double(streams.reduce(0) { $0 + $1.count }) / 1e6
        emit([("workload", .string("inflate")), ("trained_like", .bool(trainedLike)), ("plane", .string(plane < 4 ? "\(plane)" : "chunk")),
              ("stored_fraction", rounded(stored / megabytes, 3)), ("zlib_mb_s", rounded(megabytes / zlib, 1)),
              ("inflate_mb_s", rounded(megabytes / ours, 1)), ("speedup", rounded(zlib / ours, 2))])
    }
}

func cFormat6g(_ value: Double) -> String {
    var buffer = [CChar](repeating: 0, count: 32)
    _ = withVaList([value]) { vsnprintf(&buffer, 32, "%.6g", $0) }
    return String(cString: buffer)
}

/// CSV loading (file → float32 matrix), best of 2, as csv_peers.py measures pandas.
func runCSV() throws {
    guard let path = arguments.first else { throw UsageError(description: "usage: nnbench csv FILE.csv") }
    var best = Double.infinity
    for _ in 0..<2 {
        let start = benchSeconds()
        let loaded = try loadCSV(path: path, pool: pool, computeSHA256: false) { try ColumnPlan.training(header: $0) }
        best = min(best, benchSeconds() - start)
        guard loaded.rows.rowCount > 0 else { throw UsageError(description: "\(path): no rows") }
    }
    var info = stat()
    stat(path, &info)
    emit([("workload", .string("csv")), ("peer", .string("nnkit")), ("seconds", rounded(best, 4)),
          ("MBps", rounded(Double(info.st_size) / 1e6 / best, 1))])
}

/// A W2-shaped data set when the peers' make_data.py cannot run (no Python environment): 32 features,
/// 4 named classes, Gaussian clusters (two per class), values with 6 significant digits.
func runMakeW2() throws {
    guard arguments.count >= 3, let trainRows = Int(arguments[1]), let testRows = Int(arguments[2]) else {
        throw UsageError(description: "usage: nnbench make-w2 DIR TRAIN_ROWS TEST_ROWS")
    }
    var generator = RandomGenerator(seed: 0)
    let names = ["alpha", "beta", "gamma", "delta"]
    let centers = (0..<8).map { _ in (0..<32).map { _ in 1.5 * generator.normal() } }
    for (file, rows) in [("w2_train.csv", trainRows), ("w2_test.csv", testRows)] {
        let path = "\(arguments[0])/\(file)"
        guard let handle = fopen(path, "w") else { throw UsageError(description: "\(path): cannot be created") }
        defer { fclose(handle) }
        fputs((0..<32).map { "f\($0)" }.joined(separator: ",") + ",label\n", handle)
        for _ in 0..<rows {
            let cluster = generator.next(below: 8)
            for feature in 0..<32 {
                fputs(cFormat6g(centers[cluster][feature] + generator.normal()) + ",", handle)
            }
            fputs(names[cluster % 4] + "\n", handle)
        }
    }
}

do {
    guard let command = arguments.first else {
        throw UsageError(description: "usage: nnbench gemm|train|c1|report|plot ... (see Benchmarks/README in Benchmarks/run)")
    }
    arguments.removeFirst()
    switch command {
    case "gemm": runGemm()
    case "train": try runTrain()
    case "c1": try runC1()
    case "load": try runLoad()
    case "inflate": try runInflate()
    case "csv": try runCSV()
    case "make-w2": try runMakeW2()
    case "report": try runReport(arguments)
    case "plot": try runPlots(arguments)
    default: throw UsageError(description: "nnbench: unknown command '\(command)'")
    }
} catch {
    fputs("nnbench: \(error)\n", stderr)
    exit(1)
}
