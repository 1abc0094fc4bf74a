// swift-tools-version:6.1
import PackageDescription

// nnkit's benchmark suite: its own package so the main build stays light. It depends on the root
// package by path. Build it in release with the root's CPU tuning on the command line (Benchmarks/run
// does): swift build -c release -Xswiftc -target-cpu -Xswiftc native
let package = Package(
    name: "nnkit-benchmarks",
    dependencies: [
        .package(name: "nnkit", path: ".."),
        .package(url: "https://github.com/ordo-one/benchmark", from: "1.38.1", traits: ["MallocInterposer"]),
    ],
    targets: [
        // Workloads shared by the timed-loop tool and the package-benchmark suite.
        .target(name: "BenchSupport", dependencies: [.product(name: "NNKit", package: "nnkit")]),
        // Timed loops printing JSON lines (G1, engine-only W1/W2 steps, C1 save/load), the C1 checkpoint
        // generator, the Markdown tables and the SVG scaling plots.
        .executableTarget(name: "nnbench", dependencies: ["BenchSupport", .product(name: "NNKit", package: "nnkit")]),
        // package-benchmark suite: wall clock and allocations per GEMM, training step and checkpoint I/O.
        .executableTarget(
            name: "NNKitBenchmarks",
            dependencies: ["BenchSupport", .product(name: "Benchmark", package: "benchmark")],
            path: "Benchmarks/NNKitBenchmarks",
            plugins: [.plugin(name: "BenchmarkPlugin", package: "benchmark")]
        ),
    ],
    swiftLanguageModes: [.v5]
)
