/// Layer normalisation over the last dimension, PyTorch's `nn.LayerNorm(features, eps)`:
/// y = (x − mean)/√(var + eps)·weight + bias per row of `features` values (any leading shape).
/// Weight starts at 1, bias at 0, like PyTorch. Kernels: `Norms.layerNorm` / `layerNormBackward`.
///
/// Forward keeps a reference to X for backward (no copy): X must stay unchanged until backward.
public final class LayerNorm: Layer {
    public let name: String
    public var kind: NodeKind { .normalization }
    public var buffers: [Tensor] { [y, dX, mean, rstd] }
    public let features: Int
    public let eps: Float
    /// `[features]`, γ.
    public let weight: Parameter
    /// `[features]`, β.
    public let bias: Parameter

    /// Input's shape; owned.
    private let y: Tensor
    /// Input's shape; owned.
    private let dX: Tensor
    /// `[rows]` per-row mean and 1/√(var+eps) from the last training forward; owned.
    private let mean: Tensor, rstd: Tensor
    private var savedX: Tensor?

    public var parameters: [Parameter] { [weight, bias] }

    public init(name: String, features: Int, eps: Float = 1e-5) {
        precondition(features >= 1, "LayerNorm '\(name)': features must be ≥ 1, got \(features)")
        precondition(eps > 0, "LayerNorm '\(name)': eps must be > 0, got \(eps)")
        self.name = name
        self.features = features
        self.eps = eps
        weight = Parameter(name + ".weight", shape: [features])
        bias = Parameter(name + ".bias", shape: [features])
        weight.value.fill(1)
        y = Tensor([0], name: name + ".y")
        dX = Tensor([0], name: name + ".dX")
        mean = Tensor([0], name: name + ".mean")
        rstd = Tensor([0], name: name + ".rstd")
    }

    public func outputShape(_ input: [Int]) -> [Int] {
        precondition(input.last == features, "LayerNorm '\(name)': input shape \(input), last dimension must be \(features)")
        return input
    }

    public func forward(_ x: Tensor, _ compute: Compute, training: Bool) -> Tensor {
        _ = outputShape(x.shape)
        let rows = x.count / features
        y.resize(x.shape)
        mean.resize([rows])
        rstd.resize([rows])
        let xs = ParallelChunks.Ptr(x.data), ys = ParallelChunks.Ptr(y.data)
        let ms = ParallelChunks.Ptr(mean.data), rs = ParallelChunks.Ptr(rstd.data)
        let g = ParallelChunks.Ptr(weight.value.data), b = ParallelChunks.Ptr(bias.value.data)
        let cols = features, eps = eps
        savedX = training ? x : nil
        if compute.backend == .reference {
            Norms.layerNormReference(x: x.data, gamma: weight.value.data, beta: bias.value.data, y: y.data, rows: rows, cols: cols,
                                     eps: eps, mean: mean.data, rstd: rstd.data)
            return y
        }
        // Rows are independent (Norms.layerNorm's contract), so split them across threads.
        ParallelChunks.run(count: rows, threads: compute.threads, minItemsPerChunk: max(1, 16_384 / cols)) { r in
            let o = r.lowerBound
            Norms.layerNorm(x: xs.p + o * cols, gamma: g.p, beta: b.p, y: ys.p + o * cols, rows: r.count, cols: cols,
                            eps: eps, mean: ms.p + o, rstd: rs.p + o)
        }
        return y
    }

    public func backward(_ dY: Tensor, _ compute: Compute) -> Tensor {
        guard let x = savedX else { preconditionFailure("LayerNorm '\(name)': backward without a training forward") }
        dY.expectShape(x.shape, "LayerNorm '\(name)' backward dY")
        dX.resize(x.shape)
        // One thread: dGamma/dBeta accumulate across rows.
        if compute.backend == .reference {
            Norms.layerNormBackwardReference(dY: dY.data, x: x.data, mean: mean.data, rstd: rstd.data, gamma: weight.value.data,
                                             dX: dX.data, dGamma: weight.grad.data, dBeta: bias.grad.data,
                                             rows: x.count / features, cols: features)
            return dX
        }
        Norms.layerNormBackward(dY: dY.data, x: x.data, mean: mean.data, rstd: rstd.data, gamma: weight.value.data,
                                dX: dX.data, dGamma: weight.grad.data, dBeta: bias.grad.data,
                                rows: x.count / features, cols: features)
        return dX
    }
}
