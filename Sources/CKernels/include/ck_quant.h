// Quantized matrix kernels for the generative model's GGUF weights (F32, F16, Q4_0, Q4_1, Q8_0):
// rows of a weight matrix W (n rows × k columns, one row per output, each row rowBytes long, the
// GGUF / ggml layout) times fp32 activations, dequantizing in registers. One function per ISA
// tier, each carrying its own __attribute__((target)); the caller (InftopEngine's
// QuantizedMatrix) checks the CPU before calling a tier. The reference twin is Swift
// (QuantKernels+Reference.swift).
#ifndef CK_QUANT_H
#define CK_QUANT_H
#include <stddef.h>
#include <stdint.h>

/// Weight encodings, numbered as ggml's `ggml_type`.
enum { CK_Q_F32 = 0, CK_Q_F16 = 1, CK_Q_Q4_0 = 2, CK_Q_Q4_1 = 3, CK_Q_Q8_0 = 8 };

/// Rows per dequantized panel of ck_qgemm_* (the scratch it needs is (CK_QGEMM_PANEL + 1) * k floats).
#define CK_QGEMM_PANEL 12
/// Token lanes of the GEMM tile: X^T is padded to a multiple of this.
#define CK_QGEMM_LANES 16

/// Decode (GEMV): y[r - r0] = dot(W[r, 0:k], x[0:k]) for r in [r0, r1). For the block types
/// k is a multiple of 32 and at most 65536.
void ck_qgemv_avx2(int type, const void *w, size_t rowBytes, int k, const float *x, float *y, int r0, int r1);
void ck_qgemv_avx512(int type, const void *w, size_t rowBytes, int k, const float *x, float *y, int r0, int r1);
/// Decode GEMV with integer dot products (quant_q8dot.c): x quantized to Q8 blocks as llama.cpp
/// does (exact for inputs ck_q8_roundtrip made), vpmaddubsw/vpmaddwd per block, no int16
/// saturation by construction. Q4_0, Q4_1, Q8_0; other types (and k > 16384) take ck_qgemv_avx2.
void ck_qgemv_q8_avx2(int type, const void *w, size_t rowBytes, int k, const float *x, float *y, int r0, int r1);
/// x[0:k] (k a multiple of 32) → q[0:k] int8, d[b] = f16(max|x_b| / 127), sd[b] = d[b] · Σ q_b.
void ck_quantize_q8(const float *x, int k, int8_t *q, float *d, float *sd);

/// Prefill (GEMM): Y[t, r] = dot(X[t, 0:k], W[r, 0:k]) for t in [0, m), r in [r0, r1), with X given
/// transposed in blocks of 16 tokens: xt[(t / 16) * k * 16 + kk * 16 + t % 16] (tp ≥ m a multiple of
/// CK_QGEMM_LANES, tokens past m zero; ck_transpose makes it). Y is m × (≥ r1) with row stride ldy.
/// `scratch` holds (CK_QGEMM_PANEL + 1) * k floats (one panel's rows, dequantized and interleaved).
void ck_qgemm_avx2(int type, const void *w, size_t rowBytes, int k, const float *xt, int tp, int m,
                   float *y, int ldy, int r0, int r1, float *scratch);
void ck_qgemm_avx512(int type, const void *w, size_t rowBytes, int k, const float *xt, int tp, int m,
                     float *y, int ldy, int r0, int r1, float *scratch);
/// xt[(t / 16) * k * 16 + kk * 16 + t % 16] = x[t * ldx + kk] for t < m, 0 for m ≤ t < tp.
void ck_transpose(const float *x, int ldx, int m, int k, float *xt, int tp);

/// Dequantizes row r of W into out[0:k] (scalar C; what the panels are packed from).
void ck_dequant_row(int type, const void *w, size_t rowBytes, int k, int r, float *out);

/// Attention helpers over one head. Scores: s[j] = scale * sum_d q[d] * kt[d * ldk + j] for j in
/// [0, n) (K stored transposed: one row of positions per head dimension). Context:
/// out[d] = sum_j p[j] * v[j * ldv + d] for d in [0, hd).
void ck_attn_scores_avx2(const float *q, const float *kt, int ldk, int hd, int n, float scale, float *s);
void ck_attn_scores_avx512(const float *q, const float *kt, int ldk, int hd, int n, float scale, float *s);
void ck_attn_context_avx2(const float *p, const float *v, int ldv, int hd, int n, float *out);
void ck_attn_context_avx512(const float *p, const float *v, int ldv, int hd, int n, float *out);
/// The same for the `nq` query heads that share one KV head (grouped-query attention), keys and
/// values read once for all of them (attention_group.c): s[i * lds + j] for query i = q + i * ldq,
/// and out[i * ldo + d] from probabilities p + i * ldp. AVX2 + FMA.
void ck_attn_scores_group_avx2(const float *q, int ldq, int nq, const float *kt, int ldk, int hd, int n,
                               float scale, float *s, int lds);
void ck_attn_context_group_avx2(const float *p, int ldp, int nq, const float *v, int ldv, int hd, int n,
                                float *out, int ldo);

/// Rounds x[0:n] (n a multiple of 32) through ggml's Q8 activation encoding in place: per block of
/// 32, d = max|x| / 127 stored as f16, x = round(x / d) * d — what llama.cpp does to the input of
/// every quantized matmul, so our logits track its. AVX2 + F16C (the baseline).
void ck_q8_roundtrip(float *x, int n);
/// Rounds x[0:n] to f16 and back in place (llama.cpp's f16 KV cache).
void ck_f16_roundtrip(float *x, int n);

/// A spin-wait hint (x86 `pause`), for the decoder's worker threads.
#include "ck_spin.h"  /* ck_pause */

#endif
