// Quantized GEMV / GEMM and attention helpers for the generative model (ck_quant.h). Block
// layouts as ggml stores them in GGUF files (little-endian):
//   Q4_0: { f16 d; u8 qs[16]; }         x[j] = d * ((qs[j] & 15) - 8), x[j+16] = d * ((qs[j] >> 4) - 8)
//   Q4_1: { f16 d; f16 m; u8 qs[16]; }  x[j] = d * (qs[j] & 15) + m,   x[j+16] = d * (qs[j] >> 4) + m
//   Q8_0: { f16 d; i8 qs[32]; }         x[j] = d * qs[j]
// Dot products use sum_j w[j] x[j] = d * sum_j q[j] x[j] + (offset) * sum_j x[j], with the
// per-block sums of x computed once per call.
#include "ck_quant.h"
#include "quant_inline.h"
#include <immintrin.h>
#include <string.h>

#define QK 32

static inline float half_to_float(uint16_t h) {
    uint32_t sign = (uint32_t)(h & 0x8000) << 16, exp = (h >> 10) & 0x1f, man = h & 0x3ff, bits;
    if (exp == 0) {
        if (man == 0) { bits = sign; }
        else {  // subnormal: renormalize
            exp = 127 - 15 + 1;
            while (!(man & 0x400)) { man <<= 1; exp--; }
            man &= 0x3ff;
            bits = sign | (exp << 23) | (man << 13);
        }
    } else if (exp == 31) {
        bits = sign | 0x7f800000u | (man << 13);
    } else {
        bits = sign | ((exp + 127 - 15) << 23) | (man << 13);
    }
    float f; memcpy(&f, &bits, 4); return f;
}

void ck_dequant_row(int type, const void *w, size_t rowBytes, int k, int r, float *out) {
    const uint8_t *row = (const uint8_t *)w + (size_t)r * rowBytes;
    switch (type) {
    case CK_Q_F32: memcpy(out, row, (size_t)k * 4); break;
    case CK_Q_F16: for (int i = 0; i < k; i++) out[i] = half_to_float(rd16(row + 2 * i)); break;
    case CK_Q_Q4_0:
        for (int b = 0; b < k / QK; b++) {
            const uint8_t *p = row + b * 18; float d = half_to_float(rd16(p));
            for (int j = 0; j < 16; j++) {
                out[b * QK + j] = d * (float)((p[2 + j] & 15) - 8);
                out[b * QK + j + 16] = d * (float)((p[2 + j] >> 4) - 8);
            }
        }
        break;
    case CK_Q_Q4_1:
        for (int b = 0; b < k / QK; b++) {
            const uint8_t *p = row + b * 20; float d = half_to_float(rd16(p)), m = half_to_float(rd16(p + 2));
            for (int j = 0; j < 16; j++) {
                out[b * QK + j] = d * (float)(p[4 + j] & 15) + m;
                out[b * QK + j + 16] = d * (float)(p[4 + j] >> 4) + m;
            }
        }
        break;
    case CK_Q_Q8_0:
        for (int b = 0; b < k / QK; b++) {
            const uint8_t *p = row + b * 34; float d = half_to_float(rd16(p));
            for (int j = 0; j < QK; j++) out[b * QK + j] = d * (float)(int8_t)p[2 + j];
        }
        break;
    default: memset(out, 0, (size_t)k * 4);
    }
}

/// Per-block sums of x (k / 32 of them) into xs.
static inline void block_sums(const float *x, int k, float *xs) {
    for (int b = 0; b < k / QK; b++) {
        float s = 0; for (int j = 0; j < QK; j++) s += x[b * QK + j]; xs[b] = s;
    }
}

// ---------------------------------------------------------------- AVX2 (256-bit) GEMV

__attribute__((target("avx2,fma,f16c")))
static inline __m256 u8x8_to_ps(__m128i v) { return _mm256_cvtepi32_ps(_mm256_cvtepu8_epi32(v)); }
__attribute__((target("avx2,fma,f16c")))
static inline __m256 i8x8_to_ps(__m128i v) { return _mm256_cvtepi32_ps(_mm256_cvtepi8_epi32(v)); }

/// sum_j q[j] x[j] over one 32-block of nibbles (lo = elements 0..15, hi = 16..31), 8 lanes.
__attribute__((target("avx2,fma,f16c")))
static inline __m256 nib_dot256(const uint8_t *qs, const float *x) {
    const __m128i m4 = _mm_set1_epi8(15);
    __m128i q = _mm_loadu_si128((const __m128i *)qs);
    __m128i lo = _mm_and_si128(q, m4), hi = _mm_and_si128(_mm_srli_epi16(q, 4), m4);
    __m256 t = _mm256_mul_ps(u8x8_to_ps(lo), _mm256_loadu_ps(x));
    t = _mm256_fmadd_ps(u8x8_to_ps(_mm_srli_si128(lo, 8)), _mm256_loadu_ps(x + 8), t);
    t = _mm256_fmadd_ps(u8x8_to_ps(hi), _mm256_loadu_ps(x + 16), t);
    return _mm256_fmadd_ps(u8x8_to_ps(_mm_srli_si128(hi, 8)), _mm256_loadu_ps(x + 24), t);
}

__attribute__((target("avx2,fma,f16c")))
void ck_qgemv_avx2(int type, const void *w, size_t rowBytes, int k, const float *x, float *y, int r0, int r1) {
    float xs[2048];
    int nb = k / QK;
    if (type == CK_Q_Q4_0 || type == CK_Q_Q4_1) block_sums(x, k, xs);
    // Four rows at a time for the types that carry the time: four independent chains per block.
    if (type == CK_Q_Q4_1 || type == CK_Q_Q8_0) {
        for (; r0 + 4 <= r1; r0 += 4) {
            const uint8_t *rw[4];
            __m256 acc[4];
            float ex[4] = {0, 0, 0, 0};
            for (int i = 0; i < 4; i++) { rw[i] = (const uint8_t *)w + (size_t)(r0 + i) * rowBytes; acc[i] = _mm256_setzero_ps(); }
            for (int b = 0; b < nb; b++) {
                const float *xb = x + b * QK;
                for (int i = 0; i < 4; i++) {
                    if (type == CK_Q_Q4_1) {
                        const uint8_t *p = rw[i] + b * 20;
                        acc[i] = _mm256_fmadd_ps(nib_dot256(p + 4, xb), _mm256_set1_ps(_cvtsh_ss(rd16(p))), acc[i]);
                        ex[i] += _cvtsh_ss(rd16(p + 2)) * xs[b];
                    } else {
                        const uint8_t *p = rw[i] + b * 34;
                        __m128i q0 = _mm_loadu_si128((const __m128i *)(p + 2)), q1 = _mm_loadu_si128((const __m128i *)(p + 18));
                        __m256 t = _mm256_mul_ps(i8x8_to_ps(q0), _mm256_loadu_ps(xb));
                        t = _mm256_fmadd_ps(i8x8_to_ps(_mm_srli_si128(q0, 8)), _mm256_loadu_ps(xb + 8), t);
                        t = _mm256_fmadd_ps(i8x8_to_ps(q1), _mm256_loadu_ps(xb + 16), t);
                        t = _mm256_fmadd_ps(i8x8_to_ps(_mm_srli_si128(q1, 8)), _mm256_loadu_ps(xb + 24), t);
                        acc[i] = _mm256_fmadd_ps(t, _mm256_set1_ps(_cvtsh_ss(rd16(p))), acc[i]);
                    }
                }
            }
            for (int i = 0; i < 4; i++) *y++ = hsum256(acc[i]) + ex[i];
        }
    }
    for (int r = r0; r < r1; r++) {
        const uint8_t *row = (const uint8_t *)w + (size_t)r * rowBytes;
        __m256 acc = _mm256_setzero_ps();
        float extra = 0;
        switch (type) {
        case CK_Q_Q4_1:
            for (int b = 0; b < nb; b++) {
                const uint8_t *p = row + b * 20;
                acc = _mm256_fmadd_ps(nib_dot256(p + 4, x + b * QK), _mm256_set1_ps(_cvtsh_ss(rd16(p))), acc);
                extra += _cvtsh_ss(rd16(p + 2)) * xs[b];
            }
            break;
        case CK_Q_Q4_0:
            for (int b = 0; b < nb; b++) {
                const uint8_t *p = row + b * 18;
                float d = _cvtsh_ss(rd16(p));
                acc = _mm256_fmadd_ps(nib_dot256(p + 2, x + b * QK), _mm256_set1_ps(d), acc);
                extra -= 8.0f * d * xs[b];
            }
            break;
        case CK_Q_Q8_0:
            for (int b = 0; b < nb; b++) {
                const uint8_t *p = row + b * 34;
                const float *xb = x + b * QK;
                __m128i q0 = _mm_loadu_si128((const __m128i *)(p + 2)), q1 = _mm_loadu_si128((const __m128i *)(p + 18));
                __m256 t = _mm256_mul_ps(i8x8_to_ps(q0), _mm256_loadu_ps(xb));
                t = _mm256_fmadd_ps(i8x8_to_ps(_mm_srli_si128(q0, 8)), _mm256_loadu_ps(xb + 8), t);
                t = _mm256_fmadd_ps(i8x8_to_ps(q1), _mm256_loadu_ps(xb + 16), t);
                t = _mm256_fmadd_ps(i8x8_to_ps(_mm_srli_si128(q1, 8)), _mm256_loadu_ps(xb + 24), t);
                acc = _mm256_fmadd_ps(t, _mm256_set1_ps(_cvtsh_ss(rd16(p))), acc);
            }
            break;
        case CK_Q_F16: {
            int i = 0;
            for (; i + 8 <= k; i += 8)
                acc = _mm256_fmadd_ps(_mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)(row + 2 * i))), _mm256_loadu_ps(x + i), acc);
            for (; i < k; i++) extra += _cvtsh_ss(rd16(row + 2 * i)) * x[i];
            break;
        }
        default: {  // F32
            const float *wf = (const float *)row;
            int i = 0;
            for (; i + 8 <= k; i += 8) acc = _mm256_fmadd_ps(_mm256_loadu_ps(wf + i), _mm256_loadu_ps(x + i), acc);
            for (; i < k; i++) extra += wf[i] * x[i];
        }
        }
        y[r - r0] = hsum256(acc) + extra;
    }
}

// ---------------------------------------------------------------- AVX-512 GEMV

#define T512 "avx512f,avx512bw,avx512dq,avx512vl,avx2,fma,f16c"

__attribute__((target(T512)))
static inline __m512 nib_dot512(const uint8_t *qs, const float *x) {
    const __m128i m4 = _mm_set1_epi8(15);
    __m128i q = _mm_loadu_si128((const __m128i *)qs);
    __m128i lo = _mm_and_si128(q, m4), hi = _mm_and_si128(_mm_srli_epi16(q, 4), m4);
    __m512 t = _mm512_mul_ps(_mm512_cvtepi32_ps(_mm512_cvtepu8_epi32(lo)), _mm512_loadu_ps(x));
    return _mm512_fmadd_ps(_mm512_cvtepi32_ps(_mm512_cvtepu8_epi32(hi)), _mm512_loadu_ps(x + 16), t);
}

__attribute__((target(T512)))
void ck_qgemv_avx512(int type, const void *w, size_t rowBytes, int k, const float *x, float *y, int r0, int r1) {
    float xs[2048];
    int nb = k / QK;
    if (type == CK_Q_Q4_0 || type == CK_Q_Q4_1) block_sums(x, k, xs);
    // Four rows at a time for the types that carry the time: four independent chains per block.
    if (type == CK_Q_Q4_1 || type == CK_Q_Q8_0) {
        for (; r0 + 4 <= r1; r0 += 4) {
            const uint8_t *rw[4];
            __m512 acc[4];
            float ex[4] = {0, 0, 0, 0};
            for (int i = 0; i < 4; i++) { rw[i] = (const uint8_t *)w + (size_t)(r0 + i) * rowBytes; acc[i] = _mm512_setzero_ps(); }
            if (type == CK_Q_Q4_1) {
                for (int b = 0; b < nb; b++) {
                    const float *xb = x + b * QK;
                    __m512 x0 = _mm512_loadu_ps(xb), x1 = _mm512_loadu_ps(xb + 16);
                    const __m128i m4 = _mm_set1_epi8(15);
                    for (int i = 0; i < 4; i++) {
                        const uint8_t *p = rw[i] + b * 20;
                        __m128i q = _mm_loadu_si128((const __m128i *)(p + 4));
                        __m128i lo = _mm_and_si128(q, m4), hi = _mm_and_si128(_mm_srli_epi16(q, 4), m4);
                        __m512 t = _mm512_mul_ps(_mm512_cvtepi32_ps(_mm512_cvtepu8_epi32(lo)), x0);
                        t = _mm512_fmadd_ps(_mm512_cvtepi32_ps(_mm512_cvtepu8_epi32(hi)), x1, t);
                        acc[i] = _mm512_fmadd_ps(t, _mm512_set1_ps(_cvtsh_ss(rd16(p))), acc[i]);
                        ex[i] += _cvtsh_ss(rd16(p + 2)) * xs[b];
                    }
                }
            } else {
                for (int b = 0; b < nb; b++) {
                    const float *xb = x + b * QK;
                    __m512 x0 = _mm512_loadu_ps(xb), x1 = _mm512_loadu_ps(xb + 16);
                    for (int i = 0; i < 4; i++) {
                        const uint8_t *p = rw[i] + b * 34;
                        __m512 t = _mm512_mul_ps(_mm512_cvtepi32_ps(_mm512_cvtepi8_epi32(_mm_loadu_si128((const __m128i *)(p + 2)))), x0);
                        t = _mm512_fmadd_ps(_mm512_cvtepi32_ps(_mm512_cvtepi8_epi32(_mm_loadu_si128((const __m128i *)(p + 18)))), x1, t);
                        acc[i] = _mm512_fmadd_ps(t, _mm512_set1_ps(_cvtsh_ss(rd16(p))), acc[i]);
                    }
                }
            }
            for (int i = 0; i < 4; i++) *y++ = _mm512_reduce_add_ps(acc[i]) + ex[i];
        }
    }
    for (int r = r0; r < r1; r++) {
        const uint8_t *row = (const uint8_t *)w + (size_t)r * rowBytes;
        __m512 acc = _mm512_setzero_ps(), acc2 = _mm512_setzero_ps();
        float extra = 0;
        switch (type) {
        case CK_Q_Q4_1: {
            int b = 0;
            for (; b + 2 <= nb; b += 2) {
                const uint8_t *p = row + b * 20;
                acc = _mm512_fmadd_ps(nib_dot512(p + 4, x + b * QK), _mm512_set1_ps(_cvtsh_ss(rd16(p))), acc);
                acc2 = _mm512_fmadd_ps(nib_dot512(p + 24, x + b * QK + QK), _mm512_set1_ps(_cvtsh_ss(rd16(p + 20))), acc2);
                extra += _cvtsh_ss(rd16(p + 2)) * xs[b] + _cvtsh_ss(rd16(p + 22)) * xs[b + 1];
            }
            for (; b < nb; b++) {
                const uint8_t *p = row + b * 20;
                acc = _mm512_fmadd_ps(nib_dot512(p + 4, x + b * QK), _mm512_set1_ps(_cvtsh_ss(rd16(p))), acc);
                extra += _cvtsh_ss(rd16(p + 2)) * xs[b];
            }
            break;
        }
        case CK_Q_Q4_0:
            for (int b = 0; b < nb; b++) {
                const uint8_t *p = row + b * 18;
                float d = _cvtsh_ss(rd16(p));
                acc = _mm512_fmadd_ps(nib_dot512(p + 2, x + b * QK), _mm512_set1_ps(d), acc);
                extra -= 8.0f * d * xs[b];
            }
            break;
        case CK_Q_Q8_0:
            for (int b = 0; b < nb; b++) {
                const uint8_t *p = row + b * 34;
                const float *xb = x + b * QK;
                __m512 t = _mm512_mul_ps(_mm512_cvtepi32_ps(_mm512_cvtepi8_epi32(_mm_loadu_si128((const __m128i *)(p + 2)))), _mm512_loadu_ps(xb));
                t = _mm512_fmadd_ps(_mm512_cvtepi32_ps(_mm512_cvtepi8_epi32(_mm_loadu_si128((const __m128i *)(p + 18)))), _mm512_loadu_ps(xb + 16), t);
                if (b & 1) acc2 = _mm512_fmadd_ps(t, _mm512_set1_ps(_cvtsh_ss(rd16(p))), acc2);
                else acc = _mm512_fmadd_ps(t, _mm512_set1_ps(_cvtsh_ss(rd16(p))), acc);
            }
            break;
        case CK_Q_F16: {
            int i = 0;
            for (; i + 16 <= k; i += 16)
                acc = _mm512_fmadd_ps(_mm512_cvtph_ps(_mm256_loadu_si256((const __m256i *)(row + 2 * i))), _mm512_loadu_ps(x + i), acc);
            for (; i < k; i++) extra += _cvtsh_ss(rd16(row + 2 * i)) * x[i];
            break;
        }
        default: {
            const float *wf = (const float *)row;
            int i = 0;
            for (; i + 16 <= k; i += 16) acc = _mm512_fmadd_ps(_mm512_loadu_ps(wf + i), _mm512_loadu_ps(x + i), acc);
            for (; i < k; i++) extra += wf[i] * x[i];
        }
        }
        y[r - r0] = _mm512_reduce_add_ps(_mm512_add_ps(acc, acc2)) + extra;
    }
}

// ---------------------------------------------------------------- GEMM (prefill)
// Tokens are the vector lanes: X is transposed once per call into blocks of 16 tokens,
// xt[(t / 16) * k * 16 + kk * 16 + t % 16] (tp = m rounded up to 16, padding zero), CK_QGEMM_PANEL rows of W are dequantized into contiguous
// lines, and a 12-row × 16-token (AVX-512) or 6-row × 16-token (AVX2, the panel's two halves in
// turn over each 16-token block) tile accumulates acc[j] += W[j, kk] (broadcast) · xt[kk, t:t+lanes].

void ck_transpose(const float *x, int ldx, int m, int k, float *xt, int tp) {
    for (int t0 = 0; t0 < tp; t0 += 16) {
        float *blk = xt + (size_t)t0 * k;
        for (int t = t0; t < t0 + 16; t++) {
            float *col = blk + (t - t0);
            if (t < m) { const float *xr = x + (size_t)t * ldx; for (int kk = 0; kk < k; kk++) col[(size_t)kk * 16] = xr[kk]; }
            else { for (int kk = 0; kk < k; kk++) col[(size_t)kk * 16] = 0; }
        }
    }
}

__attribute__((target(T512)))
static void dequant_row512(int type, const uint8_t *row, int k, float *out) {
    const __m128i m4 = _mm_set1_epi8(15);
    switch (type) {
    case CK_Q_Q4_1:
        for (int b = 0; b < k / QK; b++) {
            const uint8_t *p = row + b * 20;
            __m512 d = _mm512_set1_ps(_cvtsh_ss(rd16(p))), m = _mm512_set1_ps(_cvtsh_ss(rd16(p + 2)));
            __m128i q = _mm_loadu_si128((const __m128i *)(p + 4));
            __m128i lo = _mm_and_si128(q, m4), hi = _mm_and_si128(_mm_srli_epi16(q, 4), m4);
            _mm512_storeu_ps(out + b * QK, _mm512_fmadd_ps(_mm512_cvtepi32_ps(_mm512_cvtepu8_epi32(lo)), d, m));
            _mm512_storeu_ps(out + b * QK + 16, _mm512_fmadd_ps(_mm512_cvtepi32_ps(_mm512_cvtepu8_epi32(hi)), d, m));
        }
        break;
    case CK_Q_Q4_0:
        for (int b = 0; b < k / QK; b++) {
            const uint8_t *p = row + b * 18;
            __m512 d = _mm512_set1_ps(_cvtsh_ss(rd16(p))), off = _mm512_set1_ps(-8.0f);
            __m128i q = _mm_loadu_si128((const __m128i *)(p + 2));
            __m128i lo = _mm_and_si128(q, m4), hi = _mm_and_si128(_mm_srli_epi16(q, 4), m4);
            _mm512_storeu_ps(out + b * QK, _mm512_mul_ps(_mm512_add_ps(_mm512_cvtepi32_ps(_mm512_cvtepu8_epi32(lo)), off), d));
            _mm512_storeu_ps(out + b * QK + 16, _mm512_mul_ps(_mm512_add_ps(_mm512_cvtepi32_ps(_mm512_cvtepu8_epi32(hi)), off), d));
        }
        break;
    case CK_Q_Q8_0:
        for (int b = 0; b < k / QK; b++) {
            const uint8_t *p = row + b * 34;
            __m512 d = _mm512_set1_ps(_cvtsh_ss(rd16(p)));
            _mm512_storeu_ps(out + b * QK, _mm512_mul_ps(_mm512_cvtepi32_ps(_mm512_cvtepi8_epi32(_mm_loadu_si128((const __m128i *)(p + 2)))), d));
            _mm512_storeu_ps(out + b * QK + 16, _mm512_mul_ps(_mm512_cvtepi32_ps(_mm512_cvtepi8_epi32(_mm_loadu_si128((const __m128i *)(p + 18)))), d));
        }
        break;
    default: ck_dequant_row(type, row, 0, k, 0, out);
    }
}

__attribute__((target("avx2,fma,f16c")))
static void dequant_row256(int type, const uint8_t *row, int k, float *out) {
    const __m128i m4 = _mm_set1_epi8(15);
    switch (type) {
    case CK_Q_Q4_1:
    case CK_Q_Q4_0:
        for (int b = 0; b < k / QK; b++) {
            const uint8_t *p = row + b * (type == CK_Q_Q4_1 ? 20 : 18);
            float df = _cvtsh_ss(rd16(p));
            __m256 d = _mm256_set1_ps(df), m = _mm256_set1_ps(type == CK_Q_Q4_1 ? _cvtsh_ss(rd16(p + 2)) : -8.0f * df);
            __m128i q = _mm_loadu_si128((const __m128i *)(p + (type == CK_Q_Q4_1 ? 4 : 2)));
            __m128i lo = _mm_and_si128(q, m4), hi = _mm_and_si128(_mm_srli_epi16(q, 4), m4);
            _mm256_storeu_ps(out + b * QK, _mm256_fmadd_ps(u8x8_to_ps(lo), d, m));
            _mm256_storeu_ps(out + b * QK + 8, _mm256_fmadd_ps(u8x8_to_ps(_mm_srli_si128(lo, 8)), d, m));
            _mm256_storeu_ps(out + b * QK + 16, _mm256_fmadd_ps(u8x8_to_ps(hi), d, m));
            _mm256_storeu_ps(out + b * QK + 24, _mm256_fmadd_ps(u8x8_to_ps(_mm_srli_si128(hi, 8)), d, m));
        }
        break;
    case CK_Q_Q8_0:
        for (int b = 0; b < k / QK; b++) {
            const uint8_t *p = row + b * 34;
            __m256 d = _mm256_set1_ps(_cvtsh_ss(rd16(p)));
            __m128i q0 = _mm_loadu_si128((const __m128i *)(p + 2)), q1 = _mm_loadu_si128((const __m128i *)(p + 18));
            _mm256_storeu_ps(out + b * QK, _mm256_mul_ps(i8x8_to_ps(q0), d));
            _mm256_storeu_ps(out + b * QK + 8, _mm256_mul_ps(i8x8_to_ps(_mm_srli_si128(q0, 8)), d));
            _mm256_storeu_ps(out + b * QK + 16, _mm256_mul_ps(i8x8_to_ps(q1), d));
            _mm256_storeu_ps(out + b * QK + 24, _mm256_mul_ps(i8x8_to_ps(_mm_srli_si128(q1, 8)), d));
        }
        break;
    default: ck_dequant_row(type, row, 0, k, 0, out);
    }
}

#define TILE_ROWS 12
__attribute__((target(T512)))
void ck_qgemm_avx512(int type, const void *w, size_t rowBytes, int k, const float *xt, int tp, int m,
                     float *y, int ldy, int r0, int r1, float *scratch) {
    (void)tp;
    float *line = scratch + (size_t)TILE_ROWS * k;  // one dequantized row, then interleaved into wp
    float *wp = scratch;                            // wp[kk * 12 + j] = W[r + j, kk]
    for (int r = r0; r < r1; r += TILE_ROWS) {
        int nr = r1 - r < TILE_ROWS ? r1 - r : TILE_ROWS;
        for (int j = 0; j < TILE_ROWS; j++) {
            if (j < nr) {
                dequant_row512(type, (const uint8_t *)w + (size_t)(r + j) * rowBytes, k, line);
                for (int kk = 0; kk < k; kk++) wp[(size_t)kk * TILE_ROWS + j] = line[kk];
            } else {
                for (int kk = 0; kk < k; kk++) wp[(size_t)kk * TILE_ROWS + j] = 0;
            }
        }
        for (int t = 0; t < m; t += 16) {
            __m512 c[TILE_ROWS];
            for (int j = 0; j < TILE_ROWS; j++) c[j] = _mm512_setzero_ps();
            const float *xp = xt + (size_t)t * k;
            const float *wk = wp;
            for (int kk = 0; kk < k; kk++, wk += TILE_ROWS) {
                __m512 xv = _mm512_loadu_ps(xp + (size_t)kk * 16);
                c[0] = _mm512_fmadd_ps(_mm512_set1_ps(wk[0]), xv, c[0]);
                c[1] = _mm512_fmadd_ps(_mm512_set1_ps(wk[1]), xv, c[1]);
                c[2] = _mm512_fmadd_ps(_mm512_set1_ps(wk[2]), xv, c[2]);
                c[3] = _mm512_fmadd_ps(_mm512_set1_ps(wk[3]), xv, c[3]);
                c[4] = _mm512_fmadd_ps(_mm512_set1_ps(wk[4]), xv, c[4]);
                c[5] = _mm512_fmadd_ps(_mm512_set1_ps(wk[5]), xv, c[5]);
                c[6] = _mm512_fmadd_ps(_mm512_set1_ps(wk[6]), xv, c[6]);
                c[7] = _mm512_fmadd_ps(_mm512_set1_ps(wk[7]), xv, c[7]);
                c[8] = _mm512_fmadd_ps(_mm512_set1_ps(wk[8]), xv, c[8]);
                c[9] = _mm512_fmadd_ps(_mm512_set1_ps(wk[9]), xv, c[9]);
                c[10] = _mm512_fmadd_ps(_mm512_set1_ps(wk[10]), xv, c[10]);
                c[11] = _mm512_fmadd_ps(_mm512_set1_ps(wk[11]), xv, c[11]);
            }
            float tile[TILE_ROWS][16];
            for (int j = 0; j < TILE_ROWS; j++) _mm512_storeu_ps(tile[j], c[j]);
            int mt = m - t < 16 ? m - t : 16;
            for (int tt = 0; tt < mt; tt++) {
                float *yr = y + (size_t)(t + tt) * ldy + r;
                for (int j = 0; j < nr; j++) yr[j] = tile[j][tt];
            }
        }
    }
}

__attribute__((target("avx2,fma,f16c")))
void ck_qgemm_avx2(int type, const void *w, size_t rowBytes, int k, const float *xt, int tp, int m,
                     float *y, int ldy, int r0, int r1, float *scratch) {
    (void)tp;
    float *line = scratch + (size_t)TILE_ROWS * k;  // one dequantized row, then interleaved into wp
    float *wp = scratch;                            // wp[kk * 12 + j] = W[r + j, kk]
    for (int r = r0; r < r1; r += TILE_ROWS) {
        int nr = r1 - r < TILE_ROWS ? r1 - r : TILE_ROWS;
        for (int j = 0; j < TILE_ROWS; j++) {
            if (j < nr) {
                dequant_row256(type, (const uint8_t *)w + (size_t)(r + j) * rowBytes, k, line);
                for (int kk = 0; kk < k; kk++) wp[(size_t)kk * TILE_ROWS + j] = line[kk];
            } else {
                for (int kk = 0; kk < k; kk++) wp[(size_t)kk * TILE_ROWS + j] = 0;
            }
        }
        // 6 rows x 16 tokens per pass (12 accumulators, 2 token vectors, 1 broadcast), the
        // panel's two halves over the same 16-token block of xt while it is in cache.
        for (int t = 0; t < m; t += 16) {
            const float *xp = xt + (size_t)t * k;
            int mt = m - t < 16 ? m - t : 16;
            for (int h = 0; h < TILE_ROWS && h < nr; h += 6) {
                __m256 c0 = _mm256_setzero_ps(), c1 = c0, c2 = c0, c3 = c0, c4 = c0, c5 = c0;
                __m256 c6 = c0, c7 = c0, c8 = c0, c9 = c0, c10 = c0, c11 = c0;
                const float *wk = wp + h, *xk = xp;
                for (int kk = 0; kk < k; kk++, wk += TILE_ROWS, xk += 16) {
                    __m256 x0 = _mm256_loadu_ps(xk), x1 = _mm256_loadu_ps(xk + 8), b;
                    b = _mm256_broadcast_ss(wk + 0); c0 = _mm256_fmadd_ps(b, x0, c0); c1 = _mm256_fmadd_ps(b, x1, c1);
                    b = _mm256_broadcast_ss(wk + 1); c2 = _mm256_fmadd_ps(b, x0, c2); c3 = _mm256_fmadd_ps(b, x1, c3);
                    b = _mm256_broadcast_ss(wk + 2); c4 = _mm256_fmadd_ps(b, x0, c4); c5 = _mm256_fmadd_ps(b, x1, c5);
                    b = _mm256_broadcast_ss(wk + 3); c6 = _mm256_fmadd_ps(b, x0, c6); c7 = _mm256_fmadd_ps(b, x1, c7);
                    b = _mm256_broadcast_ss(wk + 4); c8 = _mm256_fmadd_ps(b, x0, c8); c9 = _mm256_fmadd_ps(b, x1, c9);
                    b = _mm256_broadcast_ss(wk + 5); c10 = _mm256_fmadd_ps(b, x0, c10); c11 = _mm256_fmadd_ps(b, x1, c11);
                }
                float tile[6][16];
                _mm256_storeu_ps(tile[0], c0); _mm256_storeu_ps(tile[0] + 8, c1);
                _mm256_storeu_ps(tile[1], c2); _mm256_storeu_ps(tile[1] + 8, c3);
                _mm256_storeu_ps(tile[2], c4); _mm256_storeu_ps(tile[2] + 8, c5);
                _mm256_storeu_ps(tile[3], c6); _mm256_storeu_ps(tile[3] + 8, c7);
                _mm256_storeu_ps(tile[4], c8); _mm256_storeu_ps(tile[4] + 8, c9);
                _mm256_storeu_ps(tile[5], c10); _mm256_storeu_ps(tile[5] + 8, c11);
                int nh = nr - h < 6 ? nr - h : 6;
                for (int tt = 0; tt < mt; tt++) {
                    float *yr = y + (size_t)(t + tt) * ldy + r + h;
                    for (int j = 0; j < nh; j++) yr[j] = tile[j][tt];
                }
            }
        }
    }
}

// ---------------------------------------------------------------- attention helpers

__attribute__((target(T512)))
void ck_attn_scores_avx512(const float *q, const float *kt, int ldk, int hd, int n, float scale, float *s) {
    int j = 0;
    for (; j + 64 <= n; j += 64) {
        __m512 a0 = _mm512_setzero_ps(), a1 = a0, a2 = a0, a3 = a0;
        for (int d = 0; d < hd; d++) {
            const float *kr = kt + (size_t)d * ldk + j;
            __m512 qd = _mm512_set1_ps(q[d]);
            a0 = _mm512_fmadd_ps(qd, _mm512_loadu_ps(kr), a0);
            a1 = _mm512_fmadd_ps(qd, _mm512_loadu_ps(kr + 16), a1);
            a2 = _mm512_fmadd_ps(qd, _mm512_loadu_ps(kr + 32), a2);
            a3 = _mm512_fmadd_ps(qd, _mm512_loadu_ps(kr + 48), a3);
        }
        __m512 sc = _mm512_set1_ps(scale);
        _mm512_storeu_ps(s + j, _mm512_mul_ps(a0, sc)); _mm512_storeu_ps(s + j + 16, _mm512_mul_ps(a1, sc));
        _mm512_storeu_ps(s + j + 32, _mm512_mul_ps(a2, sc)); _mm512_storeu_ps(s + j + 48, _mm512_mul_ps(a3, sc));
    }
    for (; j < n; j += 16) {
        __mmask16 mask = n - j >= 16 ? (__mmask16)0xffff : (__mmask16)((1u << (n - j)) - 1);
        __m512 a0 = _mm512_setzero_ps();
        for (int d = 0; d < hd; d++)
            a0 = _mm512_fmadd_ps(_mm512_set1_ps(q[d]), _mm512_maskz_loadu_ps(mask, kt + (size_t)d * ldk + j), a0);
        _mm512_mask_storeu_ps(s + j, mask, _mm512_mul_ps(a0, _mm512_set1_ps(scale)));
    }
}

__attribute__((target("avx2,fma,f16c")))
void ck_attn_scores_avx2(const float *q, const float *kt, int ldk, int hd, int n, float scale, float *s) {
    int j = 0;
    for (; j + 32 <= n; j += 32) {
        __m256 a0 = _mm256_setzero_ps(), a1 = a0, a2 = a0, a3 = a0;
        for (int d = 0; d < hd; d++) {
            const float *kr = kt + (size_t)d * ldk + j;
            __m256 qd = _mm256_set1_ps(q[d]);
            a0 = _mm256_fmadd_ps(qd, _mm256_loadu_ps(kr), a0);
            a1 = _mm256_fmadd_ps(qd, _mm256_loadu_ps(kr + 8), a1);
            a2 = _mm256_fmadd_ps(qd, _mm256_loadu_ps(kr + 16), a2);
            a3 = _mm256_fmadd_ps(qd, _mm256_loadu_ps(kr + 24), a3);
        }
        __m256 sc = _mm256_set1_ps(scale);
        _mm256_storeu_ps(s + j, _mm256_mul_ps(a0, sc)); _mm256_storeu_ps(s + j + 8, _mm256_mul_ps(a1, sc));
        _mm256_storeu_ps(s + j + 16, _mm256_mul_ps(a2, sc)); _mm256_storeu_ps(s + j + 24, _mm256_mul_ps(a3, sc));
    }
    for (; j + 8 <= n; j += 8) {
        __m256 a0 = _mm256_setzero_ps();
        for (int d = 0; d < hd; d++) a0 = _mm256_fmadd_ps(_mm256_set1_ps(q[d]), _mm256_loadu_ps(kt + (size_t)d * ldk + j), a0);
        _mm256_storeu_ps(s + j, _mm256_mul_ps(a0, _mm256_set1_ps(scale)));
    }
    for (; j < n; j++) {
        float a = 0; for (int d = 0; d < hd; d++) a += q[d] * kt[(size_t)d * ldk + j];
        s[j] = a * scale;
    }
}

__attribute__((target(T512)))
void ck_attn_context_avx512(const float *p, const float *v, int ldv, int hd, int n, float *out) {
    int d = 0;
    for (; d + 64 <= hd; d += 64) {
        __m512 a0 = _mm512_setzero_ps(), a1 = a0, a2 = a0, a3 = a0;
        for (int j = 0; j < n; j++) {
            const float *vr = v + (size_t)j * ldv + d;
            __m512 pj = _mm512_set1_ps(p[j]);
            a0 = _mm512_fmadd_ps(pj, _mm512_loadu_ps(vr), a0);
            a1 = _mm512_fmadd_ps(pj, _mm512_loadu_ps(vr + 16), a1);
            a2 = _mm512_fmadd_ps(pj, _mm512_loadu_ps(vr + 32), a2);
            a3 = _mm512_fmadd_ps(pj, _mm512_loadu_ps(vr + 48), a3);
        }
        _mm512_storeu_ps(out + d, a0); _mm512_storeu_ps(out + d + 16, a1);
        _mm512_storeu_ps(out + d + 32, a2); _mm512_storeu_ps(out + d + 48, a3);
    }
    for (; d < hd; d += 16) {
        __mmask16 mask = hd - d >= 16 ? (__mmask16)0xffff : (__mmask16)((1u << (hd - d)) - 1);
        __m512 a0 = _mm512_setzero_ps();
        for (int j = 0; j < n; j++) a0 = _mm512_fmadd_ps(_mm512_set1_ps(p[j]), _mm512_maskz_loadu_ps(mask, v + (size_t)j * ldv + d), a0);
        _mm512_mask_storeu_ps(out + d, mask, a0);
    }
}

__attribute__((target("avx2,fma,f16c")))
void ck_attn_context_avx2(const float *p, const float *v, int ldv, int hd, int n, float *out) {
    int d = 0;
    for (; d + 32 <= hd; d += 32) {
        __m256 a0 = _mm256_setzero_ps(), a1 = a0, a2 = a0, a3 = a0;
        for (int j = 0; j < n; j++) {
            const float *vr = v + (size_t)j * ldv + d;
            __m256 pj = _mm256_set1_ps(p[j]);
            a0 = _mm256_fmadd_ps(pj, _mm256_loadu_ps(vr), a0);
            a1 = _mm256_fmadd_ps(pj, _mm256_loadu_ps(vr + 8), a1);
            a2 = _mm256_fmadd_ps(pj, _mm256_loadu_ps(vr + 16), a2);
            a3 = _mm256_fmadd_ps(pj, _mm256_loadu_ps(vr + 24), a3);
        }
        _mm256_storeu_ps(out + d, a0); _mm256_storeu_ps(out + d + 8, a1);
        _mm256_storeu_ps(out + d + 16, a2); _mm256_storeu_ps(out + d + 24, a3);
    }
    for (; d < hd; d++) {
        float a = 0; for (int j = 0; j < n; j++) a += p[j] * v[(size_t)j * ldv + d];
        out[d] = a;
    }
}

// ---------------------------------------------------------------- activation rounding

__attribute__((target("avx2,fma,f16c")))
void ck_q8_roundtrip(float *x, int n) {
    for (int b = 0; b + QK <= n; b += QK) {
        float amax = 0;
        for (int j = 0; j < QK; j++) { float a = x[b + j] < 0 ? -x[b + j] : x[b + j]; if (a > amax) amax = a; }
        float d = amax / 127.0f, id = d != 0 ? 1.0f / d : 0.0f;
        float d16 = _cvtsh_ss(_cvtss_sh(d, 0));
        for (int j = 0; j < QK; j++) x[b + j] = __builtin_nearbyintf(x[b + j] * id) * d16;
    }
}

__attribute__((target("avx2,fma,f16c")))
void ck_f16_roundtrip(float *x, int n) {
    int i = 0;
    for (; i + 8 <= n; i += 8) _mm256_storeu_ps(x + i, _mm256_cvtph_ps(_mm256_cvtps_ph(_mm256_loadu_ps(x + i), 0)));
    for (; i < n; i++) x[i] = _cvtsh_ss(_cvtss_sh(x[i], 0));
}
