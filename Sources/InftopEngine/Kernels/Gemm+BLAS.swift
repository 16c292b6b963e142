import CBLAS
import Synchronization

extension Gemm {
    /// The thread count last given to OpenBLAS (it is process-global; set only on change).
    private static let blasThreads = Atomic<Int>(0)

    /// OpenBLAS `cblas_sgemm`, row-major. Sets OpenBLAS's thread count to `threads` when it changed.
    public static func blas(
        transA: Bool, transB: Bool, m: Int, n: Int, k: Int, alpha: Float,
        a: UnsafePointer<Float>, lda: Int, b: UnsafePointer<Float>, ldb: Int,
        beta: Float, c: UnsafeMutablePointer<Float>, ldc: Int, threads: Int
    ) {
        let t = max(1, threads)
        if blasThreads.exchange(t, ordering: .relaxed) != t { openblas_set_num_threads(Int32(t)) }
        cblas_sgemm(CblasRowMajor, transA ? CblasTrans : CblasNoTrans, transB ? CblasTrans : CblasNoTrans,
                    Int32(m), Int32(n), Int32(k), alpha, a, Int32(lda), b, Int32(ldb), beta, c, Int32(ldc))
    }
}
