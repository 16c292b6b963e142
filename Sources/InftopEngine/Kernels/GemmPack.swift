extension Gemm {
    /// Packs the `rows`×`kc` block of op(A) whose top-left is (`i0`, `p0`) into 6-row micro-panels:
    /// panel q holds rows 6q…6q+5, laid out p-major (`dst[q·6·kc + p·6 + r]`). In a last,
    /// partial panel the slots past `rows` are left unwritten: the microkernel is specialised
    /// for the row count and never reads them.
    ///
    /// - `a`: A as stored (M×K, row stride `lda`; or with `transA` K×M, row stride `lda`).
    /// - `dst`: room for `ceil(rows/6)·6·kc` floats.
    static func packA(
        transA: Bool, a: UnsafePointer<Float>, lda: Int, i0: Int, p0: Int, rows: Int, kc: Int,
        dst: UnsafeMutablePointer<Float>
    ) {
        var out = dst
        var r0 = 0
        while r0 < rows {
            let h = min(mr, rows - r0)
            if transA {
                // Stored K×M: the 6 values for one p are adjacent in memory — a short copy per p.
                var src = a + (p0 * lda + i0 + r0)
                if h == mr {
                    for _ in 0..<kc {
                        out[0] = src[0]; out[1] = src[1]; out[2] = src[2]
                        out[3] = src[3]; out[4] = src[4]; out[5] = src[5]
                        out += mr; src += lda
                    }
                } else {
                    for _ in 0..<kc {
                        for r in 0..<h { out[r] = src[r] }
                        out += mr; src += lda
                    }
                }
            } else {
                // Stored M×K: six row streams, each read contiguously, interleaved on write.
                let base = a + ((i0 + r0) * lda + p0)
                if h == mr {
                    let s0 = base, s1 = base + lda, s2 = base + 2 * lda
                    let s3 = base + 3 * lda, s4 = base + 4 * lda, s5 = base + 5 * lda
                    for p in 0..<kc {
                        out[0] = s0[p]; out[1] = s1[p]; out[2] = s2[p]
                        out[3] = s3[p]; out[4] = s4[p]; out[5] = s5[p]
                        out += mr
                    }
                } else {
                    for p in 0..<kc {
                        for r in 0..<h { out[r] = base[r * lda + p] }
                        out += mr
                    }
                }
            }
            r0 += mr
        }
    }

    /// Packs the `kc`×`cols` block of op(B) whose top-left is (`p0`, `j0`) into `nr`-column
    /// micro-panels (16 for the avx2 tier, 64 for avx512: a multiple of 16): panel q holds
    /// columns nr·q…nr·q+nr−1, p-major (`dst[q·nr·kc + p·nr + j]`), columns past `cols` zero-filled
    /// up to the next multiple of 16 (a 64-wide panel's 16-column groups past the edge are left
    /// unwritten: the avx512 tile never reads them).
    ///
    /// - `b`: B as stored (K×N, row stride `ldb`; or with `transB` N×K, row stride `ldb`).
    /// - `dst`: room for `ceil(cols/nr)·nr·kc` floats.
    static func packB(
        transB: Bool, b: UnsafePointer<Float>, ldb: Int, p0: Int, j0: Int, cols: Int, kc: Int,
        dst: UnsafeMutablePointer<Float>, nr: Int = Gemm.nr
    ) {
        var out = dst
        var c0 = 0
        while c0 < cols {
            // Each panel in 16-column groups, written at offset g into the panel's rows.
            var g = 0
            while g < nr && c0 + g < cols {
                let w = min(16, cols - c0 - g), o0 = out + g
                if transB {
                    let base = b + ((j0 + c0 + g) * ldb + p0)
                    if w == 16 {
                        packTransposed16(base, ldb: ldb, kc: kc, dst: o0, stride: nr)
                    } else {
                        // Zeros first as two vector stores (a scalar zero loop becomes a memset
                        // call per p), then the columns that exist.
                        for p in 0..<kc {
                            let o = o0 + p * nr
                            vstore(SIMD8<Float>(), o); vstore(SIMD8<Float>(), o + 8)
                            for j in 0..<w { o[j] = base[j * ldb + p] }
                        }
                    }
                } else {
                    // Stored K×N: each p's 16 values are one contiguous run — two vector copies.
                    var src = b + (p0 * ldb + j0 + c0 + g)
                    var o = o0
                    if w == 16 {
                        for _ in 0..<kc {
                            vstore(vload(src), o); vstore(vload(src + 8), o + 8)
                            o += nr; src += ldb
                        }
                    } else {
                        for _ in 0..<kc {
                            vstore(SIMD8<Float>(), o); vstore(SIMD8<Float>(), o + 8)
                            for j in 0..<w { o[j] = src[j] }
                            o += nr; src += ldb
                        }
                    }
                }
                g += 16
            }
            out += nr * kc
            c0 += nr
        }
    }

    /// 16 rows of a stored N×K matrix (`src`, row stride `ldb`), `kc` long, transposed into a
    /// kc×16 panel. Walks p in steps of 8 and transposes 8×8 blocks in registers, so reads
    /// are whole vectors and writes whole panel rows. Measured with perf against a scalar
    /// gather: packing cycles per kernel cycle 0.22 vs 0.36 at 64×256×784 NT, and 2.3× less
    /// packing time at 8×384×384 NT, where packing B is most of the work.
    @inline(__always)
    /// `stride`: floats between the panel's rows (16, or 64 for a group of a 64-wide panel).
    static func packTransposed16(_ src: UnsafePointer<Float>, ldb: Int, kc: Int, dst: UnsafeMutablePointer<Float>, stride nr: Int = 16) {
        var p = 0
        while p + 8 <= kc {
            for half in 0..<2 {
                let s = src + (half * 8 * ldb + p)
                let t = transpose8x8(
                    vload(s), vload(s + ldb), vload(s + 2 * ldb), vload(s + 3 * ldb),
                    vload(s + 4 * ldb), vload(s + 5 * ldb), vload(s + 6 * ldb), vload(s + 7 * ldb))
                let d = dst + (p * nr + half * 8)
                vstore(t.0, d); vstore(t.1, d + nr); vstore(t.2, d + 2 * nr); vstore(t.3, d + 3 * nr)
                vstore(t.4, d + 4 * nr); vstore(t.5, d + 5 * nr); vstore(t.6, d + 6 * nr); vstore(t.7, d + 7 * nr)
            }
            p += 8
        }
        while p < kc {
            for j in 0..<16 { dst[p * nr + j] = src[j * ldb + p] }
            p += 1
        }
    }

    /// Transpose of the 8×8 matrix whose rows are r0…r7. Written with `SIMD` half/element
    /// shuffles that LLVM lowers to unpck/shuf/perm2f128 — no scalar round trip.
    @inline(__always)
    static func transpose8x8(
        _ r0: SIMD8<Float>, _ r1: SIMD8<Float>, _ r2: SIMD8<Float>, _ r3: SIMD8<Float>,
        _ r4: SIMD8<Float>, _ r5: SIMD8<Float>, _ r6: SIMD8<Float>, _ r7: SIMD8<Float>
    ) -> (SIMD8<Float>, SIMD8<Float>, SIMD8<Float>, SIMD8<Float>, SIMD8<Float>, SIMD8<Float>, SIMD8<Float>, SIMD8<Float>) {
        // Stage 1: interleave pairs of rows within 128-bit lanes (unpcklps / unpckhps).
        @inline(__always) func lo(_ a: SIMD8<Float>, _ b: SIMD8<Float>) -> SIMD8<Float> {
            SIMD8(a[0], b[0], a[1], b[1], a[4], b[4], a[5], b[5])
        }
        @inline(__always) func hi(_ a: SIMD8<Float>, _ b: SIMD8<Float>) -> SIMD8<Float> {
            SIMD8(a[2], b[2], a[3], b[3], a[6], b[6], a[7], b[7])
        }
        // Stage 2: pairs of 64-bit elements within lanes (shufps / unpcklpd).
        @inline(__always) func lo2(_ a: SIMD8<Float>, _ b: SIMD8<Float>) -> SIMD8<Float> {
            SIMD8(a[0], a[1], b[0], b[1], a[4], a[5], b[4], b[5])
        }
        @inline(__always) func hi2(_ a: SIMD8<Float>, _ b: SIMD8<Float>) -> SIMD8<Float> {
            SIMD8(a[2], a[3], b[2], b[3], a[6], a[7], b[6], b[7])
        }
        // Stage 3: 128-bit lanes (vperm2f128).
        @inline(__always) func lanesLo(_ a: SIMD8<Float>, _ b: SIMD8<Float>) -> SIMD8<Float> {
            SIMD8(lowHalf: a.lowHalf, highHalf: b.lowHalf)
        }
        @inline(__always) func lanesHi(_ a: SIMD8<Float>, _ b: SIMD8<Float>) -> SIMD8<Float> {
            SIMD8(lowHalf: a.highHalf, highHalf: b.highHalf)
        }
        let t0 = lo(r0, r1), t1 = hi(r0, r1), t2 = lo(r2, r3), t3 = hi(r2, r3)
        let t4 = lo(r4, r5), t5 = hi(r4, r5), t6 = lo(r6, r7), t7 = hi(r6, r7)
        let u0 = lo2(t0, t2), u1 = hi2(t0, t2), u2 = lo2(t1, t3), u3 = hi2(t1, t3)
        let u4 = lo2(t4, t6), u5 = hi2(t4, t6), u6 = lo2(t5, t7), u7 = hi2(t5, t7)
        return (lanesLo(u0, u4), lanesLo(u1, u5), lanesLo(u2, u6), lanesLo(u3, u7),
                lanesHi(u0, u4), lanesHi(u1, u5), lanesHi(u2, u6), lanesHi(u3, u7))
    }
}
