// swift-tools-version: 6.0
import PackageDescription

/// CPU features for the hot loops: without them `SIMD8<Float>.addingProduct` becomes scalar
/// `fmaf` calls (PLATFORM.md). haswell = AVX2 + FMA + F16C (x86-64-v3 is not a name this swiftc takes), what this machine kind has.
let fast: [SwiftSetting] = [
    .unsafeFlags(["-Xcc", "-mavx2", "-Xcc", "-mfma", "-Xcc", "-mf16c"]),
    .unsafeFlags(["-target-cpu", "haswell"]),
]

let package = Package(
    name: "inftop",
    products: [
        .executable(name: "inftop", targets: ["inftop"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/HdrHistogram/hdrhistogram-swift", from: "0.2.0"),
        // Exports (issue 16): the Prometheus text exposition and a small HTTP server for /metrics.
        .package(url: "https://github.com/swift-server/swift-prometheus", from: "2.4.1"),
        .package(url: "https://github.com/swhitty/FlyingFox", from: "0.27.1"),
    ],
    targets: [
        // C shims: module maps over system headers, nothing else.
        .systemLibrary(name: "CNCurses", path: "Sources/CNCurses"),
        .systemLibrary(name: "CBLAS", path: "Sources/CBLAS"),
        .systemLibrary(name: "CZlib", path: "Sources/CZlib"),
        // Open MPI (libopenmpi-dev): data-parallel training; the include path comes from its
        // pkg-config file (Debian keeps mpi.h under /usr/lib/x86_64-linux-gnu/openmpi/include).
        .systemLibrary(name: "CMPI", path: "Sources/CMPI", pkgConfig: "ompi-c"),
        // C kernels: cpuid/xgetbv and intrinsics Swift cannot emit; each function names its own
        // target ISA (__attribute__((target))), so the target needs no -m flags.
        .target(name: "CKernels", path: "Sources/CKernels", cSettings: [.unsafeFlags(["-O3"])]),

        .target(
            name: "InftopTelemetry",
            dependencies: [.product(name: "Histogram", package: "hdrhistogram-swift")],
            swiftSettings: fast),
        .target(
            name: "InftopEngine",
            dependencies: ["InftopTelemetry", "CBLAS", "CZlib", "CKernels"],
            swiftSettings: fast),
        .target(
            name: "InftopWorkloads",
            dependencies: ["InftopEngine", "InftopTelemetry", "CMPI", .product(name: "Histogram", package: "hdrhistogram-swift")],
            resources: [.copy("Resources/sentences.txt")],
            swiftSettings: fast),
        .target(
            name: "InftopTUI",
            dependencies: ["InftopTelemetry", "InftopWorkloads", "CNCurses"],
            swiftSettings: fast),
        // What leaves the screen: Chrome traces, /metrics, records and replays, CSV. Beside the
        // TUI (it never draws); the CLI wires the two together.
        .target(
            name: "InftopExport",
            dependencies: [
                "InftopTelemetry", "InftopWorkloads", "InftopEngine",
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "FlyingFox", package: "FlyingFox"),
            ],
            swiftSettings: fast),
        .executableTarget(
            name: "inftop",
            dependencies: [
                "InftopTUI", "InftopWorkloads", "InftopEngine", "InftopTelemetry", "InftopExport",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ],
            swiftSettings: fast),

        .testTarget(name: "InftopTelemetryTests", dependencies: ["InftopTelemetry"], swiftSettings: fast),
        .testTarget(
            name: "InftopEngineTests", dependencies: ["InftopEngine"],
            resources: [.copy("Fixtures")], swiftSettings: fast),
        .testTarget(name: "InftopWorkloadsTests", dependencies: ["InftopWorkloads", "InftopEngine"], swiftSettings: fast),
        .testTarget(
            name: "InftopTUITests", dependencies: ["InftopTUI", "InftopTelemetry", "InftopWorkloads"],
            resources: [.copy("Snapshots")], swiftSettings: fast),
        .testTarget(
            name: "InftopExportTests", dependencies: ["InftopExport", "InftopTelemetry", "InftopWorkloads", "InftopEngine", "InftopTUI"],
            swiftSettings: fast),
        // Drives the release binary in tmux; depends on nothing so it tests what users launch.
        .testTarget(name: "InftopEndToEndTests", dependencies: []),
    ]
)
