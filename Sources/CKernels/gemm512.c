// The 512-bit GEMM register tile (see ck_gemm512.h). Written in C with intrinsics rather than in a
// Swift module built with -target-cpu: the target attribute is per function, so no shared generic
// specialisation or inlined helper can carry zmm code into the AVX2 path (docs/DECISIONS.md).
#include "ck_gemm512.h"
#include <immintrin.h>

#define CK512 __attribute__((target("avx512f,avx512bw,avx512dq,avx512vl,fma")))
#define CK256 __attribute__((target("avx2,fma")))
#define INLINE static inline __attribute__((always_inline))

/// The tile for compile-time R rows (1…6) and NV vectors (1…4) per row; the last vector's lanes
/// past `cols` are masked off on load and store. 4·6 = 24 accumulators + NV B vectors + one
/// broadcast fit the 32 zmm registers. Per p at 6×64: 4 loads, 6 broadcasts, 24 FMAs.
INLINE CK512 void tile(const int R, const int NV, int64_t kc, const float *a, int64_t ars, int64_t acs,
                       const float *b, int64_t ldb, float *c, int64_t ldc, __mmask16 last, float alpha, float beta) {
    __m512 acc[6][4];
    for (int r = 0; r < R; r++)
        for (int v = 0; v < NV; v++) acc[r][v] = _mm512_setzero_ps();
    const float *ar[6];
    for (int r = 0; r < R; r++) ar[r] = a + r * ars;
    int64_t off = 0;
#pragma clang loop unroll_count(4)
    for (int64_t p = 0; p < kc; p++) {
        __m512 bv[4];
        for (int v = 0; v < NV; v++)
            bv[v] = v == NV - 1 ? _mm512_maskz_loadu_ps(last, b + 16 * v) : _mm512_loadu_ps(b + 16 * v);
        for (int r = 0; r < R; r++) {
            __m512 x = _mm512_set1_ps(ar[r][off]);
            for (int v = 0; v < NV; v++) acc[r][v] = _mm512_fmadd_ps(x, bv[v], acc[r][v]);
        }
        off += acs;
        b += ldb;
    }
    const __m512 va = _mm512_set1_ps(alpha), vb = _mm512_set1_ps(beta);
    for (int r = 0; r < R; r++) {
        float *row = c + r * ldc;
        for (int v = 0; v < NV; v++) {
            __mmask16 m = v == NV - 1 ? last : (__mmask16)0xFFFF;
            __m512 y;
            if (beta == 0.0f) y = _mm512_mul_ps(acc[r][v], va);
            else if (beta == 1.0f) y = _mm512_fmadd_ps(acc[r][v], va, _mm512_maskz_loadu_ps(m, row + 16 * v));
            else y = _mm512_fmadd_ps(acc[r][v], va, _mm512_mul_ps(vb, _mm512_maskz_loadu_ps(m, row + 16 * v)));
            _mm512_mask_storeu_ps(row + 16 * v, m, y);
        }
    }
}

#define TILE_FN(R, NV) \
    static CK512 __attribute__((noinline)) void tile_##R##_##NV(int64_t kc, const float *a, int64_t ars, int64_t acs, \
        const float *b, int64_t ldb, float *c, int64_t ldc, __mmask16 last, float alpha, float beta) { \
        tile(R, NV, kc, a, ars, acs, b, ldb, c, ldc, last, alpha, beta); }
#define TILE_ROW(R) TILE_FN(R, 1) TILE_FN(R, 2) TILE_FN(R, 3) TILE_FN(R, 4)
TILE_ROW(1) TILE_ROW(2) TILE_ROW(3) TILE_ROW(4) TILE_ROW(5) TILE_ROW(6)

typedef void (*tile_fn)(int64_t, const float *, int64_t, int64_t, const float *, int64_t, float *, int64_t,
                        __mmask16, float, float);
#define ROW_TABLE(R) { tile_##R##_1, tile_##R##_2, tile_##R##_3, tile_##R##_4 }
static const tile_fn tiles[6][4] = { ROW_TABLE(1), ROW_TABLE(2), ROW_TABLE(3), ROW_TABLE(4), ROW_TABLE(5), ROW_TABLE(6) };

void ck_sgemm512_tile(int64_t kc, const float *a, int64_t ars, int64_t acs,
                      const float *b, int64_t ldb, float *c, int64_t ldc,
                      int64_t rows, int64_t cols, float alpha, float beta) {
    if (rows <= 0 || cols <= 0) return;
    if (rows > 6) rows = 6;
    if (cols > CK512_NR) cols = CK512_NR;
    const int64_t nv = (cols + 15) / 16, tail = cols - 16 * (nv - 1);
    const __mmask16 last = (__mmask16)(tail == 16 ? 0xFFFF : ((1u << tail) - 1));
    tiles[rows - 1][nv - 1](kc, a, ars, acs, b, ldb, c, ldc, last, alpha, beta);
}

// MARK: - FMA peak probes (12 independent chains, as in PLATFORM.md's gcc probe)

#define PROBE(NAME, ATTR, VEC, SET1, FMA, ADD, REDUCE) \
    ATTR float NAME(int64_t iterations) { \
        VEC x0 = SET1(1.0f), x1 = SET1(1.1f), x2 = SET1(1.2f), x3 = SET1(1.3f), x4 = SET1(1.4f), x5 = SET1(1.5f); \
        VEC x6 = SET1(1.6f), x7 = SET1(1.7f), x8 = SET1(1.8f), x9 = SET1(1.9f), x10 = SET1(2.0f), x11 = SET1(2.1f); \
        const VEC m = SET1(0.999999f), k = SET1(1e-7f); \
        for (int64_t i = 0; i < iterations; i++) { \
            x0 = FMA(x0, m, k); x1 = FMA(x1, m, k); x2 = FMA(x2, m, k); x3 = FMA(x3, m, k); \
            x4 = FMA(x4, m, k); x5 = FMA(x5, m, k); x6 = FMA(x6, m, k); x7 = FMA(x7, m, k); \
            x8 = FMA(x8, m, k); x9 = FMA(x9, m, k); x10 = FMA(x10, m, k); x11 = FMA(x11, m, k); \
            __asm__ volatile("" : "+v"(x0), "+v"(x1), "+v"(x2), "+v"(x3), "+v"(x4), "+v"(x5)); \
            __asm__ volatile("" : "+v"(x6), "+v"(x7), "+v"(x8), "+v"(x9), "+v"(x10), "+v"(x11)); \
        } \
        VEC s = ADD(ADD(ADD(x0, x1), ADD(x2, x3)), ADD(ADD(x4, x5), ADD(x6, x7))); \
        s = ADD(s, ADD(ADD(x8, x9), ADD(x10, x11))); \
        return REDUCE(s); \
    }

CK256 static inline float reduce256(__m256 v) {
    __m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
    s = _mm_add_ps(s, _mm_movehl_ps(s, s));
    s = _mm_add_ss(s, _mm_shuffle_ps(s, s, 1));
    return _mm_cvtss_f32(s);
}
CK512 static inline float reduce512(__m512 v) { return _mm512_reduce_add_ps(v); }

PROBE(ck_fma_probe256, CK256, __m256, _mm256_set1_ps, _mm256_fmadd_ps, _mm256_add_ps, reduce256)
PROBE(ck_fma_probe512, CK512, __m512, _mm512_set1_ps, _mm512_fmadd_ps, _mm512_add_ps, reduce512)
