// The 512-bit (AVX-512F/BW/DQ/VL + FMA) tier of the fp32 GEMM register tile, and the FMA peak
// probes `inftop bench --peak` runs. Every function carries its own target attribute; none may be
// called before CPUFeatures has reported the ISA (InftopEngine's GemmTier checks it).
#ifndef CK_GEMM512_H
#define CK_GEMM512_H
#include <stdint.h>

/// Columns of one B micro-panel of the 512-bit tier: four zmm registers of 16 floats.
#define CK512_NR 64

/// One register tile of C, up to 6 rows × 64 columns:
///
///     C[0..<rows, 0..<cols] = alpha · (A · B)[0..<rows, 0..<cols] + beta · C
///
/// - A(r, p) = a[r·ars + p·acs]: a packed 6-row micro-panel (ars = 1, acs = 6) or a matrix read
///   in place (any strides). Only the first `rows` (1…6) rows are read.
/// - B(p, j) = b[p·ldb + j], j < cols (1…64); only ⌈cols/16⌉ vectors of each row are read, the last
///   one masked, so B needs no padding and may be read in place.
/// - C row stride `ldc`; only rows×cols elements are touched (masked stores); beta == 0: C is not
///   read (NaN in it vanishes).
void ck_sgemm512_tile(int64_t kc, const float *a, int64_t ars, int64_t acs,
                      const float *b, int64_t ldb, float *c, int64_t ldc,
                      int64_t rows, int64_t cols, float alpha, float beta);

/// FMA throughput probes: `iterations` × 12 independent FMA chains on 8-lane (ymm, AVX2+FMA) or
/// 16-lane (zmm, AVX-512F) vectors. Returns a value derived from the chains so the work is kept.
/// FLOPs done: iterations · 12 · 2 · lanes.
float ck_fma_probe256(int64_t iterations);
float ck_fma_probe512(int64_t iterations);

#endif
