import XCTest
import InftopEngine
import InftopWorkloads

/// `inftop bench --gemm` input parsing and the benchmark loop (correct bookkeeping, not speed).
final class GemmBenchmarkTests: XCTestCase {
    func testParsesShapesBackendsThreadsLayouts() throws {
        XCTAssertEqual(try BenchInput.shapes("512x512x512, 128X384x7"),
                       [GemmShape(m: 512, n: 512, k: 512), GemmShape(m: 128, n: 384, k: 7)])
        XCTAssertEqual(try BenchInput.backends("reference,simd,blas,simd"), [.reference, .simd, .blas])
        XCTAssertEqual(try BenchInput.threads("1,2"), [1, 2])
        XCTAssertEqual(try BenchInput.layouts("nn,NT,tn"), [.nn, .nt, .tn])
    }

    func testRejectsBadInputWithOneLine() {
        let bad: [(() throws -> Void, String)] = [
            ({ _ = try BenchInput.shapes("12x") }, "--gemm: '12x'"),
            ({ _ = try BenchInput.shapes("12x4") }, "--gemm: '12x4' is not MxNxK"),
            ({ _ = try BenchInput.shapes("0x4x4") }, "'0' is not a size"),
            ({ _ = try BenchInput.shapes("4x4x99999999") }, "is not a size"),
            ({ _ = try BenchInput.shapes("4x4x4,") }, "empty item"),
            ({ _ = try BenchInput.backends("simd,mkl") }, "unknown backend 'mkl'"),
            ({ _ = try BenchInput.threads("0") }, "'0' is not a thread count"),
            ({ _ = try BenchInput.threads("two") }, "'two' is not a thread count"),
            ({ _ = try BenchInput.layouts("nx") }, "unknown layout 'nx'"),
        ]
        for (call, fragment) in bad {
            XCTAssertThrowsError(try call()) { error in
                let text = (error as? BenchInputError)?.description ?? "not a BenchInputError: \(error)"
                XCTAssertTrue(text.contains(fragment), "'\(text)' should mention \(fragment)")
                XCTAssertFalse(text.contains("\n"), "one line: \(text)")
            }
        }
    }

    func testRunReportsConsistentFigures() {
        let shape = GemmShape(m: 13, n: 31, k: 7)
        let r = GemmBenchmark.run(shape, layout: .nt, backend: .simd, threads: 1, minSeconds: 0.01, minSamples: 5, warmupSeconds: 0)
        XCTAssertGreaterThanOrEqual(r.calls, 5)
        XCTAssertGreaterThan(r.seconds, 0)
        XCTAssertEqual(r.gflops, Gemm.flops(m: 13, n: 31, k: 7) / r.seconds / 1e9, accuracy: r.gflops * 1e-9)
        XCTAssertTrue(r.jsonLine.hasPrefix("{\"m\":13,\"n\":31,\"k\":7,\"backend\":\"simd\",\"threads\":1,\"gflops\":"), r.jsonLine)
        XCTAssertTrue(r.jsonLine.contains("\"layout\":\"nt\""), r.jsonLine)
    }

    /// The time cap wins over the sample count for slow tiers.
    func testMaxSecondsCapsSlowRuns() {
        let r = GemmBenchmark.run(GemmShape(m: 64, n: 64, k: 64), backend: .reference, threads: 1,
                                  minSeconds: 10, minSamples: 1000, maxSeconds: 0.05, warmupSeconds: 0)
        XCTAssertLessThan(r.seconds * Double(r.calls), 1.0)
        XCTAssertGreaterThanOrEqual(r.calls, 1)
    }
}
