// swift-tools-version:6.1
import Foundation
import PackageDescription

/// The runtime builds for the machine it is built on (`-target-cpu native`); its integer block
/// kernels use AVX2 instructions directly where that machine has them (and AVX-512 VNNI's byte dot
/// products where it has those too), and portable loops with the same results elsewhere. Swift
/// cannot ask the target's features at compile time, so the manifest reads them.
/// TAILOR_PORTABLE=1 builds the portable loops anyway, and TAILOR_NO_VNNI=1 the AVX2 kernels
/// without VNNI, to test them.
let cpuFeatures: [SwiftSetting] = {
    #if arch(x86_64) && os(Linux)
    guard ProcessInfo.processInfo.environment["TAILOR_PORTABLE"] == nil else { return [] }
    let cpuinfo = (try? String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8)) ?? ""
    let flags = Set(cpuinfo.split(separator: "\n").first { $0.hasPrefix("flags") }?.split(separator: " ").map(String.init) ?? [])
    guard flags.contains("avx2") else { return [] }
    let vnni = flags.isSuperset(of: ["avx512_vnni", "avx512vl"]) && ProcessInfo.processInfo.environment["TAILOR_NO_VNNI"] == nil
    return [.define("TAILOR_AVX2")] + (vnni ? [.define("TAILOR_VNNI")] : [])
    #else
    return []
    #endif
}()

/// Tailor's modules follow its pipeline; each depends only on the ones above it:
/// diagnostics → YAML layer → spec language & checker → planner → engine (scheduler, artifact
/// store, run records, jobs; it knows runners only by a protocol) → executor (the node runners
/// of each stage, registered with the engine) → CLI. Below the
/// executor, knowing nothing of specs: the training loop (TailorTraining), retrieval (chunking,
/// the vector index, trec_eval's metrics: TailorRetrieval), the models (TailorModels) and the
/// tensor runtime (TailorRuntime, over OpenBLAS), which share only
/// TailorDiagnostics' file probe, the one place that decides whether a path may be read.
/// The OpenAI-compatible server (TailorServe, on Hummingbird) sits on the models; only the CLI uses it.
let package = Package(
    name: "Tailor",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "tailor", targets: ["tailor"]),
        .library(name: "TailorPlan", targets: ["TailorPlan"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
        .package(url: "https://github.com/apple/swift-crypto", from: "3.12.0"),
        .package(url: "https://github.com/apple/swift-collections", from: "1.1.0"),
        .package(url: "https://github.com/hummingbird-project/hummingbird", from: "2.28.0"),
        .package(url: "https://github.com/apple/swift-nio", from: "2.101.0"),
        .package(url: "https://github.com/apple/swift-log", from: "1.14.0"),
    ],
    targets: [
        .systemLibrary(
            name: "CLibYAML",
            path: "Sources/CLibYAML",
            pkgConfig: "yaml-0.1",
            providers: [.apt(["libyaml-dev"])]
        ),
        .systemLibrary(
            name: "COpenBLAS",
            path: "Sources/COpenBLAS",
            pkgConfig: "openblas",
            providers: [.apt(["libopenblas-dev"])]
        ),
        // The runtime's kernels are optimised in debug builds too: unoptimised SIMD code runs
        // about 100× slower, and the tests decode real models through them.
        .target(
            name: "TailorRuntime",
            dependencies: ["COpenBLAS", "TailorDiagnostics"],
            swiftSettings: [
                .unsafeFlags(["-target-cpu", "native"], .when(configuration: .release)),
                .unsafeFlags(["-O", "-target-cpu", "native"], .when(configuration: .debug)),
            ] + cpuFeatures
        ),
        .target(
            name: "TailorModels",
            dependencies: ["TailorRuntime", "TailorDiagnostics", .product(name: "HeapModule", package: "swift-collections")],
            swiftSettings: [.unsafeFlags(["-target-cpu", "native"], .when(configuration: .release))]
        ),
        .target(
            name: "TailorTraining",
            dependencies: ["TailorModels", "TailorRuntime", "TailorDiagnostics", .product(name: "Crypto", package: "swift-crypto")],
            swiftSettings: [.unsafeFlags(["-target-cpu", "native"], .when(configuration: .release))]
        ),
        .target(name: "TailorData", dependencies: ["TailorRuntime"]),
        .target(
            name: "TailorRetrieval",
            dependencies: ["TailorRuntime", .product(name: "HeapModule", package: "swift-collections")],
            swiftSettings: [.unsafeFlags(["-target-cpu", "native"], .when(configuration: .release))]
        ),
        .target(name: "TailorDiagnostics"),
        .target(name: "TailorYAML", dependencies: ["CLibYAML", "TailorDiagnostics"]),
        .target(name: "TailorSpec", dependencies: ["TailorYAML", "TailorDiagnostics"]),
        .target(
            name: "TailorPlan",
            dependencies: [
                "TailorSpec",
                "TailorYAML",
                "TailorDiagnostics",
                "TailorModels",
                "TailorData",
                .product(name: "Crypto", package: "swift-crypto"),
            ]
        ),
        .target(
            name: "TailorEngine",
            dependencies: [
                "TailorPlan", "TailorSpec", "TailorRuntime", "TailorDiagnostics",
                .product(name: "Crypto", package: "swift-crypto"),
            ]
        ),
        .target(
            name: "TailorExecutor",
            dependencies: [
                "TailorEngine", "TailorPlan", "TailorSpec", "TailorTraining", "TailorModels", "TailorData", "TailorRetrieval", "TailorRuntime",
                "TailorDiagnostics",
            ],
            swiftSettings: [.unsafeFlags(["-target-cpu", "native"], .when(configuration: .release))]
        ),
        .target(
            name: "TailorServe",
            dependencies: [
                "TailorModels", "TailorRuntime", .product(name: "Hummingbird", package: "hummingbird"), .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: [.unsafeFlags(["-target-cpu", "native"], .when(configuration: .release))]
        ),
        .executableTarget(
            name: "tailor",
            dependencies: [
                "TailorPlan",
                "TailorSpec",
                "TailorDiagnostics",
                "TailorModels",
                "TailorRuntime",
                "TailorEngine",
                "TailorExecutor",
                "TailorRetrieval",
                "TailorServe",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ],
            swiftSettings: [.unsafeFlags(["-target-cpu", "native"], .when(configuration: .release))]
        ),
        .executableTarget(
            name: "TailorFuzz", dependencies: ["TailorPlan", "TailorEngine", "TailorExecutor", "TailorModels", "TailorRuntime", "TailorDiagnostics"]),
        .executableTarget(
            name: "TailorBench",
            dependencies: ["TailorRuntime", "TailorModels", "TailorTraining", "TailorRetrieval", "COpenBLAS"],
            swiftSettings: [.unsafeFlags(["-target-cpu", "native"], .when(configuration: .release))]
        ),
        .testTarget(name: "TailorRuntimeTests", dependencies: ["TailorRuntime"], exclude: ["Fixtures"]),
        .testTarget(name: "TailorTrainingTests", dependencies: ["TailorTraining", "TailorModels", "TailorRuntime"], exclude: ["Fixtures"]),
        .testTarget(name: "TailorModelsTests", dependencies: ["TailorModels", "TailorRuntime"], exclude: ["Fixtures"]),
        .testTarget(name: "TailorRetrievalTests", dependencies: ["TailorRetrieval"], exclude: ["Fixtures"]),
        .testTarget(
            name: "TailorServeTests",
            dependencies: ["TailorServe", "TailorModels", "TailorRuntime"]),
        .testTarget(
            name: "TailorExecutorTests",
            dependencies: [
                "TailorExecutor", "TailorEngine", "TailorPlan", "TailorSpec", "TailorTraining", "TailorRuntime", "TailorDiagnostics", "TailorModels", "TailorData",
                "TailorRetrieval",
            ]),
        .testTarget(
            name: "TailorTests",
            dependencies: ["tailor", "TailorPlan", "TailorSpec", "TailorYAML", "TailorDiagnostics", "TailorModels", "TailorData"]
        ),
    ]
)
