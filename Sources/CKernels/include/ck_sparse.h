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

/// The two halves of ck_csr_gemm_avx2 for m ≥ 8, for callers whose X is already k-major:
/// xt[c · mp + i] = x[i · ldx + c] (mp = m rounded up to 8, rows i ≥ m zero; k · mp floats), and
/// Y from a k-major xt of row stride ldxt ≥ mp (values in rows m ..< mp are read but never
/// reach Y) — the same sums as ck_csr_gemm_avx2.
void ck_csr_transpose(long m, long k, const float *x, long ldx, float *xt);
void ck_csr_gemm_kin_avx2(long m, long n, const float *xt, long ldxt, const int32_t *rowptr, const int32_t *cols,
                          const float *vals, const float *bias, float *y, long ldy);

/// The same W against a k-major operand, for convolutions (im2col's [K, N] columns):
///
///     C[j, i] = bias[j] + Σ_{p ∈ row j} vals[p] · B[cols[p], i]      (j < n, i < cols_n)
///
/// B `[k, ldb]`, C `[n, ldc]` (row-major, ldc ≥ cols_n). Each nonzero is one broadcast-FMA over
/// 64 (then 32, then 8) consecutive columns of its B row; the last cols_n % 8 columns are scalar,
/// in the same order. `bias` may be NULL.
void ck_csr_kmajor_avx2(long n, long cols_n, const float *b, long ldb,
                        const int32_t *rowptr, const int32_t *cols, const float *vals,
                        const float *bias, float *c, long ldc);

#endif
