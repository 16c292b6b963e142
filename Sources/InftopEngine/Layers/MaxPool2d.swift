import InftopTelemetry

/// Max pooling over NCHW with kernel = stride = `size` and no padding, PyTorch's
/// `nn.MaxPool2d(size)`: output `[B, C, H/size, W/size]` (floor; trailing rows/columns that do
/// not fill a window are dropped, as in PyTorch).
///
/// Ties go to the first maximum in row-major window order, and a NaN wins (the last NaN, as in
/// PyTorch's CPU kernel);
/// backward routes each dY element to that one position via the kept argmax indices.
public final class MaxPool2d: Layer {
    public let name: String
    public var kind: NodeKind { .pooling }
    public var buffers: [Tensor] { [y, dX] }
    public let size: Int
    /// `[B, C, OH, OW]`; owned.
    private let y: Tensor
    /// `[B, C, H, W]`; owned.
    private let dX: Tensor
    /// `[B·C·OH·OW]` offset of each output's argmax inside its input plane (H·W); capacity
    /// `argmaxCapacity`, counted in `MemoryLedger` as activations.
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

    deinit {
        argmax.deallocate()
        MemoryLedger.shared.add(-argmaxCapacity * 4, to: .activations)
    }

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
            // Grows like a Tensor: only when the batch grows, counted as activations.
            argmax.deallocate()
            argmax = .allocate(capacity: y.count)
            MemoryLedger.shared.add((y.count - argmaxCapacity) * 4, to: .activations)
            argmaxCapacity = y.count
        }
        let H = x.shape[2], W = x.shape[3], OH = outShape[2], OW = outShape[3], s = size
        let xs = ParallelChunks.Ptr(x.data), ys = ParallelChunks.Ptr(y.data), ix = ParallelChunks.Ptr(argmax)
        ParallelChunks.run(count: x.shape[0] * x.shape[1], threads: compute.threads, minItemsPerChunk: 64) { planes in
            for plane in planes {
                let src = xs.p + plane * H * W
                let dst = ys.p + plane * OH * OW, idx = ix.p + plane * OH * OW
                if s == 2 {
                    Self.pool2(src, dst, idx, H: H, W: W, OH: OH, OW: OW)
                    continue
                }
                for oh in 0..<OH {
                    for ow in 0..<OW {
                        let base = oh * s * W + ow * s
                        var best = src[base], bestAt = base
                        for di in 0..<s {
                            for dj in 0..<s {
                                let at = base + di * W + dj
                                let v = src[at]
                                // PyTorch's rule: a larger value or a NaN takes over, so equal
                                // maxima keep the first and a NaN always wins.
                                if v > best || v.isNaN { best = v; bestAt = at }
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

    /// The 2×2 case of one plane, 8 outputs at a time: the four window positions are the even
    /// and odd lanes of two 16-float row loads, compared branch-free in window order with the
    /// same rule as the scalar loop (random data makes branches mispredict). A row's last
    /// partial vector is redone overlapping the previous one (same values, same result). Rows
    /// narrower than 8 outputs compute a vector whose extra lanes read past the row end (still
    /// inside the plane) and are not stored; rows where that read would leave the plane go
    /// through a branch-free scalar loop.
    @inline(__always)
    static func pool2(_ src: UnsafeMutablePointer<Float>, _ dst: UnsafeMutablePointer<Float>,
                      _ idx: UnsafeMutablePointer<Int32>, H: Int, W: Int, OH: Int, OW: Int) {
        let lanes2 = SIMD8<Int32>(0, 2, 4, 6, 8, 10, 12, 14)
        let w32 = Int32(W)
        @inline(__always) func vector(_ oh: Int, _ ow: Int, lanes: Int = 8) {
            let r0 = src + 2 * oh * W + 2 * ow, r1 = r0 + W
            let v0 = UnsafeRawPointer(r0).loadUnaligned(as: SIMD16<Float>.self)
            let v1 = UnsafeRawPointer(r1).loadUnaligned(as: SIMD16<Float>.self)
            var m = v0.evenHalf
            var off = SIMD8<Int32>()
            let b = v0.oddHalf, c = v1.evenHalf, d = v1.oddHalf
            var take = (b .> m) .| (b .!= b)
            m.replace(with: b, where: take); off.replace(with: 1, where: take)
            take = (c .> m) .| (c .!= c)
            m.replace(with: c, where: take); off.replace(with: w32, where: take)
            take = (d .> m) .| (d .!= d)
            m.replace(with: d, where: take); off.replace(with: w32 + 1, where: take)
            let at = SIMD8<Int32>(repeating: Int32(2 * oh * W + 2 * ow)) &+ lanes2 &+ off
            if lanes == 8 {
                dst.storeV8(m, at: oh * OW + ow)
                UnsafeMutableRawPointer(idx + oh * OW + ow).storeBytes(of: at, as: SIMD8<Int32>.self)
            } else {
                for j in 0..<lanes { dst[oh * OW + ow + j] = m[j]; idx[oh * OW + ow + j] = at[j] }
            }
        }
        if OW >= 8 {
            for oh in 0..<OH {
                var ow = 0
                while ow + 8 <= OW { vector(oh, ow); ow += 8 }
                if ow < OW { vector(oh, OW - 8) }
            }
            return
        }
        for oh in 0..<OH {
            // The vector reads 16 floats from the start of input row 2·oh + 1.
            if (2 * oh + 1) * W + 16 <= H * W {
                vector(oh, 0, lanes: OW)
                continue
            }
            for ow in 0..<OW {
                let base = 2 * oh * W + 2 * ow
                var best = src[base], bestAt = base
                // Selects instead of branches: the compiler emits blends/cmovs.
                var v = src[base + 1], take = v > best || v != v
                best = take ? v : best; bestAt = take ? base + 1 : bestAt
                v = src[base + W]; take = v > best || v != v
                best = take ? v : best; bestAt = take ? base + W : bestAt
                v = src[base + W + 1]; take = v > best || v != v
                best = take ? v : best; bestAt = take ? base + W + 1 : bestAt
                dst[oh * OW + ow] = best
                idx[oh * OW + ow] = Int32(bestAt)
            }
        }
    }
}
