// INT8 GEMM kernels and dynamic activation quantization (InftopEngine/Quant drives them).
//
//     C[i, j] = sa[i] · sw[j] · (Σ_p qa[i, p] · qw[j, p] − za[i] · colsum[j]) + bias[j]
//
// qa: u8 activations [m, kp] (row stride lda bytes; kp = K rounded up to 4), one scale sa and zero
// point za per row (dynamic, per-row asymmetric quantization). qw: s8 weights in [−127, 127],
// one scale sw per output column, packed in panels of 16 columns: panel p holds columns
// 16p…16p+15 as kp/4 groups of 16 × 4 bytes (column c's 4 consecutive k at byte 4c of a group),
// zero past K and past N — the layout vpdpbusd and vpmaddubsw+vpmaddwd both consume.
//
// Each kernel carries its own target attribute; the caller (Int8Kernel.select) has checked the
// CPU. ck_i8gemm_avx2 needs qa ≤ 127 (vpmaddubsw's int16 pair sums cannot saturate then:
// 2 · 127 · 127 = 32 258 < 32 767); the VNNI kernels take the full 0…255.
#ifndef CK_INT8_H
#define CK_INT8_H
#include <stdint.h>

typedef struct {
    long m, n, kp;            // rows, valid output columns, K padded to a multiple of 4
    const uint8_t *a;         // [m, kp] quantized activations, row stride lda
    long lda;
    const int8_t *b;          // packed weights: ceil(n/16) panels of kp × 16 bytes
    const float *a_scale;     // [m]
    const int32_t *a_zp;      // [m]
    const float *w_scale;     // [ceil(n/16)·16] (padded with zeros)
    const int32_t *w_colsum;  // [ceil(n/16)·16] Σ_p qw[j, p] (padded with zeros)
    const float *bias;        // [n] or NULL
    float *c;                 // c[i·ldc + j], or c[j·ldc + i] when trans_c
    long ldc;
    int trans_c;
} ck_i8gemm_args;

void ck_i8gemm_avx2(const ck_i8gemm_args *args);
void ck_i8gemm_avxvnni(const ck_i8gemm_args *args);
void ck_i8gemm_avx512vnni(const ck_i8gemm_args *args);

// Per-row asymmetric quantization of rows [i0, i1) of X (AVX2 + FMA):
//   lo = min(0, min_p x), hi = max(0, max_p x), scale = (hi − lo) / qmax (1 when 0),
//   inv = 1 / scale, zp = clamp(rint(−lo · inv), 0, qmax),
//   q[i, p] = clamp(rint(x[i, p] · inv) + zp, 0, qmax)   (round to nearest even),
// q[i, k..<kp] = zp. Row i of X is x[i·ldx + p] (ck_quant_rows_u8) or, for feature-major X
// stored [k, m], x[p·ldx + i] (ck_quant_cols_u8; `tmp` holds 2·(i1 − i0) floats).
void ck_quant_rows_u8(const float *x, long ldx, long i0, long i1, long k, long kp, int qmax,
                      uint8_t *q, long ldq, float *scale, int32_t *zp);
void ck_quant_cols_u8(const float *x, long ldx, long i0, long i1, long k, long kp, int qmax,
                      uint8_t *q, long ldq, float *scale, int32_t *zp, float *tmp);

#endif
