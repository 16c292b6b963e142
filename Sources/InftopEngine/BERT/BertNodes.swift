import InftopTelemetry

/// Activation buffers one BERT forward reuses across its layers (every layer's node of a kind
/// writes the same buffer, as the fused encoder always did). Sized per forward for
/// M = batch × seq tokens; capacity is kept for the largest M seen.
final class BertActivations {
    /// [M, H] hidden states: the embeddings, then each layer's output (the residual stream,
    /// updated in place by the LayerNorm nodes).
    let hidden = Tensor([0], name: "bert.hidden")
    /// [3H, M] fused Q|K|V projection, feature-major (without bias).
    let qkvT = Tensor([0], name: "bert.qkvT")
    /// [H, M] attention context, feature-major.
    let contextT = Tensor([0], name: "bert.contextT")
    /// [M, H] output of the attention-out and FFN-down projections.
    let proj = Tensor([0], name: "bert.proj")
    /// [M, F] feed-forward hidden.
    let ffn = Tensor([0], name: "bert.ffn")
    /// [B, H] sentence embeddings.
    let pooled = Tensor([0], name: "bert.pooled")
    let scratch = AttentionScratch()
}

/// How a projection's operands are laid out (the fused encoder keeps Q|K|V and the attention
/// context feature-major, so attention needs no transposition).
public enum ProjectionLayout: Sendable {
    /// y[M, N] = x[M, K] · Wᵀ.
    case rowMajor
    /// yᵀ[N, M] = W · xᵀ: x is [M, K], the output feature-major.
    case featureMajorOut
    /// y[M, N] = (xᵀ)ᵀ · Wᵀ: x is stored feature-major [K, M].
    case featureMajorIn
}

/// A weight-bearing GEMM node without its bias (the next fused node adds it): BERT's Q|K|V,
/// attention output, FFN up and down. Weight `[N, K]` (nn.Linear layout), viewed in the
/// mapped file or fused at load.
public final class ProjectionNode: Node {
    public let name: String
    public var kind: NodeKind { .linear }
    /// `[N, K]`.
    public let weight: WeightBuffer
    public let layout: ProjectionLayout
    public let outFeatures: Int, inFeatures: Int
    /// Where the output goes ([M, N] or [N, M]); shared with the other layers' nodes.
    let output: Tensor
    let ownsOutput: Bool
    /// The weight's int8 form for `precision == .int8`: built once (loaded weights never change),
    /// or the file's own (`fileInt8`).
    public internal(set) var q8: QuantizedWeights?
    /// Whether `q8` is the int8 form the file held (a dynamic-int8 ONNX file's codes and scales,
    /// taken as they are) rather than inftop's quantization of the fp32 weight.
    public let int8FromFile: Bool
    /// Under an unstructured pruning plan: the pruned copy of `weight` `[N, K]`, its CSR form and
    /// measured choice (ProjectionNode+Sparse.swift); nil / empty when unpruned.
    var prunedWeight: Tensor?
    let sparseWeights = SparseWeightCache()
    /// Token rows of the last forward (the layer table's format is the one forward ran at).
    public private(set) var lastRows = 0

    /// `fileInt8`: the weight's int8 form as the file holds it (`weight` is then its dequantized
    /// values), `[outFeatures, inFeatures]`.
    init(name: String, weight: WeightBuffer, layout: ProjectionLayout, output: Tensor, ownsOutput: Bool, fileInt8: QuantizedWeights? = nil) {
        precondition(weight.shape.count == 2, "ProjectionNode '\(name)': weight shape \(weight.shape) is not [out, in]")
        self.name = name; self.weight = weight; self.layout = layout; self.output = output; self.ownsOutput = ownsOutput
        outFeatures = weight.shape[0]; inFeatures = weight.shape[1]
        if let q = fileInt8 { precondition(q.n == outFeatures && q.k == inFeatures, "ProjectionNode '\(name)': file int8 form \(q.n)×\(q.k), weight \(weight.shape)") }
        q8 = fileInt8
        int8FromFile = fileInt8 != nil
    }

    public var weightBytes: Int { weight.count * 4 + (q8?.bytes ?? 0) + sparseWeightBytes }
    public var activationBytes: Int { ownsOutput ? output.bytes : 0 }

    public func outputShape(_ inputs: [[Int]]) -> [Int] {
        let x = inputs[0]
        switch layout {
        case .rowMajor: precondition(x.count == 2 && x[1] == inFeatures, "\(name): input \(x), expected [tokens, \(inFeatures)]"); return [x[0], outFeatures]
        case .featureMajorOut: precondition(x.count == 2 && x[1] == inFeatures, "\(name): input \(x), expected [tokens, \(inFeatures)]"); return [outFeatures, x[0]]
        case .featureMajorIn: precondition(x.count == 2 && x[0] == inFeatures, "\(name): input \(x), expected [\(inFeatures), tokens]"); return [x[1], outFeatures]
        }
    }

    /// The int8 form (quantized per output channel on first use).
    func int8() -> QuantizedWeights {
        if let q = q8 { return q }
        let q = QuantizedWeights(weight.pointer, n: outFeatures, k: inFeatures)
        q8 = q
        return q
    }

    public func forward(_ inputs: [Tensor], _ plan: Compute, _ context: ForwardContext) -> Tensor {
        let x = inputs[0], N = outFeatures, K = inFeatures
        if plan.precision == .int8 {
            // Activations are quantized per row on the fly; the bias is the next node's, as in fp32.
            let q = int8()
            switch layout {
            case .rowMajor:
                let M = x.shape[0]
                output.resize([M, N])
                Int8Gemm.run(plan, m: M, k: K, x: x.data, ldx: K, weights: q, y: output.data, ldy: N)
            case .featureMajorOut:
                let M = x.shape[0]
                output.resize([N, M])
                Int8Gemm.run(plan, m: M, k: K, x: x.data, ldx: K, weights: q, y: output.data, ldy: M, transY: true)
            case .featureMajorIn:
                let M = x.shape[1]
                output.resize([M, N])
                Int8Gemm.run(plan, m: M, k: K, x: x.data, ldx: M, transX: true, weights: q, y: output.data, ldy: N)
            }
            return output
        }
        let M = layout == .featureMajorIn ? x.shape[1] : x.shape[0]
        output.resize(layout == .featureMajorOut ? [N, M] : [M, N])
        lastRows = M
        if plan.sparsity > 0, let pruned = prunedWeight {
            // Pruned: CSR where it measured faster at this many tokens, else dense on the pruned copy.
            if runsSparse(tokens: M) {
                sparseForward(SparseGemm.tier(plan.backend), rows: M, x: x.data, weights: sparseWeights.weights(for: pruned, n: N, k: K),
                              y: output.data, scratch: sparseWeights.scratch)
            } else {
                denseForward(plan, rows: M, x: x.data, w: pruned.data, y: output.data)
            }
            return output
        }
        denseForward(plan, rows: M, x: x.data, w: weight.pointer, y: output.data)
        return output
    }
}

/// out[t] = LayerNorm(word[ids[t]] + position[t mod seq] + type[types[t]]): reads the token
/// batch of the forward context; writes the residual stream [M, H].
final class BertEmbeddingsNode: Node {
    let name = "embeddings"
    var kind: NodeKind { .embedding }
    /// [V, H], [P, H], [T, H] tables; [H] LayerNorm gamma, beta.
    let word: WeightBuffer, position: WeightBuffer, type: WeightBuffer, gamma: WeightBuffer, beta: WeightBuffer
    let eps: Float
    let acts: BertActivations
    /// [H] zeros: the reference LayerNorm's "sub-layer output" (the sum is the residual).
    private let zeros: WeightBuffer

    init(word: WeightBuffer, position: WeightBuffer, type: WeightBuffer, gamma: WeightBuffer, beta: WeightBuffer,
         eps: Float, acts: BertActivations) {
        self.word = word; self.position = position; self.type = type; self.gamma = gamma; self.beta = beta
        self.eps = eps; self.acts = acts
        zeros = WeightBuffer(name: "embeddings.zeros", shape: [word.shape[1]], owner: .other)
    }

    var weightBytes: Int { (word.count + position.count + type.count + gamma.count + beta.count) * 4 }
    var activationBytes: Int { acts.hidden.bytes }
    func outputShape(_ inputs: [[Int]]) -> [Int] { [inputs[0].reduce(1, *), word.shape[1]] }

    func forward(_ inputs: [Tensor], _ plan: Compute, _ context: ForwardContext) -> Tensor {
        guard let batch = context.tokens else { preconditionFailure("embeddings: a forward without a token batch") }
        let H = word.shape[1], V = word.shape[0], TV = type.shape[0], S = batch.seq, M = batch.batch * S
        precondition(S <= position.shape[0], "embeddings: sequence length \(S) exceeds max_position_embeddings \(position.shape[0])")
        for t in 0..<M {
            precondition(batch.ids[t] >= 0 && Int(batch.ids[t]) < V, "embeddings: token id \(batch.ids[t]) outside the vocabulary (0..<\(V))")
            precondition(batch.typeIds[t] >= 0 && Int(batch.typeIds[t]) < TV, "embeddings: token type \(batch.typeIds[t]) outside 0..<\(TV)")
        }
        acts.hidden.resize([M, H])
        nonisolated(unsafe) let out = acts.hidden.data
        nonisolated(unsafe) let w = word.pointer, p = position.pointer, ty = type.pointer, g = gamma.pointer, b = beta.pointer
        let z = zeros.pointer, eps = self.eps, reference = plan.backend == .reference
        batch.ids.withUnsafeBufferPointer { idsBuf in
            batch.typeIds.withUnsafeBufferPointer { typesBuf in
                nonisolated(unsafe) let ids = idsBuf.baseAddress!, types = typesBuf.baseAddress!
                BertKernels.parallelRows(M, threads: reference ? 1 : plan.threads, minRowsPerThread: 32) { range in
                    for t in range {
                        let row = out + t * H
                        let we = w + Int(ids[t]) * H, pe = p + (t % S) * H, te = ty + Int(types[t]) * H
                        for c in 0..<H { row[c] = we[c] + pe[c] + te[c] }
                        if reference {
                            BertKernels.biasResidualLayerNormReference(z, bias: nil, residual: row, gamma: g, beta: b, rows: 1, cols: H, eps: eps)
                        } else {
                            BertKernels.layerNormRow(row, gamma: g, beta: b, n: H, eps: eps)
                        }
                    }
                }
            }
        }
        return acts.hidden
    }
}

/// Multi-head masked self-attention over the feature-major Q|K|V (BertKernels.attention):
/// inputs [qkvᵀ [3H, M]]; output the context [H, M]. Adds the Q|K|V bias (the projection's).
final class BertAttentionNode: Node {
    let name: String
    var kind: NodeKind { .attention }
    /// [3H] = bq | bk | bv (counted with the Q|K|V node's weights: no bytes here).
    let bias: WeightBuffer
    let heads: Int, headSize: Int
    let acts: BertActivations
    let ownsOutput: Bool

    init(name: String, bias: WeightBuffer, heads: Int, headSize: Int, acts: BertActivations, ownsOutput: Bool) {
        self.name = name; self.bias = bias; self.heads = heads; self.headSize = headSize; self.acts = acts; self.ownsOutput = ownsOutput
    }

    var weightBytes: Int { bias.count * 4 }
    var activationBytes: Int { ownsOutput ? acts.contextT.bytes + acts.scratch.buffers.reduce(0) { $0 + $1.bytes } : 0 }
    func outputShape(_ inputs: [[Int]]) -> [Int] { [heads * headSize, inputs[0][1]] }

    func forward(_ inputs: [Tensor], _ plan: Compute, _ context: ForwardContext) -> Tensor {
        guard let batch = context.tokens else { preconditionFailure("\(name): a forward without a token batch") }
        let qkvT = inputs[0], M = qkvT.shape[1], H = heads * headSize
        acts.contextT.resize([H, M])
        batch.mask.withUnsafeBufferPointer { maskBuf in
            if plan.backend == .reference {
                BertKernels.attentionReference(qkvT: qkvT.data, bias: bias.pointer, mask: maskBuf.baseAddress!, contextT: acts.contextT.data,
                                               batch: batch.batch, seq: batch.seq, heads: heads, headSize: headSize)
            } else {
                BertKernels.attention(qkvT: qkvT.data, bias: bias.pointer, mask: maskBuf.baseAddress!, contextT: acts.contextT.data,
                                      batch: batch.batch, seq: batch.seq, heads: heads, headSize: headSize,
                                      scratch: acts.scratch, threads: plan.threads, isa: plan.isa)
            }
        }
        return acts.contextT
    }
}

/// residual = LayerNorm(y + bias + residual) · gamma + beta (BERT's post-LN): inputs
/// [y [M, H], residual [M, H]]; updates the residual stream in place and returns it.
final class BertAddNormNode: Node {
    let name: String
    var kind: NodeKind { .normalization }
    /// [H] the sub-layer's output bias, [H] gamma, [H] beta.
    let bias: WeightBuffer, gamma: WeightBuffer, beta: WeightBuffer
    let eps: Float

    init(name: String, bias: WeightBuffer, gamma: WeightBuffer, beta: WeightBuffer, eps: Float) {
        self.name = name; self.bias = bias; self.gamma = gamma; self.beta = beta; self.eps = eps
    }

    var weightBytes: Int { (bias.count + gamma.count + beta.count) * 4 }
    var activationBytes: Int { 0 }
    func outputShape(_ inputs: [[Int]]) -> [Int] {
        precondition(inputs.count == 2 && inputs[0] == inputs[1], "\(name): inputs \(inputs) must be two equal [tokens, hidden] shapes")
        return inputs[1]
    }

    func forward(_ inputs: [Tensor], _ plan: Compute, _ context: ForwardContext) -> Tensor {
        let y = inputs[0], residual = inputs[1], rows = y.shape[0], cols = y.shape[1]
        if plan.backend == .reference {
            BertKernels.biasResidualLayerNormReference(y.data, bias: bias.pointer, residual: residual.data, gamma: gamma.pointer,
                                                       beta: beta.pointer, rows: rows, cols: cols, eps: eps)
        } else {
            BertKernels.biasResidualLayerNorm(y.data, bias: bias.pointer, residual: residual.data, gamma: gamma.pointer,
                                              beta: beta.pointer, rows: rows, cols: cols, eps: eps, threads: plan.threads)
        }
        return residual
    }
}

/// x = act(x + bias) in place (the FFN's up-projection output [M, F]).
final class BertBiasActivationNode: Node {
    let name: String
    var kind: NodeKind { .activation }
    /// [F].
    let bias: WeightBuffer
    let activation: BertActivation

    init(name: String, bias: WeightBuffer, activation: BertActivation) {
        self.name = name; self.bias = bias; self.activation = activation
    }

    var weightBytes: Int { bias.count * 4 }
    var activationBytes: Int { 0 }
    func outputShape(_ inputs: [[Int]]) -> [Int] { inputs[0] }

    func forward(_ inputs: [Tensor], _ plan: Compute, _ context: ForwardContext) -> Tensor {
        let x = inputs[0]
        if plan.backend == .reference {
            BertKernels.biasActivationReference(x.data, bias: bias.pointer, rows: x.shape[0], cols: x.shape[1], activation: activation)
        } else {
            BertKernels.biasActivation(x.data, bias: bias.pointer, rows: x.shape[0], cols: x.shape[1], activation: activation, threads: plan.threads)
        }
        return x
    }
}

/// Pools the attended rows of each sequence (the pooling the folder declares) and
/// L2-normalises: inputs [hidden [M, H]]; output [B, H], unit rows.
final class BertPoolingNode: Node {
    let name = "pooling"
    var kind: NodeKind { .pooling }
    let mode: BertPooling
    let acts: BertActivations

    init(mode: BertPooling, acts: BertActivations) { self.mode = mode; self.acts = acts }

    var weightBytes: Int { 0 }
    var activationBytes: Int { acts.pooled.bytes }
    func outputShape(_ inputs: [[Int]]) -> [Int] { [inputs[0][0], inputs[0][1]] }

    func forward(_ inputs: [Tensor], _ plan: Compute, _ context: ForwardContext) -> Tensor {
        guard let batch = context.tokens else { preconditionFailure("pooling: a forward without a token batch") }
        let x = inputs[0], H = x.shape[1]
        acts.pooled.resize([batch.batch, H])
        batch.mask.withUnsafeBufferPointer { mask in
            BertPoolingNode.pool(x.data, mask: mask.baseAddress!, out: acts.pooled.data, batch: batch.batch, seq: batch.seq, hidden: H, mode: mode)
        }
        return acts.pooled
    }

    /// Pools the attended rows of each sequence into out[b] and L2-normalises it
    /// (x / max(‖x‖, 1e-12), as torch.nn.functional.normalize). Plain loops: this is its own reference.
    static func pool(_ x: UnsafePointer<Float>, mask: UnsafePointer<Int32>, out: UnsafeMutablePointer<Float>,
                     batch: Int, seq: Int, hidden H: Int, mode: BertPooling) {
        for b in 0..<batch {
            let o = out + b * H
            var count = 0
            switch mode {
            case .cls:
                o.update(from: x + b * seq * H, count: H)
            case .mean, .meanSqrtLen:
                o.update(repeating: 0, count: H)
                for t in 0..<seq where mask[b * seq + t] != 0 {
                    let row = x + (b * seq + t) * H
                    for c in 0..<H { o[c] += row[c] }
                    count += 1
                }
                let div = mode == .mean ? Float(max(count, 1)) : Float(max(count, 1)).squareRoot()
                for c in 0..<H { o[c] /= div }
            case .max:
                o.update(repeating: -.greatestFiniteMagnitude, count: H)
                for t in 0..<seq where mask[b * seq + t] != 0 {
                    let row = x + (b * seq + t) * H
                    for c in 0..<H { o[c] = Swift.max(o[c], row[c]) }
                    count += 1
                }
                if count == 0 { o.update(repeating: 0, count: H) }
            }
            var ss: Float = 0
            for c in 0..<H { ss += o[c] * o[c] }
            let inv = 1 / Swift.max(ss.squareRoot(), 1e-12)
            for c in 0..<H { o[c] *= inv }
        }
    }
}
