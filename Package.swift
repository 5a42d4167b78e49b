// swift-tools-version:6.0
import PackageDescription

// FMA and F16C must be visible to the optimizer: without them `addProduct`
// and Float16 conversions become library calls (about 10x slower).
let cpu: [SwiftSetting] = [.unsafeFlags(["-target-cpu", "haswell"])]

let package = Package(
    name: "InfiniGen",
    platforms: [.macOS(.v14)],
    products: [
        .executable(name: "infinigen", targets: ["infinigen"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
    ],
    targets: [
        .systemLibrary(name: "CBLAS", path: "Sources/CBLAS",
                       providers: [.apt(["libopenblas-dev"])]),
        .target(name: "Numerics", dependencies: ["CBLAS"], swiftSettings: cpu),
        .target(name: "GGUF", dependencies: ["Numerics"], swiftSettings: cpu),
        .target(name: "Tokenizer", dependencies: ["GGUF"], swiftSettings: cpu),
        .target(name: "Trace", swiftSettings: cpu),
        .target(name: "Model", dependencies: ["Numerics", "GGUF", "Tokenizer", "Trace"], swiftSettings: cpu),
        .target(name: "Policies", dependencies: ["Numerics", "Model", "Trace"], swiftSettings: cpu),
        .target(name: "Offload", dependencies: ["CBLAS", "Numerics", "Model", "Trace"],
                resources: [.copy("Resources")], swiftSettings: cpu),
        .target(name: "Evaluation", dependencies: ["Numerics", "Model", "Policies", "Trace", "Tokenizer"], swiftSettings: cpu),
        .target(name: "Report", swiftSettings: cpu),
        .target(name: "Experiments",
                dependencies: ["Numerics", "Model", "Policies", "Trace", "Offload", "Evaluation", "Report", "Tokenizer", "GGUF"],
                swiftSettings: cpu, plugins: ["SourceDigest"]),
        // Build-time digests of the sources and bundled data: the cache keys' code version.
        .executableTarget(name: "SourceDigestTool"),
        .plugin(name: "SourceDigest", capability: .buildTool(), dependencies: ["SourceDigestTool"]),
        .executableTarget(name: "infinigen",
                          dependencies: ["Numerics", "GGUF", "Tokenizer", "Model", "Policies", "Trace",
                                         "Offload", "Evaluation", "Experiments", "Report",
                                         .product(name: "ArgumentParser", package: "swift-argument-parser")],
                          swiftSettings: cpu),
        // Helpers every test target shares: the cached real model, the tiny synthetic
        // model, run modes, the seeded generator, the BLAS kernel check.
        .target(name: "TestSupport", dependencies: ["Numerics", "GGUF", "Tokenizer", "Model", "Policies"],
                path: "Tests/TestSupport", swiftSettings: cpu),
        .testTarget(name: "NumericsTests", dependencies: ["TestSupport", "Numerics"], swiftSettings: cpu),
        .testTarget(name: "GGUFTests", dependencies: ["TestSupport", "GGUF", "Numerics"], swiftSettings: cpu),
        .testTarget(name: "TokenizerTests", dependencies: ["TestSupport", "Tokenizer", "GGUF"],
                    resources: [.copy("Fixtures")], swiftSettings: cpu),
        .testTarget(name: "ModelTests", dependencies: ["TestSupport", "Model", "GGUF", "Tokenizer", "Numerics"],
                    resources: [.copy("Fixtures")], swiftSettings: cpu),
        .testTarget(name: "PoliciesTests", dependencies: ["TestSupport", "Policies", "Model", "Numerics", "Trace", "GGUF", "Tokenizer"], swiftSettings: cpu),
        .testTarget(name: "OffloadTests", dependencies: ["TestSupport", "Offload", "Trace"], swiftSettings: cpu),
        .testTarget(name: "EvaluationTests", dependencies: ["TestSupport", "Evaluation", "Model", "Policies", "GGUF", "Numerics", "Tokenizer"],
                    exclude: ["Fixtures"], swiftSettings: cpu),
        .testTarget(name: "ReportTests", dependencies: ["TestSupport", "Report"], swiftSettings: cpu),
        .testTarget(name: "ExperimentsTests", dependencies: ["TestSupport", "Experiments", "Report"], swiftSettings: cpu),
    ]
)
