// Grouped-query attention over one key/value head (ck_quant.h): the `nq` query heads that share
// a KV head read its keys and values once per block instead of once per head. Each key block
// loaded feeds nq FMAs, so the K and V streams (which come from L2 once n grows past a few hundred
// positions) are read at a third of the rate for SmolLM2's 3 heads per group, and the loop is
// bound by the FMA ports rather than by L2 bandwidth. AVX2 tier; the per-head kernels in quant.c
// remain the AVX-512 path and the building block for any remainder.
#include "ck_quant.h"
#include <immintrin.h>

// s[i * lds + j] = scale * sum_d q[i * ldq + d] * kt[d * ldk + j], NQ queries at once, 24 keys a block
// (NQ · 3 accumulators + 3 key vectors + 1 broadcast ≤ 13 registers for NQ = 3).
__attribute__((target("avx2,fma"), always_inline))
static inline void scores_nq(const int NQ, const float *q, int ldq, const float *kt, int ldk, int hd, int n,
                             float scale, float *s, int lds) {
    int j = 0;
    const __m256 sc = _mm256_set1_ps(scale);
    for (; j + 24 <= n; j += 24) {
        __m256 a[3][3];
        for (int i = 0; i < NQ; i++) { a[i][0] = _mm256_setzero_ps(); a[i][1] = a[i][0]; a[i][2] = a[i][0]; }
        const float *kr = kt + j;
        for (int d = 0; d < hd; d++, kr += ldk) {
            __m256 k0 = _mm256_loadu_ps(kr), k1 = _mm256_loadu_ps(kr + 8), k2 = _mm256_loadu_ps(kr + 16);
            for (int i = 0; i < NQ; i++) {
                __m256 qd = _mm256_broadcast_ss(q + (size_t)i * ldq + d);
                a[i][0] = _mm256_fmadd_ps(qd, k0, a[i][0]);
                a[i][1] = _mm256_fmadd_ps(qd, k1, a[i][1]);
                a[i][2] = _mm256_fmadd_ps(qd, k2, a[i][2]);
            }
        }
        for (int i = 0; i < NQ; i++) {
            float *si = s + (size_t)i * lds + j;
            _mm256_storeu_ps(si, _mm256_mul_ps(a[i][0], sc));
            _mm256_storeu_ps(si + 8, _mm256_mul_ps(a[i][1], sc));
            _mm256_storeu_ps(si + 16, _mm256_mul_ps(a[i][2], sc));
        }
    }
    for (; j + 8 <= n; j += 8) {
        __m256 a[3];
        for (int i = 0; i < NQ; i++) a[i] = _mm256_setzero_ps();
        const float *kr = kt + j;
        for (int d = 0; d < hd; d++, kr += ldk) {
            __m256 k0 = _mm256_loadu_ps(kr);
            for (int i = 0; i < NQ; i++) a[i] = _mm256_fmadd_ps(_mm256_broadcast_ss(q + (size_t)i * ldq + d), k0, a[i]);
        }
        for (int i = 0; i < NQ; i++) _mm256_storeu_ps(s + (size_t)i * lds + j, _mm256_mul_ps(a[i], sc));
    }
    for (; j < n; j++) {
        for (int i = 0; i < NQ; i++) {
            float acc = 0;
            for (int d = 0; d < hd; d++) acc += q[(size_t)i * ldq + d] * kt[(size_t)d * ldk + j];
            s[(size_t)i * lds + j] = acc * scale;
        }
    }
}

// out[i * ldo + d] = sum_j p[i * ldp + j] * v[j * ldv + d], NQ rows of probabilities at once, 16
// head dimensions a block (NQ · 2 accumulators + 2 value vectors + 1 broadcast).
__attribute__((target("avx2,fma"), always_inline))
static inline void context_nq(const int NQ, const float *p, int ldp, const float *v, int ldv, int hd, int n,
                              float *out, int ldo) {
    int d = 0;
    for (; d + 16 <= hd; d += 16) {
        __m256 a[3][2];
        for (int i = 0; i < NQ; i++) { a[i][0] = _mm256_setzero_ps(); a[i][1] = a[i][0]; }
        const float *vr = v + d;
        for (int j = 0; j < n; j++, vr += ldv) {
            __m256 v0 = _mm256_loadu_ps(vr), v1 = _mm256_loadu_ps(vr + 8);
            for (int i = 0; i < NQ; i++) {
                __m256 pj = _mm256_broadcast_ss(p + (size_t)i * ldp + j);
                a[i][0] = _mm256_fmadd_ps(pj, v0, a[i][0]);
                a[i][1] = _mm256_fmadd_ps(pj, v1, a[i][1]);
            }
        }
        for (int i = 0; i < NQ; i++) {
            _mm256_storeu_ps(out + (size_t)i * ldo + d, a[i][0]);
            _mm256_storeu_ps(out + (size_t)i * ldo + d + 8, a[i][1]);
        }
    }
    for (; d < hd; d++) {
        for (int i = 0; i < NQ; i++) {
            float acc = 0;
            for (int j = 0; j < n; j++) acc += p[(size_t)i * ldp + j] * v[(size_t)j * ldv + d];
            out[(size_t)i * ldo + d] = acc;
        }
    }
}

__attribute__((target("avx2,fma")))
void ck_attn_scores_group_avx2(const float *q, int ldq, int nq, const float *kt, int ldk, int hd, int n,
                               float scale, float *s, int lds) {
    for (; nq >= 3; nq -= 3, q += 3 * (size_t)ldq, s += 3 * (size_t)lds) scores_nq(3, q, ldq, kt, ldk, hd, n, scale, s, lds);
    if (nq == 2) scores_nq(2, q, ldq, kt, ldk, hd, n, scale, s, lds);
    else if (nq == 1) scores_nq(1, q, ldq, kt, ldk, hd, n, scale, s, lds);
}

__attribute__((target("avx2,fma")))
void ck_attn_context_group_avx2(const float *p, int ldp, int nq, const float *v, int ldv, int hd, int n,
                                float *out, int ldo) {
    for (; nq >= 3; nq -= 3, p += 3 * (size_t)ldp, out += 3 * (size_t)ldo) context_nq(3, p, ldp, v, ldv, hd, n, out, ldo);
    if (nq == 2) context_nq(2, p, ldp, v, ldv, hd, n, out, ldo);
    else if (nq == 1) context_nq(1, p, ldp, v, ldv, hd, n, out, ldo);
}
