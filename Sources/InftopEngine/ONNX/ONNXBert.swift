import ONNXProto

/// BERT-family sentence encoders exported to ONNX (`torch.onnx.export` of a Hugging Face
/// BertModel with mean pooling and L2 normalisation inside, as the peers' MiniLM export is),
/// recognised as a whole and mapped onto inftop's fused BERT nodes (BertNodes.swift):
///
/// - the three embedding Gathers (by the graph input their indices come from), the
///   LayerNormalization nodes in order (embeddings, then two per layer: attention output, FFN
///   output; their `epsilon`), and the MatMul + Add pairs with constant weights, six per layer;
/// - within a layer, Q, K and V are told apart by where their outputs flow (through Reshape,
///   Transpose and scaling Mul/Div): Q and K into the scores MatMul as its first and second
///   operand, V into the context MatMul; then the attention output, FFN up (to the intermediate
///   width) and FFN down;
/// - heads from the folded target shape of the Reshape after the Q projection, the activation
///   from the Erf nodes (exact GELU), the pooling from ReduceSum (masked mean).
///
/// Everything else in the graph (the attention mask's arithmetic, Softmax, the NaN guards,
/// the pooling's Clip/Div, ReduceL2) is what those fused nodes compute. An op outside that set
/// is refused with its node named.
public enum ONNXBert {
    /// Ops such an export holds; any other op is refused (named with its node).
    static let ops: Set<String> = ONNXFold.ops.union([
        "Shape", "Gather", "MatMul", "LayerNormalization", "Softmax", "Erf", "Where", "IsNaN", "And", "Or", "Not",
        "GreaterOrEqual", "Greater", "Less", "LessOrEqual", "Max", "Min", "GatherND", "ReduceSum", "ReduceMean", "ReduceL2",
        "Clip", "Pow", "Tanh", "Softmax", "Sub", "Dropout",
    ])

    /// Whether the file's graph takes token ids (`input_ids`): a text encoder, not an image model.
    public static func isTextEncoder(path: String) throws -> Bool {
        try ONNXFile(path: path).graph.input.contains { $0.name == "input_ids" }
    }

    /// The encoder in `path` and the config it implies.
    /// - Throws: `EngineError` naming the file and the node or tensor when the graph is not a
    ///   BERT encoder inftop recognises (one line).
    public static func load(path: String, pruneUnits: Double = 0) throws -> (model: Model, config: BertConfig) {
        let file = try ONNXFile(path: path)
        func bad(_ m: String) -> EngineError { EngineError.badFile(path: path, reason: m) }
        let graph = file.graph
        let inputNames = Set(graph.input.map(\.name)).subtracting(file.initializers.keys)
        guard inputNames.contains("input_ids"), inputNames.contains("attention_mask"),
              inputNames.isSubset(of: ["input_ids", "attention_mask", "token_type_ids"]) else {
            throw bad("graph inputs \(inputNames.sorted()) are not a text encoder's (input_ids, attention_mask[, token_type_ids])")
        }
        // A dynamic-int8 file's quantized MatMuls and embeddings, as fp32 MatMuls and tables (ONNXQuantized).
        let (nodes, dequantized, int8) = try ONNXQuantized.rewrite(graph.node, initializers: file.initializers, fail: bad)
        for (i, n) in nodes.enumerated() where !ops.contains(n.opType) || !(n.domain.isEmpty || n.domain == "ai.onnx") {
            throw bad("node '\(n.name.isEmpty ? "\(n.opType)_\(i)" : n.name)' (\(n.opType)): op \(n.opType) is not supported in a BERT encoder")
        }
        // Constants: initializers, then whatever folds for a [2, 16] token batch.
        let (batch, seq) = (2, 16)
        var known = file.initializers.merging(dequantized) { a, _ in a }
        for n in nodes {
            let x = n.input.map { $0.isEmpty ? nil : known[$0] }
            if n.opType == "Shape", let src = n.input.first, inputNames.contains(src) {
                let attrs = ONNXAttributes(n)
                let full: [Int64] = [Int64(batch), Int64(seq)]
                let s = Int(attrs.int("start") ?? 0), e = Int(attrs.int("end") ?? 2)
                func clamp(_ a: Int) -> Int { min(max(a < 0 ? a + 2 : a, 0), 2) }
                known[n.output[0]] = ONNXConstant(vector: Array(full[clamp(s)..<max(clamp(s), clamp(e))]))
                continue
            }
            guard ONNXFold.ops.contains(n.opType), zip(n.input, x).allSatisfy({ $0.0.isEmpty || $0.1 != nil }) else { continue }
            if let r = try? ONNXFold.evaluate(n, x, opset: file.opset, fail: { EngineError.invalid(what: "fold", reason: $0) }) {
                for (k, v) in r.enumerated() where k < n.output.count { known[n.output[k]] = v }
            }
        }
        var consumers: [String: [Int]] = [:]
        for (i, n) in nodes.enumerated() { for v in n.input where !v.isEmpty { consumers[v, default: []].append(i) } }
        var weights: [String: (shape: [Int], values: [Float])] = [:]
        var codes: [String: ONNXInt8Weight] = [:]

        // Embeddings.
        var word: ONNXConstant?
        for n in nodes where n.opType == "Gather" {
            guard let table = known[n.input[0]], table.shape.count == 2 else { continue }
            let role: String
            switch n.input[1] {
            case "input_ids": role = "word"; word = table
            case "token_type_ids": role = "token_type"
            default: role = table.shape[0] <= 16 ? "token_type" : "position"
            }
            if role == "position", let ids = known[n.input[1]], ids.ints != (0..<Int64(ids.count)).map({ $0 }) {
                throw bad("node '\(n.name)': position ids \(ids.ints.prefix(4))… are not 0, 1, 2, …")
            }
            weights["embeddings.\(role)_embeddings.weight"] = (table.shape, table.floats)
        }
        guard let word else { throw bad("no Gather of a word-embedding table by input_ids") }
        let hidden = word.shape[1]
        if weights["embeddings.token_type_embeddings.weight"] == nil {
            weights["embeddings.token_type_embeddings.weight"] = ([1, hidden], Array(repeating: 0, count: hidden))
        }
        guard let position = weights["embeddings.position_embeddings.weight"] else { throw bad("no position-embedding Gather") }

        // LayerNorms.
        let norms = nodes.filter { $0.opType == "LayerNormalization" }
        guard norms.count >= 3, norms.count % 2 == 1 else { throw bad("\(norms.count) LayerNormalization nodes; a BERT encoder has 1 + 2 per layer") }
        let layers = (norms.count - 1) / 2
        var eps: Float = 1e-12
        for (k, n) in norms.enumerated() {
            guard n.input.count >= 3, let g = known[n.input[1]], let b = known[n.input[2]], g.count == hidden, b.count == hidden else {
                throw bad("node '\(n.name)' (LayerNormalization): needs constant scale and bias of \(hidden)")
            }
            let base = k == 0 ? "embeddings.LayerNorm" : "encoder.layer.\((k - 1) / 2).\(k % 2 == 1 ? "attention.output" : "output").LayerNorm"
            weights[base + ".weight"] = ([hidden], g.floats)
            weights[base + ".bias"] = ([hidden], b.floats)
            eps = ONNXAttributes(n).float("epsilon") ?? 1e-5
        }

        // Projections: MatMul with constant [in, out] weights and the Add of their bias.
        struct Projection { var node: Int; var weight: ONNXConstant; var int8: ONNXInt8Weight?; var bias: ONNXConstant; var out: String }
        var projections: [Projection] = []
        for (i, n) in nodes.enumerated() where n.opType == "MatMul" {
            guard let w = known[n.input[1]], w.shape.count == 2 else { continue }
            guard let uses = consumers[n.output[0]], uses.count == 1, nodes[uses[0]].opType == "Add" else {
                throw bad("node '\(n.name)' (MatMul): its output is not one Add of a bias")
            }
            let add = nodes[uses[0]]
            guard let b = add.input.compactMap({ known[$0] }).first, b.count == w.shape[1] else {
                throw bad("node '\(add.name)' (Add): not a bias of \(w.shape[1]) for MatMul '\(n.name)'")
            }
            projections.append(Projection(node: i, weight: w, int8: int8[n.input[1]], bias: b, out: add.output[0]))
        }
        guard projections.count == 6 * layers else {
            throw bad("\(projections.count) MatMul nodes with constant weights; \(layers) layers need \(6 * layers)")
        }
        /// Where a value flows through layout and scaling ops: the first MatMul of two computed operands, and which operand.
        func target(of value: String) -> (node: Int, slot: Int)? {
            var frontier = [value], seen: Set<String> = []
            while let v = frontier.popLast() {
                guard seen.insert(v).inserted else { continue }
                for c in consumers[v] ?? [] {
                    let n = nodes[c]
                    if n.opType == "MatMul", known[n.input[0]] == nil, known[n.input[1]] == nil { return (c, n.input.firstIndex(of: v)!) }
                    if ["Reshape", "Transpose", "Mul", "Div", "Unsqueeze", "Squeeze", "Identity"].contains(n.opType) { frontier += n.output }
                }
            }
            return nil
        }
        var heads = 0, intermediate = 0
        for l in 0..<layers {
            let p = Array(projections[(6 * l)..<(6 * l + 6)])
            let flows = try p[0..<3].map { q -> (node: Int, slot: Int) in
                guard let t = target(of: q.out) else { throw bad("node '\(nodes[q.node].name)': a projection that feeds no attention MatMul") }
                return t
            }
            let scores = flows.map(\.node).min()!
            guard let qi = flows.firstIndex(where: { $0.node == scores && $0.slot == 0 }), let ki = flows.firstIndex(where: { $0.node == scores && $0.slot == 1 }),
                  let vi = flows.firstIndex(where: { $0.node != scores && $0.slot == 1 }) else {
                throw bad("layer \(l): the Q, K, V projections do not meet in scores = Q·Kᵀ and context = probs·V")
            }
            let prefix = "encoder.layer.\(l)."
            let roles = [(p[qi], "attention.self.query"), (p[ki], "attention.self.key"), (p[vi], "attention.self.value"),
                         (p[3], "attention.output.dense"), (p[4], "intermediate.dense"), (p[5], "output.dense")]
            for (proj, role) in roles {
                let (k, n) = (proj.weight.shape[0], proj.weight.shape[1])
                let wv = proj.weight.floats
                var t = [Float](repeating: 0, count: k * n)
                for i in 0..<k { for j in 0..<n { t[j * k + i] = wv[i * n + j] } }
                weights[prefix + role + ".weight"] = ([n, k], t)
                weights[prefix + role + ".bias"] = ([n], proj.bias.floats)
                codes[prefix + role + ".weight"] = proj.int8
            }
            intermediate = p[4].weight.shape[1]
            guard p[5].weight.shape == [intermediate, hidden], p[3].weight.shape == [hidden, hidden] else {
                throw bad("layer \(l): projections \(p.map(\.weight.shape)) are not Q, K, V, output [\(hidden), \(hidden)], up, down")
            }
            // Heads: the Reshape of Q's output to [batch, seq, heads, head size].
            if l == 0 {
                for c in consumers[p[qi].out] ?? [] where nodes[c].opType == "Reshape" {
                    if let t = known[nodes[c].input[1]],
                       let shape = try? ONNXFold.reshapeTarget([batch, seq, hidden], t.ints, allowZero: false, fail: bad), shape.count == 4 {
                        heads = shape[2]
                    }
                }
                guard heads >= 1, hidden % heads == 0 else { throw bad("layer 0: no Reshape of Q into [batch, seq, heads, head size]") }
            }
        }
        let erfs = nodes.filter { $0.opType == "Erf" }.count
        guard erfs == layers else { throw bad("\(erfs) Erf nodes for \(layers) layers: inftop maps the exact (Erf) GELU") }
        guard nodes.contains(where: { $0.opType == "ReduceSum" }) else {
            throw bad("no ReduceSum: inftop maps mean pooling over the attention mask")
        }
        let config = BertConfig(hiddenSize: hidden, layers: layers, heads: heads, intermediateSize: intermediate,
                                maxPositions: position.shape[0], vocabSize: word.shape[0],
                                typeVocabSize: weights["embeddings.token_type_embeddings.weight"]!.shape[0], layerNormEps: eps, activation: .gelu)
        let model = try BertModel.load(file: ONNXBertWeights(path: path, tensors: weights, codes: codes), config: config, pooling: .mean, source: path,
                                       pruneUnits: pruneUnits)
        return (model, config)
    }
}

/// Tensors found in an ONNX graph, by the Hugging Face names of their roles.
struct ONNXBertWeights: BertWeightSource {
    let path: String
    let tensors: [String: (shape: [Int], values: [Float])]
    /// The int8 codes and scales of a dynamic-int8 file's projections (`ONNXQuantized`), by role.
    let codes: [String: ONNXInt8Weight]

    func shape(of name: String) -> [Int]? { tensors[name]?.shape }

    func float32(_ name: String) throws -> WeightBuffer {
        guard let t = tensors[name] else { throw EngineError.badFile(path: path, reason: "no tensor in the role '\(name)'") }
        let w = WeightBuffer(name: name, shape: t.shape)
        t.values.withUnsafeBufferPointer { w.mutablePointer!.update(from: $0.baseAddress!, count: t.values.count) }
        return w
    }

    func int8(_ name: String) -> QuantizedWeights? {
        guard let c = codes[name] else { return nil }
        return c.codes.withUnsafeBufferPointer { q in
            c.scales.withUnsafeBufferPointer { QuantizedWeights(codes: q.baseAddress!, scales: $0.baseAddress!, n: c.n, k: c.k) }
        }
    }
}
