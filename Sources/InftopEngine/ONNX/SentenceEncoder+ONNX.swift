extension SentenceEncoder {
    /// A sentence encoder from an ONNX export (`ONNXBert`) and a tokenizer folder (`vocab.txt`,
    /// optional `tokenizer_config.json`), since ONNX files carry no tokenizer. Mean pooling and
    /// unit-length vectors, as the export computes them.
    /// - Throws: `EngineError`, one line (the file or the tokenizer folder named).
    public static func load(onnx path: String, tokenizer directory: String, pruneUnits: Double = 0) throws -> SentenceEncoder {
        let stamps = Self.stamps(of: [path, directory + "/vocab.txt", directory + "/tokenizer_config.json"])
        let (model, config) = try ONNXBert.load(path: path, pruneUnits: pruneUnits)
        let tokenizer = try WordPieceTokenizer.load(directory: directory, maxPositions: config.maxPositions)
        guard tokenizer.vocabSize <= config.vocabSize else {
            throw EngineError.badFile(path: directory + "/vocab.txt",
                                      reason: "\(tokenizer.vocabSize) tokens but \(path)'s word embeddings hold \(config.vocabSize)")
        }
        let encoder = SentenceEncoder(tokenizer: tokenizer, model: model, config: config, pooling: .mean, directory: directory)
        encoder.onnxPath = path
        encoder.stamps = stamps
        return encoder
    }
}
