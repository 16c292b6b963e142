import CBLAS
import Synchronization

extension Gemm {
    /// The thread count last given to OpenBLAS (it is process-global; set only on change).
    private static let blasThreads = Atomic<Int>(0)

    /// OpenBLAS `cblas_sgemm`, row-major.
    ///
    /// `.split` (with `threads > 1`) runs single-threaded `cblas_sgemm` calls on blocks of C on
    /// our workers (`Gemm.split`), so OpenBLAS's own pthreads are never woken: after each
    /// multi-threaded call they spin in `sched_yield` for a while (OPENBLAS_THREAD_TIMEOUT,
    /// ~2²⁸ cycles) and, on a 2-core machine, take CPU from whatever runs next — 10–13 % of all
    /// samples in a CNN training step (perf, 2026-11-22). `.library` sets OpenBLAS's thread
    /// count to `threads` (when it changed) and makes one call.
    public static func blas(
        transA: Bool, transB: Bool, m: Int, n: Int, k: Int, alpha: Float,
        a: UnsafePointer<Float>, lda: Int, b: UnsafePointer<Float>, ldb: Int,
        beta: Float, c: UnsafeMutablePointer<Float>, ldc: Int, threads: Int,
        threading: GemmThreading = .split
    ) {
        let t = threading == .split ? 1 : max(1, threads)
        if blasThreads.exchange(t, ordering: .relaxed) != t { openblas_set_num_threads(Int32(t)) }
        if t > 1 || threads <= 1 {
            cblas(transA: transA, transB: transB, m: m, n: n, k: k, alpha: alpha, a: a, lda: lda, b: b, ldb: ldb,
                  beta: beta, c: c, ldc: ldc)
            return
        }
        split(transA: transA, transB: transB, m: m, n: n, k: k, a: a, lda: lda, b: b, ldb: ldb,
              c: c, ldc: ldc, threads: threads) { m, n, a, b, c in
            cblas(transA: transA, transB: transB, m: m, n: n, k: k, alpha: alpha, a: a, lda: lda, b: b, ldb: ldb,
                  beta: beta, c: c, ldc: ldc)
        }
    }

    @inline(__always)
    private static func cblas(
        transA: Bool, transB: Bool, m: Int, n: Int, k: Int, alpha: Float,
        a: UnsafePointer<Float>, lda: Int, b: UnsafePointer<Float>, ldb: Int,
        beta: Float, c: UnsafeMutablePointer<Float>, ldc: Int
    ) {
        cblas_sgemm(CblasRowMajor, transA ? CblasTrans : CblasNoTrans, transB ? CblasTrans : CblasNoTrans,
                    Int32(m), Int32(n), Int32(k), alpha, a, Int32(lda), b, Int32(ldb), beta, c, Int32(ldc))
    }
}
