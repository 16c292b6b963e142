import CKernels
import InftopTelemetry

/// A raw pointer that may cross into the worker threads' closures (they write disjoint parts).
struct SharedPtr<T>: @unchecked Sendable {
    let p: UnsafeMutablePointer<T>
}

extension LanguageModel {
    /// One forward over `tokens` at positions `pos0…`, writing their keys/values into the cache.
    /// Returns the logits after the last token; `everyPosition` gets each token's logits instead.
    func forward(tokens: [Int32], at pos0: Int, everyPosition: ((Int, UnsafeBufferPointer<Float>) -> Void)?) -> UnsafeBufferPointer<Float> {
        let c = config, T = tokens.count, H = c.hidden, F = c.ffn, hd = c.headDim, kvD = c.kvHeads * hd
        let w = work, cp = compute, pool = threads, spans = self.spans
        let site = sites.count == nodeNames.count ? sites : []
        var s = 0
        @inline(__always) func lap() {
            if let spans, !site.isEmpty { spans.lap(site: site[s], phase: .forward) }
            s += 1
        }
        let isa = cp.isa, backend = cp.backend
        let tp = QuantizedMatrix.paddedTokens(T)
        let nc = pool.chunks
        /// The GEMM kernels' transposed copy of a [T][cols] input (decode's GEMV reads it as it is).
        func prepare(_ x: UnsafeMutablePointer<Float>, _ cols: Int) {
            if T > 1 && backend != .reference { QuantizedMatrix.transpose(x, ldx: cols, m: T, cols: cols, into: w.xt, tp: tp) }
        }
        // embed
        for (t, id) in tokens.enumerated() { embedding.dequantizeRow(Int(id), into: w.x + t * H) }
        lap()
        /// x += input · Wᵀ (the output projections: attn_out, ffn_down), rows split over the pool.
        func projectIntoResidual(_ m: QuantizedMatrix, _ input: UnsafeMutablePointer<Float>, _ cols: Int) {
            prepare(input, cols)
            pool.run(chunks: nc) { ci, ti in
                let r = Self.share(H, ci, nc)
                guard !r.isEmpty else { return }
                m.matmul(input, ldx: cols, m: T, xt: w.xt, tp: tp, w.proj, ldy: H, rows: r, isa: isa, backend: backend, scratch: w.scratch[ti])
                for t in 0..<T { for j in r { w.x[t * H + j] += w.proj[t * H + j] } }
            }
        }
        let scale = 1 / Float(hd).squareRoot()
        let group = c.heads / c.kvHeads
        for (li, b) in blocks.enumerated() {
            // attn_norm
            for t in 0..<T { rmsNorm(w.x + t * H, b.attnNorm, w.xn + t * H, H) }
            ck_q8_roundtrip(w.xn, Int32(T * H))
            lap()
            // qkv: rows of Q, K and V as one region
            prepare(w.xn, H)
            let mats = [(b.q, w.q, H), (b.k, w.k, kvD), (b.v, w.v, kvD)]
            pool.run(chunks: nc) { ci, ti in
                let range = Self.share(H + 2 * kvD, ci, nc)
                var base = 0
                for (m, out, n) in mats {
                    let lo = max(range.lowerBound - base, 0), hi = min(range.upperBound - base, n)
                    if lo < hi {
                        m.matmul(w.xn, ldx: H, m: T, xt: w.xt, tp: tp, out, ldy: n, rows: lo..<hi, isa: isa, backend: backend, scratch: w.scratch[ti])
                    }
                    base += n
                }
            }
            lap()
            // rope, then keys/values into the cache
            let table = rope
            table.withUnsafeBufferPointer { tb in
                ck_f16_roundtrip(w.v, Int32(T * kvD))
                for t in 0..<T {
                    DecoderKernels.rope(w.q + t * H, heads: c.heads, headDim: hd, dims: c.ropeDim, pos: pos0 + t, table: tb.baseAddress!)
                    DecoderKernels.rope(w.k + t * kvD, heads: c.kvHeads, headDim: hd, dims: c.ropeDim, pos: pos0 + t, table: tb.baseAddress!)
                    ck_f16_roundtrip(w.q + t * H, Int32(H))
                    ck_f16_roundtrip(w.k + t * kvD, Int32(kvD))
                    cache.store(layer: li, pos: pos0 + t, k: w.k + t * kvD, v: w.v + t * kvD)
                }
            }
            lap()
            // attention: one item per (token, KV head) with its `group` query heads together, or,
            // when that leaves too few items to share between the threads (decode), per (token, head)
            let kt = cache.keys[li], vv = cache.values[li], cap = cache.capacity
            let perGroup = T * c.kvHeads >= 4 * nc ? group : 1
            pool.run(chunks: nc) { ci, ti in
                let items = T * c.heads / perGroup, n = nc
                let lo = items * ci / n, hi = items * (ci + 1) / n
                let sc = w.scores[ti]
                for item in lo..<hi {
                    let t = item / (c.heads / perGroup), h = item % (c.heads / perGroup) * perGroup, g = h / group
                    DecoderKernels.attendGroup(q: w.q + t * H + h * hd, ldq: hd, nq: perGroup,
                                               kt: kt + g * hd * cap, ldk: cap, v: vv + g * cap * hd, ldv: hd,
                                               hd: hd, n: pos0 + t + 1, scale: scale, scores: sc, lds: w.scoreStride,
                                               out: w.att + t * H + h * hd, ldo: hd, isa: isa, backend: backend)
                }
            }
            ck_q8_roundtrip(w.att, Int32(T * H))
            lap()
            // attn_out + residual
            projectIntoResidual(b.o, w.att, H)
            lap()
            for t in 0..<T { rmsNorm(w.x + t * H, b.ffnNorm, w.xn + t * H, H) }
            ck_q8_roundtrip(w.xn, Int32(T * H))
            lap()
            // ffn_up: gate and up over the same rows, then gate = silu(gate) · up
            prepare(w.xn, H)
            pool.run(chunks: nc) { ci, ti in
                let r = Self.share(F, ci, nc)
                guard !r.isEmpty else { return }
                b.gate.matmul(w.xn, ldx: H, m: T, xt: w.xt, tp: tp, w.gate, ldy: F, rows: r, isa: isa, backend: backend, scratch: w.scratch[ti])
                b.up.matmul(w.xn, ldx: H, m: T, xt: w.xt, tp: tp, w.up, ldy: F, rows: r, isa: isa, backend: backend, scratch: w.scratch[ti])
                for t in 0..<T {
                    if backend == .reference {
                        DecoderKernels.swigluReference(w.gate + t * F + r.lowerBound, w.up + t * F + r.lowerBound, n: r.count)
                    } else {
                        DecoderKernels.swiglu(w.gate + t * F + r.lowerBound, w.up + t * F + r.lowerBound, n: r.count)
                    }
                }
            }
            for t in 0..<T { ck_q8_roundtrip(w.gate + t * F, Int32(F)) }
            lap()
            // ffn_down + residual
            projectIntoResidual(b.down, w.gate, F)
            lap()
        }
        // norm + head, for the last token (or every token: then `norm` laps before the loop and
        // `head` holds both)
        let xn = w.xn, logits = w.logits
        func headPass() {
            pool.run(chunks: nc) { ci, ti in
                let r = Self.share(c.vocab, ci, nc)
                guard !r.isEmpty else { return }
                self.head.matmul(xn, ldx: H, m: 1, xt: nil, tp: 0, logits, ldy: c.vocab, rows: r, isa: isa, backend: backend, scratch: w.scratch[ti])
            }
        }
        if let everyPosition {
            lap()
            for t in 0..<T {
                rmsNorm(w.x + t * H, finalNorm, xn, H)
                ck_q8_roundtrip(xn, Int32(H))
                headPass()
                everyPosition(t, UnsafeBufferPointer(start: logits, count: c.vocab))
            }
        } else {
            rmsNorm(w.x + (T - 1) * H, finalNorm, xn, H)
            ck_q8_roundtrip(xn, Int32(H))
            lap()
            headPass()
        }
        lap()
        return UnsafeBufferPointer(start: w.logits, count: c.vocab)
    }

    @inline(__always)
    private func rmsNorm(_ x: UnsafePointer<Float>, _ g: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>, _ n: Int) {
        if compute.backend == .reference {
            DecoderKernels.rmsNormReference(x, g, y, n: n, eps: config.rmsEpsilon)
        } else {
            DecoderKernels.rmsNorm(x, g, y, n: n, eps: config.rmsEpsilon)
        }
    }

    /// Piece `i`'s contiguous share of `n` rows among `count`, in multiples of 48 (whole GEMM panels
    /// of 12 rows, and whole 16-row blocks for the GEMV's four-row groups).
    static func share(_ n: Int, _ i: Int, _ count: Int) -> Range<Int> {
        let g = 48, blocks = (n + g - 1) / g
        let lo = min(n, blocks * i / count * g), hi = min(n, blocks * (i + 1) / count * g)
        return lo..<hi
    }
}
