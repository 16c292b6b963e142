// Sparse (CSR) weight GEMM for pruned layers (InftopEngine/Prune drives it):
//
//     Y[i, j] = Σ_{p ∈ row j} vals[p] · X[i, cols[p]] + bias[j]      (i < m, j < n)
//
// W `[n, k]` (nn.Linear's [out, in]) in compressed sparse rows: row j's nonzeros are
// vals[rowptr[j] ..< rowptr[j+1]] at input columns cols[...]. Only the nonzeros are read and
// multiplied: at 90% sparsity a tenth of the dense work. The Swift reference twin is
// SparseGemm.reference (same sums, same order per output for m < 8).
#ifndef CK_SPARSE_H
#define CK_SPARSE_H
#include <stdint.h>

/// AVX2 + FMA. m < 8: per input row, 8-wide gathers of X along each weight row. m ≥ 8: X is
/// transposed into `xt` ([k, mp], mp = m rounded up to 8; the caller's scratch of k·mp floats)
/// and every nonzero is one broadcast-FMA over 64 (then 32, then 8) consecutive batch rows.
/// `bias` may be NULL; Y rows have stride ldy ≥ n, X rows stride ldx ≥ k.
void ck_csr_gemm_avx2(long m, long n, long k, const float *x, long ldx,
                      const int32_t *rowptr, const int32_t *cols, const float *vals,
                      const float *bias, float *y, long ldy, float *xt);

#endif
