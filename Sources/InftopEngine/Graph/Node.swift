import InftopTelemetry

/// What a node does, as the layer table and the plans see it.
public enum NodeKind: String, Sendable, Codable {
    /// Weight-bearing: a GEMM over weights (Linear, a projection, a convolution).
    case linear, convolution
    /// Token and position embeddings (weights, but looked up, not multiplied).
    case embedding
    /// Weight-free compute: activations, pooling, normalisation, attention, layout.
    case activation, pooling, normalization, attention, layout

    /// Whether precision, sparsity and the other weight plans apply to the node.
    public var isWeightBearing: Bool { self == .linear || self == .convolution }
}

/// What a forward pass carries besides its tensors: whether it trains, and, for token models,
/// the batch of token ids and its attention mask (read by the embedding and attention nodes).
public final class ForwardContext: @unchecked Sendable {
    public var training: Bool
    /// The token batch of a text model's forward; nil for image models.
    public var tokens: TokenBatch?

    public init(training: Bool = false, tokens: TokenBatch? = nil) {
        self.training = training
        self.tokens = tokens
    }
}

/// One named node of a `Model` graph: a layer or a fused block, owning its parameters, its
/// output buffer and its forward (and backward where it trains), side by side.
///
/// A node reads the outputs of the nodes the model wires into it (`inputs`, in order) and
/// returns a tensor it owns (reused between calls; valid until its next forward). A node may
/// update one of its inputs in place and return it (BERT's bias + residual + LayerNorm does:
/// the residual stream), as its doc comment then says.
public protocol Node: AnyObject {
    /// Unique within its model: the profiler site, the layer table row and the memory row.
    var name: String { get }
    var kind: NodeKind { get }
    /// Trainable parameters (empty for weight-free nodes and for loaded, inference-only ones).
    var parameters: [Parameter] { get }
    /// Bytes of weights the node holds (parameters, or loaded / packed / quantized weights).
    var weightBytes: Int { get }
    /// Bytes of activation buffers the node holds now (grow with the largest batch seen).
    var activationBytes: Int { get }
    /// Output shape for the inputs' shapes (batch first); stops with a clear message if they do not fit.
    func outputShape(_ inputs: [[Int]]) -> [Int]
    /// Y = f(inputs) under `plan`.
    func forward(_ inputs: [Tensor], _ plan: Compute, _ context: ForwardContext) -> Tensor
    /// dX for each input from dY (shape of the last forward's output); accumulates parameter
    /// gradients. Only nodes of trainable models implement it.
    func backward(_ dY: Tensor, _ plan: Compute) -> [Tensor]
}

extension Node {
    public var parameters: [Parameter] { [] }
    public var weightBytes: Int { parameters.reduce(0) { $0 + $1.value.bytes } }
    public func backward(_ dY: Tensor, _ plan: Compute) -> [Tensor] {
        preconditionFailure("node '\(name)' (\(kind.rawValue)) does not train")
    }
}

/// A single-input node with forward and backward (the trainable layers of mlp and cnn).
///
/// Forward returns a tensor the layer owns (resized to the batch, reused between steps) and keeps
/// what backward needs; backward takes dY of the output's shape, accumulates into its
/// parameters' `grad` (callers zero them between steps) and returns dX, which it also owns.
/// The caller must not keep a returned tensor across the next call of the same method.
public protocol Layer: Node {
    /// Output shape for an input shape (batch first); stops with a clear message if it does not fit.
    func outputShape(_ input: [Int]) -> [Int]
    /// Y = f(X). `training` switches dropout and whether inputs are kept for backward.
    func forward(_ x: Tensor, _ compute: Compute, training: Bool) -> Tensor
    /// dX from dY (shape of the last forward output); accumulates parameter gradients.
    func backward(_ dY: Tensor, _ compute: Compute) -> Tensor
    /// The layer's own buffers (outputs, dX, scratch), for `activationBytes`.
    var buffers: [Tensor] { get }
}

extension Layer {
    public var activationBytes: Int { buffers.reduce(0) { $0 + $1.bytes } }
    public func outputShape(_ inputs: [[Int]]) -> [Int] {
        precondition(inputs.count == 1, "layer '\(name)': \(inputs.count) inputs, takes one")
        return outputShape(inputs[0])
    }
    public func forward(_ inputs: [Tensor], _ plan: Compute, _ context: ForwardContext) -> Tensor {
        forward(inputs[0], plan, training: context.training)
    }
    public func backward(_ dY: Tensor, _ plan: Compute) -> [Tensor] { [backward(dY, plan)] }
}
