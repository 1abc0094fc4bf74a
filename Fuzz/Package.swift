// swift-tools-version:6.0
// libFuzzer executables for nnkit's readers and parsers, one per target. Build and run them with
// scripts/fuzz.sh TARGET SECONDS (see Fuzz/README.md); the checks themselves live in FuzzChecks.
import PackageDescription

let targets = ["checkpoint-bytes", "checkpoint-structured", "csv", "layers", "manifest-json", "inflate"]

let package = Package(
    name: "nnkit-fuzz",
    dependencies: [.package(name: "nnkit", path: "..")],
    targets: [
        .target(name: "FuzzChecks", dependencies: [.product(name: "NNKit", package: "nnkit")], path: "Sources/FuzzChecks"),
    ] + targets.map { name in
        .executableTarget(name: "fuzz-\(name)", dependencies: ["FuzzChecks"], path: "Sources/fuzz-\(name)")
    },
    swiftLanguageModes: [.v5]
)
