import CKernels

/// The CSR product in the two layouts a BERT projection uses besides `run`'s row-major one
/// (`ProjectionLayout`), with W `[N, K]` in CSR and only its nonzeros read:
///
///     runTransposedOut   Yᵀ[N, M] = W · Xᵀ + bias     X `[M, K]` row-major, output feature-major
///     runKMajorIn        Y[M, N]  = X · Wᵀ + bias     X given feature-major `[K, M]`
///
/// Tiers as `run`: `reference` (plain loops) and `avx2` — X transposed into `scratch` (or the
/// feature-major X copied there with its rows padded to a multiple of 8), then the k-major
/// product (`ck_csr_kmajor_avx2`) or the row-major-output blocks of `ck_csr_gemm_avx2`.
extension SparseGemm {
    /// Batch rows rounded up to the kernels' 8 lanes.
    static func paddedRows(_ m: Int) -> Int { (m + 7) / 8 * 8 }

    public static func runTransposedOut(_ tier: Tier, m: Int, x: UnsafePointer<Float>, ldx: Int, weights w: SparseWeights,
                                        bias: UnsafePointer<Float>?, yT: UnsafeMutablePointer<Float>, ldyT: Int, scratch: Tensor) {
        precondition(m >= 0 && ldx >= w.k && ldyT >= m, "SparseGemm: ldx \(ldx) / ldyT \(ldyT) too small for \(m) × [\(w.n), \(w.k)]")
        if m == 0 { return }
        switch tier {
        case .reference:
            for j in 0..<w.n {
                for i in 0..<m {
                    var s = bias?[j] ?? 0
                    for p in Int(w.rowptr[j])..<Int(w.rowptr[j + 1]) { s += w.vals[p] * x[i * ldx + Int(w.cols[p])] }
                    yT[j * ldyT + i] = s
                }
            }
        case .avx2:
            let mp = paddedRows(m)
            scratch.resize([w.k * mp])
            ck_csr_transpose(m, w.k, x, ldx, scratch.data)
            ck_csr_kmajor_avx2(w.n, m, scratch.data, mp, UnsafePointer(w.rowptr), UnsafePointer(w.cols), UnsafePointer(w.vals), bias, yT, ldyT)
        }
    }

    public static func runKMajorIn(_ tier: Tier, m: Int, xt: UnsafePointer<Float>, ldxt: Int, weights w: SparseWeights,
                                   bias: UnsafePointer<Float>?, y: UnsafeMutablePointer<Float>, ldy: Int, scratch: Tensor) {
        precondition(m >= 0 && ldxt >= m && ldy >= w.n, "SparseGemm: ldxt \(ldxt) / ldy \(ldy) too small for \(m) × [\(w.n), \(w.k)]")
        if m == 0 { return }
        switch tier {
        case .reference:
            for i in 0..<m {
                for j in 0..<w.n {
                    var s = bias?[j] ?? 0
                    for p in Int(w.rowptr[j])..<Int(w.rowptr[j + 1]) { s += w.vals[p] * xt[Int(w.cols[p]) * ldxt + i] }
                    y[i * ldy + j] = s
                }
            }
        case .avx2:
            // The blocks read whole 8-row groups of every X row: copied into rows padded to mp
            // when X's own rows are shorter (the last row's group would read past its end).
            let mp = paddedRows(m)
            var src = xt, ld = ldxt
            if ldxt < mp {
                scratch.resize([w.k * mp])
                let d = scratch.data
                for c in 0..<w.k {
                    (d + c * mp).update(from: xt + c * ldxt, count: m)
                    (d + c * mp + m).update(repeating: 0, count: mp - m)
                }
                src = UnsafePointer(d); ld = mp
            }
            ck_csr_gemm_kin_avx2(m, w.n, src, ld, UnsafePointer(w.rowptr), UnsafePointer(w.cols), UnsafePointer(w.vals), bias, y, ldy)
        }
    }
}
