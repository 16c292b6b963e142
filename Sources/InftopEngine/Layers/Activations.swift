/// Rectified linear unit, y = max(x, 0), any shape. Backward uses its own output (y > 0 ⇔ x > 0),
/// so it keeps no reference to the input.
public final class ReLU: Layer {
    public let name: String
    public var kind: NodeKind { .activation }
    public var buffers: [Tensor] { [y, dX] }
    /// Same shape as the input; owned.
    private let y: Tensor
    /// Same shape as the input; owned.
    private let dX: Tensor

    public init(name: String) {
        self.name = name
        y = Tensor([0], name: name + ".y")
        dX = Tensor([0], name: name + ".dX")
    }

    public func outputShape(_ input: [Int]) -> [Int] { input }

    public func forward(_ x: Tensor, _ compute: Compute, training: Bool) -> Tensor {
        y.resize(x.shape)
        let xs = ParallelChunks.Ptr(x.data), ys = ParallelChunks.Ptr(y.data)
        ParallelChunks.run(count: x.count, threads: compute.threads, minItemsPerChunk: 1 << 16) { r in
            Activations.relu(xs.p + r.lowerBound, ys.p + r.lowerBound, count: r.count)
        }
        return y
    }

    public func backward(_ dY: Tensor, _ compute: Compute) -> Tensor {
        dY.expectShape(y.shape, "ReLU '\(name)' backward dY")
        dX.resize(y.shape)
        let ys = ParallelChunks.Ptr(y.data), ds = ParallelChunks.Ptr(dY.data), xs = ParallelChunks.Ptr(dX.data)
        ParallelChunks.run(count: y.count, threads: compute.threads, minItemsPerChunk: 1 << 16) { r in
            Activations.reluBackward(y: ys.p + r.lowerBound, dY: ds.p + r.lowerBound, dX: xs.p + r.lowerBound, count: r.count)
        }
        return dX
    }
}

/// Gaussian error linear unit, exact erf form (PyTorch's `nn.GELU()` default), any shape:
/// y = x·Φ(x); backward uses the exact derivative Φ(x) + x·φ(x) (`Activations.geluBackward`).
///
/// Forward keeps a reference to X for backward (no copy): X must stay unchanged until backward.
public final class GELU: Layer {
    public let name: String
    public var kind: NodeKind { .activation }
    public var buffers: [Tensor] { [y, dX] }
    /// Same shape as the input; owned.
    private let y: Tensor
    /// Same shape as the input; owned.
    private let dX: Tensor
    private var savedX: Tensor?

    public init(name: String) {
        self.name = name
        y = Tensor([0], name: name + ".y")
        dX = Tensor([0], name: name + ".dX")
    }

    public func outputShape(_ input: [Int]) -> [Int] { input }

    public func forward(_ x: Tensor, _ compute: Compute, training: Bool) -> Tensor {
        y.resize(x.shape)
        savedX = training ? x : nil
        if compute.backend == .reference {
            Activations.geluReference(x.data, y.data, count: x.count)
            return y
        }
        let xs = ParallelChunks.Ptr(x.data), ys = ParallelChunks.Ptr(y.data)
        ParallelChunks.run(count: x.count, threads: compute.threads, minItemsPerChunk: 1 << 14) { r in
            Activations.gelu(xs.p + r.lowerBound, ys.p + r.lowerBound, count: r.count)
        }
        return y
    }

    public func backward(_ dY: Tensor, _ compute: Compute) -> Tensor {
        guard let x = savedX else { preconditionFailure("GELU '\(name)': backward without a training forward") }
        dY.expectShape(x.shape, "GELU '\(name)' backward dY")
        dX.resize(x.shape)
        if compute.backend == .reference {
            Activations.geluBackwardReference(x: x.data, dY: dY.data, dX: dX.data, count: x.count)
            return dX
        }
        let xs = ParallelChunks.Ptr(x.data), ds = ParallelChunks.Ptr(dY.data), os = ParallelChunks.Ptr(dX.data)
        ParallelChunks.run(count: x.count, threads: compute.threads, minItemsPerChunk: 1 << 14) { r in
            Activations.geluBackward(x: xs.p + r.lowerBound, dY: ds.p + r.lowerBound, dX: os.p + r.lowerBound, count: r.count)
        }
        return dX
    }
}
