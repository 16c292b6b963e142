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
    public var backend: KernelBackend
    public var threads: Int
    /// 2·m·n·k / median seconds per call, in 10⁹ FLOP/s.
    public var gflops: Double
    /// Median seconds per call.
    public var seconds: Double
    /// Calls timed (after warm-up).
    public var calls: Int
    /// fp32, or int8 for the `int8` rows (GemmBenchmark+Int8.swift): then `gflops` is GOP/s and
    /// `kernel` names the int8 tier.
    public var precision: Precision = .fp32
    public var kernel: String? = nil

    /// One JSON object on one line, keys in a fixed order:
    /// `{"m":…,"n":…,"k":…,"backend":"simd","threads":1,"gflops":…,"layout":"nn","seconds":…,"calls":…}`.
    public var jsonLine: String {
        "{\"m\":\(shape.m),\"n\":\(shape.n),\"k\":\(shape.k),\"backend\":\"\(precision == .int8 ? "int8" : backend.rawValue)\",\"threads\":\(threads),"
            + "\"gflops\":\(rounded(gflops, 3)),\"layout\":\"\(layout.rawValue)\",\"seconds\":\(seconds),\"calls\":\(calls),"
            + "\"precision\":\"\(precision.rawValue)\"" + (kernel.map { ",\"kernel\":\"\($0)\"" } ?? "") + "}"
    }

    private func rounded(_ x: Double, _ digits: Int) -> Double {
        var scale = 1.0
        for _ in 0..<digits { scale *= 10 }
        return (x * scale).rounded() / scale
    }
}

/// Times `Gemm.run` the way `inftop bench --gemm` reports it.
public enum GemmBenchmark {
    /// Times one backend; see `compare`.
    public static func run(
        _ shape: GemmShape, layout: GemmLayout = .nn, backend: KernelBackend, threads: Int,
        minSeconds: Double = 0.3, minSamples: Int = 5, maxSeconds: Double = 3, warmupSeconds: Double = 0.3
    ) -> GemmBenchResult {
        compare(shape, layout: layout, backends: [backend], threads: threads,
                minSeconds: minSeconds, minSamples: minSamples, maxSeconds: maxSeconds, warmupSeconds: warmupSeconds)[0]
    }

    /// Times several backends side by side on the same operands. Each backend is warmed up for
    /// `warmupSeconds` (at least one call; the first sizes its batches: enough calls to last
    /// ≥ 1 ms, so the clock's ~41 ns does not distort tiny shapes). Then rounds run one batch of every backend in
    /// turn — interleaved, so a burst of load from other processes hits all of them alike —
    /// until each has had at least `minSeconds` and `minSamples` batches (a backend that has
    /// stops taking part), or the run has taken `maxSeconds` per backend (the reference tier at 512³ takes ~0.35 s a call, so it is
    /// timed a few times, not for ages). Result: the median per-call time over batches.
    ///
    /// Operands hold deterministic values in [−1, 1); C is overwritten (beta = 0). Threads are
    /// the library's own (`GemmThreading.library`): "blas, 2 threads" is OpenBLAS's threading, as
    /// numpy uses it, not our split of single-threaded calls.
    public static func compare(
        _ shape: GemmShape, layout: GemmLayout = .nn, backends: [KernelBackend], int8: Bool = false, threads: Int,
        minSeconds: Double = 0.3, minSamples: Int = 5, maxSeconds: Double = 3, warmupSeconds: Double = 0.3
    ) -> [GemmBenchResult] {
        let (m, n, k) = (shape.m, shape.n, shape.k)
        let a = Tensor([m * k], name: "bench.A", owner: .other)
        let b = Tensor([k * n], name: "bench.B", owner: .other)
        let c = Tensor([m * n], name: "bench.C", owner: .other)
        fill(a, seed: 1); fill(b, seed: 2); c.fill(0)
        let lda = layout.transA ? m : k
        let ldb = layout.transB ? k : n
        // nil = the int8 row (GemmBenchmark+Int8.swift), timed after the fp32 backends.
        let int8Op = int8 ? Int8GemmOperands(shape, layout: layout, a: a, b: b, c: c, threads: threads) : nil
        let entries: [KernelBackend?] = backends.map { $0 } + (int8 ? [nil] : [])
        func call(_ entry: KernelBackend?) {
            guard let backend = entry else { int8Op!.call(); return }
            Gemm.run(backend, transA: layout.transA, transB: layout.transB, m: m, n: n, k: k,
                     a: a.data, lda: lda, b: b.data, ldb: ldb, c: c.data, ldc: n, threads: threads,
                     threading: .library)
        }
        let perBatch = entries.map { backend -> Int in
            let t0 = monotonicNanos()
            call(backend)
            let first = Double(monotonicNanos() - t0) * 1e-9
            // Then more calls until `warmupSeconds` have passed: a process's first few hundred
            // ms of 2-thread calls ran at 1× or ~1.5× instead of ~2× on this machine (the
            // second worker not yet running beside the caller), so timing from the first
            // call measured start-up, not the kernel.
            while Double(monotonicNanos() - t0) * 1e-9 < warmupSeconds { call(backend) }
            return max(1, Int((1e-3 / max(first, 1e-9)).rounded(.up)))
        }
        var samples = entries.map { _ in [Double]() }
        var spent = entries.map { _ in 0.0 }
        let start = monotonicNanos()
        func enough(_ i: Int) -> Bool { samples[i].count >= minSamples && spent[i] >= minSeconds }
        while true {
            // A backend that has enough samples drops out of the rounds, so a slow one (the
            // reference) does not keep the fast ones waiting, nor they it.
            for (i, backend) in entries.enumerated() where !enough(i) {
                let s = monotonicNanos()
                for _ in 0..<perBatch[i] { call(backend) }
                let seconds = Double(monotonicNanos() - s) * 1e-9
                samples[i].append(seconds / Double(perBatch[i]))
                spent[i] += seconds
            }
            let total = Double(monotonicNanos() - start) * 1e-9
            if entries.indices.allSatisfy(enough) || total >= maxSeconds * Double(entries.count) { break }
        }
        return entries.enumerated().map { i, backend in
            let median = median(samples[i])
            return GemmBenchResult(shape: shape, layout: layout, backend: backend ?? .simd, threads: threads,
                                   gflops: Gemm.flops(m: m, n: n, k: k) / median / 1e9, seconds: median,
                                   calls: samples[i].count * perBatch[i], precision: backend == nil ? .int8 : .fp32,
                                   kernel: backend == nil ? int8Op!.kernel.rawValue : nil)
        }
    }

    static func median(_ xs: [Double]) -> Double {
        let s = xs.sorted(), mid = s.count / 2
        return s.count % 2 == 1 ? s[mid] : (s[mid - 1] + s[mid]) / 2
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
