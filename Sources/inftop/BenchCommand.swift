import ArgumentParser
#if canImport(Glibc)
import Glibc
#endif

/// `inftop bench`: measures kernels and models outside the dashboard, printing the same figures
/// the dashboard shows for the same settings. Each mode lives in its own file
/// (`BenchCommand+Gemm.swift`, …); this file only holds the options and dispatches.
///
/// All option values are parsed by `BenchInput` (not ArgumentParser's typed options) so that
/// bad input gives one line on stderr and exit code 2.
struct BenchCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench",
        abstract: "Measure kernel speed (GEMM GFLOP/s per backend and thread count).",
        discussion: """
            Example: inftop bench --gemm 256x256x784,512x512x512 --backend simd,blas --threads 1,2
            """)

    @Option(name: .customLong("gemm"), help: ArgumentHelp("GEMM shapes to time, MxNxK, comma-separated (e.g. 512x512x512,128x384x384).", valueName: "shapes"))
    var gemm: String?

    @Option(name: .customLong("backend"), help: ArgumentHelp("Backends, comma-separated: reference, simd, blas.", valueName: "list"))
    var backend: String = "simd,blas"

    @Option(name: .customLong("threads"), help: ArgumentHelp("Thread counts, comma-separated (e.g. 1,2).", valueName: "list"))
    var threads: String = "1"

    @Option(name: .customLong("layout"), help: ArgumentHelp("GEMM operand layouts, comma-separated: nn, nt (B transposed), tn (A transposed), tt.", valueName: "list"))
    var layout: String = "nn"

    @Flag(name: .customLong("json"), help: "One JSON object per line instead of a table.")
    var json = false

    func run() throws {
        if let gemm { try runGemm(shapesText: gemm); return }
        try Self.fail("bench: nothing to measure: give --gemm MxNxK[,MxNxK…] (e.g. --gemm 512x512x512)")
    }

    /// Prints `message` as one line on stderr and exits with code 2 (bad input).
    static func fail(_ message: String) throws -> Never {
        let line = "inftop: " + message + "\n"
        _ = line.withCString { write(2, $0, strlen($0)) }
        throw ExitCode(2)
    }
}
