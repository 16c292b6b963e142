import InftopTelemetry

/// A sentence-embedding model folder ready to use: its tokenizer and its encoder.
///
/// `embed` tokenizes, batches (padding each batch to its longest text), runs the encoder and
/// returns one L2-normalised vector per text, in order. Not thread-safe (see `Model`).
public final class SentenceEncoder: @unchecked Sendable {
    public let tokenizer: WordPieceTokenizer
    /// The encoder graph (BertModel.swift).
    public let model: Model
    /// Its config.json.
    public let config: BertConfig
    /// Its pooling (1_Pooling/config.json).
    public let pooling: BertPooling
    /// The folder it was loaded from (for an ONNX file: its tokenizer folder).
    public let directory: String
    /// The ONNX file the encoder came from (`load(onnx:tokenizer:)`), nil for a model folder.
    public internal(set) var onnxPath: String?
    /// The files it was loaded from as they were just before (`FileStamp`), in the order read.
    var stamps: [(path: String, stamp: FileStamp?)] = []

    /// The precision the encoder comes up with: int8 when its file held the projections quantized
    /// (a dynamic-int8 ONNX file: the int8 plan runs the file's own weights), fp32 otherwise.
    public var nativePrecision: Precision {
        model.nodes.contains { ($0 as? ProjectionNode)?.int8FromFile == true } ? .int8 : .fp32
    }

    /// Another copy of the same encoder, loaded the same way (a serving worker's replica); with
    /// `pruneUnits`, that fraction of every layer's heads and FFN channels removed (BertPruning).
    /// - Throws: `EngineError.badFile` naming the first file that changed on disk since this
    ///   encoder was loaded (`checkUnchanged`): a replica now would be another model.
    public func replica(pruneUnits: Double = 0) throws -> SentenceEncoder {
        try checkUnchanged()
        if let onnxPath { return try SentenceEncoder.load(onnx: onnxPath, tokenizer: directory, pruneUnits: pruneUnits) }
        return try SentenceEncoder.load(directory: directory, pruneUnits: pruneUnits)
    }

    /// Throws when a file this encoder was loaded from is not the one it read (renamed over,
    /// rewritten or removed since): the served folder was swapped under it. The encoder itself
    /// goes on unharmed (its weights are mapped from the file it opened; a file cut short under
    /// the mapping is CMapGuard's case).
    public func checkUnchanged() throws {
        for (path, stamp) in stamps where FileStamp.of(path) != stamp {
            throw EngineError.badFile(path: path, reason: "changed on disk since it was loaded (replaced or rewritten); "
                                      + "not loading another model beside the one served — restart inftop to serve the new files")
        }
    }

    /// The stamps of the files `load` reads, taken before reading them.
    static func stamps(of paths: [String]) -> [(path: String, stamp: FileStamp?)] {
        paths.filter { FileStamp.of($0) != nil }.map { ($0, FileStamp.of($0)) }
    }

    public init(tokenizer: WordPieceTokenizer, model: Model, config: BertConfig, pooling: BertPooling, directory: String) {
        self.tokenizer = tokenizer
        self.model = model
        self.config = config
        self.pooling = pooling
        self.directory = directory
    }

    /// Loads `directory` (config.json, model.safetensors, vocab.txt, optional tokenizer_config.json,
    /// sentence_bert_config.json, 1_Pooling/config.json). Throws `EngineError` with one clear line.
    /// `pruneUnits`: the fraction of every layer's attention heads and FFN channels removed at load (BertPruning).
    public static func load(directory: String, pruneUnits: Double = 0) throws -> SentenceEncoder {
        let stamps = Self.stamps(of: ["config.json", "model.safetensors", "vocab.txt", "tokenizer_config.json", "1_Pooling/config.json"].map { directory + "/" + $0 })
        let model = try BertModel.load(directory: directory, pruneUnits: pruneUnits)
        let config = try BertConfig.load(path: directory + "/config.json")
        let pooling = try BertModel.loadPooling(directory: directory)
        guard case .tokens(let maxLength, let vocabSize) = model.descriptor.input else { preconditionFailure("BertModel.load made a non-token model") }
        let tokenizer = try WordPieceTokenizer.load(directory: directory, maxPositions: maxLength)
        guard tokenizer.vocabSize <= vocabSize else {
            throw EngineError.badFile(path: directory + "/vocab.txt",
                                      reason: "\(tokenizer.vocabSize) tokens but config.json's vocab_size is \(vocabSize)")
        }
        let encoder = SentenceEncoder(tokenizer: tokenizer, model: model, config: config, pooling: pooling, directory: directory)
        encoder.stamps = stamps
        return encoder
    }

    /// Embeddings of `texts` ([hidden] each, unit length, in the order given), `batchSize` texts
    /// per forward. Texts are grouped by token count (longest first, as sentence-transformers
    /// does) so a batch pads little; each result is the same as embedding the text alone.
    /// Every node runs `compute` (set before the first batch).
    public func embed(_ texts: [String], batchSize: Int = 32, compute: Compute = Compute()) -> [[Float]] {
        precondition(batchSize >= 1, "SentenceEncoder.embed: batch size must be ≥ 1")
        let encoded = texts.map(tokenizer.encode)
        let order = encoded.indices.sorted { (encoded[$0].count, $1) > (encoded[$1].count, $0) }
        model.setPlan(compute)
        let h = dimension
        var out = [[Float]](repeating: [], count: texts.count)
        var start = 0
        while start < order.count {
            let chunk = order[start..<min(start + batchSize, order.count)]
            let batch = TokenBatch(sequences: chunk.map { encoded[$0] }, padId: tokenizer.padId)
            let e = model.forward(tokens: batch)
            for (b, index) in chunk.enumerated() { out[index] = Array(UnsafeBufferPointer(start: e.data + b * h, count: h)) }
            start += batchSize
        }
        return out
    }

    /// The embedding size.
    public var dimension: Int {
        guard case .embedding(let d) = model.descriptor.output else { return 0 }
        return d
    }
}
