import InftopTelemetry

extension Gemm {
    /// Cache blocking for Zen 3 (32 KB L1d, 512 KB L2 per core, L3 shared), as in BLIS:
    /// - `kc`: one packed B micro-panel (kc×16 floats = 16 KB at 256) stays in L1 while the
    ///   microkernel sweeps the A micro-panels past it;
    /// - `mc`: the packed A block (mc×kc = 144 KB) stays in L2 across the whole jr loop;
    /// - `nc`: the packed B block (kc×nc ≤ 4 MB) lives in L3 and is reused by every mc block.
    /// Blocks are balanced (K = 384 → two blocks of 192, not 256 + 128), so no sliver block
    /// pays the C load/store of a full one.
    static let kcMax = 256
    static let mcMax = 144
    static let ncMax = 4080
    /// Up to this M (four row panels) B is read in place when not transposed (see `packed`).
    static let inPlaceMaxM = 24

    /// Our own tier: packed, cache-blocked, 6×16 (avx2) or 6×64 (avx512) register tile
    /// (BLIS/GotoBLAS layout), the tile chosen by `isa` (`GemmTier`). Same contract as
    /// `Gemm.run`. Splits C into up to `threads` parts (`Gemm.split`); `threads == 1` (or a small
    /// product) runs on the caller and touches no thread pool. Safe to call from several threads
    /// at once.
    public static func simd(
        transA: Bool, transB: Bool, m: Int, n: Int, k: Int, alpha: Float,
        a: UnsafePointer<Float>, lda: Int, b: UnsafePointer<Float>, ldb: Int,
        beta: Float, c: UnsafeMutablePointer<Float>, ldc: Int, threads: Int, isa: KernelISA = .auto
    ) {
        if m == 0 || n == 0 { return }
        if k == 0 { scale(m: m, n: n, beta: beta, c: c, ldc: ldc); return }
        let tier = GemmTier(isa)
        split(transA: transA, transB: transB, m: m, n: n, k: k, a: a, lda: lda, b: b, ldb: ldb,
              c: c, ldc: ldc, threads: threads, unitN: tier.nr) { m, n, a, b, c in
            packed(transA: transA, transB: transB, m: m, n: n, k: k, alpha: alpha, a: a, lda: lda,
                   b: b, ldb: ldb, beta: beta, c: c, ldc: ldc, ws: GemmWorkspace.current, tier: tier)
        }
    }

    /// `C = beta·C` (K = 0: the product is empty); `beta == 0` writes zeros without reading.
    static func scale(m: Int, n: Int, beta: Float, c: UnsafeMutablePointer<Float>, ldc: Int) {
        for i in 0..<m {
            let row = c + i * ldc
            if beta == 0 { row.update(repeating: 0, count: n) } else if beta != 1 { for j in 0..<n { row[j] *= beta } }
        }
    }

    /// Block size for `total` split into the fewest blocks of at most `limit`, rounded up to a
    /// multiple of `unit`.
    @inline(__always)
    static func balancedBlock(_ total: Int, limit: Int, unit: Int) -> Int {
        let count = (total + limit - 1) / limit
        let size = (total + count - 1) / count
        return min(limit, (size + unit - 1) / unit * unit)
    }

    /// One thread's GEMM through the packed path (GotoBLAS loop nest: jc → pc → ic → jr → ir).
    ///
    /// Small M with B not transposed reads B in place instead of packing it: with one m block
    /// each B micro-panel is used by only ⌈M/6⌉ tiles, so copying B (K×N read + written, from
    /// L3 when it exceeds L2) cost more than it saved — 40 % of all cycles at 8×384×384 and
    /// 60 % at M = 1 (perf). Only a ragged last column panel is still packed (zero padding
    /// keeps the kernel from reading past the end of a row of B).
    static func packed(
        transA: Bool, transB: Bool, m: Int, n: Int, k: Int, alpha: Float,
        a: UnsafePointer<Float>, lda: Int, b: UnsafePointer<Float>, ldb: Int,
        beta: Float, c: UnsafeMutablePointer<Float>, ldc: Int, ws: GemmWorkspace, tier: GemmTier = .avx2
    ) {
        let nr = tier.nr
        let kcB = balancedBlock(k, limit: kcMax, unit: 8)
        let mcB = balancedBlock(m, limit: mcMax, unit: mr)
        let ncB = balancedBlock(n, limit: ncMax / nr * nr, unit: nr)
        let bInPlace = !transB && m <= inPlaceMaxM
        ws.reserve(aCount: mcB * kcB, bCount: kcB * (bInPlace ? nr : ncB))
        let ap = ws.a, bp = ws.b, scratch = ws.scratch
        var jc = 0
        while jc < n {
            let nb = min(ncB, n - jc)
            var pc = 0
            while pc < k {
                let kb = min(kcB, k - pc)
                if !bInPlace { packB(transB: transB, b: b, ldb: ldb, p0: pc, j0: jc, cols: nb, kc: kb, dst: bp, nr: nr) }
                // The first k block applies the caller's beta; later ones accumulate.
                let betaBlock: Float = pc == 0 ? beta : 1
                var ic = 0
                while ic < m {
                    let mb = min(mcB, m - ic)
                    packA(transA: transA, a: a, lda: lda, i0: ic, p0: pc, rows: mb, kc: kb, dst: ap)
                    // jr outer, ir inner: one B micro-panel stays in L1 while the A panels of
                    // the block (in L2) stream past it.
                    var jr = 0
                    while jr < nb {
                        let cols = min(nr, nb - jr)
                        let bPanel: UnsafePointer<Float>, bStride: Int
                        if !bInPlace {
                            bPanel = UnsafePointer(bp + jr * kb); bStride = nr
                        } else if cols == nr || tier.isa == .avx512 {
                            // (The avx512 tile reads only `cols` columns, masked: no padding needed.)
                            bPanel = b + (pc * ldb + jc + jr); bStride = ldb
                        } else {
                            packB(transB: false, b: b, ldb: ldb, p0: pc, j0: jc + jr, cols: cols, kc: kb, dst: bp, nr: nr)
                            bPanel = UnsafePointer(bp); bStride = nr
                        }
                        var ir = 0
                        while ir < mb {
                            tier.tile(
                                kc: kb, ap: UnsafePointer(ap + ir * kb), bp: bPanel, bStride: bStride,
                                c: c + ((ic + ir) * ldc + jc + jr), ldc: ldc,
                                rows: min(mr, mb - ir), cols: cols,
                                alpha: alpha, beta: betaBlock, scratch: scratch)
                            ir += mr
                        }
                        jr += nr
                    }
                    ic += mb
                }
                pc += kb
            }
            jc += nb
        }
    }
}
