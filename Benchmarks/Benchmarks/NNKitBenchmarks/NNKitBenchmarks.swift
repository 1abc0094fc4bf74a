// package-benchmark suite for what has no command of its own: the GEMM kernel at the G1 shapes, one
// engine-only training step at the W1 and W2 shapes (its allocation count must be 0), and C1
// checkpoint save/load in-process. Run: cd Benchmarks && swift package --disable-sandbox benchmark
//   (release flags: Benchmarks/run passes -Xswiftc -target-cpu -Xswiftc native through
//   `swift package ... benchmark`'s build). Threads: BENCH_THREADS (default 1).

import Benchmark
import BenchSupport
import Glibc
import NNData
import NNEngine
import NNFormat
import NNKit
import NNParallel

let threadCount = Int(getenv("BENCH_THREADS").map { String(cString: $0) } ?? "1") ?? 1
let pool = WorkerPool(threads: threadCount)

/// A classification data set of the workload's shape, made in memory (the step's cost does not
/// depend on the values).
func syntheticData(features: Int, classes: Int, rows: Int) -> Dataset {
    var generator = RandomGenerator(seed: 1)
    let values = (0..<(rows * features)).map { _ in Float(generator.normal()) }
    let labels = (0..<rows).map { _ in Int32(generator.next(below: classes)) }
    return Dataset(featureNames: (0..<features).map { "f\($0)" }, features: values,
                   classNames: (0..<classes).map { "c\($0)" }, labels: labels)
}

let benchmarks: @Sendable () -> Void = {
    Benchmark.defaultConfiguration = .init(
        metrics: [.wallClock, .throughput, .mallocCountTotal, .peakMemoryResident],
        warmupIterations: 2,
        maxDuration: .seconds(2),
        maxIterations: 1_000_000
    )

    for shape in gemmShapes {
        let problem = GemmProblem(m: shape.m, k: shape.k, n: shape.n)
        Benchmark("G1 sgemm \(shape.m)x\(shape.k)x\(shape.n) T\(threadCount)") { benchmark in
            for _ in benchmark.scaledIterations { problem.run(pool: pool) }
        }
    }

    // One Adam step on a fixed batch: after the warm-up steps the workspace is sized, and the step
    // must not allocate (mallocCountTotal per iteration = 0).
    for (workload, features, classes) in [(TrainingWorkload.w1, 64, 10), (TrainingWorkload.w2, 32, 4)] {
        let data = syntheticData(features: features, classes: classes, rows: workload.batchSize * 4)
        guard let trainer = try? EngineTrainer(workload: workload, data: data, pool: pool) else { continue }
        Benchmark("\(workload.name.uppercased()) training step (batch \(workload.batchSize)) T\(threadCount)") { benchmark in
            for _ in benchmark.scaledIterations { try trainer.step(start: 0, rows: workload.batchSize) }
        }
    }

    for trainedLike in [false, true] {
        guard let model = try? makeC1Model(trainedLike: trainedLike),
              let checkpoint = try? model.checkpoint(writer: WriterInfo(name: "nnbench", version: NNKitVersion.string)) else { continue }
        let kind = trainedLike ? "trained-like" : "random"
        let path = "/tmp/nnkit-benchmark-c1-\(kind).nnck"
        let options = WriterOptions(pool: pool)
        Benchmark("C1 save \(kind) T\(threadCount)", configuration: .init(maxDuration: .seconds(3), maxIterations: 20)) { _ in
            try CheckpointWriter.write(checkpoint, to: path, options: options)
        }
        let loadPath = "/tmp/nnkit-benchmark-c1-\(kind)-load.nnck"
        guard (try? CheckpointWriter.write(checkpoint, to: loadPath, options: options)) != nil else { continue }
        Benchmark("C1 load \(kind) T\(threadCount)", configuration: .init(maxDuration: .seconds(3), maxIterations: 50)) { _ in
            blackHole(try CheckpointReader.read(path: loadPath, pool: pool))
        }
    }
}
