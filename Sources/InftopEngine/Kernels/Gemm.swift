import InftopTelemetry
/// Single-precision GEMM, row-major, one entry point for all tiers:
///
///     C[M×N] = alpha · op(A)[M×K] · op(B)[K×N] + beta · C
///
/// `op(A)` is A (stored M×K, row stride `lda` ≥ K) or, with `transA`, Aᵀ (A stored K×M,
/// `lda` ≥ M); likewise B (K×N, `ldb` ≥ N) or, with `transB`, Bᵀ (B stored N×K, `ldb` ≥ K —
/// the nn.Linear weight layout). `ldc` ≥ N. With `beta == 0` C is not read (NaNs in it vanish).
/// `threads` ≥ 1 bounds the threads the call may use; `threading` says whose threads (ours by
/// default: see `GemmThreading` and `Gemm.blas`). `isa` picks the simd tier's register tile
/// (`Compute.isa`: avx2 or avx512; `auto` = the widest the CPU has); the other backends ignore it.
public enum Gemm {
    public static func run(
        _ backend: KernelBackend, transA: Bool = false, transB: Bool = false,
        m: Int, n: Int, k: Int, alpha: Float = 1,
        a: UnsafePointer<Float>, lda: Int, b: UnsafePointer<Float>, ldb: Int,
        beta: Float = 0, c: UnsafeMutablePointer<Float>, ldc: Int, threads: Int = 1,
        threading: GemmThreading = .split, isa: KernelISA = .auto
    ) {
        precondition(m >= 0 && n >= 0 && k >= 0, "Gemm: negative size m=\(m) n=\(n) k=\(k)")
        precondition(lda >= (transA ? m : k) && ldb >= (transB ? k : n) && ldc >= n,
                     "Gemm: leading dimensions lda=\(lda) ldb=\(ldb) ldc=\(ldc) too small for m=\(m) n=\(n) k=\(k) transA=\(transA) transB=\(transB)")
        if m == 0 || n == 0 { return }
        switch backend {
        case .reference:
            reference(transA: transA, transB: transB, m: m, n: n, k: k, alpha: alpha, a: a, lda: lda, b: b, ldb: ldb, beta: beta, c: c, ldc: ldc)
        case .blas:
            blas(transA: transA, transB: transB, m: m, n: n, k: k, alpha: alpha, a: a, lda: lda, b: b, ldb: ldb, beta: beta, c: c, ldc: ldc, threads: threads, threading: threading)
        case .simd:
            simd(transA: transA, transB: transB, m: m, n: n, k: k, alpha: alpha, a: a, lda: lda, b: b, ldb: ldb, beta: beta, c: c, ldc: ldc, threads: threads, isa: isa)
        }
    }

    /// Plain triple loop, accumulating in Float in k order: the oracle every tier is tested against.
    public static func reference(
        transA: Bool, transB: Bool, m: Int, n: Int, k: Int, alpha: Float,
        a: UnsafePointer<Float>, lda: Int, b: UnsafePointer<Float>, ldb: Int,
        beta: Float, c: UnsafeMutablePointer<Float>, ldc: Int
    ) {
        for i in 0..<m {
            for j in 0..<n {
                var acc: Float = 0
                for p in 0..<k {
                    let av = transA ? a[p * lda + i] : a[i * lda + p]
                    let bv = transB ? b[j * ldb + p] : b[p * ldb + j]
                    acc += av * bv
                }
                let old = beta == 0 ? 0 : beta * c[i * ldc + j]
                c[i * ldc + j] = alpha * acc + old
            }
        }
    }

    /// Floating-point operations of one call (2·M·N·K).
    public static func flops(m: Int, n: Int, k: Int) -> Double { 2 * Double(m) * Double(n) * Double(k) }
}
