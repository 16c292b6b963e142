/// A llama-family decoder's hyperparameters, read from GGUF metadata (`llama.*` keys).
public struct LlamaConfig: Sendable, Equatable {
    public var layers: Int
    /// Model width (`embedding_length`).
    public var hidden: Int
    /// SwiGLU inner width (`feed_forward_length`).
    public var ffn: Int
    public var heads: Int
    /// Key/value heads (grouped-query attention: `heads / kvHeads` query heads share one).
    public var kvHeads: Int
    public var headDim: Int { hidden / heads }
    /// Dimensions of each head that RoPE rotates (`rope.dimension_count`, default headDim).
    public var ropeDim: Int
    public var ropeBase: Float
    public var rmsEpsilon: Float
    public var vocab: Int
    /// The longest context the model was trained for.
    public var contextLength: Int

    public init(layers: Int, hidden: Int, ffn: Int, heads: Int, kvHeads: Int, ropeDim: Int, ropeBase: Float,
                rmsEpsilon: Float, vocab: Int, contextLength: Int) {
        self.layers = layers; self.hidden = hidden; self.ffn = ffn; self.heads = heads; self.kvHeads = kvHeads
        self.ropeDim = ropeDim; self.ropeBase = ropeBase; self.rmsEpsilon = rmsEpsilon; self.vocab = vocab
        self.contextLength = contextLength
    }

    /// The architectures inftop runs (`general.architecture`).
    public static let architectures = ["llama"]

    /// Reads and checks the hyperparameters of `file`.
    /// - Throws: `EngineError.badFile` naming an unsupported architecture or a missing / impossible key.
    public init(file: GGUFFile) throws {
        let path = file.path
        guard let arch = file["general.architecture"]?.string else {
            throw EngineError.badFile(path: path, reason: "no general.architecture in the metadata")
        }
        guard Self.architectures.contains(arch) else {
            throw EngineError.badFile(path: path, reason: "architecture '\(arch)' is not supported (inftop runs \(Self.architectures.joined(separator: ", ")) decoders)")
        }
        func int(_ key: String, default d: Int? = nil) throws -> Int {
            if let v = file[arch + "." + key]?.int { return v }
            if let d { return d }
            throw EngineError.badFile(path: path, reason: "metadata \(arch).\(key) is missing or not an integer")
        }
        func float(_ key: String, default d: Float) throws -> Float {
            guard let v = file[arch + "." + key] else { return d }
            guard let x = v.double else { throw EngineError.badFile(path: path, reason: "metadata \(arch).\(key) is not a number") }
            return Float(x)
        }
        layers = try int("block_count")
        hidden = try int("embedding_length")
        ffn = try int("feed_forward_length")
        heads = try int("attention.head_count")
        kvHeads = try int("attention.head_count_kv", default: heads)
        contextLength = try int("context_length", default: 2048)
        ropeBase = try float("rope.freq_base", default: 10_000)
        rmsEpsilon = try float("attention.layer_norm_rms_epsilon", default: 1e-5)
        let tokens = file["tokenizer.ggml.tokens"]?.array?.count ?? 0
        vocab = try int("vocab_size", default: tokens)
        ropeDim = try int("rope.dimension_count", default: heads > 0 ? hidden / heads : 0)
        let ok = layers >= 1 && layers <= 1024 && hidden >= 1 && hidden <= 65536 && ffn >= 1 && ffn <= 262_144
            && heads >= 1 && kvHeads >= 1 && hidden % heads == 0 && heads % kvHeads == 0 && vocab >= 1
            && ropeDim >= 2 && ropeDim <= hidden / heads && ropeDim % 2 == 0 && contextLength >= 1 && rmsEpsilon > 0
        guard ok else {
            throw EngineError.badFile(path: path, reason: "impossible hyperparameters (layers \(layers), hidden \(hidden), ffn \(ffn), heads \(heads)/\(kvHeads), rope dims \(ropeDim), vocab \(vocab))")
        }
    }

    /// Parameters of the decoder (embedding counted once when the head is tied).
    public func parameterCount(tiedHead: Bool) -> Int {
        let kv = kvHeads * headDim
        let perLayer = hidden * (hidden + 2 * kv + hidden) + 3 * hidden * ffn + 2 * hidden
        return layers * perLayer + vocab * hidden * (tiedHead ? 1 : 2) + hidden
    }
}
