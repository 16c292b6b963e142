import Foundation
import InftopTelemetry

/// Per-thread scratch of `BertKernels.attention`, sized for the largest (seq, head size, threads)
/// seen and reused: packed Q [seq, d], Kᵀ [d, keys], scores/probabilities [seq, keys], 1/row sums
/// [seq] and the additive key mask [keys] (keys = seq rounded up to 8).
public final class AttentionScratch: @unchecked Sendable {
    private(set) var buffers: [Tensor] = []
    private(set) var seq = 0, headSize = 0

    public init() {}

    /// Makes room for `threads` workers on sequences of `seq` tokens and heads of `headSize`.
    public func reserve(seq: Int, headSize: Int, threads: Int) {
        let s = max(seq, self.seq), d = max(headSize, self.headSize)
        if s != self.seq || d != self.headSize { buffers.removeAll() }
        self.seq = s; self.headSize = d
        while buffers.count < threads {
            buffers.append(Tensor([Self.floats(seq: s, headSize: d)], name: "attention.scratch\(buffers.count)"))
        }
    }

    static func padded(_ n: Int) -> Int { (n + 15) / 16 * 16 }
    static func keys(_ seq: Int) -> Int { (seq + 7) / 8 * 8 }
    static func floats(seq: Int, headSize: Int) -> Int {
        let k = keys(seq)
        return padded(seq * headSize) + padded(headSize * k) + padded(seq * k) + padded(seq) + padded(k)
    }
}

extension BertKernels {
    /// Multi-head scaled dot-product self-attention with a key mask, for a padded batch:
    ///
    ///     context[b, i, h] = Σ_j softmax_j((q_i + bq)·(k_j + bk) / √d  + mask_j) (v_j + bv)
    ///
    /// - `qkv`: [batch·seq, 3·hidden], each row [q | k | v] without bias (the fused projection).
    /// - `bias`: [3·hidden], the q, k, v biases (added here, so the projection needs no bias pass).
    /// - `mask`: [batch·seq], 1 = attend, 0 = padding (the key gets weight 0). A row with no
    ///   attended token attends to all (as adding −∞-ish to every score does in PyTorch).
    /// - `context`: [batch·seq, hidden] output. Query rows after a sequence's last attended
    ///   token (right padding) are not computed: they are set to 0.
    /// Work is split over (batch, head) pairs on `threads` workers.
    public static func attention(
        qkv: UnsafePointer<Float>, bias: UnsafePointer<Float>, mask: UnsafePointer<Int32>,
        context: UnsafeMutablePointer<Float>, batch: Int, seq: Int, heads: Int, headSize: Int,
        scratch: AttentionScratch, threads: Int = 1
    ) {
        let tasks = batch * heads
        let workers = max(1, min(threads, tasks))
        scratch.reserve(seq: seq, headSize: headSize, threads: workers)
        let bufs = scratch.buffers.map { $0.data }
        nonisolated(unsafe) let qkv = qkv, bias = bias, mask = mask, context = context
        parallelChunks(tasks, parts: workers) { worker, range in
            for task in range {
                attentionHead(qkv: qkv, bias: bias, mask: mask, context: context, b: task / heads, h: task % heads,
                              seq: seq, heads: heads, headSize: headSize, scratch: bufs[worker])
            }
        }
    }

    /// One (batch, head) pair of `attention`.
    @inline(__always)
    static func attentionHead(
        qkv: UnsafePointer<Float>, bias: UnsafePointer<Float>, mask: UnsafePointer<Int32>,
        context: UnsafeMutablePointer<Float>, b: Int, h: Int, seq: Int, heads: Int, headSize d: Int,
        scratch: UnsafeMutablePointer<Float>
    ) {
        let hidden = heads * d, stride = 3 * hidden
        let rowMask = mask + b * seq
        var keyEnd = seq
        while keyEnd > 0 && rowMask[keyEnd - 1] == 0 { keyEnd -= 1 }
        let allMasked = keyEnd == 0
        if allMasked { keyEnd = seq }
        let ldp = AttentionScratch.keys(keyEnd)
        let qp = scratch
        let kt = qp + AttentionScratch.padded(seq * d)
        let p = kt + AttentionScratch.padded(d * AttentionScratch.keys(seq))
        let inv = p + AttentionScratch.padded(seq * AttentionScratch.keys(seq))
        let maskAdd = inv + AttentionScratch.padded(seq)
        let base = qkv + b * seq * stride + h * d
        let qBias = bias + h * d, kBias = bias + hidden + h * d, vBias = bias + 2 * hidden + h * d
        let queries = keyEnd  // rows past the last attended token are padding: not computed
        let scale = 1 / Float(d).squareRoot()

        // Pack Q (+bias, ×1/√d, folded here once instead of on every score) and Kᵀ (+bias).
        for i in 0..<queries {
            let src = base + i * stride, dst = qp + i * d
            for c in 0..<d { dst[c] = (src[c] + qBias[c]) * scale }
        }
        for j in 0..<keyEnd {
            let src = base + j * stride + hidden
            for c in 0..<d { kt[c * ldp + j] = src[c] + kBias[c] }
        }
        for c in 0..<d { for j in keyEnd..<ldp { kt[c * ldp + j] = 0 } }
        for j in 0..<ldp { maskAdd[j] = j < keyEnd && (allMasked || rowMask[j] != 0) ? 0 : -Float.infinity }

        // Scores [queries, ldp] = Q Kᵀ.
        smallGemm(m: queries, n: ldp, k: d, a: qp, lda: d, b: kt, ldb: ldp, c: p, ldc: ldp)

        // Softmax numerators in place; masked keys become exactly 0. 1/sum is applied to the context.
        for i in 0..<queries {
            let row = p + i * ldp
            var m8 = SIMD8<Float>(repeating: -.infinity)
            var j = 0
            while j < ldp { m8 = pointwiseMax(m8, load8(row + j) + load8(maskAdd + j)); j += 8 }
            let mx = SIMD8<Float>(repeating: m8.max())
            var s8 = SIMD8<Float>.zero
            j = 0
            while j < ldp {
                let e = exp8(load8(row + j) + load8(maskAdd + j) - mx)
                store8(e, row + j)
                s8 += e
                j += 8
            }
            inv[i] = 1 / s8.sum()
        }

        // Context [queries, d] = P V over the attended key range, then ×1/sum and + bv
        // (the weights sum to 1, so the V bias passes through unchanged).
        let out = context + b * seq * hidden + h * d
        smallGemm(m: queries, n: d, k: keyEnd, a: p, lda: ldp, b: base + 2 * hidden, ldb: stride, c: out, ldc: hidden)
        for i in 0..<queries {
            let row = out + i * hidden
            for c in 0..<d { row[c] = vBias[c].addingProduct(row[c], inv[i]) }
        }
        for i in queries..<seq {
            (out + i * hidden).update(repeating: 0, count: d)
        }
    }

    /// Plain-loop twin of `attention` (Double accumulation, libm exp); same contract.
    public static func attentionReference(
        qkv: UnsafePointer<Float>, bias: UnsafePointer<Float>, mask: UnsafePointer<Int32>,
        context: UnsafeMutablePointer<Float>, batch: Int, seq: Int, heads: Int, headSize d: Int
    ) {
        let hidden = heads * d, stride = 3 * hidden
        for b in 0..<batch {
            var keyEnd = seq
            while keyEnd > 0 && mask[b * seq + keyEnd - 1] == 0 { keyEnd -= 1 }
            let allMasked = keyEnd == 0
            if allMasked { keyEnd = seq }
            for h in 0..<heads {
                for i in 0..<seq {
                    let out = context + (b * seq + i) * hidden + h * d
                    if i >= keyEnd { for c in 0..<d { out[c] = 0 }; continue }
                    var scores = [Double](repeating: -.infinity, count: seq)
                    for j in 0..<seq where allMasked || mask[b * seq + j] != 0 {
                        var s = 0.0
                        for c in 0..<d {
                            let q = Double(qkv[(b * seq + i) * stride + h * d + c] + bias[h * d + c])
                            let k = Double(qkv[(b * seq + j) * stride + hidden + h * d + c] + bias[hidden + h * d + c])
                            s += q * k
                        }
                        scores[j] = s / Double(d).squareRoot()
                    }
                    let mx = scores.max()!
                    let e = scores.map { $0 == -.infinity ? 0 : Foundation.exp($0 - mx) }
                    let sum = e.reduce(0, +)
                    for c in 0..<d {
                        var acc = 0.0
                        for j in 0..<seq where e[j] != 0 {
                            acc += e[j] * Double(qkv[(b * seq + j) * stride + 2 * hidden + h * d + c] + bias[2 * hidden + h * d + c])
                        }
                        out[c] = Float(acc / sum)
                    }
                }
            }
        }
    }

    // MARK: - small GEMM for the attention's per-head products

    /// C[m×n] = A[m×k] · B[k×n], row-major with leading dimensions, register-blocked 6×16 with
    /// 8-wide FMA (the per-head products are too small for a packed GEMM to pay off: k is the
    /// head size or the key count, and A/B are already in L1/L2).
    static func smallGemm(m: Int, n: Int, k: Int, a: UnsafePointer<Float>, lda: Int, b: UnsafePointer<Float>, ldb: Int,
                          c: UnsafeMutablePointer<Float>, ldc: Int) {
        var i = 0
        while i + 6 <= m {
            var j = 0
            while j + 16 <= n { kernel6x16(k: k, a: a + i * lda, lda: lda, b: b + j, ldb: ldb, c: c + i * ldc + j, ldc: ldc); j += 16 }
            while j + 8 <= n { kernelRx8(rows: 6, k: k, a: a + i * lda, lda: lda, b: b + j, ldb: ldb, c: c + i * ldc + j, ldc: ldc); j += 8 }
            if j < n { scalarBlock(rows: 6, cols: j..<n, k: k, a: a + i * lda, lda: lda, b: b, ldb: ldb, c: c + i * ldc, ldc: ldc) }
            i += 6
        }
        while i < m {
            var j = 0
            while j + 8 <= n { kernelRx8(rows: 1, k: k, a: a + i * lda, lda: lda, b: b + j, ldb: ldb, c: c + i * ldc + j, ldc: ldc); j += 8 }
            if j < n { scalarBlock(rows: 1, cols: j..<n, k: k, a: a + i * lda, lda: lda, b: b, ldb: ldb, c: c + i * ldc, ldc: ldc) }
            i += 1
        }
    }

    /// 6 rows × 16 columns: 12 accumulators in registers, 2 B loads and 6 broadcasts per k.
    @inline(__always)
    static func kernel6x16(k: Int, a: UnsafePointer<Float>, lda: Int, b: UnsafePointer<Float>, ldb: Int,
                           c: UnsafeMutablePointer<Float>, ldc: Int) {
        var c00 = SIMD8<Float>.zero, c01 = SIMD8<Float>.zero, c10 = SIMD8<Float>.zero, c11 = SIMD8<Float>.zero
        var c20 = SIMD8<Float>.zero, c21 = SIMD8<Float>.zero, c30 = SIMD8<Float>.zero, c31 = SIMD8<Float>.zero
        var c40 = SIMD8<Float>.zero, c41 = SIMD8<Float>.zero, c50 = SIMD8<Float>.zero, c51 = SIMD8<Float>.zero
        let a0 = a, a1 = a + lda, a2 = a + 2 * lda, a3 = a + 3 * lda, a4 = a + 4 * lda, a5 = a + 5 * lda
        var pb = b
        for p in 0..<k {
            let b0 = load8(pb), b1 = load8(pb + 8)
            var av = SIMD8<Float>(repeating: a0[p]); c00.addProduct(av, b0); c01.addProduct(av, b1)
            av = SIMD8<Float>(repeating: a1[p]); c10.addProduct(av, b0); c11.addProduct(av, b1)
            av = SIMD8<Float>(repeating: a2[p]); c20.addProduct(av, b0); c21.addProduct(av, b1)
            av = SIMD8<Float>(repeating: a3[p]); c30.addProduct(av, b0); c31.addProduct(av, b1)
            av = SIMD8<Float>(repeating: a4[p]); c40.addProduct(av, b0); c41.addProduct(av, b1)
            av = SIMD8<Float>(repeating: a5[p]); c50.addProduct(av, b0); c51.addProduct(av, b1)
            pb += ldb
        }
        store8(c00, c); store8(c01, c + 8)
        store8(c10, c + ldc); store8(c11, c + ldc + 8)
        store8(c20, c + 2 * ldc); store8(c21, c + 2 * ldc + 8)
        store8(c30, c + 3 * ldc); store8(c31, c + 3 * ldc + 8)
        store8(c40, c + 4 * ldc); store8(c41, c + 4 * ldc + 8)
        store8(c50, c + 5 * ldc); store8(c51, c + 5 * ldc + 8)
    }

    /// `rows` (≤ 6) rows × 8 columns.
    @inline(__always)
    static func kernelRx8(rows: Int, k: Int, a: UnsafePointer<Float>, lda: Int, b: UnsafePointer<Float>, ldb: Int,
                          c: UnsafeMutablePointer<Float>, ldc: Int) {
        for r in 0..<rows {
            var acc0 = SIMD8<Float>.zero, acc1 = SIMD8<Float>.zero
            let ar = a + r * lda
            var pb = b
            var p = 0
            // Two chains so the FMA latency is hidden on the single-row path.
            while p + 2 <= k {
                acc0.addProduct(SIMD8(repeating: ar[p]), load8(pb))
                acc1.addProduct(SIMD8(repeating: ar[p + 1]), load8(pb + ldb))
                pb += 2 * ldb; p += 2
            }
            if p < k { acc0.addProduct(SIMD8(repeating: ar[p]), load8(pb)) }
            store8(acc0 + acc1, c + r * ldc)
        }
    }

    /// Scalar fallback for column tails (n not a multiple of 8).
    static func scalarBlock(rows: Int, cols: Range<Int>, k: Int, a: UnsafePointer<Float>, lda: Int, b: UnsafePointer<Float>, ldb: Int,
                            c: UnsafeMutablePointer<Float>, ldc: Int) {
        for r in 0..<rows {
            for j in cols {
                var acc: Float = 0
                for p in 0..<k { acc = acc.addingProduct(a[r * lda + p], b[p * ldb + j]) }
                c[r * ldc + j] = acc
            }
        }
    }
}
