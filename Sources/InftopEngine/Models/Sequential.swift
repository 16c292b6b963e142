import InftopTelemetry

/// Layers run one after the other: forward in order, backward in reverse.
///
/// With a `SpanBuffer` and one site id per layer (`registerSites(in:)`), forward and backward
/// take a lap after each layer, so the per-layer spans of a step tile it with no gaps (laps
/// measure the time since the previous lap). Without, they take no clock reads at all.
public final class Sequential: @unchecked Sendable {
    /// "mlp", "cnn", … (for messages and checkpoints).
    public let name: String
    public let layers: [any Layer]
    /// Shape of one input sample, batch excluded (`[784]`, `[1, 28, 28]`).
    public let inputShape: [Int]
    /// Every layer's parameters, in layer order (collected once).
    public let parameters: [Parameter]

    /// Checks that the layers chain from `inputShape` (stops with the layer's message if not).
    public init(name: String, inputShape: [Int], layers: [any Layer]) {
        precondition(!layers.isEmpty, "Sequential '\(name)': no layers")
        self.name = name
        self.inputShape = inputShape
        self.layers = layers
        parameters = layers.flatMap { $0.parameters }
        var shape = [1] + inputShape
        for layer in layers { shape = layer.outputShape(shape) }
        let names = layers.map(\.name)
        precondition(Set(names).count == names.count, "Sequential '\(name)': layer names must be unique, got \(names)")
    }

    /// Trainable scalars.
    public var parameterCount: Int { parameters.reduce(0) { $0 + $1.value.count } }

    /// Output shape for a batch of `batch` samples (e.g. `[batch, 10]`).
    public func outputShape(batch: Int) -> [Int] {
        var shape = [batch] + inputShape
        for layer in layers { shape = layer.outputShape(shape) }
        return shape
    }

    /// Registers one profiler site per layer, named after the layer (`prefix` + name); returns
    /// their ids in layer order, for `forward`/`backward`'s `sites`.
    public func registerSites(in profiler: StepProfiler, prefix: String = "") -> [Int32] {
        layers.map { profiler.site(prefix + $0.name) }
    }

    /// Y = layers(x). `x` is `[batch] + inputShape`; the result is owned by the last layer and
    /// valid until its next forward. With `spans`, laps `.forward` on `sites[i]` after layer i.
    public func forward(_ x: Tensor, _ compute: Compute, training: Bool, spans: SpanBuffer? = nil, sites: [Int32] = []) -> Tensor {
        var h = x
        if let spans {
            precondition(sites.count == layers.count, "Sequential '\(name)': \(sites.count) sites for \(layers.count) layers")
            for i in 0..<layers.count {
                h = layers[i].forward(h, compute, training: training)
                spans.lap(site: sites[i], phase: .forward)
            }
        } else {
            for layer in layers { h = layer.forward(h, compute, training: training) }
        }
        return h
    }

    /// Back-propagates `dY` (shape of the last forward's output) through the layers in reverse,
    /// accumulating parameter gradients; returns dX. With `spans`, laps `.backward` on `sites[i]`
    /// after layer i's backward.
    @discardableResult
    public func backward(_ dY: Tensor, _ compute: Compute, spans: SpanBuffer? = nil, sites: [Int32] = []) -> Tensor {
        var g = dY
        if let spans {
            precondition(sites.count == layers.count, "Sequential '\(name)': \(sites.count) sites for \(layers.count) layers")
            var i = layers.count - 1
            while i >= 0 {
                g = layers[i].backward(g, compute)
                spans.lap(site: sites[i], phase: .backward)
                i -= 1
            }
        } else {
            var i = layers.count - 1
            while i >= 0 { g = layers[i].backward(g, compute); i -= 1 }
        }
        return g
    }

    /// Copies every parameter value from `other`, a model of the same architecture (for the
    /// inference replica that serves the latest trained weights). Gradients are not copied.
    public func copyWeights(from other: Sequential) {
        precondition(other.parameters.count == parameters.count, "Sequential '\(name)': copy from '\(other.name)' with \(other.parameters.count) parameters into \(parameters.count)")
        for (dst, src) in zip(parameters, other.parameters) {
            precondition(dst.value.shape == src.value.shape, "Sequential '\(name)': parameter '\(dst.name)' is \(dst.value.shape), source '\(src.name)' is \(src.value.shape)")
            dst.value.copy(from: src.value)
        }
    }

    /// Parameters by name (`fc1.weight`, …), for checkpoints.
    public var namedParameters: [(name: String, tensor: Tensor)] { parameters.map { ($0.name, $0.value) } }

    /// One line per layer: name, output shape for one sample, parameters.
    public func summary() -> [String] {
        var shape = [1] + inputShape
        return layers.map { layer in
            shape = layer.outputShape(shape)
            let n = layer.parameters.reduce(0) { $0 + $1.value.count }
            return "\(layer.name) → \(shape.dropFirst().map(String.init).joined(separator: "×"))" + (n > 0 ? " (\(n) params)" : "")
        }
    }
}
