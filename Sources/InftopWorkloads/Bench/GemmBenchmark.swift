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

/// One implementation to time: a backend and, for simd, the ISA tier of its register tile
/// (reference and blas ignore the tier; blas is Debian's OpenBLAS with whatever kernel
/// `OPENBLAS_CORETYPE` selects).
public struct GemmVariant: Sendable, Equatable, Hashable, Codable {
    public var backend: KernelBackend
    /// Resolved (never `.auto`).
    public var isa: KernelISA
    public init(_ backend: KernelBackend, isa: KernelISA) { self.backend = backend; self.isa = isa }
    /// `simd/avx512`, `blas`, `reference`: the column name of `bench --gemm`.
    public var label: String { backend == .simd ? "simd/\(isa.rawValue)" : backend.rawValue }
}

/// Median speed of one (shape, layout, backend, isa, threads) measurement.
public struct GemmBenchResult: Sendable, Codable {
    public var shape: GemmShape
    public var layout: GemmLayout
    public var backend: KernelBackend
    /// The simd tier's ISA (for reference/blas: the ISA the process ran with, which they ignore).
    public var isa: KernelISA
    public var threads: Int
    /// 2·m·n·k / median seconds per call, in 10⁹ FLOP/s.
    public var gflops: Double
    /// Median seconds per call.
    public var seconds: Double
    /// Calls timed (after warm-up).
    public var calls: Int
    /// One thread only: 2·m·n·k / median of the calling thread's CPU time per call — the speed
    /// while the thread actually ran, so time other processes took the core away is not counted
    /// (on a shared machine the ratio to `FMAPeak.cpuGflops` is what stays meaningful). nil for
    /// threads > 1 (work on other threads is not in this thread's CPU time).
    public var cpuGflops: Double? = nil
    /// fp32, or int8 for the `int8` rows (GemmBenchmark+Int8.swift): then `gflops` is GOP/s and
    /// `kernel` names the int8 tier.
    public var precision: Precision = .fp32
    public var kernel: String? = nil

    /// One JSON object on one line, keys in a fixed order:
    /// `{"m":…,"n":…,"k":…,"backend":"simd","threads":1,"gflops":…,"layout":"nn","seconds":…,"calls":…,"isa":"avx512"}`.
    public var jsonLine: String {
        "{\"m\":\(shape.m),\"n\":\(shape.n),\"k\":\(shape.k),\"backend\":\"\(precision == .int8 ? "int8" : backend.rawValue)\",\"threads\":\(threads),"
            + "\"gflops\":\(rounded(gflops, 3)),\"layout\":\"\(layout.rawValue)\",\"seconds\":\(seconds),\"calls\":\(calls),"
            + "\"isa\":\"\(isa.rawValue)\"" + (cpuGflops.map { ",\"cpu_gflops\":\(rounded($0, 3))" } ?? "")
            + ",\"precision\":\"\(precision.rawValue)\"" + (kernel.map { ",\"kernel\":\"\($0)\"" } ?? "") + "}"
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
        _ shape: GemmShape, layout: GemmLayout = .nn, backend: KernelBackend, isa: KernelISA = CPUFeatures.host.bestISA,
        threads: Int, minSeconds: Double = 0.3, minSamples: Int = 5, maxSeconds: Double = 3, warmupSeconds: Double = 0.3
    ) -> GemmBenchResult {
        compare(shape, layout: layout, variants: [GemmVariant(backend, isa: isa)], threads: threads,
                minSeconds: minSeconds, minSamples: minSamples, maxSeconds: maxSeconds, warmupSeconds: warmupSeconds)[0]
    }

    /// `compare` of several backends at one ISA.
    public static func compare(
        _ shape: GemmShape, layout: GemmLayout = .nn, backends: [KernelBackend], isa: KernelISA = CPUFeatures.host.bestISA,
        threads: Int, minSeconds: Double = 0.3, minSamples: Int = 5, maxSeconds: Double = 3, warmupSeconds: Double = 0.3
    ) -> [GemmBenchResult] {
        compare(shape, layout: layout, variants: backends.map { GemmVariant($0, isa: isa) }, threads: threads,
                minSeconds: minSeconds, minSamples: minSamples, maxSeconds: maxSeconds, warmupSeconds: warmupSeconds)
    }

    /// Times several variants (backend × ISA tier) side by side on the same operands. Each backend is warmed up for
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
        _ shape: GemmShape, layout: GemmLayout = .nn, variants backends: [GemmVariant], int8: Bool = false, threads: Int,
        minSeconds: Double = 0.3, minSamples: Int = 5, maxSeconds: Double = 3, warmupSeconds: Double = 0.3
    ) -> [GemmBenchResult] {
        let (m, n, k) = (shape.m, shape.n, shape.k)
        let a = Tensor([m * k], name: "bench.A", owner: .other)
        let b = Tensor([k * n], name: "bench.B", owner: .other)
        let c = Tensor([m * n], name: "bench.C", owner: .other)
        fill(a, seed: 1); fill(b, seed: 2); c.fill(0)
        let lda = layout.transA ? m : k
        let ldb = layout.transB ? k : n
        // nil = the int8 row (GemmBenchmark+Int8.swift), timed after the fp32 variants.
        let int8Op = int8 ? Int8GemmOperands(shape, layout: layout, a: a, b: b, c: c, threads: threads) : nil
        let entries: [GemmVariant?] = backends.map { $0 } + (int8 ? [nil] : [])
        func call(_ entry: GemmVariant?) {
            guard let v = entry else { int8Op!.call(); return }
            Gemm.run(v.backend, transA: layout.transA, transB: layout.transB, m: m, n: n, k: k,
                     a: a.data, lda: lda, b: b.data, ldb: ldb, c: c.data, ldc: n, threads: threads,
                     threading: .library, isa: v.isa)
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
        var cpuSamples = entries.map { _ in [Double]() }
        let start = monotonicNanos()
        func enough(_ i: Int) -> Bool { samples[i].count >= minSamples && spent[i] >= minSeconds }
        while true {
            // A backend that has enough samples drops out of the rounds, so a slow one (the
            // reference) does not keep the fast ones waiting, nor they it.
            for (i, backend) in entries.enumerated() where !enough(i) {
                let s = monotonicNanos(), cpu0 = threadCPUNanos()
                for _ in 0..<perBatch[i] { call(backend) }
                let seconds = Double(monotonicNanos() - s) * 1e-9
                cpuSamples[i].append(Double(threadCPUNanos() - cpu0) * 1e-9 / Double(perBatch[i]))
                samples[i].append(seconds / Double(perBatch[i]))
                spent[i] += seconds
            }
            let total = Double(monotonicNanos() - start) * 1e-9
            if entries.indices.allSatisfy(enough) || total >= maxSeconds * Double(entries.count) { break }
        }
        return entries.enumerated().map { i, entry in
            let median = median(samples[i]), cpuMedian = Self.median(cpuSamples[i])
            let flops = Gemm.flops(m: m, n: n, k: k)
            return GemmBenchResult(shape: shape, layout: layout, backend: entry?.backend ?? .simd,
                                   isa: entry?.isa ?? int8Op!.compute.isa, threads: threads,
                                   gflops: flops / median / 1e9, seconds: median,
                                   calls: samples[i].count * perBatch[i],
                                   cpuGflops: threads == 1 && cpuMedian > 0 ? flops / cpuMedian / 1e9 : nil,
                                   precision: entry == nil ? .int8 : .fp32, kernel: entry == nil ? int8Op!.kernel.rawValue : nil)
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
