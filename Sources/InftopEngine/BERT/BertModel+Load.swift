import Foundation

/// Where a BERT encoder's weights come from, by Hugging Face names ("embeddings.…",
/// "encoder.layer.0.attention.self.query.weight", optionally under "bert.").
public protocol BertWeightSource {
    /// The file, for error lines.
    var path: String { get }
    /// The tensor's shape, nil when there is none of that name.
    func shape(of name: String) -> [Int]?
    /// The tensor as fp32.
    func float32(_ name: String) throws -> WeightBuffer
    /// The tensor's own int8 form when the file holds its weights quantized (a dynamic-int8 ONNX
    /// file's codes and scales), nil otherwise: the int8 plan then quantizes the fp32 weights.
    func int8(_ name: String) -> QuantizedWeights?
}

extension BertWeightSource {
    public func int8(_ name: String) -> QuantizedWeights? { nil }
}

extension SafeTensorsFile: BertWeightSource {
    public func shape(of name: String) -> [Int]? { info(name)?.shape }
    public func float32(_ name: String) throws -> WeightBuffer { try float32(name, owner: .weightsFP32) }
}

extension BertModel {
    /// Loads a Hugging Face BERT-family folder: `config.json`, `model.safetensors` (weights by
    /// HF names, with or without a "bert." prefix) and, when present, `1_Pooling/config.json`
    /// (mean pooling otherwise). Throws `EngineError.missing` for an absent file and
    /// `EngineError.badFile` naming the file and tensor for a missing or mis-shaped weight.
    /// `pruneUnits` > 0 removes that fraction of every layer's attention heads and FFN channels
    /// at load (`BertPruning`): the projections' matrices shrink.
    public static func load(directory: String, pruneUnits: Double = 0) throws -> Model {
        let config = try BertConfig.load(path: directory + "/config.json")
        let pooling = try loadPooling(directory: directory)
        let weightsPath = directory + "/model.safetensors"
        guard FileManager.default.fileExists(atPath: weightsPath) else {
            let other = ["pytorch_model.bin", "model.safetensors.index.json", "tf_model.h5"]
                .first { FileManager.default.fileExists(atPath: directory + "/" + $0) }
            throw EngineError.missing(path: weightsPath, hint: other.map { "found \($0); only a single model.safetensors file is supported" }
                                          ?? "a BERT model folder needs model.safetensors")
        }
        let file = try SafeTensorsFile(path: weightsPath)
        return try load(file: file, config: config, pooling: pooling, source: directory, pruneUnits: pruneUnits)
    }

    /// Builds the model from weights by Hugging Face names (a safetensors file, or the tensors
    /// an ONNX file's graph holds in those roles: `ONNXBert`) and a config.
    public static func load(file: some BertWeightSource, config c: BertConfig, pooling: BertPooling = .mean, source: String? = nil,
                            pruneUnits: Double = 0) throws -> Model {
        precondition(pruneUnits >= 0 && pruneUnits < 1, "BertModel.load: pruneUnits \(pruneUnits) outside [0, 1)")
        let prefix = file.shape(of: "bert.embeddings.word_embeddings.weight") != nil ? "bert." : ""
        let h = c.hiddenSize, f = c.intermediateSize

        func weight(_ name: String, _ shape: [Int], alternative: String? = nil) throws -> WeightBuffer {
            var full = prefix + name
            if file.shape(of: full) == nil, let alt = alternative, file.shape(of: prefix + alt) != nil { full = prefix + alt }
            guard let found = file.shape(of: full) else {
                throw EngineError.badFile(path: file.path, reason: "missing tensor '\(full)' (expected \(shape) for this config)")
            }
            guard found == shape else {
                throw EngineError.badFile(path: file.path, reason: "tensor '\(full)' has shape \(found), config.json implies \(shape)")
            }
            return try file.float32(full)
        }
        /// LayerNorm parameters: "weight"/"bias", or the old TF names "gamma"/"beta".
        func norm(_ base: String) throws -> (WeightBuffer, WeightBuffer) {
            (try weight(base + ".weight", [h], alternative: base + ".gamma"), try weight(base + ".bias", [h], alternative: base + ".beta"))
        }

        let word = try weight("embeddings.word_embeddings.weight", [c.vocabSize, h])
        let pos = try weight("embeddings.position_embeddings.weight", [c.maxPositions, h])
        let type = try weight("embeddings.token_type_embeddings.weight", [c.typeVocabSize, h])
        let (eg, eb) = try norm("embeddings.LayerNorm")
        let acts = BertActivations()
        /// The file's int8 form of the projection made of `names` (stacked), when it has one for
        /// each and nothing was pruned away (pruning would select rows or columns of the codes).
        func fileInt8(_ names: [String]) -> QuantizedWeights? {
            guard pruneUnits == 0 else { return nil }
            let parts = names.compactMap { file.int8(prefix + $0) }
            guard parts.count == names.count else { return nil }
            return parts.count == 1 ? parts[0] : QuantizedWeights(stacking: parts)
        }
        var nodes: [any Node] = [BertEmbeddingsNode(word: word, position: pos, type: type, gamma: eg, beta: eb, eps: c.layerNormEps, acts: acts)]
        var inputs: [[String]] = [["input"]]
        var stream = "embeddings"
        for i in 0..<c.layers {
            let p = "encoder.layer.\(i).", n = "L\(i)."
            // Structured pruning (pruneUnits > 0): the heads and FFN channels kept, by importance.
            let wo = try weight(p + "attention.output.dense.weight", [h, h])
            let wUp = try weight(p + "intermediate.dense.weight", [f, h]), wDown = try weight(p + "output.dense.weight", [h, f])
            let heads = BertPruning.keptHeads(attentionOutput: wo, hidden: h, heads: c.heads, fraction: pruneUnits)
            let channels = BertPruning.keptChannels(up: wUp, down: wDown, hidden: h, intermediate: f, fraction: pruneUnits)
            let hk = heads.count * c.headSize
            // Fuse Wq|Wk|Wv once so the projection is one [M, H] × [H, 3H] GEMM (kept heads' rows only).
            let wqkv = WeightBuffer(name: n + "wqkv", shape: [3 * hk, h])
            let bqkv = WeightBuffer(name: n + "bqkv", shape: [3 * hk])
            for (j, part) in ["query", "key", "value"].enumerated() {
                let w = try weight(p + "attention.self.\(part).weight", [h, h])
                let b = try weight(p + "attention.self.\(part).bias", [h])
                for (slot, head) in heads.enumerated() {
                    let rows = head * c.headSize, to = j * hk + slot * c.headSize
                    wqkv.mutablePointer!.advanced(by: to * h).update(from: w.pointer + rows * h, count: c.headSize * h)
                    bqkv.mutablePointer!.advanced(by: to).update(from: b.pointer + rows, count: c.headSize)
                }
            }
            let (g1, b1n) = try norm(p + "attention.output.LayerNorm")
            let (g2, b2n) = try norm(p + "output.LayerNorm")
            let first = i == 0
            // QKVᵀ [3H, M] = Wqkv · Xᵀ: feature-major, so each head's Q, K, V rows are contiguous
            // over tokens and attention needs no transposition; attn_out reads the context
            // feature-major ([M, H] = (contextᵀ)ᵀ · Woᵀ).
            nodes += [
                ProjectionNode(name: n + "qkv", weight: wqkv, layout: .featureMajorOut, output: acts.qkvT, ownsOutput: first,
                               fileInt8: fileInt8(["query", "key", "value"].map { p + "attention.self.\($0).weight" })),
                BertAttentionNode(name: n + "attention", bias: bqkv, heads: heads.count, headSize: c.headSize, acts: acts, ownsOutput: first),
                ProjectionNode(name: n + "attn_out", weight: BertPruning.columns(wo, rows: h, keep: heads, group: c.headSize), layout: .featureMajorIn,
                               output: acts.proj, ownsOutput: first, fileInt8: fileInt8([p + "attention.output.dense.weight"])),
                BertAddNormNode(name: n + "ln1", bias: try weight(p + "attention.output.dense.bias", [h]), gamma: g1, beta: b1n, eps: c.layerNormEps),
                ProjectionNode(name: n + "ffn_up", weight: BertPruning.rows(wUp, cols: h, keep: channels), layout: .rowMajor,
                               output: acts.ffn, ownsOutput: first, fileInt8: fileInt8([p + "intermediate.dense.weight"])),
                BertBiasActivationNode(name: n + "gelu", bias: BertPruning.rows(try weight(p + "intermediate.dense.bias", [f]), cols: 1, keep: channels),
                                       activation: c.activation),
                ProjectionNode(name: n + "ffn_down", weight: BertPruning.columns(wDown, rows: h, keep: channels, group: 1), layout: .rowMajor,
                               output: acts.proj, ownsOutput: false, fileInt8: fileInt8([p + "output.dense.weight"])),
                BertAddNormNode(name: n + "ln2", bias: try weight(p + "output.dense.bias", [h]), gamma: g2, beta: b2n, eps: c.layerNormEps),
            ]
            inputs += [[stream], [n + "qkv"], [n + "attention"], [n + "attn_out", stream],
                       [n + "ln1"], [n + "ffn_up"], [n + "gelu"], [n + "ffn_down", n + "ln1"]]
            stream = n + "ln2"
        }
        nodes.append(BertPoolingNode(mode: pooling, acts: acts))
        inputs.append([stream])
        // The folder's name ("model" folders, as pip packages ship them, go by their parent's).
        let parts = (source ?? file.path).split(separator: "/").map(String.init)
        let name = parts.last == "model" && parts.count > 1 ? parts[parts.count - 2].replacingOccurrences(of: "_", with: "-") : (parts.last ?? "encoder")
        return Model(descriptor: descriptor(name: name, config: c), nodes: nodes, inputs: inputs)
    }

    /// The pooling `1_Pooling/config.json` asks for (mean when the file is absent). Exactly one
    /// mode may be on; concatenated modes are not supported (clear error).
    static func loadPooling(directory: String) throws -> BertPooling {
        let path = directory + "/1_Pooling/config.json"
        guard let data = FileManager.default.contents(atPath: path) else { return .mean }
        guard let obj = (try? JSONSerialization.jsonObject(with: data)) as? [String: Any] else {
            throw EngineError.badFile(path: path, reason: "not a JSON object")
        }
        let modes: [(String, BertPooling)] = [("pooling_mode_mean_tokens", .mean), ("pooling_mode_cls_token", .cls),
                                              ("pooling_mode_max_tokens", .max), ("pooling_mode_mean_sqrt_len_tokens", .meanSqrtLen)]
        let on = modes.filter { (obj[$0.0] as? Bool) == true }
        if let mode = obj["pooling_mode"] as? String, on.isEmpty {
            switch mode {
            case "mean": return .mean
            case "cls": return .cls
            case "max": return .max
            case "mean_sqrt_len_tokens": return .meanSqrtLen
            default: throw EngineError.badFile(path: path, reason: "pooling_mode '\(mode)' is not supported (mean, cls, max, mean_sqrt_len_tokens)")
            }
        }
        guard on.count <= 1 else {
            throw EngineError.badFile(path: path, reason: "\(on.map(\.0).joined(separator: " + ")) are all on; only one pooling mode is supported")
        }
        guard let mode = on.first?.1 else {
            throw EngineError.badFile(path: path, reason: "no supported pooling mode is on (mean, cls, max, mean_sqrt_len_tokens)")
        }
        return mode
    }
}
