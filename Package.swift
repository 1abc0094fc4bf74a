// swift-tools-version:6.0
import PackageDescription

// Release builds of the numeric code are tuned for the building machine's CPU: without a target CPU,
// SIMD8<Float>.addingProduct compiles to 32 calls of fmaf instead of one vfmadd231ps on a ymm register.
let fastMath: [SwiftSetting] = [
    .unsafeFlags(["-Ounchecked", "-wmo", "-target-cpu", "native"], .when(configuration: .release)),
]
// The engine's generic SIMD code is unusably slow unoptimized; debug builds (tests) optimize it too.
let engineSettings: [SwiftSetting] = fastMath + [
    .unsafeFlags(["-O", "-target-cpu", "native"], .when(configuration: .debug)),
]

let package = Package(
    name: "nnkit",
    products: [
        .executable(name: "nntrain", targets: ["nntrain"]),
        .executable(name: "nninfer", targets: ["nninfer"]),
        .executable(name: "nninspect", targets: ["nninspect"]),
        .library(name: "NNKit", targets: ["NNKit"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
    ],
    targets: [
        // C libraries: each wrapped once, reachable only through its Swift wrapper below.
        .systemLibrary(name: "CZlib", pkgConfig: "zlib", providers: [.apt(["zlib1g-dev"])]),
        .systemLibrary(name: "CJSONC", pkgConfig: "json-c", providers: [.apt(["libjson-c-dev"])]),
        // CCRC32 is nnkit's own C code, not a system library: a CRC-32 by carry-less multiplication
        // (PCLMULQDQ), 3-4× faster than zlib's. It is C because Swift cannot express the intrinsic
        // (_mm_clmulepi64_si128 is a C macro over a compiler builtin). Only NNZlib uses it, behind
        // Zlib.crc32, which falls back to zlib's crc32 on CPUs without PCLMULQDQ.
        .target(name: "CCRC32"),
        // CCSVScan is nnkit's own too: the CSV row parser's SIMD helpers (finding field ends, decoding
        // short decimals), C for the same reason; static inline, used by NNData only.
        .target(name: "CCSVScan"),
        .target(name: "NNZlib", dependencies: ["CZlib", "CCRC32"]),
        .target(name: "NNJSON", dependencies: ["CJSONC"]),

        // The layers of nnkit, a one-way graph.
        .target(name: "NNParallel", swiftSettings: fastMath),
        .target(name: "NNEngine", dependencies: ["NNParallel"], swiftSettings: engineSettings),
        .target(name: "NNFormat", dependencies: ["NNZlib", "NNJSON", "NNParallel"], swiftSettings: fastMath),
        // Debug builds (tests) are built for the machine's CPU too, so that the tests run the SIMD
        // code that release builds use rather than CCSVScan's portable fallbacks.
        .target(name: "NNData", dependencies: ["NNEngine", "NNParallel", "CCSVScan"], swiftSettings: fastMath + [
            .unsafeFlags(["-target-cpu", "native"], .when(configuration: .debug)),
        ]),
        .target(name: "NNKit", dependencies: ["NNEngine", "NNFormat", "NNData", "NNJSON"], swiftSettings: fastMath),
        .target(name: "NNCLI", dependencies: ["NNKit", "NNFormat", .product(name: "ArgumentParser", package: "swift-argument-parser")]),

        // Three thin executables sharing NNCLI's option groups.
        .executableTarget(name: "nntrain", dependencies: ["NNCLI"]),
        .executableTarget(name: "nninfer", dependencies: ["NNCLI"]),
        .executableTarget(name: "nninspect", dependencies: ["NNCLI"]),

        .testTarget(name: "NNEngineTests", dependencies: ["NNEngine", "NNParallel"]),
        .testTarget(name: "NNFormatTests", dependencies: ["NNFormat", "NNZlib", "NNJSON", "NNParallel", "NNEngine"]),
        .testTarget(name: "NNDataTests", dependencies: ["NNData", "CCSVScan"]),
        .testTarget(name: "NNKitTests", dependencies: ["NNKit"]),
        .testTarget(name: "NNToolsTests", dependencies: ["NNKit"]),
    ],
    swiftLanguageModes: [.v5]
)
