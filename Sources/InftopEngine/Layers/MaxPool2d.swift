/// Max pooling over NCHW with kernel = stride = `size` and no padding, PyTorch's
/// `nn.MaxPool2d(size)`: output `[B, C, H/size, W/size]` (floor; trailing rows/columns that do
/// not fill a window are dropped, as in PyTorch).
///
/// Ties go to the first maximum in row-major window order, and a NaN wins (PyTorch's CPU rule);
/// backward routes each dY element to that one position via the kept argmax indices.
public final class MaxPool2d: Layer {
    public let name: String
    public let size: Int
    /// `[B, C, OH, OW]`; owned.
    private let y: Tensor
    /// `[B, C, H, W]`; owned.
    private let dX: Tensor
    /// `[B·C·OH·OW]` offset of each output's argmax inside its input plane (H·W).
    private var argmax: UnsafeMutablePointer<Int32>
    private var argmaxCapacity = 0
    private var inputShape: [Int] = []

    public init(name: String, size: Int) {
        precondition(size >= 1, "MaxPool2d '\(name)': size must be ≥ 1, got \(size)")
        self.name = name
        self.size = size
        y = Tensor([0, 0, 0, 0], name: name + ".y")
        dX = Tensor([0, 0, 0, 0], name: name + ".dX")
        argmax = .allocate(capacity: 1)
    }

    deinit { argmax.deallocate() }

    public func outputShape(_ input: [Int]) -> [Int] {
        precondition(input.count == 4 && input[2] >= size && input[3] >= size,
                     "MaxPool2d '\(name)': input shape \(input), expected [batch, channels, ≥\(size), ≥\(size)]")
        return [input[0], input[1], input[2] / size, input[3] / size]
    }

    public func forward(_ x: Tensor, _ compute: Compute, training: Bool) -> Tensor {
        let outShape = outputShape(x.shape)
        y.resize(outShape)
        inputShape = x.shape
        if y.count > argmaxCapacity {
            argmax.deallocate()
            argmax = .allocate(capacity: y.count)
            argmaxCapacity = y.count
        }
        let H = x.shape[2], W = x.shape[3], OH = outShape[2], OW = outShape[3], s = size
        let xs = ParallelChunks.Ptr(x.data), ys = ParallelChunks.Ptr(y.data), ix = ParallelChunks.Ptr(argmax)
        ParallelChunks.run(count: x.shape[0] * x.shape[1], threads: compute.threads, minItemsPerChunk: 64) { planes in
            for plane in planes {
                let src = xs.p + plane * H * W
                let dst = ys.p + plane * OH * OW, idx = ix.p + plane * OH * OW
                for oh in 0..<OH {
                    for ow in 0..<OW {
                        let base = oh * s * W + ow * s
                        var best = src[base], bestAt = base
                        for di in 0..<s {
                            for dj in 0..<s {
                                let at = base + di * W + dj
                                let v = src[at]
                                // `v > best` keeps the first of equal maxima; `v.isNaN` lets a NaN win.
                                if v > best || (v.isNaN && !best.isNaN) { best = v; bestAt = at }
                            }
                        }
                        dst[oh * OW + ow] = best
                        idx[oh * OW + ow] = Int32(bestAt)
                    }
                }
            }
        }
        return y
    }

    public func backward(_ dY: Tensor, _ compute: Compute) -> Tensor {
        dY.expectShape(y.shape, "MaxPool2d '\(name)' backward dY")
        dX.resize(inputShape)
        let HW = inputShape[2] * inputShape[3], OHW = y.shape[2] * y.shape[3]
        let ds = ParallelChunks.Ptr(dY.data), xs = ParallelChunks.Ptr(dX.data), ix = ParallelChunks.Ptr(argmax)
        ParallelChunks.run(count: inputShape[0] * inputShape[1], threads: compute.threads, minItemsPerChunk: 64) { planes in
            for plane in planes {
                let dst = xs.p + plane * HW, src = ds.p + plane * OHW, idx = ix.p + plane * OHW
                dst.update(repeating: 0, count: HW)
                // Windows do not overlap (stride = size), so `+=` only matters for clarity.
                for o in 0..<OHW { dst[Int(idx[o])] += src[o] }
            }
        }
        return dX
    }
}
