import InftopTelemetry

/// How token states become one sentence vector (sentence-transformers' `1_Pooling/config.json`).
public enum BertPooling: String, Sendable, CaseIterable {
    /// Mean over attended tokens (`pooling_mode_mean_tokens`).
    case mean
    /// The [CLS] token's state (`pooling_mode_cls_token`).
    case cls
    /// Element-wise max over attended tokens (`pooling_mode_max_tokens`).
    case max
    /// Sum over attended tokens / √count (`pooling_mode_mean_sqrt_len_tokens`).
    case meanSqrtLen
}

/// Weights of one encoder layer. Q, K and V are concatenated at load into one [3H, H] matrix
/// (and one [3H] bias) so their projection is a single GEMM; the rest view the file in place.
final class BertLayerWeights: @unchecked Sendable {
    /// [3H, H] rows = Wq | Wk | Wv (nn.Linear layout: out × in).
    let wqkv: WeightBuffer
    /// [3H] = bq | bk | bv.
    let bqkv: WeightBuffer
    /// [H, H], [H]: attention output projection.
    let wo: WeightBuffer, bo: WeightBuffer
    /// [H], [H]: LayerNorm after attention.
    let ln1g: WeightBuffer, ln1b: WeightBuffer
    /// [F, H], [F]: feed-forward up.
    let w1: WeightBuffer, b1: WeightBuffer
    /// [H, F], [H]: feed-forward down.
    let w2: WeightBuffer, b2: WeightBuffer
    /// [H], [H]: LayerNorm after the feed-forward.
    let ln2g: WeightBuffer, ln2b: WeightBuffer

    init(wqkv: WeightBuffer, bqkv: WeightBuffer, wo: WeightBuffer, bo: WeightBuffer, ln1g: WeightBuffer, ln1b: WeightBuffer,
         w1: WeightBuffer, b1: WeightBuffer, w2: WeightBuffer, b2: WeightBuffer, ln2g: WeightBuffer, ln2b: WeightBuffer) {
        self.wqkv = wqkv; self.bqkv = bqkv; self.wo = wo; self.bo = bo; self.ln1g = ln1g; self.ln1b = ln1b
        self.w1 = w1; self.b1 = b1; self.w2 = w2; self.b2 = b2; self.ln2g = ln2g; self.ln2b = ln2b
    }
}

/// Span site ids of one BERT forward, in order: "embeddings"; per layer i "L{i}.qkv",
/// "L{i}.attention" (scores + softmax + context), "L{i}.attn_out", "L{i}.ln1", "L{i}.ffn_up",
/// "L{i}.gelu", "L{i}.ffn_down", "L{i}.ln2"; then "pooling".
public struct BertSites: Sendable, Equatable {
    /// 2 + 8 × layers ids in the order of `names(layers:)`.
    public let ids: [Int32]

    /// Per-layer stages, in forward order.
    public static let layerStages = ["qkv", "attention", "attn_out", "ln1", "ffn_up", "gelu", "ffn_down", "ln2"]

    /// The site names of a model with `layers` encoder layers.
    public static func names(layers: Int) -> [String] {
        ["embeddings"] + (0..<layers).flatMap { i in layerStages.map { "L\(i).\($0)" } } + ["pooling"]
    }

    /// Registers the names with `profiler` (call before the first step).
    public init(registeringIn profiler: StepProfiler, layers: Int) {
        ids = BertSites.names(layers: layers).map { profiler.site($0) }
    }

    /// Ids base, base + 1, … (for a SpanBuffer read without a profiler).
    public init(sequentialFrom base: Int32 = 0, layers: Int) {
        ids = (0..<Int32(2 + 8 * layers)).map { base + $0 }
    }
}

/// A BERT-family encoder with sentence-embedding pooling, loaded from a Hugging Face folder
/// (BertModel+Load.swift), run by `embed` (BertModel+Forward.swift).
///
/// Not thread-safe: a forward reuses the model's activation buffers (sized for the largest
/// batch × sequence seen). Use one instance per thread.
public final class BertModel: @unchecked Sendable {
    public let config: BertConfig
    public let pooling: BertPooling
    /// How the projections use threads (change between forwards only). `.split` (the default)
    /// keeps OpenBLAS's own threads idle, so one worker pool serves the whole forward and no
    /// library thread spins while attention runs.
    public var gemmThreading = GemmThreading.split
    /// The model folder or file it was loaded from.
    public let source: String

    /// [V, H], [P, H], [T, H] embedding tables; [H] LayerNorm.
    let wordEmbeddings: WeightBuffer, positionEmbeddings: WeightBuffer, typeEmbeddings: WeightBuffer
    let embLnG: WeightBuffer, embLnB: WeightBuffer
    let layers: [BertLayerWeights]
    /// Keeps the mapped weights valid.
    let file: SafeTensorsFile?

    // Activations, resized per forward (capacity kept): M = batch × seq tokens.
    /// [M, H] hidden states: the embeddings, then each layer's output (updated in place).
    let x = Tensor([0], name: "bert.hidden")
    /// [3H, M] fused Q|K|V projection, feature-major (without bias).
    let qkv = Tensor([0], name: "bert.qkvT")
    /// [H, M] attention context, feature-major.
    let ctx = Tensor([0], name: "bert.contextT")
    /// [M, H] output of the attention-out and FFN-down projections.
    let proj = Tensor([0], name: "bert.proj")
    /// [M, F] feed-forward hidden.
    let ffn = Tensor([0], name: "bert.ffn")
    /// [B, H] sentence embeddings.
    let pooled = Tensor([0], name: "bert.pooled")
    let scratch = AttentionScratch()
    /// The projections' int8 forms for `precision == .int8` (Quant/BertInt8Weights.swift).
    let int8 = BertInt8Weights()
    /// Sequential site ids, used when `embed` gets spans without sites.
    let defaultSites: BertSites

    init(config: BertConfig, pooling: BertPooling, source: String, file: SafeTensorsFile?,
         wordEmbeddings: WeightBuffer, positionEmbeddings: WeightBuffer, typeEmbeddings: WeightBuffer,
         embLnG: WeightBuffer, embLnB: WeightBuffer, layers: [BertLayerWeights]) {
        self.config = config; self.pooling = pooling; self.source = source; self.file = file
        self.wordEmbeddings = wordEmbeddings; self.positionEmbeddings = positionEmbeddings; self.typeEmbeddings = typeEmbeddings
        self.embLnG = embLnG; self.embLnB = embLnB; self.layers = layers
        defaultSites = BertSites(sequentialFrom: 0, layers: config.layers)
    }

    /// Span site names of this model's forward (`BertSites.names`).
    public var siteNames: [String] { BertSites.names(layers: config.layers) }

    /// [batch × seq, H] final hidden states of the last `embed` call (rows past a sequence's last
    /// attended token are not meaningful). Valid until the next call.
    public var hiddenStates: Tensor { x }

    /// Bytes of activation buffers currently held (grow with the largest batch × seq seen).
    public var activationBytes: Int { [x, qkv, ctx, proj, ffn, pooled].reduce(0) { $0 + $1.bytes } }

    /// Parameters (weights and biases) of the encoder, embeddings included.
    public var parameterCount: Int {
        let h = config.hiddenSize, f = config.intermediateSize
        let perLayer = 4 * h * h + 4 * h + 2 * h * f + f + h + 4 * h
        return (config.vocabSize + config.maxPositions + config.typeVocabSize) * h + 2 * h + perLayer * config.layers
    }
}
