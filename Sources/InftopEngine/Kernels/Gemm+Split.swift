
/// How a GEMM call given `threads > 1` uses them.
public enum GemmThreading: String, Sendable, CaseIterable {
    /// C is cut into up to `threads` blocks of whole micro-panels, each one single-threaded call
    /// run on libdispatch's apply (the caller runs blocks too). The simd tier always does this.
    case split
    /// One call with `threads`: the library's own threads split the work (OpenBLAS's pthreads,
    /// after `openblas_set_num_threads`). For simd the same as `split`.
    case library
}

extension Gemm {
    /// Cuts `C[m×n] = op(A)·op(B)` into `partsFor(m:n:k:threads:)` independent sub-products and
    /// runs `sub(m′, n′, a′, b′, c′)` for each, in parallel when there is more than one.
    ///
    /// N is split (or M, when M > N), in whole `unitN`-column (the tier's panel) / 6-row micro-panels: splitting N
    /// repacks all of A in every part, splitting M all of B, so the side whose other operand is
    /// smaller is cut. `a′`, `b′`, `c′` point at the part's first element with the caller's
    /// leading dimensions. Returns without calling `sub` when m or n is 0.
    static func split(
        transA: Bool, transB: Bool, m: Int, n: Int, k: Int,
        a: UnsafePointer<Float>, lda: Int, b: UnsafePointer<Float>, ldb: Int,
        c: UnsafeMutablePointer<Float>, ldc: Int, threads: Int, unitN: Int = Gemm.nr,
        _ sub: (_ m: Int, _ n: Int, _ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>, _ c: UnsafeMutablePointer<Float>) -> Void
    ) {
        if m == 0 || n == 0 { return }
        let parts = partsFor(m: m, n: n, k: k, threads: threads, unitN: unitN)
        if parts == 1 { sub(m, n, a, b, c); return }
        let splitN = n >= m
        let unit = splitN ? unitN : mr
        let units = ((splitN ? n : m) + unit - 1) / unit
        let body: (Int) -> Void = { part in
            let lo = part * units / parts * unit
            let hi = min((part + 1) * units / parts * unit, splitN ? n : m)
            if lo >= hi { return }
            if splitN {
                sub(m, hi - lo, a, b + (transB ? lo * ldb : lo), c + lo)
            } else {
                sub(hi - lo, n, a + (transA ? lo : lo * lda), b, c + lo * ldc)
            }
        }
        // The worker pool (the one parallel-for): the caller runs parts too and claims any part
        // a worker has not started, so a worker that is slow to wake delays nothing; an idle
        // worker spins briefly before parking, so back-to-back GEMMs of a forward pay no futex
        // hand-off (docs/DECISIONS.md, 2026-12-02).
        ParallelChunks.forEach(parts, body)
    }

    /// How many parts (threads) a call should use: no more than asked, no more than there are
    /// micro-panels, and none for work too small to pay the hand-off to a worker.
    static func partsFor(m: Int, n: Int, k: Int, threads: Int, unitN: Int = Gemm.nr) -> Int {
        if threads <= 1 { return 1 }
        let units = n >= m ? (n + unitN - 1) / unitN : (m + mr - 1) / mr
        let byWork = max(1, m * n * k / minWorkPerPart)
        return max(1, min(threads, units, byWork))
    }

    /// Multiply-adds a part must have to be worth a thread: 2¹⁹ ≈ 14 µs at 75 GFLOP/s, against a
    /// measured hand-off of 3–7 µs (concurrentPerform on this 2-vCPU machine). So a product
    /// splits in two from ~1 M multiply-adds (e.g. 64×64×256) up.
    static let minWorkPerPart = 1 << 19
}
