import Foundation
import XCTest
import InftopEngine

/// A 2-layer, 24-wide BERT folder with seeded random weights (config.json, vocab.txt,
/// model.safetensors), for serving tests that need a real encoder but not MiniLM's 90 MB.
enum TinyBert {
    static func write(to dir: String, seed: UInt64 = 1) throws {
        let h = 24, f = 40, layers = 2, vocab = 30, maxPos = 32
        let config = """
            {"architectures":["BertModel"],"model_type":"bert","hidden_size":\(h),"num_hidden_layers":\(layers),
             "num_attention_heads":3,"intermediate_size":\(f),"max_position_embeddings":\(maxPos),
             "vocab_size":\(vocab),"type_vocab_size":2,"layer_norm_eps":1e-12,"hidden_act":"gelu"}
            """
        try config.write(toFile: dir + "/config.json", atomically: true, encoding: .utf8)
        let words = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", "the", "cat", "sat", "on", "mat", "a", "dog", "##s", ".", "ran", "and"]
        try (words.joined(separator: "\n") + "\n").write(toFile: dir + "/vocab.txt", atomically: true, encoding: .utf8)
        var rng = SeededRandom(seed: seed)
        var tensors: [(name: String, tensor: Tensor)] = []
        func add(_ name: String, _ shape: [Int], scale: Float = 0.3, offset: Float = 0) {
            let t = Tensor(shape, name: name)
            rng.fillUniform(t, offset - scale, offset + scale)
            tensors.append((name, t))
        }
        add("embeddings.word_embeddings.weight", [vocab, h], scale: 1)
        add("embeddings.position_embeddings.weight", [maxPos, h], scale: 0.5)
        add("embeddings.token_type_embeddings.weight", [2, h], scale: 0.5)
        add("embeddings.LayerNorm.weight", [h], scale: 0.2, offset: 1)
        add("embeddings.LayerNorm.bias", [h], scale: 0.1)
        for i in 0..<layers {
            let p = "encoder.layer.\(i)."
            for part in ["query", "key", "value"] {
                add(p + "attention.self.\(part).weight", [h, h]); add(p + "attention.self.\(part).bias", [h], scale: 0.2)
            }
            add(p + "attention.output.dense.weight", [h, h]); add(p + "attention.output.dense.bias", [h], scale: 0.1)
            add(p + "attention.output.LayerNorm.weight", [h], scale: 0.2, offset: 1); add(p + "attention.output.LayerNorm.bias", [h], scale: 0.1)
            add(p + "intermediate.dense.weight", [f, h]); add(p + "intermediate.dense.bias", [f], scale: 0.1)
            add(p + "output.dense.weight", [h, f]); add(p + "output.dense.bias", [h], scale: 0.1)
            add(p + "output.LayerNorm.weight", [h], scale: 0.2, offset: 1); add(p + "output.LayerNorm.bias", [h], scale: 0.1)
        }
        try SafeTensorsWriter.write(path: dir + "/model.safetensors", tensors: tensors, metadata: ["format": "pt"])
    }

    /// The tiny encoder loaded from a fresh temporary folder that `test` removes when it ends.
    static func encoder(for test: XCTestCase) throws -> SentenceEncoder {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("inftop-tinybert-\(getpid())-\(UUID().uuidString.prefix(6))").path
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        test.addTeardownBlock { try? FileManager.default.removeItem(atPath: dir) }
        try write(to: dir)
        return try SentenceEncoder.load(directory: dir)
    }
}
