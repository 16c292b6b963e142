import InftopEngine
import InftopTelemetry

/// Operand layout of a benchmarked GEMM: `n` = as stored, `t` = transposed, for A then B.
/// Training uses `nn` (forward with W stored in×out), `nt` (Y = X·Wᵀ, W stored out×in) and
/// `tn` (dW = dYᵀ·X).
public enum GemmLayout: String, CaseIterable, Sendable, Codable {
    case nn, nt, tn, tt
    public var transA: Bool { self == .tn || self == .tt }
    public var transB: Bool { self == .nt || self == .tt }
}

/// One GEMM problem to time: C[m×n] = op(A)[m×k]·op(B)[k×n].
public struct GemmShape: Sendable, Equatable, Codable, CustomStringConvertible {
    public var m: Int, n: Int, k: Int
    public init(m: Int, n: Int, k: Int) { self.m = m; self.n = n; self.k = k }
    public var description: String { "\(m)x\(n)x\(k)" }
}

/// Median speed of one (shape, layout, backend, threads) measurement.
public struct GemmBenchResult: Sendable, Codable {
    public var shape: GemmShape
    public var layout: GemmLayout
    public var backend: GemmBackend
    public var threads: Int
    /// 2·m·n·k / median seconds per call, in 10⁹ FLOP/s.
    public var gflops: Double
    /// Median seconds per call.
    public var seconds: Double
    /// Calls timed (after warm-up).
    public var calls: Int

    /// One JSON object on one line, keys in a fixed order:
    /// `{"m":…,"n":…,"k":…,"backend":"simd","threads":1,"gflops":…,"layout":"nn","seconds":…,"calls":…}`.
    public var jsonLine: String {
        "{\"m\":\(shape.m),\"n\":\(shape.n),\"k\":\(shape.k),\"backend\":\"\(backend.rawValue)\",\"threads\":\(threads),"
            + "\"gflops\":\(rounded(gflops, 3)),\"layout\":\"\(layout.rawValue)\",\"seconds\":\(seconds),\"calls\":\(calls)}"
    }

    private func rounded(_ x: Double, _ digits: Int) -> Double {
        var scale = 1.0
        for _ in 0..<digits { scale *= 10 }
        return (x * scale).rounded() / scale
    }
}

/// Times `Gemm.run` the way `inftop bench --gemm` reports it.
public enum GemmBenchmark {
    /// Warms up (one call, which also sizes the timing batches), then times batches of calls
    /// until at least `minSeconds` and `minSamples` batches have passed, or `maxSeconds` has
    /// (slow tiers: the reference at 512³ takes about a second per call, so it is timed a few
    /// times, not five). A batch holds enough calls to last ≥ 1 ms, so the clock's ~41 ns
    /// does not distort tiny shapes; the result is the median per-call time over batches.
    ///
    /// Operands are filled with deterministic values in [−1, 1); C is overwritten (beta = 0).
    public static func run(
        _ shape: GemmShape, layout: GemmLayout = .nn, backend: GemmBackend, threads: Int,
        minSeconds: Double = 0.3, minSamples: Int = 5, maxSeconds: Double = 3
    ) -> GemmBenchResult {
        let (m, n, k) = (shape.m, shape.n, shape.k)
        let a = Tensor([m * k], name: "bench.A", owner: .other)
        let b = Tensor([k * n], name: "bench.B", owner: .other)
        let c = Tensor([m * n], name: "bench.C", owner: .other)
        fill(a, seed: 1); fill(b, seed: 2); c.fill(0)
        let lda = layout.transA ? m : k
        let ldb = layout.transB ? k : n
        let call = {
            Gemm.run(backend, transA: layout.transA, transB: layout.transB, m: m, n: n, k: k,
                     a: a.data, lda: lda, b: b.data, ldb: ldb, c: c.data, ldc: n, threads: threads)
        }
        let t0 = monotonicNanos()
        call()
        let first = Double(monotonicNanos() - t0) * 1e-9
        let perBatch = max(1, Int((1e-3 / max(first, 1e-9)).rounded(.up)))
        var samples: [Double] = []
        let start = monotonicNanos()
        while true {
            let s = monotonicNanos()
            for _ in 0..<perBatch { call() }
            let e = monotonicNanos()
            samples.append(Double(e - s) * 1e-9 / Double(perBatch))
            let total = Double(e - start) * 1e-9
            if total >= maxSeconds || (total >= minSeconds && samples.count >= minSamples) { break }
        }
        samples.sort()
        let mid = samples.count / 2
        let median = samples.count % 2 == 1 ? samples[mid] : (samples[mid - 1] + samples[mid]) / 2
        return GemmBenchResult(shape: shape, layout: layout, backend: backend, threads: threads,
                               gflops: Gemm.flops(m: m, n: n, k: k) / median / 1e9, seconds: median,
                               calls: samples.count * perBatch)
    }

    /// Deterministic values in [−1, 1) (xorshift), so runs are comparable.
    static func fill(_ t: Tensor, seed: UInt64) {
        var s = seed &* 0x9E37_79B9_7F4A_7C15 | 1
        let p = t.data
        for i in 0..<t.count {
            s ^= s << 13; s ^= s >> 7; s ^= s << 17
            p[i] = Float(s >> 40) / Float(1 << 23) - 1
        }
    }
}
