extension Gemm {
    /// Rows of the register tile (and of one packed A micro-panel).
    static let mr = 6
    /// Columns of the register tile (and of one packed B micro-panel): two `SIMD8<Float>`.
    static let nr = 16

    /// One register tile of C from packed panels:
    ///
    ///     C[0..<rows, 0..<cols] = alpha · (Ap · Bp)[0..<rows, 0..<cols] + beta · C
    ///
    /// - `ap`: packed A micro-panel, `kc`×6 floats (for each p the 6 rows' values; only the
    ///   first `rows` of each group are read, so an edge panel needs no padding).
    /// - `bp`: B micro-panel, `kc` rows of 16 floats, `bStride` floats apart: packed (16, zero
    ///   padded past the edge) or, for small M, B itself (`ldb`, whole panels only).
    /// - `c`: top-left of the tile in C, row stride `ldc`; only `rows`×`cols` (≤ 6×16) is touched.
    /// - `beta == 0`: C is not read (NaN in it vanishes).
    /// - `scratch`: 6×16 floats, used only when `cols` is not a whole number of vectors.
    ///
    /// Dispatches to a copy of `tileKernel` specialised for the row count, so an M = 8 product
    /// does a 6-row and a 2-row pass instead of two 6-row passes (a third of the FMAs wasted).
    /// Each copy is its own small function: inlining all six into one made the register
    /// allocator add two moves to the 6-row inner loop.
    @inline(__always)
    static func microkernel(
        kc: Int, ap: UnsafePointer<Float>, bp: UnsafePointer<Float>, bStride: Int,
        c: UnsafeMutablePointer<Float>, ldc: Int, rows: Int, cols: Int,
        alpha: Float, beta: Float, scratch: UnsafeMutablePointer<Float>
    ) {
        switch rows {
        case 6: kernel6(kc: kc, ap: ap, bp: bp, bStride: bStride, c: c, ldc: ldc, cols: cols, alpha: alpha, beta: beta, scratch: scratch)
        case 5: kernel5(kc: kc, ap: ap, bp: bp, bStride: bStride, c: c, ldc: ldc, cols: cols, alpha: alpha, beta: beta, scratch: scratch)
        case 4: kernel4(kc: kc, ap: ap, bp: bp, bStride: bStride, c: c, ldc: ldc, cols: cols, alpha: alpha, beta: beta, scratch: scratch)
        case 3: kernel3(kc: kc, ap: ap, bp: bp, bStride: bStride, c: c, ldc: ldc, cols: cols, alpha: alpha, beta: beta, scratch: scratch)
        case 2: kernel2(kc: kc, ap: ap, bp: bp, bStride: bStride, c: c, ldc: ldc, cols: cols, alpha: alpha, beta: beta, scratch: scratch)
        default: kernel1(kc: kc, ap: ap, bp: bp, bStride: bStride, c: c, ldc: ldc, cols: cols, alpha: alpha, beta: beta, scratch: scratch)
        }
    }

    @inline(never) static func kernel6(kc: Int, ap: UnsafePointer<Float>, bp: UnsafePointer<Float>, bStride: Int, c: UnsafeMutablePointer<Float>, ldc: Int, cols: Int, alpha: Float, beta: Float, scratch: UnsafeMutablePointer<Float>) {
        tileKernel(rowsK: 6, kc: kc, ap: ap, bp: bp, bStride: bStride, c: c, ldc: ldc, cols: cols, alpha: alpha, beta: beta, scratch: scratch)
    }
    @inline(never) static func kernel5(kc: Int, ap: UnsafePointer<Float>, bp: UnsafePointer<Float>, bStride: Int, c: UnsafeMutablePointer<Float>, ldc: Int, cols: Int, alpha: Float, beta: Float, scratch: UnsafeMutablePointer<Float>) {
        tileKernel(rowsK: 5, kc: kc, ap: ap, bp: bp, bStride: bStride, c: c, ldc: ldc, cols: cols, alpha: alpha, beta: beta, scratch: scratch)
    }
    @inline(never) static func kernel4(kc: Int, ap: UnsafePointer<Float>, bp: UnsafePointer<Float>, bStride: Int, c: UnsafeMutablePointer<Float>, ldc: Int, cols: Int, alpha: Float, beta: Float, scratch: UnsafeMutablePointer<Float>) {
        tileKernel(rowsK: 4, kc: kc, ap: ap, bp: bp, bStride: bStride, c: c, ldc: ldc, cols: cols, alpha: alpha, beta: beta, scratch: scratch)
    }
    @inline(never) static func kernel3(kc: Int, ap: UnsafePointer<Float>, bp: UnsafePointer<Float>, bStride: Int, c: UnsafeMutablePointer<Float>, ldc: Int, cols: Int, alpha: Float, beta: Float, scratch: UnsafeMutablePointer<Float>) {
        tileKernel(rowsK: 3, kc: kc, ap: ap, bp: bp, bStride: bStride, c: c, ldc: ldc, cols: cols, alpha: alpha, beta: beta, scratch: scratch)
    }
    @inline(never) static func kernel2(kc: Int, ap: UnsafePointer<Float>, bp: UnsafePointer<Float>, bStride: Int, c: UnsafeMutablePointer<Float>, ldc: Int, cols: Int, alpha: Float, beta: Float, scratch: UnsafeMutablePointer<Float>) {
        tileKernel(rowsK: 2, kc: kc, ap: ap, bp: bp, bStride: bStride, c: c, ldc: ldc, cols: cols, alpha: alpha, beta: beta, scratch: scratch)
    }
    @inline(never) static func kernel1(kc: Int, ap: UnsafePointer<Float>, bp: UnsafePointer<Float>, bStride: Int, c: UnsafeMutablePointer<Float>, ldc: Int, cols: Int, alpha: Float, beta: Float, scratch: UnsafeMutablePointer<Float>) {
        tileKernel(rowsK: 1, kc: kc, ap: ap, bp: bp, bStride: bStride, c: c, ldc: ldc, cols: cols, alpha: alpha, beta: beta, scratch: scratch)
    }

    /// The tile loop for a compile-time row count `rowsK` (1…6); always inlined with a literal
    /// so every `if rowsK > …` folds away.
    ///
    /// Twelve accumulators in separate locals (an array or tuple would spill to the stack), plus
    /// two B vectors and one broadcast A value = 15 of the 16 ymm registers. Per p for the full
    /// 6×16 tile: 2 loads, 6 broadcasts, 12 FMAs — Zen 3 issues 2 FMAs per cycle, so the loop
    /// is FMA-bound.
    @inline(__always)
    static func tileKernel(
        rowsK: Int, kc: Int, ap: UnsafePointer<Float>, bp: UnsafePointer<Float>, bStride: Int,
        c: UnsafeMutablePointer<Float>, ldc: Int, cols: Int,
        alpha: Float, beta: Float, scratch: UnsafeMutablePointer<Float>
    ) {
        var c00 = SIMD8<Float>(), c01 = SIMD8<Float>()
        var c10 = SIMD8<Float>(), c11 = SIMD8<Float>()
        var c20 = SIMD8<Float>(), c21 = SIMD8<Float>()
        var c30 = SIMD8<Float>(), c31 = SIMD8<Float>()
        var c40 = SIMD8<Float>(), c41 = SIMD8<Float>()
        var c50 = SIMD8<Float>(), c51 = SIMD8<Float>()
        var a = ap, b = bp
        for _ in 0..<kc {
            // Packed panels are contiguous in p, so both streams advance linearly and the
            // hardware prefetcher keeps them in L1.
            let b0 = vload(b), b1 = vload(b + 8)
            var x = SIMD8<Float>(repeating: a[0])
            c00.addProduct(x, b0); c01.addProduct(x, b1)
            if rowsK > 1 {
                x = SIMD8<Float>(repeating: a[1])
                c10.addProduct(x, b0); c11.addProduct(x, b1)
            }
            if rowsK > 2 {
                x = SIMD8<Float>(repeating: a[2])
                c20.addProduct(x, b0); c21.addProduct(x, b1)
            }
            if rowsK > 3 {
                x = SIMD8<Float>(repeating: a[3])
                c30.addProduct(x, b0); c31.addProduct(x, b1)
            }
            if rowsK > 4 {
                x = SIMD8<Float>(repeating: a[4])
                c40.addProduct(x, b0); c41.addProduct(x, b1)
            }
            if rowsK > 5 {
                x = SIMD8<Float>(repeating: a[5])
                c50.addProduct(x, b0); c51.addProduct(x, b1)
            }
            a += mr; b += bStride
        }
        if cols == nr {
            // Whole vectors: straight into C, one row at a time.
            updateRow(c, c00, c01, alpha, beta)
            if rowsK > 1 { updateRow(c + ldc, c10, c11, alpha, beta) }
            if rowsK > 2 { updateRow(c + 2 * ldc, c20, c21, alpha, beta) }
            if rowsK > 3 { updateRow(c + 3 * ldc, c30, c31, alpha, beta) }
            if rowsK > 4 { updateRow(c + 4 * ldc, c40, c41, alpha, beta) }
            if rowsK > 5 { updateRow(c + 5 * ldc, c50, c51, alpha, beta) }
        } else {
            // Ragged right edge: the zero-padded B panel made the full-width product valid,
            // so park it in scratch and copy only the columns that exist in C.
            vstore(c00, scratch); vstore(c01, scratch + 8)
            vstore(c10, scratch + 16); vstore(c11, scratch + 24)
            vstore(c20, scratch + 32); vstore(c21, scratch + 40)
            vstore(c30, scratch + 48); vstore(c31, scratch + 56)
            vstore(c40, scratch + 64); vstore(c41, scratch + 72)
            vstore(c50, scratch + 80); vstore(c51, scratch + 88)
            for r in 0..<rowsK {
                let src = scratch + r * nr, dst = c + r * ldc
                if beta == 0 {
                    for j in 0..<cols { dst[j] = alpha * src[j] }
                } else {
                    for j in 0..<cols { dst[j] = alpha * src[j] + beta * dst[j] }
                }
            }
        }
    }

    /// `row[0..<16] = alpha·(v0,v1) + beta·row` without reading `row` when `beta == 0`.
    @inline(__always)
    static func updateRow(_ row: UnsafeMutablePointer<Float>, _ v0: SIMD8<Float>, _ v1: SIMD8<Float>,
                          _ alpha: Float, _ beta: Float) {
        if beta == 0 {
            vstore(v0 * alpha, row); vstore(v1 * alpha, row + 8)
        } else if beta == 1 {
            // The common case for every k block after the first: C += alpha·AB.
            vstore(vload(row).addingProduct(alpha, v0), row)
            vstore(vload(row + 8).addingProduct(alpha, v1), row + 8)
        } else {
            vstore((v0 * alpha).addingProduct(beta, vload(row)), row)
            vstore((v1 * alpha).addingProduct(beta, vload(row + 8)), row + 8)
        }
    }

    /// Eight floats from `p` (no alignment needed: `vmovups` costs the same on aligned data).
    @inline(__always)
    static func vload(_ p: UnsafePointer<Float>) -> SIMD8<Float> {
        UnsafeRawPointer(p).loadUnaligned(as: SIMD8<Float>.self)
    }

    @inline(__always)
    static func vload(_ p: UnsafeMutablePointer<Float>) -> SIMD8<Float> {
        UnsafeRawPointer(p).loadUnaligned(as: SIMD8<Float>.self)
    }

    @inline(__always)
    static func vstore(_ v: SIMD8<Float>, _ p: UnsafeMutablePointer<Float>) {
        UnsafeMutableRawPointer(p).storeBytes(of: v, as: SIMD8<Float>.self)
    }
}
