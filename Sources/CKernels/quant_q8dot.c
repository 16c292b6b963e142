// Decode GEMV with integer dot products (ck_quant.h, ck_qgemv_q8_avx2): the activations are
// quantized to ggml's Q8 blocks (per 32: d = max|x| / 127 rounded to f16, q = round(x / d)) —
// what llama.cpp does to the input of every quantized matmul and what ck_q8_roundtrip has already
// done to every GEMV input of the decoder, so for those inputs q and d are recovered exactly and
// the result equals the float kernel's up to summation order. Then per block of 32 weights:
//   Q4_1: d_w·d_x·Σ u·q + m_w·d_x·Σ q        (u = nibble 0…15: vpmaddubsw u8×s8, |pair| ≤ 3 810)
//   Q4_0: d_w·d_x·(Σ u·q − 8·Σ q)
//   Q8_0: d_w·d_x·Σ w·q                       (|w|·sign(q, w): |pair| ≤ 2·128·127 = 32 512 < 2^15)
// so no int16 saturation is possible by construction. F32/F16 go to the float kernel.
#include "ck_quant.h"
#include "quant_inline.h"
#include <immintrin.h>

#define QK 32
#define T2 "avx2,fma,f16c"

__attribute__((target(T2)))
static inline float hmax256(__m256 v) {
    __m128 m = _mm_max_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
    m = _mm_max_ps(m, _mm_movehl_ps(m, m));
    m = _mm_max_ss(m, _mm_movehdup_ps(m));
    return _mm_cvtss_f32(m);
}

__attribute__((target(T2)))
static inline int hsum256i(__m256i v) {
    __m128i s = _mm_add_epi32(_mm256_castsi256_si128(v), _mm256_extracti128_si256(v, 1));
    s = _mm_add_epi32(s, _mm_shuffle_epi32(s, 0x4e));
    s = _mm_add_epi32(s, _mm_shuffle_epi32(s, 0xb1));
    return _mm_cvtsi128_si32(s);
}

/// x[0:k] → q[0:k] int8, d[b] (f16-rounded scale) and sd[b] = d[b] · Σ q of block b.
__attribute__((target(T2)))
void ck_quantize_q8(const float *x, int k, int8_t *q, float *d, float *sd) {
    const __m256 sign = _mm256_set1_ps(-0.0f);
    const __m256i perm = _mm256_setr_epi32(0, 4, 1, 5, 2, 6, 3, 7);
    for (int b = 0; b < k / QK; b++) {
        const float *xb = x + b * QK;
        __m256 v0 = _mm256_loadu_ps(xb), v1 = _mm256_loadu_ps(xb + 8), v2 = _mm256_loadu_ps(xb + 16), v3 = _mm256_loadu_ps(xb + 24);
        __m256 m = _mm256_max_ps(_mm256_max_ps(_mm256_andnot_ps(sign, v0), _mm256_andnot_ps(sign, v1)),
                                 _mm256_max_ps(_mm256_andnot_ps(sign, v2), _mm256_andnot_ps(sign, v3)));
        float amax = hmax256(m), dd = amax / 127.0f, id = dd != 0 ? 1.0f / dd : 0.0f;
        __m256 iv = _mm256_set1_ps(id);
        __m256i i0 = _mm256_cvtps_epi32(_mm256_mul_ps(v0, iv)), i1 = _mm256_cvtps_epi32(_mm256_mul_ps(v1, iv));
        __m256i i2 = _mm256_cvtps_epi32(_mm256_mul_ps(v2, iv)), i3 = _mm256_cvtps_epi32(_mm256_mul_ps(v3, iv));
        int s = hsum256i(_mm256_add_epi32(_mm256_add_epi32(i0, i1), _mm256_add_epi32(i2, i3)));
        __m256i p = _mm256_packs_epi16(_mm256_packs_epi32(i0, i1), _mm256_packs_epi32(i2, i3));
        _mm256_storeu_si256((__m256i *)(q + b * QK), _mm256_permutevar8x32_epi32(p, perm));
        float d16 = _cvtsh_ss(_cvtss_sh(dd, 0));
        d[b] = d16;
        sd[b] = d16 * (float)s;
    }
}

/// The 32 nibbles of a Q4 block as u8, elements 0…15 in the low lane, 16…31 in the high one.
__attribute__((target(T2)))
static inline __m256i nibbles(const uint8_t *qs) {
    const __m128i m4 = _mm_set1_epi8(15);
    __m128i v = _mm_loadu_si128((const __m128i *)qs);
    return _mm256_set_m128i(_mm_and_si128(_mm_srli_epi16(v, 4), m4), _mm_and_si128(v, m4));
}

/// Σ_j a[j]·b[j] over 32 u8 × s8 lanes, as 8 int32 partial sums in float.
__attribute__((target(T2)))
static inline __m256 dot_us(__m256i a, __m256i b) {
    return _mm256_cvtepi32_ps(_mm256_madd_epi16(_mm256_maddubs_epi16(a, b), _mm256_set1_epi16(1)));
}

/// acc + one weight block (b) of `row` against the quantized activations: the integer dot's 8
/// lanes scaled by d_w·d_x; the offset term goes to *extra.
__attribute__((target(T2)))
static inline __m256 block_dot(__m256 acc, int type, const uint8_t *row, int b, const int8_t *q, const float *d, const float *sd, float *extra) {
    __m256i xq = _mm256_loadu_si256((const __m256i *)(q + b * QK));
    if (type == CK_Q_Q4_1) {
        const uint8_t *p = row + b * 20;
        *extra += _cvtsh_ss(rd16(p + 2)) * sd[b];
        return _mm256_fmadd_ps(dot_us(nibbles(p + 4), xq), _mm256_set1_ps(_cvtsh_ss(rd16(p)) * d[b]), acc);
    } else if (type == CK_Q_Q4_0) {
        const uint8_t *p = row + b * 18;
        float dw = _cvtsh_ss(rd16(p));
        *extra -= 8.0f * dw * sd[b];
        return _mm256_fmadd_ps(dot_us(nibbles(p + 2), xq), _mm256_set1_ps(dw * d[b]), acc);
    } else {  // Q8_0
        const uint8_t *p = row + b * 34;
        __m256i wq = _mm256_loadu_si256((const __m256i *)(p + 2));
        return _mm256_fmadd_ps(dot_us(_mm256_sign_epi8(wq, wq), _mm256_sign_epi8(xq, wq)), _mm256_set1_ps(_cvtsh_ss(rd16(p)) * d[b]), acc);
    }
}

__attribute__((target(T2)))
void ck_qgemv_q8_avx2(int type, const void *w, size_t rowBytes, int k, const float *x, float *y, int r0, int r1) {
    if (type != CK_Q_Q4_0 && type != CK_Q_Q4_1 && type != CK_Q_Q8_0) { ck_qgemv_avx2(type, w, rowBytes, k, x, y, r0, r1); return; }
    int8_t q[16384] __attribute__((aligned(32)));
    float d[512], sd[512];
    if (k > 16384) { ck_qgemv_avx2(type, w, rowBytes, k, x, y, r0, r1); return; }
    int nb = k / QK;
    ck_quantize_q8(x, k, q, d, sd);
    // Four rows at a time: four independent chains per block.
    for (; r0 + 4 <= r1; r0 += 4) {
        const uint8_t *rw[4];
        __m256 acc[4];
        float ex[4] = {0, 0, 0, 0};
        for (int i = 0; i < 4; i++) { rw[i] = (const uint8_t *)w + (size_t)(r0 + i) * rowBytes; acc[i] = _mm256_setzero_ps(); }
        // Software prefetch of the next four rows (of this range), spread over this group's blocks:
        // the hardware prefetcher alone kept a 30 MB Q8_0 head at 5.5 GB/s from DRAM, this at 11–12.
        const uint8_t *next = (const uint8_t *)w + (size_t)(r0 + 4) * rowBytes;
        int nextRows = r1 - (r0 + 4) < 4 ? r1 - (r0 + 4) : 4;
        size_t lines = nextRows > 0 ? ((size_t)nextRows * rowBytes + 63) / 64 : 0, fetched = 0;
        for (int b = 0; b < nb; b++) {
            for (size_t want = (size_t)(b + 1) * lines / (size_t)nb; fetched < want; fetched++)
                _mm_prefetch((const char *)(next + fetched * 64), _MM_HINT_T0);
            for (int i = 0; i < 4; i++) acc[i] = block_dot(acc[i], type, rw[i], b, q, d, sd, &ex[i]);
        }
        for (int i = 0; i < 4; i++) *y++ = hsum256(acc[i]) + ex[i];
    }
    for (int r = r0; r < r1; r++) {
        const uint8_t *row = (const uint8_t *)w + (size_t)r * rowBytes;
        __m256 acc = _mm256_setzero_ps();
        float extra = 0;
        for (int b = 0; b < nb; b++) acc = block_dot(acc, type, row, b, q, d, sd, &extra);
        *y++ = hsum256(acc) + extra;
    }
}
