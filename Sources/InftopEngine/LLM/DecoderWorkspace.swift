/// The decoder's activation buffers for up to `tokens` positions per forward, allocated at load
/// (and when the thread count grows), reused by every step. Shapes in tokens (T) × features.
final class DecoderWorkspace: @unchecked Sendable {
    let tokens: Int
    /// Residual stream `[T][hidden]`.
    let x: UnsafeMutablePointer<Float>
    /// Normed input of the current stage `[T][hidden]`.
    let xn: UnsafeMutablePointer<Float>
    /// Queries `[T][hidden]`, keys and values `[T][kvHeads·headDim]`.
    let q: UnsafeMutablePointer<Float>, k: UnsafeMutablePointer<Float>, v: UnsafeMutablePointer<Float>
    /// Attention context `[T][hidden]`, projection output `[T][hidden]`.
    let att: UnsafeMutablePointer<Float>, proj: UnsafeMutablePointer<Float>
    /// SwiGLU gate (then gate·up) and up `[T][ffn]`.
    let gate: UnsafeMutablePointer<Float>, up: UnsafeMutablePointer<Float>
    /// An input transposed for the GEMM kernels `[maxCols][paddedTokens(tokens)]`.
    let xt: UnsafeMutablePointer<Float>
    let tp: Int
    /// Next-token logits `[vocab]` (one row: the head runs per position).
    let logits: UnsafeMutablePointer<Float>
    let capacity: Int
    let maxCols: Int
    /// Query heads per KV head, and the row stride of a thread's `scores`.
    let group: Int
    var scoreStride: Int { capacity + 16 }
    /// Per thread: a GEMM panel (16 × maxCols floats, 64-byte aligned) and attention scores
    /// `[group][scoreStride]` (one row per query head of a KV group, `scoreStride` = capacity + 16).
    private(set) var scratch: [UnsafeMutablePointer<Float>] = []
    private(set) var scores: [UnsafeMutablePointer<Float>] = []

    init(config c: LlamaConfig, tokens: Int, threads: Int, capacity: Int) {
        self.tokens = tokens
        self.capacity = capacity
        group = max(c.heads / max(c.kvHeads, 1), 1)
        let kv = c.kvHeads * c.headDim
        func buf(_ n: Int) -> UnsafeMutablePointer<Float> {
            let p = UnsafeMutablePointer<Float>.allocate(capacity: n)
            p.initialize(repeating: 0, count: n)
            return p
        }
        x = buf(tokens * c.hidden); xn = buf(tokens * c.hidden); q = buf(tokens * c.hidden)
        k = buf(tokens * kv); v = buf(tokens * kv); att = buf(tokens * c.hidden); proj = buf(tokens * c.hidden)
        gate = buf(tokens * c.ffn); up = buf(tokens * c.ffn); logits = buf(c.vocab)
        maxCols = max(c.hidden, c.ffn)
        tp = QuantizedMatrix.paddedTokens(tokens)
        xt = buf(maxCols * tp)
        reserveThreads(threads)
    }

    func reserveThreads(_ n: Int) {
        while scratch.count < n {
            let raw = UnsafeMutableRawPointer.allocate(byteCount: QuantizedMatrix.scratchFloats(maxCols) * 4, alignment: 64)
            scratch.append(raw.bindMemory(to: Float.self, capacity: QuantizedMatrix.scratchFloats(maxCols)))
            scores.append(UnsafeMutablePointer<Float>.allocate(capacity: group * scoreStride))
        }
    }

    deinit {
        for p in [x, xn, q, k, v, att, proj, gate, up, logits, xt] { p.deallocate() }
        for p in scratch { UnsafeMutableRawPointer(p).deallocate() }
        for p in scores { p.deallocate() }
    }
}
