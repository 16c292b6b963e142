// Dynamic per-row activation quantization for the INT8 GEMM (formulas in ck_int8.h). The Swift
// reference twin (Int8Quantizer.reference) computes the same values with the same float
// operations, so the two agree exactly. AVX2 + FMA is the baseline inftop needs anyway.
#include "ck_int8.h"
#include <immintrin.h>
#include <math.h>
#include <string.h>

#define TAVX2 __attribute__((target("avx2,fma")))

/// scale, zero point and 1/scale of a row whose values span [lo, hi].
static inline TAVX2 float row_params(float lo, float hi, int qmax, float *scale, int32_t *zp) {
    if (lo > 0) lo = 0;
    if (hi < 0) hi = 0;
    float s = (hi - lo) / (float)qmax;
    if (!(s > 0)) s = 1;
    const float inv = 1.0f / s;
    float z = rintf(-lo * inv);
    if (z < 0) z = 0;
    if (z > (float)qmax) z = (float)qmax;
    *scale = s;
    *zp = (int32_t)z;
    return inv;
}

static inline TAVX2 uint8_t quant1(float x, float inv, int32_t zp, int qmax) {
    int32_t v = (int32_t)rintf(x * inv) + zp;
    return (uint8_t)(v < 0 ? 0 : v > qmax ? qmax : v);
}

static inline TAVX2 float hmin8(__m256 v) {
    __m128 m = _mm_min_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
    m = _mm_min_ps(m, _mm_movehl_ps(m, m));
    m = _mm_min_ss(m, _mm_shuffle_ps(m, m, 1));
    return _mm_cvtss_f32(m);
}

static inline TAVX2 float hmax8(__m256 v) {
    __m128 m = _mm_max_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
    m = _mm_max_ps(m, _mm_movehl_ps(m, m));
    m = _mm_max_ss(m, _mm_shuffle_ps(m, m, 1));
    return _mm_cvtss_f32(m);
}

TAVX2 void ck_quant_rows_u8(const float *x, long ldx, long i0, long i1, long k, long kp, int qmax,
                            uint8_t *q, long ldq, float *scale, int32_t *zp) {
    const __m256i order = _mm256_setr_epi32(0, 4, 1, 5, 2, 6, 3, 7);
    const __m256i vmax = _mm256_set1_epi8((char)qmax);
    for (long i = i0; i < i1; i++) {
        const float *xr = x + i * ldx;
        uint8_t *qr = q + i * ldq;
        __m256 vlo = _mm256_setzero_ps(), vhi = _mm256_setzero_ps();
        long p = 0;
        for (; p + 8 <= k; p += 8) {
            const __m256 v = _mm256_loadu_ps(xr + p);
            vlo = _mm256_min_ps(vlo, v);
            vhi = _mm256_max_ps(vhi, v);
        }
        float lo = hmin8(vlo), hi = hmax8(vhi);
        for (; p < k; p++) {
            if (xr[p] < lo) lo = xr[p];
            if (xr[p] > hi) hi = xr[p];
        }
        const float inv = row_params(lo, hi, qmax, scale + i, zp + i);
        const int32_t z = zp[i];
        const __m256 vinv = _mm256_set1_ps(inv);
        const __m256i vz = _mm256_set1_epi32(z);
        p = 0;
        for (; p + 32 <= k; p += 32) {
            __m256i a = _mm256_add_epi32(_mm256_cvtps_epi32(_mm256_mul_ps(_mm256_loadu_ps(xr + p), vinv)), vz);
            __m256i b = _mm256_add_epi32(_mm256_cvtps_epi32(_mm256_mul_ps(_mm256_loadu_ps(xr + p + 8), vinv)), vz);
            __m256i c = _mm256_add_epi32(_mm256_cvtps_epi32(_mm256_mul_ps(_mm256_loadu_ps(xr + p + 16), vinv)), vz);
            __m256i d = _mm256_add_epi32(_mm256_cvtps_epi32(_mm256_mul_ps(_mm256_loadu_ps(xr + p + 24), vinv)), vz);
            __m256i ab = _mm256_packs_epi32(a, b), cd = _mm256_packs_epi32(c, d);
            __m256i bytes = _mm256_permutevar8x32_epi32(_mm256_packus_epi16(ab, cd), order);
            _mm256_storeu_si256((__m256i *)(qr + p), _mm256_min_epu8(bytes, vmax));
        }
        for (; p < k; p++) qr[p] = quant1(xr[p], inv, z, qmax);
        for (; p < kp; p++) qr[p] = (uint8_t)z;
    }
}

TAVX2 void ck_quant_cols_u8(const float *x, long ldx, long i0, long i1, long k, long kp, int qmax,
                            uint8_t *q, long ldq, float *scale, int32_t *zp, float *tmp) {
    const long m = i1 - i0;
    float *lo = tmp, *hi = tmp + m;
    for (long t = 0; t < m; t++) lo[t] = hi[t] = 0;
    for (long p = 0; p < k; p++) {
        const float *row = x + p * ldx + i0;
        for (long t = 0; t < m; t++) {
            const float v = row[t];
            lo[t] = v < lo[t] ? v : lo[t];
            hi[t] = v > hi[t] ? v : hi[t];
        }
    }
    // lo becomes 1/scale.
    for (long t = 0; t < m; t++) lo[t] = row_params(lo[t], hi[t], qmax, scale + i0 + t, zp + i0 + t);
    const __m256i zero = _mm256_setzero_si256(), vmax = _mm256_set1_epi32(qmax);
    long p0 = 0;
    for (; p0 + 4 <= k; p0 += 4) {
        const float *r0 = x + p0 * ldx, *r1 = r0 + ldx, *r2 = r1 + ldx, *r3 = r2 + ldx;
        long i = i0;
        for (; i + 8 <= i1; i += 8) {
            const __m256 vinv = _mm256_loadu_ps(lo + (i - i0));
            const __m256i vz = _mm256_loadu_si256((const __m256i *)(zp + i));
#define Q4(R) _mm256_min_epi32(vmax, _mm256_max_epi32(zero, _mm256_add_epi32(vz, \
                  _mm256_cvtps_epi32(_mm256_mul_ps(_mm256_loadu_ps((R) + i), vinv)))))
            const __m256i q0 = Q4(r0), q1 = Q4(r1), q2 = Q4(r2), q3 = Q4(r3);
#undef Q4
            const __m256i d = _mm256_or_si256(_mm256_or_si256(q0, _mm256_slli_epi32(q1, 8)),
                                              _mm256_or_si256(_mm256_slli_epi32(q2, 16), _mm256_slli_epi32(q3, 24)));
            int32_t w[8];
            _mm256_storeu_si256((__m256i *)w, d);
            for (int t = 0; t < 8; t++) memcpy(q + (i + t) * ldq + p0, &w[t], 4);
        }
        for (; i < i1; i++) {
            const float inv = lo[i - i0];
            const int32_t z = zp[i];
            uint8_t *qr = q + i * ldq + p0;
            qr[0] = quant1(r0[i], inv, z, qmax);
            qr[1] = quant1(r1[i], inv, z, qmax);
            qr[2] = quant1(r2[i], inv, z, qmax);
            qr[3] = quant1(r3[i], inv, z, qmax);
        }
    }
    for (long i = i0; i < i1; i++) {
        const float inv = lo[i - i0];
        const int32_t z = zp[i];
        uint8_t *qr = q + i * ldq;
        for (long p = p0; p < k; p++) qr[p] = quant1(x[p * ldx + i], inv, z, qmax);
        for (long p = k; p < kp; p++) qr[p] = (uint8_t)z;
    }
}
