import InftopTelemetry

/// Convolution as an implicit GEMM on the simd tier's 6×16 microkernel, one image at a time:
///
///     out[rows, OH·OW] = A[rows, K] · col[K, OH·OW]      K = C·k·k, col = im2col(image)
///
/// `col` is never stored whole. The image is copied once into a zero-bordered plane; for each k
/// block the rows of `col` are then made one at a time (OH short copies from that plane, in L1)
/// and moved straight into 16-column micro-panels — the layout the microkernel reads — so the
/// im2col matrix, the library's own B packing of it and the `[O, N]` → NCHW permute of a
/// lowered GEMM all disappear. `A` (the weights) is packed once per pass (`packWeights`) and
/// shared by every image and thread. The output is one image's `[rows, OH, OW]` plane block,
/// i.e. NCHW already.
///
/// Conv2d uses it for the forward (A = W), for dX (A = the flipped, transposed weights, applied
/// to dY: a stride-1 convolution's input gradient is the full correlation of dY with the kernel
/// rotated by 180°) and, through `weightGradient`, for dW. Why: at the CNN's conv2
/// (64×800 · 800×196 per image) the lowered path spent ~20 % of the step around the GEMM kernel
/// — im2col, OpenBLAS's packing and beta = 0 pass, col2im, permutes (perf, 2026-11-22).
enum ConvGemm {
    /// Rows of `A` rounded up to whole 6-row micro-panels.
    static func paddedRows(_ rows: Int) -> Int { (rows + Gemm.mr - 1) / Gemm.mr * Gemm.mr }

    /// Floats `packWeights` writes for an `A` of `rows`×`k`.
    static func packedCount(rows: Int, k: Int) -> Int { paddedRows(rows) * k }

    /// The k block: the GEMM tier's (a 16-wide B micro-panel of `kb` rows stays in L1).
    static func kBlock(_ k: Int) -> Int { Gemm.balancedBlock(k, limit: Gemm.kcMax, unit: 8) }

    /// Packs `a` (`[rows, k]`, row-major) into 6-row micro-panels, k block by k block: the block
    /// starting at column p0 is at `dst + p0·paddedRows(rows)`, its panel i (rows 6i…) at
    /// `+ 6i·kb`. `dst` has room for `packedCount(rows:k:)` floats.
    static func packWeights(_ a: UnsafePointer<Float>, rows: Int, k: Int, into dst: UnsafeMutablePointer<Float>) {
        let kcB = kBlock(k), mPad = paddedRows(rows)
        var pc = 0
        while pc < k {
            let kb = min(kcB, k - pc)
            Gemm.packA(transA: false, a: a, lda: k, i0: 0, p0: pc, rows: rows, kc: kb, dst: dst + pc * mPad)
            pc += kb
        }
    }

    /// `out[rows, OH·OW] = A · im2col(image)` for one image `[C, H, W]` (geometry `g`), with
    /// `packedA` from `packWeights(rows: rows, k: g.patchSize)`. Overwrites `out` (beta = 0; it
    /// is not read first). Single-threaded; uses the calling thread's GEMM workspace. `isa`
    /// picks the register tile (`GemmTier`: 16- or 64-column B panels; A is packed alike).
    static func multiply(packedA: UnsafePointer<Float>, rows: Int, image: UnsafePointer<Float>,
                         _ g: ConvGeometry, out: UnsafeMutablePointer<Float>, isa: KernelISA = .auto) {
        let K = g.patchSize, OH = g.outHeight, OW = g.outWidth, P = OH * OW
        let Hp = g.height + 2 * g.padding, Wp = g.width + 2 * g.padding
        let tier = GemmTier(isa)
        let nr = tier.nr, panels = (P + nr - 1) / nr, pPad = panels * nr
        let kcB = kBlock(K), mPad = paddedRows(rows)
        let ws = GemmWorkspace.current
        ws.reserve(aCount: 0, bCount: kcB * pPad + pPad + g.channels * Hp * Wp)
        let bp = ws.b, row = ws.b + kcB * pPad, padded = row + pPad, scratch = ws.scratch
        pad(image, g, into: padded)
        // The last panel's columns past P must be zeros (the microkernel multiplies whole panels).
        (row + P).update(repeating: 0, count: pPad - P)
        var pc = 0
        while pc < K {
            let kb = min(kcB, K - pc)
            // B block: panel q holds columns nr·q…nr·q+nr−1, p-major (bp[q·nr·kb + kk·nr + j]).
            var cursor = RowCursor(padded: padded, g, firstRow: pc)
            for kk in 0..<kb {
                cursor.next(into: row)
                var q = 0, dst = bp + kk &* nr, from = row
                while q < panels {
                    var v = 0
                    while v < nr { dst.storeV8(from.loadV8(at: v), at: v); v &+= 8 }
                    q &+= 1; dst += kb &* nr; from += nr
                }
            }
            // The first k block overwrites C, later ones accumulate.
            let beta: Float = pc == 0 ? 0 : 1
            let ap = packedA + pc * mPad
            for q in 0..<panels {
                let cols = min(nr, P - q * nr), bPanel = UnsafePointer(bp + q * kb * nr)
                var ir = 0
                while ir < rows {
                    tier.tile(kc: kb, ap: ap + ir * kb, bp: bPanel, bStride: nr,
                              c: out + (ir * P + q * nr), ldc: P, rows: min(Gemm.mr, rows - ir), cols: cols,
                              alpha: 1, beta: beta, scratch: scratch)
                    ir += Gemm.mr
                }
            }
            pc += kb
        }
    }

    /// `dW[rows, K] += dY[rows, OH·OW] · im2col(image)ᵀ` for one image `[C, H, W]` (geometry `g`,
    /// K = `g.patchSize`; `dY` and `dW` row-major, contiguous). The weight gradient without the
    /// im2col matrix either: 16 rows of it at a time are made in L1 (`RowCursor`), transposed
    /// into one 16-column B panel (`Gemm.packB`, 8×8 register transposes) and multiplied into
    /// `dW`'s 16 columns; dY is packed once as A. Single-threaded; the calling thread's workspace.
    static func weightGradient(dY: UnsafePointer<Float>, rows: Int, image: UnsafePointer<Float>,
                               _ g: ConvGeometry, dW: UnsafeMutablePointer<Float>, isa: KernelISA = .auto) {
        let tier = GemmTier(isa)
        let K = g.patchSize, P = g.outHeight * g.outWidth, nr = tier.nr
        let kcB = kBlock(P), mPad = paddedRows(rows)
        let paddedSize = g.channels * (g.height + 2 * g.padding) * (g.width + 2 * g.padding)
        let ws = GemmWorkspace.current
        ws.reserve(aCount: mPad * P, bCount: nr * P + kcB * nr + paddedSize)
        let ap = ws.a, block = ws.b, panel = block + nr * P, padded = panel + kcB * nr, scratch = ws.scratch
        packWeights(dY, rows: rows, k: P, into: ap)
        pad(image, g, into: padded)
        var cursor = RowCursor(padded: padded, g, firstRow: 0)
        var j0 = 0
        while j0 < K {
            let w = min(nr, K - j0)
            for j in 0..<w { cursor.next(into: block + j * P) }
            var pc = 0
            while pc < P {
                let kb = min(kcB, P - pc)
                Gemm.packB(transB: true, b: block, ldb: P, p0: pc, j0: 0, cols: w, kc: kb, dst: panel, nr: nr)
                let a = ap + pc * mPad
                var ir = 0
                while ir < rows {
                    tier.tile(kc: kb, ap: a + ir * kb, bp: UnsafePointer(panel), bStride: nr,
                              c: dW + (ir * K + j0), ldc: K, rows: min(Gemm.mr, rows - ir), cols: w,
                              alpha: 1, beta: 1, scratch: scratch)
                    ir += Gemm.mr
                }
                pc += kb
            }
            j0 += nr
        }
    }

    /// im2col of one image (`col` `[C·k·k, OH·OW]`) the same way `multiply` makes its rows: the
    /// image is zero-bordered once (in the calling thread's GEMM workspace), then every row is OH
    /// short copies — no per-element bounds tests and no small memsets, which made `Im2col.row`
    /// cost ~3 % of a CNN step in libc's memset alone. Single-threaded.
    static func lower(image: UnsafePointer<Float>, _ g: ConvGeometry, col: UnsafeMutablePointer<Float>) {
        let ws = GemmWorkspace.current
        ws.reserve(aCount: 0, bCount: g.channels * (g.height + 2 * g.padding) * (g.width + 2 * g.padding))
        pad(image, g, into: ws.b)
        var cursor = RowCursor(padded: ws.b, g, firstRow: 0)
        let P = g.outHeight * g.outWidth
        for r in 0..<g.patchSize { cursor.next(into: col + r * P) }
    }

    /// Walks the rows r = (c, ki, kj) of an image's im2col matrix over its zero-bordered copy:
    /// output row oh of row r reads padded row oh + ki from column kj on. (c, ki, kj) advance
    /// with r instead of being divided out per row.
    struct RowCursor {
        let OH: Int, OW: Int, Hp: Int, Wp: Int, k: Int
        var ki: Int, kj: Int
        var src: UnsafeMutablePointer<Float>

        init(padded: UnsafeMutablePointer<Float>, _ g: ConvGeometry, firstRow r: Int) {
            k = g.kernel; OH = g.outHeight; OW = g.outWidth
            Hp = g.height + 2 * g.padding; Wp = g.width + 2 * g.padding
            ki = (r / k) % k; kj = r % k
            src = padded + ((r / (k * k)) * Hp + ki) * Wp + kj
        }

        /// Writes the current row (OH·OW floats) to `dst` and moves to the next.
        @inline(__always)
        mutating func next(into dst: UnsafeMutablePointer<Float>) {
            var d = dst, s = UnsafePointer(src)
            if OW > 8 && OW <= 16 {
                // Two overlapping 8-float moves per output row (the CNN's 14-wide planes).
                for _ in 0..<OH {
                    d.storeV8(s.loadV8(at: 0), at: 0); d.storeV8(s.loadV8(at: OW &- 8), at: OW &- 8)
                    d += OW; s += Wp
                }
            } else {
                for _ in 0..<OH { ConvGemm.copy(s, d, count: OW); d += OW; s += Wp }
            }
            kj &+= 1; src += 1
            if kj == k {
                kj = 0; ki &+= 1; src += Wp &- k
                if ki == k { ki = 0; src += (Hp &- k) &* Wp }
            }
        }
    }

    /// `dst[c, ih + p, iw + p] = image[c, ih, iw]`, zero borders of `p` = `g.padding`:
    /// `[C, H+2p, W+2p]`.
    static func pad(_ image: UnsafePointer<Float>, _ g: ConvGeometry, into dst: UnsafeMutablePointer<Float>) {
        let p = g.padding, H = g.height, W = g.width, Hp = H + 2 * p, Wp = W + 2 * p
        if p == 0 { dst.update(from: image, count: g.channels * H * W); return }
        for c in 0..<g.channels {
            let plane = dst + c * Hp * Wp, src = image + c * H * W
            plane.update(repeating: 0, count: p * Wp)
            for ih in 0..<H {
                let d = plane + (ih + p) * Wp
                for j in 0..<p { d[j] = 0; d[p + W + j] = 0 }
                copy(src + ih * W, d + p, count: W)
            }
            (plane + (p + H) * Wp).update(repeating: 0, count: p * Wp)
        }
    }

    /// A short copy without a libc call: two overlapping 8-float moves for 8…16 floats (every
    /// row of the CNN's 28- and 14-wide planes is ≤ 28).
    @inline(__always)
    static func copy(_ src: UnsafePointer<Float>, _ dst: UnsafeMutablePointer<Float>, count n: Int) {
        var i = 0
        while i + 8 <= n { dst.storeV8(src.loadV8(at: i), at: i); i += 8 }
        if i == n { return }
        if n >= 8 { dst.storeV8(src.loadV8(at: n - 8), at: n - 8); return }
        while i < n { dst[i] = src[i]; i += 1 }
    }

    /// `dst[c, o, ki, kj] = w[o, c, k−1−ki, k−1−kj]`: the weights of the convolution that maps dY
    /// to dX (`w` is `[out, in, k, k]`, `dst` `[in, out, k, k]`).
    static func flipWeights(_ w: UnsafePointer<Float>, out: Int, in inChannels: Int, kernel k: Int,
                            into dst: UnsafeMutablePointer<Float>) {
        let kk = k * k
        for o in 0..<out {
            for c in 0..<inChannels {
                let src = w + (o * inChannels + c) * kk, d = dst + (c * out + o) * kk
                for i in 0..<kk { d[i] = src[kk - 1 - i] }
            }
        }
    }
}
