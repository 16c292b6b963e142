import CKernels
import Foundation
import InftopTelemetry

/// Per-thread scratch of `BertKernels.attention`, sized for the largest (seq, head size, threads)
/// seen and reused: packed Qᵀ [d, S8], scores/probabilities Pᵀ [S, S8], column max [S8] and
/// 1/column sums [S8] (S8 = seq rounded up to 8).
public final class AttentionScratch: @unchecked Sendable {
    private(set) var buffers: [Tensor] = []
    /// `buffers[i].data`, kept so a forward reads them without allocating.
    private(set) var pointers: [UnsafeMutablePointer<Float>] = []
    private(set) var seq = 0, headSize = 0

    public init() {}

    /// Makes room for `threads` workers on sequences of `seq` tokens and heads of `headSize`.
    public func reserve(seq: Int, headSize: Int, threads: Int) {
        var changed = false
        if seq > self.seq || headSize > self.headSize {
            buffers.removeAll()
            self.seq = max(seq, self.seq); self.headSize = max(headSize, self.headSize)
            changed = true
        }
        while buffers.count < threads {
            buffers.append(Tensor([Self.floats(seq: self.seq, headSize: self.headSize)], name: "attention.scratch\(buffers.count)"))
            changed = true
        }
        if changed { pointers = buffers.map(\.data) }
    }

    static func padded(_ n: Int) -> Int { (n + 15) / 16 * 16 }
    static func round8(_ n: Int) -> Int { (n + 7) / 8 * 8 }
    static func floats(seq: Int, headSize: Int) -> Int {
        let s8 = round8(seq)
        return padded(headSize * s8) + padded(seq * s8) + 2 * padded(s8)
    }
}

extension BertKernels {
    /// Multi-head scaled dot-product self-attention with a key mask, for a padded batch, in the
    /// transposed (feature-major) layout the fused projection writes:
    ///
    ///     context[b, i, h] = Σ_j softmax_j((q_i + bq)·(k_j + bk) / √d, masked) (v_j + bv)
    ///
    /// - `qkvT`: [3·hidden, M] with M = batch·seq: rows [0, H) are Qᵀ, [H, 2H) Kᵀ, [2H, 3H) Vᵀ,
    ///   all without bias (so each head's Qᵀ, Kᵀ, Vᵀ rows are contiguous over tokens and no
    ///   transposition is ever needed).
    /// - `bias`: [3·hidden] = bq | bk | bv. bk adds (q_i + bq)·bk to every score of query i,
    ///   which softmax cancels, so it is not added; bq is added to Q, and bv to the context
    ///   (the weights sum to 1).
    /// - `mask`: [M], 1 = attend, 0 = padding (the key gets weight exactly 0). A sequence with
    ///   no attended token attends to all of them, as adding a large negative number to every
    ///   score does in PyTorch.
    /// - `contextT`: [hidden, M] output. Query columns after a sequence's last attended token
    ///   (right padding) are not computed: they are set to 0.
    /// Work is split over (batch, head) pairs on `threads` workers. `isa` picks the register
    /// tile of the two per-head products (`GemmTier`).
    public static func attention(
        qkvT: UnsafePointer<Float>, bias: UnsafePointer<Float>, mask: UnsafePointer<Int32>,
        contextT: UnsafeMutablePointer<Float>, batch: Int, seq: Int, heads: Int, headSize: Int,
        scratch: AttentionScratch, threads: Int = 1, isa: KernelISA = .auto
    ) {
        let tier = GemmTier(isa)
        let tasks = batch * heads
        let workers = max(1, min(threads, tasks))
        scratch.reserve(seq: seq, headSize: headSize, threads: workers)
        let bufs = scratch.pointers
        nonisolated(unsafe) let qkvT = qkvT, bias = bias, mask = mask, contextT = contextT
        parallelChunks(tasks, parts: workers) { worker, range in
            for task in range {
                attentionHead(qkvT: qkvT, bias: bias, mask: mask, contextT: contextT, b: task / heads, h: task % heads,
                              batch: batch, seq: seq, heads: heads, headSize: headSize, scratch: bufs[worker], tier: tier)
            }
        }
    }

    /// One (batch, head) pair of `attention`.
    @inline(__always)
    static func attentionHead(
        qkvT: UnsafePointer<Float>, bias: UnsafePointer<Float>, mask: UnsafePointer<Int32>,
        contextT: UnsafeMutablePointer<Float>, b: Int, h: Int, batch: Int, seq: Int, heads: Int, headSize d: Int,
        scratch: UnsafeMutablePointer<Float>, tier: GemmTier
    ) {
        let H = heads * d, M = batch * seq, col0 = b * seq
        let rowMask = mask + col0
        var keys = seq
        while keys > 0 && rowMask[keys - 1] == 0 { keys -= 1 }
        let allMasked = keys == 0
        if allMasked { keys = seq }
        var holes = false
        if !allMasked { for j in 0..<keys where rowMask[j] == 0 { holes = true; break } }
        let queries = keys  // columns past the last attended token are padding: not computed
        let q8 = AttentionScratch.round8(queries)
        let s8 = AttentionScratch.round8(seq)
        let qp = scratch
        let p = qp + AttentionScratch.padded(d * s8)
        let colMax = p + AttentionScratch.padded(seq * s8)
        let colInv = colMax + AttentionScratch.padded(s8)
        let qT = qkvT + (h * d) * M + col0, kT = qkvT + (H + h * d) * M + col0, vT = qkvT + (2 * H + h * d) * M + col0
        let scale = 1 / Float(d).squareRoot()

        // Qᵀ packed [d, q8], + bq and × 1/√d folded in here once (not on every score).
        for c in 0..<d {
            let src = qT + c * M, dst = qp + c * q8, bq = bias[h * d + c]
            for i in 0..<queries { dst[i] = (src[i] + bq) * scale }
            for i in queries..<q8 { dst[i] = 0 }
        }

        // Pᵀ [keys, q8] = K Qᵀ: A(j, c) = Kᵀ[c, j] read in place (row stride 1, column stride M).
        smallGemm(m: keys, n: q8, k: d, a: kT, rowStride: 1, colStride: M, b: qp, ldb: q8, c: p, ldc: q8, tier: tier)

        // Softmax down each column (over keys j); masked keys become exactly 0.
        maskedSoftmaxColumns(p, rows: keys, cols: q8, mask: holes ? rowMask : nil, colMax: colMax, inverseSums: colInv)

        // Contextᵀ [d, queries] = Vᵀ Pᵀ, then × 1/sum per column and + bv per row.
        let out = contextT + (h * d) * M + col0
        smallGemm(m: d, n: queries, k: keys, a: vT, rowStride: M, colStride: 1, b: p, ldb: q8, c: out, ldc: M, tier: tier)
        for c in 0..<d {
            let row = out + c * M
            let bv = SIMD8<Float>(repeating: bias[2 * H + h * d + c])
            var i = 0
            while i + 8 <= queries { store8(bv.addingProduct(load8(row + i), load8(colInv + i)), row + i); i += 8 }
            while i < queries { row[i] = bv[0].addingProduct(row[i], colInv[i]); i += 1 }
            for i in queries..<seq { row[i] = 0 }
        }
    }

    /// Softmax down each column of P [rows, cols] (row-major, `cols` a multiple of 8), in the
    /// unnormalised form attention needs: P[j, i] ← exp(P[j, i] − max_j P[j, i]) and
    /// inverseSums[i] = 1 / Σ_j P[j, i]; the caller scales by inverseSums (once per output
    /// instead of once per score). Rows j with mask[j] == 0 are masked keys: they become exactly 0
    /// and do not count in the max (nil mask: none masked; at least one row must be unmasked).
    /// `colMax` is [cols] scratch. Vertical vector operations only, no horizontal reductions.
    public static func maskedSoftmaxColumns(_ p: UnsafeMutablePointer<Float>, rows: Int, cols: Int, mask: UnsafePointer<Int32>?,
                                            colMax: UnsafeMutablePointer<Float>, inverseSums: UnsafeMutablePointer<Float>) {
        precondition(cols % 8 == 0, "maskedSoftmaxColumns: cols \(cols) is not a multiple of 8")
        let ninf = SIMD8<Float>(repeating: -.infinity)
        var i = 0
        while i < cols { store8(ninf, colMax + i); store8(.zero, inverseSums + i); i += 8 }
        for j in 0..<rows where mask == nil || mask![j] != 0 {
            let row = p + j * cols
            i = 0
            while i < cols { let v = load8(row + i), m = load8(colMax + i); store8(m.replacing(with: v, where: v .> m), colMax + i); i += 8 }
        }
        for j in 0..<rows {
            let row = p + j * cols
            if let mask, mask[j] == 0 { row.update(repeating: 0, count: cols); continue }
            i = 0
            while i < cols {
                let e = FastMath.exp(load8(row + i) - load8(colMax + i))
                store8(e, row + i)
                store8(load8(inverseSums + i) + e, inverseSums + i)
                i += 8
            }
        }
        i = 0
        while i < cols { store8(1 / load8(inverseSums + i), inverseSums + i); i += 8 }
    }

    /// Plain-loop twin of `maskedSoftmaxColumns` (Double, libm exp); same contract, any `cols`.
    public static func maskedSoftmaxColumnsReference(_ p: UnsafeMutablePointer<Float>, rows: Int, cols: Int, mask: UnsafePointer<Int32>?,
                                                     inverseSums: UnsafeMutablePointer<Float>) {
        for i in 0..<cols {
            var mx = -Double.infinity
            for j in 0..<rows where mask == nil || mask![j] != 0 { mx = max(mx, Double(p[j * cols + i])) }
            var sum = 0.0
            for j in 0..<rows {
                if let mask, mask[j] == 0 { p[j * cols + i] = 0; continue }
                let e = Foundation.exp(Double(p[j * cols + i]) - mx)
                p[j * cols + i] = Float(e)
                sum += e
            }
            inverseSums[i] = Float(1 / sum)
        }
    }

    /// Plain-loop twin of `attention` (Double accumulation, libm exp, bk added); same contract.
    public static func attentionReference(
        qkvT: UnsafePointer<Float>, bias: UnsafePointer<Float>, mask: UnsafePointer<Int32>,
        contextT: UnsafeMutablePointer<Float>, batch: Int, seq: Int, heads: Int, headSize d: Int
    ) {
        let H = heads * d, M = batch * seq
        func q(_ t: Int, _ f: Int) -> Double { Double(qkvT[f * M + t] + bias[f]) }
        func k(_ t: Int, _ f: Int) -> Double { Double(qkvT[(H + f) * M + t] + bias[H + f]) }
        func v(_ t: Int, _ f: Int) -> Double { Double(qkvT[(2 * H + f) * M + t] + bias[2 * H + f]) }
        for b in 0..<batch {
            var keyEnd = seq
            while keyEnd > 0 && mask[b * seq + keyEnd - 1] == 0 { keyEnd -= 1 }
            let allMasked = keyEnd == 0
            if allMasked { keyEnd = seq }
            for h in 0..<heads {
                for i in 0..<seq {
                    let ti = b * seq + i
                    if i >= keyEnd { for c in 0..<d { contextT[(h * d + c) * M + ti] = 0 }; continue }
                    var scores = [Double](repeating: -.infinity, count: seq)
                    for j in 0..<seq where allMasked || mask[b * seq + j] != 0 {
                        var s = 0.0
                        for c in 0..<d { s += q(ti, h * d + c) * k(b * seq + j, h * d + c) }
                        scores[j] = s / Double(d).squareRoot()
                    }
                    let mx = scores.max()!
                    let e = scores.map { $0 == -.infinity ? 0 : Foundation.exp($0 - mx) }
                    let sum = e.reduce(0, +)
                    for c in 0..<d {
                        var acc = 0.0
                        for j in 0..<seq where e[j] != 0 { acc += e[j] * v(b * seq + j, h * d + c) }
                        contextT[(h * d + c) * M + ti] = Float(acc / sum)
                    }
                }
            }
        }
    }

    // MARK: - small GEMM for the attention's per-head products

    /// C[m×n] = A[m×k] · B[k×n] with A(r, p) = a[r·rowStride + p·colStride] (so A may be read
    /// transposed in place), B and C row-major. Register-blocked 6×16 with 8-wide FMA; the
    /// per-head products are too small for packing to pay off (k is the head size or the key
    /// count, and the operands are already in L1/L2). The avx512 tier runs the 6×64 zmm tile on
    /// A in place (its strides) and B in place (masked edges), so nothing is copied.
    static func smallGemm(m: Int, n: Int, k: Int, a: UnsafePointer<Float>, rowStride: Int, colStride: Int,
                          b: UnsafePointer<Float>, ldb: Int, c: UnsafeMutablePointer<Float>, ldc: Int, tier: GemmTier = .avx2) {
        if tier.isa == .avx512 {
            var i = 0
            while i < m {
                let rows = min(6, m - i)
                var j = 0
                while j < n {
                    ck_sgemm512_tile(Int64(k), a + i * rowStride, Int64(rowStride), Int64(colStride), b + j, Int64(ldb),
                                     c + (i * ldc + j), Int64(ldc), Int64(rows), Int64(min(64, n - j)), 1, 0)
                    j += 64
                }
                i += rows
            }
            return
        }
        var i = 0
        while i < m {
            let rows = min(6, m - i)
            let ai = a + i * rowStride, ci = c + i * ldc
            var j = 0
            while j + 16 <= n {
                switch rows {
                case 6: kernel16(rows: 6, k: k, a: ai, rs: rowStride, cs: colStride, b: b + j, ldb: ldb, c: ci + j, ldc: ldc)
                case 5: kernel16(rows: 5, k: k, a: ai, rs: rowStride, cs: colStride, b: b + j, ldb: ldb, c: ci + j, ldc: ldc)
                case 4: kernel16(rows: 4, k: k, a: ai, rs: rowStride, cs: colStride, b: b + j, ldb: ldb, c: ci + j, ldc: ldc)
                case 3: kernel16(rows: 3, k: k, a: ai, rs: rowStride, cs: colStride, b: b + j, ldb: ldb, c: ci + j, ldc: ldc)
                case 2: kernel16(rows: 2, k: k, a: ai, rs: rowStride, cs: colStride, b: b + j, ldb: ldb, c: ci + j, ldc: ldc)
                default: kernel16(rows: 1, k: k, a: ai, rs: rowStride, cs: colStride, b: b + j, ldb: ldb, c: ci + j, ldc: ldc)
                }
                j += 16
            }
            while j + 8 <= n {
                kernel8(rows: rows, k: k, a: ai, rs: rowStride, cs: colStride, b: b + j, ldb: ldb, c: ci + j, ldc: ldc)
                j += 8
            }
            if j < n {
                for r in 0..<rows {
                    for jj in j..<n {
                        var acc: Float = 0
                        for p in 0..<k { acc = acc.addingProduct(ai[r * rowStride + p * colStride], b[p * ldb + jj]) }
                        ci[r * ldc + jj] = acc
                    }
                }
            }
            i += rows
        }
    }

    /// `rows` (1…6, a constant at each call so the unused accumulators fold away) × 16 columns:
    /// up to 12 accumulators in registers, 2 B loads and `rows` broadcasts per k.
    @inline(__always)
    static func kernel16(rows: Int, k: Int, a: UnsafePointer<Float>, rs: Int, cs: Int, b: UnsafePointer<Float>, ldb: Int,
                         c: UnsafeMutablePointer<Float>, ldc: Int) {
        var c00 = SIMD8<Float>.zero, c01 = SIMD8<Float>.zero, c10 = SIMD8<Float>.zero, c11 = SIMD8<Float>.zero
        var c20 = SIMD8<Float>.zero, c21 = SIMD8<Float>.zero, c30 = SIMD8<Float>.zero, c31 = SIMD8<Float>.zero
        var c40 = SIMD8<Float>.zero, c41 = SIMD8<Float>.zero, c50 = SIMD8<Float>.zero, c51 = SIMD8<Float>.zero
        var pa = a, pb = b
        for _ in 0..<k {
            let b0 = load8(pb), b1 = load8(pb + 8)
            var av = SIMD8<Float>(repeating: pa[0]); c00.addProduct(av, b0); c01.addProduct(av, b1)
            if rows > 1 { av = SIMD8<Float>(repeating: pa[rs]); c10.addProduct(av, b0); c11.addProduct(av, b1) }
            if rows > 2 { av = SIMD8<Float>(repeating: pa[2 * rs]); c20.addProduct(av, b0); c21.addProduct(av, b1) }
            if rows > 3 { av = SIMD8<Float>(repeating: pa[3 * rs]); c30.addProduct(av, b0); c31.addProduct(av, b1) }
            if rows > 4 { av = SIMD8<Float>(repeating: pa[4 * rs]); c40.addProduct(av, b0); c41.addProduct(av, b1) }
            if rows > 5 { av = SIMD8<Float>(repeating: pa[5 * rs]); c50.addProduct(av, b0); c51.addProduct(av, b1) }
            pa += cs; pb += ldb
        }
        store8(c00, c); store8(c01, c + 8)
        if rows > 1 { store8(c10, c + ldc); store8(c11, c + ldc + 8) }
        if rows > 2 { store8(c20, c + 2 * ldc); store8(c21, c + 2 * ldc + 8) }
        if rows > 3 { store8(c30, c + 3 * ldc); store8(c31, c + 3 * ldc + 8) }
        if rows > 4 { store8(c40, c + 4 * ldc); store8(c41, c + 4 * ldc + 8) }
        if rows > 5 { store8(c50, c + 5 * ldc); store8(c51, c + 5 * ldc + 8) }
    }

    /// `rows` (≤ 6) rows × 8 columns, one row at a time.
    @inline(__always)
    static func kernel8(rows: Int, k: Int, a: UnsafePointer<Float>, rs: Int, cs: Int, b: UnsafePointer<Float>, ldb: Int,
                        c: UnsafeMutablePointer<Float>, ldc: Int) {
        for r in 0..<rows {
            var acc0 = SIMD8<Float>.zero, acc1 = SIMD8<Float>.zero
            var pa = a + r * rs, pb = b
            var p = 0
            // Two chains so the FMA latency is hidden.
            while p + 2 <= k {
                acc0.addProduct(SIMD8(repeating: pa[0]), load8(pb))
                acc1.addProduct(SIMD8(repeating: pa[cs]), load8(pb + ldb))
                pa += 2 * cs; pb += 2 * ldb; p += 2
            }
            if p < k { acc0.addProduct(SIMD8(repeating: pa[0]), load8(pb)) }
            store8(acc0 + acc1, c + r * ldc)
        }
    }
}
