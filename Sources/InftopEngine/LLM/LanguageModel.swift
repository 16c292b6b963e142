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
    /// The model whose weights this one shares (nil: it owns them and counts them in the ledger).
    private let owner: LanguageModel?

    /// Loads `path`. `contextCapacity` is the KV cache's size in positions (nil = 2048), cut to the
    /// model's `context_length`.
    /// - Throws: `EngineError` naming the file and what is wrong (unsupported architecture or
    ///   tensor type, missing tensor, corrupt file).
    public convenience init(path: String, contextCapacity: Int? = nil, compute: Compute = Compute(backend: .simd, threads: 1), chunk: Int = 512) throws {
        let file = try GGUFFile(path: path)
        let c = try LlamaConfig(file: file)
        let kv = c.kvHeads * c.headDim
        func vector(_ n: String, _ len: Int) throws -> UnsafePointer<Float> {
            guard let t = file.tensor(n) else { throw EngineError.badFile(path: path, reason: "tensor '\(n)' is missing") }
            guard t.type == .f32, t.elementCount == len else {
                throw EngineError.badFile(path: path, reason: "tensor '\(n)' must be F32 of \(len) elements, is \(t.type.name) \(t.dims)")
            }
            return file.data(of: t).assumingMemoryBound(to: Float.self)
        }
        let embedding = try QuantizedMatrix(file: file, name: "token_embd.weight", rows: c.vocab, cols: c.hidden)
        let head = file.tensor("output.weight") != nil
            ? try QuantizedMatrix(file: file, name: "output.weight", rows: c.vocab, cols: c.hidden) : embedding
        let finalNorm = try vector("output_norm.weight", c.hidden)
        let blocks = try (0..<c.layers).map { i in
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
        try self.init(file: file, config: c, tokenizer: try BPETokenizer(file: file),
                      chatTemplate: try? ChatTemplate(template: file["tokenizer.chat_template"]?.string ?? ""),
                      name: file["general.name"]?.string ?? String(path.split(separator: "/").last ?? ""),
                      blocks: blocks, embedding: embedding, head: head, finalNorm: finalNorm,
                      contextCapacity: contextCapacity, compute: compute, chunk: chunk, threads: nil, owner: nil)
    }

    /// Checks that `path` loads (header, hyperparameters, tokenizer, every tensor's type and
    /// bounds) without keeping it: a one-position cache, dropped on return.
    /// - Throws: what loading throws.
    public static func check(path: String) throws {
        _ = try LanguageModel(path: path, contextCapacity: 1, chunk: 1)
    }

    /// A second sequence on `other`'s weights: the same mapping, tokenizer and weights (no bytes
    /// copied, RSS counted once), its own KV cache of `contextCapacity` positions (nil = other's),
    /// workspace and context; it runs on `other`'s threads (one region at a time: use the two
    /// from one thread, as the generator's concurrent streams do).
    public convenience init(sharing other: LanguageModel, contextCapacity: Int? = nil) throws {
        try self.init(file: other.file, config: other.config, tokenizer: other.tokenizer, chatTemplate: other.chatTemplate,
                      name: other.name, blocks: other.blocks, embedding: other.embedding, head: other.head,
                      finalNorm: other.finalNorm, contextCapacity: contextCapacity ?? other.cache.capacity,
                      compute: other.compute, chunk: other.chunk, threads: other.threads, owner: other)
    }

    private init(file: GGUFFile, config c: LlamaConfig, tokenizer: BPETokenizer, chatTemplate: ChatTemplate?, name: String,
                 blocks: [Block], embedding: QuantizedMatrix, head: QuantizedMatrix, finalNorm: UnsafePointer<Float>,
                 contextCapacity: Int?, compute: Compute, chunk: Int, threads shared: DecoderThreads?, owner: LanguageModel?) throws {
        self.file = file; config = c; self.tokenizer = tokenizer; self.chatTemplate = chatTemplate; self.name = name
        self.blocks = blocks; self.embedding = embedding; self.head = head; self.finalNorm = finalNorm
        let capacity = min(contextCapacity ?? 2048, c.contextLength)
        guard capacity >= 1 else { throw EngineError.invalid(what: "context", reason: "\(capacity) positions: must be ≥ 1") }
        cache = KVCache(layers: c.layers, kvHeads: c.kvHeads, headDim: c.headDim, capacity: capacity)
        rope = DecoderKernels.ropeTable(positions: capacity, dims: c.ropeDim, base: c.ropeBase)
        self.compute = compute
        self.chunk = max(1, min(chunk, capacity))
        threads = shared ?? DecoderThreads(count: compute.threads)
        work = DecoderWorkspace(config: c, tokens: self.chunk, threads: threads.count, capacity: capacity)
        self.owner = owner
        if owner == nil { MemoryLedger.shared.add(weightBytes, to: .weightsQuantized) }
    }

    deinit {
        if owner == nil { MemoryLedger.shared.add(-weightBytes, to: .weightsQuantized) }
    }

    /// Runs the next calls on `other`'s threads (after a thread-count change there), so streams
    /// sharing weights never each keep a spinning pool.
    public func runOnThreads(of other: LanguageModel) {
        compute = other.compute
        if threads !== other.threads {
            threads = other.threads
            work.reserveThreads(threads.count)
        }
    }

    /// Makes the threads match `compute.threads` now (else the next call does it).
    public func prepareThreads() {
        if threads.count != compute.threads {
            threads = DecoderThreads(count: compute.threads)
            work.reserveThreads(compute.threads)
        }
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
    /// With `grouped`, the layers share one site per stage kind (`L3.qkv` laps on `qkv`), so the
    /// table has a row per kind (attention vs MLP vs head) instead of one per layer.
    @discardableResult
    public func registerSites(in profiler: StepProfiler, prefix: String = "", grouped: Bool = false) -> [Int32] {
        sites = nodeNames.map { profiler.site(prefix + (grouped ? Self.stageKind($0) : $0)) }
        return sites
    }

    /// The stage kind of a node name: `L12.ffn_up` → `ffn_up`; `embed`, `norm`, `head` as they are.
    public static func stageKind(_ node: String) -> String {
        guard node.hasPrefix("L"), let dot = node.firstIndex(of: ".") else { return node }
        return String(node[node.index(after: dot)...])
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

    /// Parameters (the tied head counted once).
    public var parameterCount: Int { config.parameterCount(tiedHead: tiedHead) }

    /// The matrices' tensor types, most common first ("Q4_1+Q8_0").
    public var weightTypes: String {
        var count: [String: Int] = [:]
        for m in blocks.flatMap({ [$0.q, $0.k, $0.v, $0.o, $0.gate, $0.up, $0.down] }) + [embedding, head] { count[m.type.name, default: 0] += 1 }
        return count.sorted { $0.value != $1.value ? $0.value > $1.value : $0.key < $1.key }.map(\.key).joined(separator: "+")
    }

    /// Weight bytes per stage kind (`LanguageModel.stageKind` names), summed over the layers, in
    /// execution order; the tied head holds none of its own.
    public var weightBytesByStage: [(stage: String, bytes: Int)] {
        func sum(_ f: (Block) -> Int) -> Int { blocks.reduce(0) { $0 + f($1) } }
        return [("embed", embedding.byteCount), ("attn_norm", 4 * config.hidden * config.layers),
                ("qkv", sum { $0.q.byteCount + $0.k.byteCount + $0.v.byteCount }), ("attn_out", sum { $0.o.byteCount }),
                ("ffn_norm", 4 * config.hidden * config.layers), ("ffn_up", sum { $0.gate.byteCount + $0.up.byteCount }),
                ("ffn_down", sum { $0.down.byteCount }), ("norm", 4 * config.hidden), ("head", tiedHead ? 0 : head.byteCount)]
    }

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
        prepareThreads()
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
