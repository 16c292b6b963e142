/// A sentence-embedding model folder ready to use: its tokenizer and its encoder.
///
/// `embed` tokenizes, batches (padding each batch to its longest text), runs the encoder and
/// returns one L2-normalised vector per text, in order. Not thread-safe (see `BertModel`).
public final class SentenceEncoder: @unchecked Sendable {
    public let tokenizer: WordPieceTokenizer
    public let model: BertModel
    /// The folder it was loaded from.
    public let directory: String

    public init(tokenizer: WordPieceTokenizer, model: BertModel, directory: String) {
        self.tokenizer = tokenizer
        self.model = model
        self.directory = directory
    }

    /// Loads `directory` (config.json, model.safetensors, vocab.txt, optional tokenizer_config.json,
    /// sentence_bert_config.json, 1_Pooling/config.json). Throws `EngineError` with one clear line.
    public static func load(directory: String) throws -> SentenceEncoder {
        let model = try BertModel.load(directory: directory)
        let tokenizer = try WordPieceTokenizer.load(directory: directory, maxPositions: model.config.maxPositions)
        guard tokenizer.vocabSize <= model.config.vocabSize else {
            throw EngineError.badFile(path: directory + "/vocab.txt",
                                      reason: "\(tokenizer.vocabSize) tokens but config.json's vocab_size is \(model.config.vocabSize)")
        }
        return SentenceEncoder(tokenizer: tokenizer, model: model, directory: directory)
    }

    /// Embeddings of `texts` ([hidden] each, unit length), `batchSize` texts per forward.
    public func embed(_ texts: [String], batchSize: Int = 32, compute: Compute = Compute()) -> [[Float]] {
        precondition(batchSize >= 1, "SentenceEncoder.embed: batch size must be ≥ 1")
        var out: [[Float]] = []
        out.reserveCapacity(texts.count)
        var start = 0
        while start < texts.count {
            let chunk = Array(texts[start..<min(start + batchSize, texts.count)])
            let batch = tokenizer.batch(chunk)
            let e = model.embed(batch, compute: compute)
            let h = model.config.hiddenSize
            for b in 0..<batch.batch { out.append(Array(UnsafeBufferPointer(start: e.data + b * h, count: h))) }
            start += batchSize
        }
        return out
    }
}
