// INT8 GEMM microkernels (see ck_int8.h for the operands' layout). Three tiers, each register-
// blocked over packed 16-column weight panels; the epilogue subtracts the activations' zero
// point (za · colsum), converts to float, scales by sa · sw and adds the bias (one FMA).
//
//   avx512vnni  6 rows × 4 panels (64 columns): 24 zmm accumulators, vpdpbusd
//   avxvnni     6 rows × 1 panel (16 columns): 12 ymm accumulators, vpdpbusd (VEX)
//   avx2        4 rows × 1 panel: 8 ymm accumulators, vpmaddubsw → vpmaddwd(·, 1) → vpaddd
//               (needs activations ≤ 127: vpmaddubsw's int16 pair sums saturate above)
//
// Every function carries its target attribute; nothing here runs before Int8Kernel.select has
// checked the CPU. Tiles are instantiated per (rows, panels) through always-inline helpers with
// constant arguments, so the accumulator arrays live in registers.
#include "ck_int8.h"
#include <immintrin.h>
#include <string.h>

#define T512 __attribute__((target("avx512f,avx512bw,avx512vl,avx512vnni")))
#define TVNNI __attribute__((target("avx2,fma,avxvnni")))
#define TAVX2 __attribute__((target("avx2,fma")))
#define INLINE static inline __attribute__((always_inline))

// ---------------------------------------------------------------------------------------------
// AVX-512 VNNI
INLINE T512 void tile512(const ck_i8gemm_args *g, long i0, const int MR, long p0, const int NP) {
    const long kq = g->kp / 4, lda = g->lda, pstride = g->kp * 16;
    const uint8_t *a = g->a + i0 * lda;
    const int8_t *b = g->b + p0 * pstride;
    __m512i acc[6][4];
    for (int r = 0; r < MR; r++)
        for (int q = 0; q < NP; q++) acc[r][q] = _mm512_setzero_si512();
    for (long s = 0; s < kq; s++) {
        __m512i bv[4];
        for (int q = 0; q < NP; q++) bv[q] = _mm512_loadu_si512((const void *)(b + q * pstride + s * 64));
        for (int r = 0; r < MR; r++) {
            int32_t quad;
            memcpy(&quad, a + r * lda + 4 * s, 4);
            const __m512i av = _mm512_set1_epi32(quad);
            for (int q = 0; q < NP; q++) acc[r][q] = _mm512_dpbusd_epi32(acc[r][q], av, bv[q]);
        }
    }
    const __m512i lane = _mm512_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15);
    for (int q = 0; q < NP; q++) {
        const long jq = (p0 + q) * 16;
        const long valid = g->n - jq < 16 ? g->n - jq : 16;
        const __mmask16 mask = (__mmask16)((1u << valid) - 1u);
        const __m512 ws = _mm512_loadu_ps(g->w_scale + jq);
        const __m512i cs = _mm512_loadu_si512((const void *)(g->w_colsum + jq));
        const __m512 bias = g->bias ? _mm512_maskz_loadu_ps(mask, g->bias + jq) : _mm512_setzero_ps();
        const __m512i idx = _mm512_mullo_epi32(_mm512_add_epi32(_mm512_set1_epi32((int)jq), lane),
                                               _mm512_set1_epi32((int)g->ldc));
        for (int r = 0; r < MR; r++) {
            const long i = i0 + r;
            const __m512i v = _mm512_sub_epi32(acc[r][q], _mm512_mullo_epi32(_mm512_set1_epi32(g->a_zp[i]), cs));
            const __m512 s = _mm512_mul_ps(_mm512_set1_ps(g->a_scale[i]), ws);
            const __m512 y = _mm512_fmadd_ps(_mm512_cvtepi32_ps(v), s, bias);
            if (!g->trans_c) _mm512_mask_storeu_ps(g->c + i * g->ldc + jq, mask, y);
            else _mm512_mask_i32scatter_ps(g->c + i, mask, idx, y, 4);
        }
    }
}

#define NP_CASES(TILE, MR)                                   \
    switch (np) {                                            \
    case 1: TILE(g, i0, MR, p0, 1); break;                   \
    case 2: TILE(g, i0, MR, p0, 2); break;                   \
    case 3: TILE(g, i0, MR, p0, 3); break;                   \
    default: TILE(g, i0, MR, p0, 4); break;                  \
    }

T512 void ck_i8gemm_avx512vnni(const ck_i8gemm_args *g) {
    const long panels = (g->n + 15) / 16;
    for (long p0 = 0; p0 < panels; p0 += 4) {
        const int np = panels - p0 < 4 ? (int)(panels - p0) : 4;
        long i0 = 0;
        for (; i0 + 6 <= g->m; i0 += 6) { NP_CASES(tile512, 6) }
        switch (g->m - i0) {
        case 1: NP_CASES(tile512, 1) break;
        case 2: NP_CASES(tile512, 2) break;
        case 3: NP_CASES(tile512, 3) break;
        case 4: NP_CASES(tile512, 4) break;
        case 5: NP_CASES(tile512, 5) break;
        default: break;
        }
    }
}

// ---------------------------------------------------------------------------------------------
// 256-bit tiers: one 16-column panel (two ymm of 8 columns) × MR rows. DOT(acc, a, b) adds the
// 4-byte dot products of a (u8, one row's quad broadcast) and b (s8) into acc's int32 lanes.

/// The epilogue of one 8-column half of a tile row (columns jq…jq+7 of row i).
INLINE TAVX2 void ymm_epilogue(const ck_i8gemm_args *g, long i, long jq, __m256i acc) {
    const long valid = g->n - jq;
    if (valid <= 0) return;
    const __m256i lane = _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7);
    const __m256i mask = _mm256_cmpgt_epi32(_mm256_set1_epi32((int)(valid < 8 ? valid : 8)), lane);
    const __m256 ws = _mm256_loadu_ps(g->w_scale + jq);
    const __m256i cs = _mm256_loadu_si256((const __m256i *)(g->w_colsum + jq));
    const __m256 bias = g->bias ? _mm256_maskload_ps(g->bias + jq, mask) : _mm256_setzero_ps();
    const __m256i v = _mm256_sub_epi32(acc, _mm256_mullo_epi32(_mm256_set1_epi32(g->a_zp[i]), cs));
    const __m256 s = _mm256_mul_ps(_mm256_set1_ps(g->a_scale[i]), ws);
    const __m256 y = _mm256_fmadd_ps(_mm256_cvtepi32_ps(v), s, bias);
    if (!g->trans_c) {
        _mm256_maskstore_ps(g->c + i * g->ldc + jq, mask, y);
    } else {
        float t[8];
        _mm256_storeu_ps(t, y);
        const long n = valid < 8 ? valid : 8;
        for (long c = 0; c < n; c++) g->c[(jq + c) * g->ldc + i] = t[c];
    }
}

#define DEFINE_YMM_TIER(NAME, TARGET, MRMAX, DOT)                                                     \
    INLINE TARGET void tile_##NAME(const ck_i8gemm_args *g, long i0, const int MR, long p) {          \
        const long kq = g->kp / 4, lda = g->lda;                                                      \
        const uint8_t *a = g->a + i0 * lda;                                                           \
        const int8_t *b = g->b + p * g->kp * 16;                                                      \
        __m256i acc[MRMAX][2];                                                                        \
        for (int r = 0; r < MR; r++) acc[r][0] = acc[r][1] = _mm256_setzero_si256();                  \
        for (long s = 0; s < kq; s++) {                                                               \
            const __m256i b0 = _mm256_loadu_si256((const __m256i *)(b + s * 64));                     \
            const __m256i b1 = _mm256_loadu_si256((const __m256i *)(b + s * 64 + 32));                \
            for (int r = 0; r < MR; r++) {                                                            \
                int32_t quad;                                                                         \
                memcpy(&quad, a + r * lda + 4 * s, 4);                                                \
                const __m256i av = _mm256_set1_epi32(quad);                                           \
                DOT(acc[r][0], av, b0);                                                               \
                DOT(acc[r][1], av, b1);                                                               \
            }                                                                                         \
        }                                                                                             \
        for (int r = 0; r < MR; r++) {                                                                \
            ymm_epilogue(g, i0 + r, p * 16, acc[r][0]);                                               \
            ymm_epilogue(g, i0 + r, p * 16 + 8, acc[r][1]);                                           \
        }                                                                                             \
    }                                                                                                 \
    TARGET void ck_i8gemm_##NAME(const ck_i8gemm_args *g) {                                           \
        const long panels = (g->n + 15) / 16;                                                         \
        for (long p = 0; p < panels; p++) {                                                           \
            long i0 = 0;                                                                              \
            for (; i0 + MRMAX <= g->m; i0 += MRMAX) tile_##NAME(g, i0, MRMAX, p);                     \
            switch (g->m - i0) {                                                                      \
            case 1: tile_##NAME(g, i0, 1, p); break;                                                  \
            case 2: tile_##NAME(g, i0, 2, p); break;                                                  \
            case 3: tile_##NAME(g, i0, 3, p); break;                                                  \
            case 4: if (MRMAX > 4) tile_##NAME(g, i0, 4, p); break;                                   \
            case 5: if (MRMAX > 5) tile_##NAME(g, i0, 5, p); break;                                   \
            default: break;                                                                           \
            }                                                                                         \
        }                                                                                             \
    }

#define DOT_VNNI(acc, a, b) (acc) = _mm256_dpbusd_avx_epi32((acc), (a), (b))
#define DOT_AVX2(acc, a, b) \
    (acc) = _mm256_add_epi32((acc), _mm256_madd_epi16(_mm256_maddubs_epi16((a), (b)), _mm256_set1_epi16(1)))

DEFINE_YMM_TIER(avxvnni, TVNNI, 6, DOT_VNNI)
DEFINE_YMM_TIER(avx2, TAVX2, 4, DOT_AVX2)
