// Small helpers the quantized kernels share (quant.c, quant_q8dot.c); private to CKernels.
#ifndef CK_QUANT_INLINE_H
#define CK_QUANT_INLINE_H
#include <immintrin.h>
#include <stdint.h>

/// A little-endian u16 (an f16 scale) at p, whatever its alignment.
static inline uint16_t rd16(const uint8_t *p) { return (uint16_t)(p[0] | (p[1] << 8)); }

/// The sum of v's 8 lanes.
__attribute__((target("avx2,fma,f16c")))
static inline float hsum256(__m256 v) {
    __m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
    s = _mm_add_ps(s, _mm_movehl_ps(s, s));
    s = _mm_add_ss(s, _mm_movehdup_ps(s));
    return _mm_cvtss_f32(s);
}
#endif
