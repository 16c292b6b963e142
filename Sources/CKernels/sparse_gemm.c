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

void TAVX2 ck_csr_gemm_avx2(long m, long n, long k, const float *x, long ldx,
                            const int32_t *rowptr, const int32_t *cols, const float *vals,
                            const float *bias, float *y, long ldy, float *xt) {
    if (m <= 0 || n <= 0) return;
    if (m < 8) { csr_rows(m, n, x, ldx, rowptr, cols, vals, bias, y, ldy); return; }
    const long mp = (m + 7) & ~7L;
    // xt[c, i] = x[i, c], zero for i ≥ m.
    for (long c = 0; c < k; c++) {
        float *t = xt + c * mp;
        for (long i = 0; i < m; i++) t[i] = x[i * ldx + c];
        for (long i = m; i < mp; i++) t[i] = 0;
    }
    float out[32] __attribute__((aligned(32)));
    long i0 = 0;
    for (; i0 + 32 <= mp; i0 += 32) {
        for (long j = 0; j < n; j++) {
            __m256 a0 = _mm256_setzero_ps(), a1 = _mm256_setzero_ps(), a2 = _mm256_setzero_ps(), a3 = _mm256_setzero_ps();
            for (long p = rowptr[j], e = rowptr[j + 1]; p < e; p++) {
                const __m256 v = _mm256_broadcast_ss(vals + p);
                const float *t = xt + (long)cols[p] * mp + i0;
                a0 = _mm256_fmadd_ps(v, _mm256_loadu_ps(t), a0);
                a1 = _mm256_fmadd_ps(v, _mm256_loadu_ps(t + 8), a1);
                a2 = _mm256_fmadd_ps(v, _mm256_loadu_ps(t + 16), a2);
                a3 = _mm256_fmadd_ps(v, _mm256_loadu_ps(t + 24), a3);
            }
            _mm256_store_ps(out, a0); _mm256_store_ps(out + 8, a1);
            _mm256_store_ps(out + 16, a2); _mm256_store_ps(out + 24, a3);
            const float b = bias ? bias[j] : 0.0f;
            const long rows = m - i0 < 32 ? m - i0 : 32;
            for (long r = 0; r < rows; r++) y[(i0 + r) * ldy + j] = out[r] + b;
        }
    }
    for (; i0 < mp; i0 += 8) {
        for (long j = 0; j < n; j++) {
            __m256 a0 = _mm256_setzero_ps();
            for (long p = rowptr[j], e = rowptr[j + 1]; p < e; p++)
                a0 = _mm256_fmadd_ps(_mm256_broadcast_ss(vals + p), _mm256_loadu_ps(xt + (long)cols[p] * mp + i0), a0);
            _mm256_store_ps(out, a0);
            const float b = bias ? bias[j] : 0.0f;
            const long rows = m - i0 < 8 ? m - i0 : 8;
            for (long r = 0; r < rows; r++) y[(i0 + r) * ldy + j] = out[r] + b;
        }
    }
}
