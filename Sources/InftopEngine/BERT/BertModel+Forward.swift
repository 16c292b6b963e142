import InftopTelemetry

extension BertModel {
    /// Sentence embeddings of a padded batch: embeddings → encoder layers → pooling → L2
    /// normalisation. Returns [batch, hidden] (unit rows), a tensor the model owns and
    /// overwrites on the next call.
    ///
    /// - `compute`: GEMM backend and threads; elementwise kernels and attention use the same
    ///   thread count.
    /// - `spans`: when given and enabled, one lap per stage in `sites` order (`BertSites`; by
    ///   default ids 0…); the caller starts the lap clock (`StepProfiler.beginStep`). When nil or
    ///   disabled no clock is read.
    /// - Precondition: seq ≤ max_position_embeddings, ids < vocab size, type ids < type vocab size
    ///   (the tokenizer guarantees them for its own output).
    public func embed(_ batch: TokenBatch, compute: Compute = Compute(), spans: SpanBuffer? = nil, sites: BertSites? = nil) -> Tensor {
        let c = config
        let B = batch.batch, S = batch.seq, H = c.hiddenSize, F = c.intermediateSize, M = B * S
        precondition(S <= c.maxPositions, "BertModel.embed: sequence length \(S) exceeds max_position_embeddings \(c.maxPositions)")
        let siteIds = sites?.ids ?? defaultSites.ids
        precondition(siteIds.count == 2 + 8 * c.layers, "BertModel.embed: \(siteIds.count) span sites for \(c.layers) layers")
        let spans = (spans?.enabled ?? false) ? spans : nil
        @inline(__always) func lap(_ i: Int) { spans?.lap(site: siteIds[i], phase: .forward) }

        x.resize([M, H]); qkv.resize([3 * H, M]); ctx.resize([H, M]); proj.resize([M, H]); ffn.resize([M, F]); pooled.resize([B, H])
        let X = x.data, QKV = qkv.data, CTX = ctx.data, P = proj.data, FFN = ffn.data
        let T = compute.threads, backend = compute.backend
        let q8 = compute.precision == .int8 ? int8.layers(of: self) : nil

        batch.ids.withUnsafeBufferPointer { ids in
            batch.typeIds.withUnsafeBufferPointer { types in
                embeddings(ids: ids.baseAddress!, types: types.baseAddress!, out: X, tokens: M, seq: S, threads: T)
            }
        }
        lap(0)

        batch.mask.withUnsafeBufferPointer { maskBuf in
            let mask = maskBuf.baseAddress!
            for (i, L) in layers.enumerated() {
                let s = 1 + 8 * i
                // QKVᵀ [3H, M] = Wqkv · Xᵀ: feature-major, so each head's Q, K, V rows are contiguous
                // over tokens and attention needs no transposition.
                if let q = q8?[i] {
                    Int8Gemm.run(compute, m: M, k: H, x: X, ldx: H, weights: q.qkv, y: QKV, ldy: M, transY: true)
                } else {
                    gemm(backend, transB: true, m: 3 * H, n: M, k: H, a: L.wqkv.pointer, lda: H, b: X, ldb: H,
                         c: QKV, ldc: M, threads: T)
                }
                lap(s)
                BertKernels.attention(qkvT: QKV, bias: L.bqkv.pointer, mask: mask, contextT: CTX, batch: B, seq: S,
                                      heads: c.heads, headSize: c.headSize, scratch: scratch, threads: T)
                lap(s + 1)
                // [M, H] = (contextᵀ)ᵀ · Woᵀ.
                if let q = q8?[i] {
                    Int8Gemm.run(compute, m: M, k: H, x: CTX, ldx: M, transX: true, weights: q.out, y: P, ldy: H)
                } else {
                    gemm(backend, transA: true, transB: true, m: M, n: H, k: H, a: CTX, lda: M, b: L.wo.pointer, ldb: H,
                         c: P, ldc: H, threads: T)
                }
                lap(s + 2)
                BertKernels.biasResidualLayerNorm(P, bias: L.bo.pointer, residual: X, gamma: L.ln1g.pointer, beta: L.ln1b.pointer,
                                                  rows: M, cols: H, eps: c.layerNormEps, threads: T)
                lap(s + 3)
                if let q = q8?[i] {
                    Int8Gemm.run(compute, m: M, k: H, x: X, ldx: H, weights: q.up, y: FFN, ldy: F)
                } else {
                    gemm(backend, transB: true, m: M, n: F, k: H, a: X, lda: H, b: L.w1.pointer, ldb: H, c: FFN, ldc: F, threads: T)
                }
                lap(s + 4)
                BertKernels.biasActivation(FFN, bias: L.b1.pointer, rows: M, cols: F, activation: c.activation, threads: T)
                lap(s + 5)
                if let q = q8?[i] {
                    Int8Gemm.run(compute, m: M, k: F, x: FFN, ldx: F, weights: q.down, y: P, ldy: H)
                } else {
                    gemm(backend, transB: true, m: M, n: H, k: F, a: FFN, lda: F, b: L.w2.pointer, ldb: F, c: P, ldc: H, threads: T)
                }
                lap(s + 6)
                BertKernels.biasResidualLayerNorm(P, bias: L.b2.pointer, residual: X, gamma: L.ln2g.pointer, beta: L.ln2b.pointer,
                                                  rows: M, cols: H, eps: c.layerNormEps, threads: T)
                lap(s + 7)
            }
            BertModel.pool(X, mask: mask, out: pooled.data, batch: B, seq: S, hidden: H, mode: pooling)
        }
        lap(1 + 8 * c.layers)
        return pooled
    }

    /// One projection GEMM with `threads`, threaded as `gemmThreading` says.
    @inline(__always)
    func gemm(_ backend: KernelBackend, transA: Bool = false, transB: Bool = false, m: Int, n: Int, k: Int,
              a: UnsafePointer<Float>, lda: Int, b: UnsafePointer<Float>, ldb: Int,
              c: UnsafeMutablePointer<Float>, ldc: Int, threads: Int) {
        Gemm.run(backend, transA: transA, transB: transB, m: m, n: n, k: k, a: a, lda: lda, b: b, ldb: ldb,
                 c: c, ldc: ldc, threads: threads, threading: gemmThreading)
    }

    /// out[t] = LayerNorm(word[ids[t]] + position[t mod seq] + type[types[t]]), t < tokens.
    private func embeddings(ids: UnsafePointer<Int32>, types: UnsafePointer<Int32>, out: UnsafeMutablePointer<Float>,
                            tokens: Int, seq: Int, threads: Int) {
        let H = config.hiddenSize, V = config.vocabSize, TV = config.typeVocabSize, eps = config.layerNormEps
        for t in 0..<tokens {
            precondition(ids[t] >= 0 && Int(ids[t]) < V, "BertModel.embed: token id \(ids[t]) outside the vocabulary (0..<\(V))")
            precondition(types[t] >= 0 && Int(types[t]) < TV, "BertModel.embed: token type \(types[t]) outside 0..<\(TV)")
        }
        nonisolated(unsafe) let ids = ids, types = types, out = out
        let word = wordEmbeddings.pointer, pos = positionEmbeddings.pointer, type = typeEmbeddings.pointer
        let g = embLnG.pointer, b = embLnB.pointer
        nonisolated(unsafe) let w = word, p = pos, ty = type, gg = g, bb = b
        BertKernels.parallelRows(tokens, threads: threads, minRowsPerThread: 32) { range in
            for t in range {
                let row = out + t * H
                let we = w + Int(ids[t]) * H, pe = p + (t % seq) * H, te = ty + Int(types[t]) * H
                for c in 0..<H { row[c] = we[c] + pe[c] + te[c] }
                BertKernels.layerNormRow(row, gamma: gg, beta: bb, n: H, eps: eps)
            }
        }
    }

    /// Pools the attended rows of each sequence into out[b] and L2-normalises it
    /// (x / max(‖x‖, 1e-12), as torch.nn.functional.normalize).
    static func pool(_ x: UnsafePointer<Float>, mask: UnsafePointer<Int32>, out: UnsafeMutablePointer<Float>,
                     batch: Int, seq: Int, hidden H: Int, mode: BertPooling) {
        for b in 0..<batch {
            let o = out + b * H
            var count = 0
            switch mode {
            case .cls:
                o.update(from: x + b * seq * H, count: H)
            case .mean, .meanSqrtLen:
                o.update(repeating: 0, count: H)
                for t in 0..<seq where mask[b * seq + t] != 0 {
                    let row = x + (b * seq + t) * H
                    for c in 0..<H { o[c] += row[c] }
                    count += 1
                }
                let div = mode == .mean ? Float(max(count, 1)) : Float(max(count, 1)).squareRoot()
                for c in 0..<H { o[c] /= div }
            case .max:
                o.update(repeating: -.greatestFiniteMagnitude, count: H)
                for t in 0..<seq where mask[b * seq + t] != 0 {
                    let row = x + (b * seq + t) * H
                    for c in 0..<H { o[c] = Swift.max(o[c], row[c]) }
                    count += 1
                }
                if count == 0 { o.update(repeating: 0, count: H) }
            }
            var ss: Float = 0
            for c in 0..<H { ss += o[c] * o[c] }
            let inv = 1 / Swift.max(ss.squareRoot(), 1e-12)
            for c in 0..<H { o[c] *= inv }
        }
    }
}
