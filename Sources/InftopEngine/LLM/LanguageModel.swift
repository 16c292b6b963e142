import InftopTelemetry

/// A llama-family generative decoder loaded from a GGUF file (SmolLM2-135M-Instruct and kin):
/// token embedding; per layer RMSNorm → Q/K/V → RoPE → grouped-query attention over the KV cache
/// → output projection + residual → RMSNorm → SwiGLU MLP + residual; final RMSNorm; output head
/// (tied to the embedding when the file has no `output.weight`). Weights stay quantized in the
/// file's mapping; prefill runs GEMMs over the prompt's tokens, decode GEMVs.
///
/// Not thread-safe: one generation at a time per instance (the serving side holds one per
/// concurrent generation; they share nothing but the mapping). `compute`, `kvCacheEnabled` and
/// `spans` may change between calls.
///
/// Stages are named like graph nodes (`embed`, `L{i}.attn_norm`, `L{i}.qkv`, `L{i}.rope`,
/// `L{i}.attention`, `L{i}.attn_out`, `L{i}.ffn_norm`, `L{i}.ffn_up`, `L{i}.ffn_down`, `norm`, `head`):
/// `nodeNames`, and with `spans` set (after `registerSites`) each stage laps `.forward` on its site.
public final class LanguageModel: @unchecked Sendable {
    public let file: GGUFFile
    public let config: LlamaConfig
    public let tokenizer: BPETokenizer
    /// The file's chat template, when it ships a ChatML one.
    public let chatTemplate: ChatTemplate?
    /// `general.name`, else the file name.
    public let name: String
    public let cache: KVCache

    struct Block {
        let attnNorm: UnsafePointer<Float>, ffnNorm: UnsafePointer<Float>
        let q: QuantizedMatrix, k: QuantizedMatrix, v: QuantizedMatrix, o: QuantizedMatrix
        let gate: QuantizedMatrix, up: QuantizedMatrix, down: QuantizedMatrix
    }
    let blocks: [Block]
    let embedding: QuantizedMatrix
    let head: QuantizedMatrix
    let finalNorm: UnsafePointer<Float>
    let rope: [Float]

    /// The execution plan (threads, isa, backend: `.reference` runs the Swift reference kernels).
    public var compute: Compute
    /// Off: every step recomputes the whole prefix (nothing is reused from earlier steps).
    public var kvCacheEnabled = true
    /// Where stages lap, with `sites` from `registerSites` (nil: no timing).
    public var spans: SpanBuffer?
    public private(set) var sites: [Int32] = []
    /// The tokens of the current sequence (prompt and generated).
    public private(set) var context: [Int32] = []
    /// Tokens per prefill GEMM (longer prompts go in chunks).
    public let chunk: Int

    var threads: DecoderThreads
    let work: DecoderWorkspace

    /// Loads `path`. `contextCapacity` is the KV cache's size in positions (nil = 2048), cut to the
    /// model's `context_length`.
    /// - Throws: `EngineError` naming the file and what is wrong (unsupported architecture or
    ///   tensor type, missing tensor, corrupt file).
    public init(path: String, contextCapacity: Int? = nil, compute: Compute = Compute(backend: .simd, threads: 1), chunk: Int = 512) throws {
        let file = try GGUFFile(path: path)
        self.file = file
        let c = try LlamaConfig(file: file)
        config = c
        tokenizer = try BPETokenizer(file: file)
        chatTemplate = try? ChatTemplate(template: file["tokenizer.chat_template"]?.string ?? "")
        name = file["general.name"]?.string ?? String(path.split(separator: "/").last ?? "")
        let kv = c.kvHeads * c.headDim
        func vector(_ n: String, _ len: Int) throws -> UnsafePointer<Float> {
            guard let t = file.tensor(n) else { throw EngineError.badFile(path: path, reason: "tensor '\(n)' is missing") }
            guard t.type == .f32, t.elementCount == len else {
                throw EngineError.badFile(path: path, reason: "tensor '\(n)' must be F32 of \(len) elements, is \(t.type.name) \(t.dims)")
            }
            return file.data(of: t).assumingMemoryBound(to: Float.self)
        }
        embedding = try QuantizedMatrix(file: file, name: "token_embd.weight", rows: c.vocab, cols: c.hidden)
        head = file.tensor("output.weight") != nil
            ? try QuantizedMatrix(file: file, name: "output.weight", rows: c.vocab, cols: c.hidden) : embedding
        finalNorm = try vector("output_norm.weight", c.hidden)
        blocks = try (0..<c.layers).map { i in
            let p = "blk.\(i)."
            return Block(
                attnNorm: try vector(p + "attn_norm.weight", c.hidden), ffnNorm: try vector(p + "ffn_norm.weight", c.hidden),
                q: try QuantizedMatrix(file: file, name: p + "attn_q.weight", rows: c.hidden, cols: c.hidden),
                k: try QuantizedMatrix(file: file, name: p + "attn_k.weight", rows: kv, cols: c.hidden),
                v: try QuantizedMatrix(file: file, name: p + "attn_v.weight", rows: kv, cols: c.hidden),
                o: try QuantizedMatrix(file: file, name: p + "attn_output.weight", rows: c.hidden, cols: c.hidden),
                gate: try QuantizedMatrix(file: file, name: p + "ffn_gate.weight", rows: c.ffn, cols: c.hidden),
                up: try QuantizedMatrix(file: file, name: p + "ffn_up.weight", rows: c.ffn, cols: c.hidden),
                down: try QuantizedMatrix(file: file, name: p + "ffn_down.weight", rows: c.hidden, cols: c.ffn))
        }
        let capacity = min(contextCapacity ?? 2048, c.contextLength)
        guard capacity >= 1 else { throw EngineError.invalid(what: "context", reason: "\(capacity) positions: must be ≥ 1") }
        cache = KVCache(layers: c.layers, kvHeads: c.kvHeads, headDim: c.headDim, capacity: capacity)
        rope = DecoderKernels.ropeTable(positions: capacity, dims: c.ropeDim, base: c.ropeBase)
        self.compute = compute
        self.chunk = max(1, min(chunk, capacity))
        threads = DecoderThreads(count: compute.threads)
        work = DecoderWorkspace(config: c, tokens: self.chunk, threads: compute.threads, capacity: capacity)
    }

    /// Stage names in execution order, as graph node names.
    public var nodeNames: [String] {
        var n = ["embed"]
        for i in 0..<config.layers {
            n += ["attn_norm", "qkv", "rope", "attention", "attn_out", "ffn_norm", "ffn_up", "ffn_down"].map { "L\(i).\($0)" }
        }
        return n + ["norm", "head"]
    }

    /// Registers one profiler site per stage (`prefix` + node name) and keeps their ids for `spans`.
    @discardableResult
    public func registerSites(in profiler: StepProfiler, prefix: String = "") -> [Int32] {
        sites = nodeNames.map { profiler.site(prefix + $0) }
        return sites
    }

    /// Positions held in the KV cache for reuse (0 when it is off).
    public var positions: Int { kvCacheEnabled ? cache.count : 0 }
    /// Bytes of the preallocated KV cache.
    public var kvCacheBytes: Int { cache.bytes }
    /// Bytes of the weights in the file.
    public var weightBytes: Int {
        blocks.reduce(embedding.byteCount + (head.data == embedding.data ? 0 : head.byteCount)) { s, b in
            s + [b.q, b.k, b.v, b.o, b.gate, b.up, b.down].reduce(0) { $0 + $1.byteCount } + 8 * config.hidden
        }
    }
    public var tiedHead: Bool { head.data == embedding.data }

    /// Forgets the sequence (the cache's positions are reused from 0).
    public func reset() {
        context.removeAll(keepingCapacity: true)
        cache.count = 0
    }

    /// Starts a new sequence with `tokens` (resets first) and returns the next-token logits after
    /// the last one (`config.vocab` floats, valid until the next call). With `everyPosition`, it
    /// is called with (index, logits) after each prompt token instead (teacher-forced scoring).
    /// - Throws: `EngineError.invalid` when the prompt is empty or longer than the cache.
    @discardableResult
    public func prefill(_ tokens: [Int32], everyPosition: ((Int, UnsafeBufferPointer<Float>) -> Void)? = nil) throws -> UnsafeBufferPointer<Float> {
        reset()
        guard !tokens.isEmpty else { throw EngineError.invalid(what: "prompt", reason: "no tokens") }
        guard tokens.count <= cache.capacity else {
            throw EngineError.invalid(what: "prompt", reason: "\(tokens.count) tokens do not fit the context of \(cache.capacity) positions")
        }
        try check(tokens)
        context = tokens
        return run(from: 0, everyPosition: everyPosition)
    }

    /// Appends `token` and returns the next-token logits (valid until the next call). With the
    /// KV cache on this is one GEMV pass over the new token; off, the whole sequence is recomputed.
    /// - Throws: `EngineError.invalid` when the context is full or the id is out of range.
    @discardableResult
    public func decode(_ token: Int32) throws -> UnsafeBufferPointer<Float> {
        guard context.count < cache.capacity else {
            throw EngineError.invalid(what: "context", reason: "full (\(cache.capacity) positions)")
        }
        try check([token])
        context.append(token)
        return run(from: kvCacheEnabled ? context.count - 1 : 0, everyPosition: nil)
    }

    private func check(_ tokens: [Int32]) throws {
        if let bad = tokens.first(where: { $0 < 0 || Int($0) >= config.vocab }) {
            throw EngineError.invalid(what: "token", reason: "id \(bad) is outside the vocabulary of \(config.vocab)")
        }
    }

    /// Runs positions `start..<context.count` (positions before `start` are in the cache) in
    /// chunks; returns the logits after the last.
    private func run(from start: Int, everyPosition: ((Int, UnsafeBufferPointer<Float>) -> Void)?) -> UnsafeBufferPointer<Float> {
        if threads.count != compute.threads {
            threads = DecoderThreads(count: compute.threads)
            work.reserveThreads(compute.threads)
        }
        cache.count = start
        var p = start
        var last = UnsafeBufferPointer<Float>(start: work.logits, count: config.vocab)
        while p < context.count {
            let n = min(chunk, context.count - p)
            last = forward(tokens: Array(context[p..<(p + n)]), at: p, everyPosition: everyPosition.map { cb in { i, l in cb(p + i, l) } })
            p += n
        }
        cache.count = context.count
        return last
    }
}
