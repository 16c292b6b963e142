import Foundation

/// The encoder's hidden activation (`hidden_act` in config.json).
public enum BertActivation: String, Sendable, CaseIterable {
    /// Exact GELU, x·Φ(x) with erf (Hugging Face "gelu").
    case gelu
    /// Tanh approximation ("gelu_new", "gelu_pytorch_tanh", "gelu_fast").
    case geluTanh
    case relu

    /// The activation a config.json `hidden_act` string names, or nil when unsupported.
    public init?(huggingFace name: String) {
        switch name {
        case "gelu": self = .gelu
        case "gelu_new", "gelu_pytorch_tanh", "gelu_fast": self = .geluTanh
        case "relu": self = .relu
        default: return nil
        }
    }
}

/// Sizes of a BERT-family encoder, from a Hugging Face `config.json`.
public struct BertConfig: Sendable, Equatable {
    public var hiddenSize: Int
    public var layers: Int
    public var heads: Int
    public var intermediateSize: Int
    public var maxPositions: Int
    public var vocabSize: Int
    public var typeVocabSize: Int
    public var layerNormEps: Float
    public var activation: BertActivation

    /// Size of one attention head (hiddenSize / heads).
    public var headSize: Int { hiddenSize / heads }

    public init(hiddenSize: Int, layers: Int, heads: Int, intermediateSize: Int, maxPositions: Int = 512,
                vocabSize: Int, typeVocabSize: Int = 2, layerNormEps: Float = 1e-12, activation: BertActivation = .gelu) {
        self.hiddenSize = hiddenSize; self.layers = layers; self.heads = heads
        self.intermediateSize = intermediateSize; self.maxPositions = maxPositions; self.vocabSize = vocabSize
        self.typeVocabSize = typeVocabSize; self.layerNormEps = layerNormEps; self.activation = activation
    }

    /// Reads and validates `config.json`. Throws `EngineError.missing` when the file is absent and
    /// `EngineError.badFile` (naming the key) when a size is missing, not a positive integer, or
    /// inconsistent (hidden size not divisible by the heads), or the activation or position
    /// embedding type is unsupported. Defaults as Hugging Face's BertConfig for optional keys.
    public static func load(path: String) throws -> BertConfig {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw EngineError.missing(path: path, hint: "a BERT model folder needs config.json")
        }
        return try parse(data, path: path)
    }

    /// The keys read from config.json (others are ignored); optional ones get Hugging Face's defaults.
    private struct Raw: Decodable {
        var hidden_size: Int?
        var num_hidden_layers: Int?
        var num_attention_heads: Int?
        var intermediate_size: Int?
        var max_position_embeddings: Int?
        var vocab_size: Int?
        var type_vocab_size: Int?
        var layer_norm_eps: Double?
        var hidden_act: String?
        var model_type: String?
        var position_embedding_type: String?
    }

    /// Parses config.json contents; `path` names the file in errors.
    public static func parse(_ data: Data, path: String) throws -> BertConfig {
        func bad(_ reason: String) -> EngineError { .badFile(path: path, reason: reason) }
        let raw: Raw
        do {
            raw = try JSONDecoder().decode(Raw.self, from: data)
        } catch let DecodingError.typeMismatch(_, ctx) {
            throw bad("'\(ctx.codingPath.map(\.stringValue).joined(separator: "."))' has the wrong type (\(ctx.debugDescription))")
        } catch {
            throw bad("not a valid JSON object, or a value out of range")
        }
        func size(_ v: Int?, _ key: String, default def: Int? = nil) throws -> Int {
            guard let v = v ?? def else { throw bad("missing '\(key)'") }
            guard v >= 1, v <= 1 << 24 else { throw bad("'\(key)' must be in 1...\(1 << 24), got \(v)") }
            return v
        }
        if let type = raw.model_type, type != "bert" {
            throw bad("model_type '\(type)' is not supported (BERT-family folders with model_type \"bert\" only)")
        }
        if let pos = raw.position_embedding_type, pos != "absolute" {
            throw bad("position_embedding_type '\(pos)' is not supported (only \"absolute\")")
        }
        let actName = raw.hidden_act ?? "gelu"
        guard let act = BertActivation(huggingFace: actName) else {
            throw bad("hidden_act '\(actName)' is not supported (gelu, gelu_new, gelu_pytorch_tanh, relu)")
        }
        let eps = raw.layer_norm_eps ?? 1e-12
        guard eps > 0, eps < 1 else { throw bad("'layer_norm_eps' must be in (0, 1), got \(eps)") }
        let c = BertConfig(
            hiddenSize: try size(raw.hidden_size, "hidden_size"), layers: try size(raw.num_hidden_layers, "num_hidden_layers"),
            heads: try size(raw.num_attention_heads, "num_attention_heads"),
            intermediateSize: try size(raw.intermediate_size, "intermediate_size"),
            maxPositions: try size(raw.max_position_embeddings, "max_position_embeddings", default: 512),
            vocabSize: try size(raw.vocab_size, "vocab_size"),
            typeVocabSize: try size(raw.type_vocab_size, "type_vocab_size", default: 2),
            layerNormEps: Float(eps), activation: act)
        guard c.hiddenSize % c.heads == 0 else {
            throw bad("hidden_size \(c.hiddenSize) is not divisible by num_attention_heads \(c.heads)")
        }
        return c
    }

    /// Floating-point operations of one forward over `batch` sequences of `seq` tokens:
    /// the projections (QKV, output, FFN up and down) and attention (QKᵀ and PV), 2 per MAC.
    public func flops(batch: Int, seq: Int) -> Double {
        let h = Double(hiddenSize), f = Double(intermediateSize), tokens = Double(batch * seq)
        let linear = 2 * (4 * h * h + 2 * h * f) * tokens
        let attention = 4 * Double(batch) * Double(seq) * Double(seq) * h
        return (linear + attention) * Double(layers)
    }
}
