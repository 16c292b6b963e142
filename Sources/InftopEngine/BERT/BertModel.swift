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

/// A BERT-family encoder with sentence-embedding pooling, built as a `Model` graph of fused
/// nodes (BertNodes.swift) from a Hugging Face folder (BertModel+Load.swift):
///
///     embeddings → per layer i: L{i}.qkv → L{i}.attention → L{i}.attn_out → L{i}.ln1 (+ residual)
///                → L{i}.ffn_up → L{i}.gelu → L{i}.ffn_down → L{i}.ln2 (+ residual) → pooling
///
/// Q, K and V are concatenated at load into one [3H, H] matrix (and one [3H] bias) so their
/// projection is a single GEMM; the other weights view the mapped file in place. The forward
/// (`Model.forward(tokens:)`) returns [batch, hidden] unit rows.
public enum BertModel {
    /// The per-layer node names, in forward order.
    public static let layerStages = ["qkv", "attention", "attn_out", "ln1", "ffn_up", "gelu", "ffn_down", "ln2"]

    /// Node names of an encoder with `layers` layers: "embeddings", "L{i}.<stage>", "pooling".
    public static func nodeNames(layers: Int) -> [String] {
        ["embeddings"] + (0..<layers).flatMap { i in layerStages.map { "L\(i).\($0)" } } + ["pooling"]
    }

    /// Parameters (weights and biases) of an encoder, embeddings included.
    public static func parameterCount(_ c: BertConfig) -> Int {
        let h = c.hiddenSize, f = c.intermediateSize
        let perLayer = 4 * h * h + 4 * h + 2 * h * f + f + h + 4 * h
        return (c.vocabSize + c.maxPositions + c.typeVocabSize) * h + 2 * h + perLayer * c.layers
    }

    /// The encoder's descriptor: token input, embedding output, its serving rate and batch.
    static func descriptor(name: String, config c: BertConfig) -> ModelDescriptor {
        let params = Double(parameterCount(c)) / 1e6
        return ModelDescriptor(
            name: name, summary: "BERT \(c.layers)×\(c.hiddenSize), \(String(format1: params))M params",
            input: .tokens(maxLength: c.maxPositions, vocabSize: c.vocabSize), output: .embedding(dimension: c.hiddenSize),
            // The dashboard serves on one thread beside training; a batch of 8 corpus sentences
            // (~15 tokens) took ~150 ms on one Zen 4 thread, and each sentence's first visit
            // costs one more (unpadded) forward for its fp32 reference. 25/s leaves headroom.
            servingRate: 25, evalBatchSize: 32, trainable: false,
            // MLPerf's BERT Server bound is 130 ms on accelerators; one shared CPU thread needs more.
            latencyBoundMs: 500)
    }
}

extension String {
    /// One decimal place (no Foundation formatting in the engine's hot paths; this is set-up only).
    init(format1 v: Double) {
        let tenths = Int((v * 10).rounded())
        self = "\(tenths / 10).\(abs(tenths % 10))"
    }
}
