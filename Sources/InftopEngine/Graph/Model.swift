import InftopTelemetry

/// The one model type: named nodes wired into a graph, run in order. The MLP and the CNN are
/// chains of trainable layers; a BERT-family encoder is a graph of fused nodes whose residual
/// stream is wired explicitly (BertModel+Graph.swift). Profiler sites, the layer table's rows
/// and the memory rows come from node names, the same way for every model.
///
/// Each node runs under its own execution plan (`Compute`: backend, threads, ISA, precision),
/// which changes between steps without rebuilding the model (Model+Plans.swift).
///
/// With a `SpanBuffer` and one site id per node (`registerSites(in:)`), forward and backward
/// take a lap after each node, so the per-node spans of a step tile it with no gaps. Without,
/// they take no clock reads at all.
///
/// Not thread-safe: one thread runs a model's forward and backward (its buffers are reused);
/// other threads only stage plans (`stage(_:)`).
public final class Model: @unchecked Sendable {
    public let descriptor: ModelDescriptor
    public var name: String { descriptor.name }
    public let nodes: [any Node]
    /// For node i, the values it reads: 0 = the model's input, j + 1 = node j's output.
    public let wiring: [[Int]]
    /// Every node's trainable parameters, in node order (collected once).
    public let parameters: [Parameter]
    /// The nodes as layers when the model is a chain of trainable layers (mlp, cnn), else nil.
    let layers: [any Layer]?

    /// Per-node plans, indexed like `nodes` (Model+Plans.swift).
    var plans: [Compute]
    var staging: StagedPlan?
    /// Pruned weights and their masks (Model+Pruning.swift); empty when nothing is pruned.
    public internal(set) var masks: [PruneMask] = []
    /// The pruning knob's value `followPruning` last acted on.
    var followedPruning: (sparsity: Double, mode: PruneMode) = (0, .unstructured)
    let context = ForwardContext()
    /// Values of the current forward (index as in `wiring`); reused, so a warm forward allocates nothing.
    private var values: [Tensor?]
    private var nodeInputs: [[Tensor]]
    private let placeholder: Tensor

    /// Wires `nodes` as `inputs` says (`inputs[i]` names node i's inputs: "input" for the
    /// model's input, or an earlier node's name); nil chains them, each reading the previous.
    /// Checks names are unique, inputs exist and come earlier, and shapes chain for one sample.
    public init(descriptor: ModelDescriptor, nodes: [any Node], inputs: [[String]]? = nil, plan: Compute = Compute()) {
        precondition(!nodes.isEmpty, "Model '\(descriptor.name)': no nodes")
        let names = nodes.map(\.name)
        precondition(Set(names).count == names.count, "Model '\(descriptor.name)': node names must be unique, got \(names)")
        var index = ["input": 0]
        var wiring: [[Int]] = []
        for (i, node) in nodes.enumerated() {
            if let inputs {
                precondition(inputs.count == nodes.count, "Model '\(descriptor.name)': \(inputs.count) input lists for \(nodes.count) nodes")
                wiring.append(inputs[i].map { n in
                    guard let v = index[n] else { preconditionFailure("Model '\(descriptor.name)': node '\(node.name)' reads '\(n)', which is not an earlier node") }
                    return v
                })
            } else {
                wiring.append([i])
            }
            index[node.name] = i + 1
        }
        self.descriptor = descriptor
        self.nodes = nodes
        placeholder = Tensor([0], name: "model.tokens")
        self.wiring = wiring
        parameters = nodes.flatMap { $0.parameters }
        let chain = wiring.enumerated().allSatisfy { $0.element == [$0.offset] }
        let asLayers = nodes.compactMap { $0 as? any Layer }
        layers = chain && asLayers.count == nodes.count ? asLayers : nil
        plans = Array(repeating: plan, count: nodes.count)
        values = Array(repeating: nil, count: nodes.count + 1)
        let placeholder = placeholder
        nodeInputs = wiring.map { Array(repeating: placeholder, count: $0.count) }
        _ = outputShape(batch: 1)
    }

    /// Whether `backward` works: a chain of layers that all train.
    public var isTrainable: Bool { layers != nil && descriptor.trainable }

    /// Trainable scalars.
    public var parameterCount: Int { parameters.reduce(0) { $0 + $1.value.count } }

    /// Bytes of weights over all nodes.
    public var weightBytes: Int { nodes.reduce(0) { $0 + $1.weightBytes } }

    /// Bytes of activation buffers over all nodes (grow with the largest batch seen).
    public var activationBytes: Int { nodes.reduce(0) { $0 + $1.activationBytes } }

    /// Output shape for `batch` samples (token models: sequences of one token).
    public func outputShape(batch: Int) -> [Int] {
        var shapes: [[Int]] = [descriptor.sampleShape.map { [batch] + $0 } ?? [batch, 1]]
        for (i, node) in nodes.enumerated() { shapes.append(node.outputShape(wiring[i].map { shapes[$0] })) }
        return shapes[shapes.count - 1]
    }

    /// Registers one profiler site per node, named after the node (`prefix` + name); returns
    /// their ids in node order, for `forward`/`backward`'s `sites`.
    public func registerSites(in profiler: StepProfiler, prefix: String = "") -> [Int32] {
        nodes.map { profiler.site(prefix + $0.name) }
    }

    /// Y = model(x) under the nodes' plans, for image models (`x` is `[batch] + sampleShape`).
    /// The result is owned by the last node and valid until its next forward. With `spans`,
    /// laps `.forward` on `sites[i]` after node i.
    public func forward(_ x: Tensor, training: Bool = false, spans: SpanBuffer? = nil, sites: [Int32] = []) -> Tensor {
        context.training = training
        context.tokens = nil
        return run(x, spans: spans, sites: sites)
    }

    /// Y = model(tokens) for token models (an encoder's [batch, hidden] sentence vectors). With
    /// `plan`, every node runs it for this call instead of its own (e.g. the fp32 reference
    /// beside a quantized plan: nodes keep their fp32 weights).
    public func forward(tokens: TokenBatch, spans: SpanBuffer? = nil, sites: [Int32] = [], plan: Compute? = nil) -> Tensor {
        context.training = false
        context.tokens = tokens
        defer { context.tokens = nil }
        return run(placeholder, spans: spans, sites: sites, plan: plan)
    }

    private func run(_ x: Tensor, spans: SpanBuffer?, sites: [Int32], plan: Compute? = nil) -> Tensor {
        let spans = (spans?.enabled ?? false) ? spans : nil
        if spans != nil {
            precondition(sites.count == nodes.count, "Model '\(name)': \(sites.count) sites for \(nodes.count) nodes")
        }
        if let layers {
            var h = x
            for i in 0..<layers.count {
                h = layers[i].forward(h, plan ?? plans[i], training: context.training)
                spans?.lap(site: sites[i], phase: .forward)
            }
            return h
        }
        values[0] = x
        for i in 0..<nodes.count {
            let w = wiring[i]
            for k in 0..<w.count { nodeInputs[i][k] = values[w[k]]! }
            values[i + 1] = nodes[i].forward(nodeInputs[i], plan ?? plans[i], context)
            spans?.lap(site: sites[i], phase: .forward)
        }
        let y = values[nodes.count]!
        for i in 0..<values.count { values[i] = nil }
        return y
    }

    /// Back-propagates `dY` (shape of the last forward's output) through the layers in reverse,
    /// accumulating parameter gradients; returns dX. With `spans`, laps `.backward` on
    /// `sites[i]` after node i. Only for trainable chains (`isTrainable`).
    @discardableResult
    public func backward(_ dY: Tensor, spans: SpanBuffer? = nil, sites: [Int32] = []) -> Tensor {
        guard let layers else { preconditionFailure("Model '\(name)': backward needs a chain of trainable layers") }
        let spans = (spans?.enabled ?? false) ? spans : nil
        if spans != nil {
            precondition(sites.count == layers.count, "Model '\(name)': \(sites.count) sites for \(layers.count) nodes")
        }
        var g = dY
        var i = layers.count - 1
        while i >= 0 {
            g = layers[i].backward(g, plans[i])
            spans?.lap(site: sites[i], phase: .backward)
            i -= 1
        }
        return g
    }

    /// Copies every parameter value from `other`, a model of the same architecture (for the
    /// inference replica that serves the latest trained weights). Gradients are not copied.
    public func copyWeights(from other: Model) {
        precondition(other.parameters.count == parameters.count, "Model '\(name)': copy from '\(other.name)' with \(other.parameters.count) parameters into \(parameters.count)")
        for (dst, src) in zip(parameters, other.parameters) {
            precondition(dst.value.shape == src.value.shape, "Model '\(name)': parameter '\(dst.name)' is \(dst.value.shape), source '\(src.name)' is \(src.value.shape)")
            dst.value.copy(from: src.value)
        }
        weightsDidChange()
    }

    /// Parameters by name (`fc1.weight`, …), for checkpoints.
    public var namedParameters: [(name: String, tensor: Tensor)] { parameters.map { ($0.name, $0.value) } }

    /// Per node: name, kind, weight bytes and activation bytes now (the memory rows).
    public func nodeMemory() -> [(name: String, kind: NodeKind, weights: Int, activations: Int)] {
        nodes.map { ($0.name, $0.kind, $0.weightBytes, $0.activationBytes) }
    }

    /// One line per node: name, output shape for one sample, parameters.
    public func summary() -> [String] {
        var shapes: [[Int]] = [descriptor.sampleShape.map { [1] + $0 } ?? [1, 1]]
        return nodes.enumerated().map { i, node in
            shapes.append(node.outputShape(wiring[i].map { shapes[$0] }))
            let n = node.parameters.reduce(0) { $0 + $1.value.count }
            return "\(node.name) → \(shapes[i + 1].dropFirst().map(String.init).joined(separator: "×"))" + (n > 0 ? " (\(n) params)" : "")
        }
    }
}
