import CKernels
import InftopTelemetry

/// The single-core fp32 FMA peak of one ISA tier, measured, not looked up: 12 independent FMA
/// chains (`ck_fma_probe256` / `ck_fma_probe512`, enough to cover the FMA latency on both FMA
/// pipes) for about `seconds`, best of `rounds`. `inftop bench --peak` prints it and
/// `bench --gemm` divides by it ("% of peak").
public struct FMAPeak: Sendable, Codable {
    public var isa: KernelISA
    /// 10⁹ FLOP/s on the calling thread (an FMA counts 2 FLOPs per lane), best call by wall time.
    public var gflops: Double
    /// The same by the thread's CPU time (time the core was taken away not counted): the figure
    /// to divide a one-thread GEMM's `cpuGflops` by on a shared machine.
    public var cpuGflops: Double

    /// `{"peak":"fma","isa":"avx512","gflops":…}`.
    public var jsonLine: String {
        "{\"peak\":\"fma\",\"isa\":\"\(isa.rawValue)\",\"gflops\":\(Double(Int(gflops * 10)) / 10),\"cpu_gflops\":\(Double(Int(cpuGflops * 10)) / 10)}"
    }

    /// Measures `isa` (resolved; the CPU must have it: `CPUFeatures.resolve` first).
    public static func measure(_ isa: KernelISA, seconds: Double = 0.2, rounds: Int = 3) -> FMAPeak {
        precondition(isa != .auto, "FMAPeak: resolve the ISA first")
        precondition(isa != .avx512 || CPUFeatures.host.hasAVX512, "FMAPeak: this CPU lacks AVX-512")
        let lanes = isa == .avx512 ? 16.0 : 8.0
        func probe(_ n: Int64) { _ = isa == .avx512 ? ck_fma_probe512(n) : ck_fma_probe256(n) }
        // Size the loop: ~10 ms calls.
        var n: Int64 = 1 << 16
        while true {
            let t0 = monotonicNanos(); probe(n)
            let dt = Double(monotonicNanos() - t0) * 1e-9
            if dt > 0.01 || n > (1 << 40) { break }
            n *= 4
        }
        var best = 0.0, bestCPU = 0.0
        let flops = Double(n) * 12 * 2 * lanes
        for _ in 0..<max(1, rounds) {
            let start = monotonicNanos()
            var calls = 0
            while Double(monotonicNanos() - start) * 1e-9 < seconds / Double(max(1, rounds)) || calls == 0 {
                let t0 = monotonicNanos(), c0 = threadCPUNanos()
                probe(n); calls += 1
                let dt = Double(monotonicNanos() - t0) * 1e-9, dc = Double(threadCPUNanos() - c0) * 1e-9
                best = max(best, flops / dt / 1e9)
                if dc > 0 { bestCPU = max(bestCPU, flops / dc / 1e9) }
            }
        }
        return FMAPeak(isa: isa, gflops: best, cpuGflops: bestCPU)
    }
}
