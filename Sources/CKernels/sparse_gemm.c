// CSR weight GEMM, AVX2 + FMA (formulas and layout in ck_sparse.h).
#include "ck_sparse.h"
#include <immintrin.h>

#define TAVX2 __attribute__((target("avx2,fma")))

static inline TAVX2 float hsum8(__m256 v) {
    __m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
    s = _mm_add_ps(s, _mm_movehl_ps(s, s));
    s = _mm_add_ss(s, _mm_shuffle_ps(s, s, 1));
    return _mm_cvtss_f32(s);
}

/// m < 8: one gathered dot product per (input row, output).
static TAVX2 void csr_rows(long m, long n, const float *x, long ldx, const int32_t *rowptr,
                           const int32_t *cols, const float *vals, const float *bias, float *y, long ldy) {
    for (long i = 0; i < m; i++) {
        const float *xi = x + i * ldx;
        float *yi = y + i * ldy;
        for (long j = 0; j < n; j++) {
            long p = rowptr[j];
            const long e = rowptr[j + 1];
            __m256 a0 = _mm256_setzero_ps(), a1 = _mm256_setzero_ps();
            for (; p + 16 <= e; p += 16) {
                __m256i c0 = _mm256_loadu_si256((const __m256i *)(cols + p));
                __m256i c1 = _mm256_loadu_si256((const __m256i *)(cols + p + 8));
                a0 = _mm256_fmadd_ps(_mm256_loadu_ps(vals + p), _mm256_i32gather_ps(xi, c0, 4), a0);
                a1 = _mm256_fmadd_ps(_mm256_loadu_ps(vals + p + 8), _mm256_i32gather_ps(xi, c1, 4), a1);
            }
            for (; p + 8 <= e; p += 8) {
                __m256i c0 = _mm256_loadu_si256((const __m256i *)(cols + p));
                a0 = _mm256_fmadd_ps(_mm256_loadu_ps(vals + p), _mm256_i32gather_ps(xi, c0, 4), a0);
            }
            float s = hsum8(_mm256_add_ps(a0, a1));
            for (; p < e; p++) s += vals[p] * xi[cols[p]];
            yi[j] = s + (bias ? bias[j] : 0.0f);
        }
    }
}

/// dst[c·ldd + i] = src[i·lds + c] for an 8 × 8 block (unpack, shuffle, lane permute).
static inline TAVX2 void transpose8x8(const float *src, long lds, float *dst, long ldd) {
    __m256 r0 = _mm256_loadu_ps(src), r1 = _mm256_loadu_ps(src + lds), r2 = _mm256_loadu_ps(src + 2 * lds),
           r3 = _mm256_loadu_ps(src + 3 * lds), r4 = _mm256_loadu_ps(src + 4 * lds), r5 = _mm256_loadu_ps(src + 5 * lds),
           r6 = _mm256_loadu_ps(src + 6 * lds), r7 = _mm256_loadu_ps(src + 7 * lds);
    __m256 t0 = _mm256_unpacklo_ps(r0, r1), t1 = _mm256_unpackhi_ps(r0, r1), t2 = _mm256_unpacklo_ps(r2, r3),
           t3 = _mm256_unpackhi_ps(r2, r3), t4 = _mm256_unpacklo_ps(r4, r5), t5 = _mm256_unpackhi_ps(r4, r5),
           t6 = _mm256_unpacklo_ps(r6, r7), t7 = _mm256_unpackhi_ps(r6, r7);
    __m256 u0 = _mm256_shuffle_ps(t0, t2, 0x44), u1 = _mm256_shuffle_ps(t0, t2, 0xEE), u2 = _mm256_shuffle_ps(t1, t3, 0x44),
           u3 = _mm256_shuffle_ps(t1, t3, 0xEE), u4 = _mm256_shuffle_ps(t4, t6, 0x44), u5 = _mm256_shuffle_ps(t4, t6, 0xEE),
           u6 = _mm256_shuffle_ps(t5, t7, 0x44), u7 = _mm256_shuffle_ps(t5, t7, 0xEE);
    _mm256_storeu_ps(dst, _mm256_permute2f128_ps(u0, u4, 0x20));
    _mm256_storeu_ps(dst + ldd, _mm256_permute2f128_ps(u1, u5, 0x20));
    _mm256_storeu_ps(dst + 2 * ldd, _mm256_permute2f128_ps(u2, u6, 0x20));
    _mm256_storeu_ps(dst + 3 * ldd, _mm256_permute2f128_ps(u3, u7, 0x20));
    _mm256_storeu_ps(dst + 4 * ldd, _mm256_permute2f128_ps(u0, u4, 0x31));
    _mm256_storeu_ps(dst + 5 * ldd, _mm256_permute2f128_ps(u1, u5, 0x31));
    _mm256_storeu_ps(dst + 6 * ldd, _mm256_permute2f128_ps(u2, u6, 0x31));
    _mm256_storeu_ps(dst + 7 * ldd, _mm256_permute2f128_ps(u3, u7, 0x31));
}

/// Batch rows i0 ..< i0 + 8·nacc of every output: nacc independent accumulators per output (8
/// covers the FMA latency: 2 FMAs a cycle), one broadcast of each nonzero against its xt row.
/// Outputs go 8 at a time through `out`, so each Y row gets 8 contiguous values per store run.
static inline __attribute__((always_inline)) TAVX2 void csr_block(
    const int nacc, long i0, long m, long n, long mp, const float *xt, const int32_t *rowptr, const int32_t *cols,
    const float *vals, const float *bias, float *y, long ldy) {
    float out[8][64] __attribute__((aligned(32)));
    const long rows = m - i0 < 8 * nacc ? m - i0 : 8 * nacc;
    for (long j0 = 0; j0 < n; j0 += 8) {
        const long jn = n - j0 < 8 ? n - j0 : 8;
        for (long jj = 0; jj < jn; jj++) {
            const long j = j0 + jj;
            __m256 a[8];
            for (int t = 0; t < nacc; t++) a[t] = _mm256_setzero_ps();
            for (long p = rowptr[j], e = rowptr[j + 1]; p < e; p++) {
                const __m256 v = _mm256_broadcast_ss(vals + p);
                const float *row = xt + (long)cols[p] * mp + i0;
                for (int t = 0; t < nacc; t++) a[t] = _mm256_fmadd_ps(v, _mm256_loadu_ps(row + 8 * t), a[t]);
            }
            const __m256 b = _mm256_set1_ps(bias ? bias[j] : 0.0f);
            for (int t = 0; t < nacc; t++) _mm256_store_ps(&out[jj][8 * t], _mm256_add_ps(a[t], b));
        }
        for (long r = 0; r < rows; r++) {
            float *yr = y + (i0 + r) * ldy + j0;
            for (long jj = 0; jj < jn; jj++) yr[jj] = out[jj][r];
        }
    }
}

void TAVX2 ck_csr_transpose(long m, long k, const float *x, long ldx, float *xt) {
    const long mp = (m + 7) & ~7L;
    // xt[c, i] = x[i, c], zero for i ≥ m: 8 × 8 blocks, then the ragged rows and columns.
    const long mf = m & ~7L, kf = k & ~7L;
    for (long i = 0; i < mf; i += 8)
        for (long c = 0; c < kf; c += 8) transpose8x8(x + i * ldx + c, ldx, xt + c * mp + i, mp);
    for (long c = kf; c < k; c++) for (long i = 0; i < mf; i++) xt[c * mp + i] = x[i * ldx + c];
    for (long c = 0; c < k; c++) {
        for (long i = mf; i < m; i++) xt[c * mp + i] = x[i * ldx + c];
        for (long i = m; i < mp; i++) xt[c * mp + i] = 0;
    }
}

void TAVX2 ck_csr_gemm_kin_avx2(long m, long n, const float *xt, long ldxt, const int32_t *rowptr, const int32_t *cols,
                                const float *vals, const float *bias, float *y, long ldy) {
    if (m <= 0 || n <= 0) return;
    const long mp = (m + 7) & ~7L;  // blocks cover whole 8-row groups; ldxt ≥ mp holds them
    long i0 = 0;
    for (; i0 + 64 <= mp; i0 += 64) csr_block(8, i0, m, n, ldxt, xt, rowptr, cols, vals, bias, y, ldy);
    for (; i0 + 32 <= mp; i0 += 32) csr_block(4, i0, m, n, ldxt, xt, rowptr, cols, vals, bias, y, ldy);
    for (; i0 < mp; i0 += 8) csr_block(1, i0, m, n, ldxt, xt, rowptr, cols, vals, bias, y, ldy);
}

void TAVX2 ck_csr_gemm_avx2(long m, long n, long k, const float *x, long ldx,
                            const int32_t *rowptr, const int32_t *cols, const float *vals,
                            const float *bias, float *y, long ldy, float *xt) {
    if (m <= 0 || n <= 0) return;
    if (m < 8) { csr_rows(m, n, x, ldx, rowptr, cols, vals, bias, y, ldy); return; }
    ck_csr_transpose(m, k, x, ldx, xt);
    ck_csr_gemm_kin_avx2(m, n, xt, (m + 7) & ~7L, rowptr, cols, vals, bias, y, ldy);
}

/// Columns i0 ..< i0 + 8·nacc of every output row of the k-major product (ck_sparse.h).
static inline __attribute__((always_inline)) TAVX2 void csr_kmajor_block(
    const int nacc, long i0, long n, const float *b, long ldb, const int32_t *rowptr, const int32_t *cols,
    const float *vals, const float *bias, float *c, long ldc) {
    for (long j = 0; j < n; j++) {
        __m256 a[8];
        const __m256 bj = _mm256_set1_ps(bias ? bias[j] : 0.0f);
        for (int t = 0; t < nacc; t++) a[t] = bj;
        for (long p = rowptr[j], e = rowptr[j + 1]; p < e; p++) {
            const __m256 v = _mm256_broadcast_ss(vals + p);
            const float *row = b + (long)cols[p] * ldb + i0;
            for (int t = 0; t < nacc; t++) a[t] = _mm256_fmadd_ps(v, _mm256_loadu_ps(row + 8 * t), a[t]);
        }
        for (int t = 0; t < nacc; t++) _mm256_storeu_ps(c + j * ldc + i0 + 8 * t, a[t]);
    }
}

void TAVX2 ck_csr_kmajor_avx2(long n, long cols_n, const float *b, long ldb,
                              const int32_t *rowptr, const int32_t *cols, const float *vals,
                              const float *bias, float *c, long ldc) {
    if (n <= 0 || cols_n <= 0) return;
    long i0 = 0;
    for (; i0 + 64 <= cols_n; i0 += 64) csr_kmajor_block(8, i0, n, b, ldb, rowptr, cols, vals, bias, c, ldc);
    for (; i0 + 32 <= cols_n; i0 += 32) csr_kmajor_block(4, i0, n, b, ldb, rowptr, cols, vals, bias, c, ldc);
    for (; i0 + 8 <= cols_n; i0 += 8) csr_kmajor_block(1, i0, n, b, ldb, rowptr, cols, vals, bias, c, ldc);
    for (; i0 < cols_n; i0++) {
        for (long j = 0; j < n; j++) {
            float s = bias ? bias[j] : 0.0f;
            for (long p = rowptr[j], e = rowptr[j + 1]; p < e; p++) s += vals[p] * b[(long)cols[p] * ldb + i0];
            c[j * ldc + i0] = s;
        }
    }
}
