/// Shapes of a stride-1, square-kernel, zero-padded 2-D convolution over NCHW tensors.
public struct ConvGeometry: Sendable, Equatable {
    /// Input channels, height, width.
    public let channels: Int, height: Int, width: Int
    /// Kernel side and zero padding on each border.
    public let kernel: Int, padding: Int
    /// Output height and width: `H + 2·padding − kernel + 1` (stride 1).
    public var outHeight: Int { height + 2 * padding - kernel + 1 }
    public var outWidth: Int { width + 2 * padding - kernel + 1 }
    /// Rows of the column matrix: C·k·k.
    public var patchSize: Int { channels * kernel * kernel }

    public init(channels: Int, height: Int, width: Int, kernel: Int, padding: Int) {
        precondition(channels >= 1 && kernel >= 1 && padding >= 0,
                     "ConvGeometry: bad channels \(channels) / kernel \(kernel) / padding \(padding)")
        self.channels = channels; self.height = height; self.width = width
        self.kernel = kernel; self.padding = padding
        precondition(outHeight >= 1 && outWidth >= 1,
                     "ConvGeometry: kernel \(kernel) with padding \(padding) does not fit a \(height)×\(width) input")
    }
}

/// im2col and its adjoint col2im for a batch of images, in the "columns" layout that turns a
/// whole batch's convolution into ONE GEMM:
///
///     col[K, N]   K = C·k·k (row r = (c, ki, kj)),  N = batch·OH·OW (column = (b, oh, ow))
///     col[(c,ki,kj), (b,oh,ow)] = x[b, c, oh+ki−p, ow+kj−p]   (0 outside the image)
///
/// Both are memory-bound shifted copies; they split over `threads` by independent work items
/// (im2col: (row, image) pairs, col2im: (image, channel) planes), so no two threads write the
/// same element and no atomics are needed.
public enum Im2col {
    /// Fills `col` (`[patchSize, batch·OH·OW]`) from images `x` (`[batch, C, H, W]`, contiguous).
    public static func im2col(_ x: UnsafePointer<Float>, batch: Int, _ g: ConvGeometry,
                              col: UnsafeMutablePointer<Float>, threads: Int) {
        let xs = ParallelChunks.Ptr(x), cs = ParallelChunks.Ptr(col)
        let k = g.kernel, p = g.padding, H = g.height, W = g.width, OH = g.outHeight, OW = g.outWidth
        let HW = OH * OW, N = batch * HW, imageSize = g.channels * H * W
        // Items are (row r, image b): each writes the OH·OW run col[r, b·HW ..< (b+1)·HW].
        ParallelChunks.run(count: g.patchSize * batch, threads: threads, minItemsPerChunk: 8) { items in
            for item in items {
                let r = item / batch, b = item % batch
                let c = r / (k * k), ki = (r / k) % k, kj = r % k
                let src = xs.p + b * imageSize + c * H * W
                let dst = cs.p + r * N + b * HW
                // Valid output columns: 0 ≤ ow + kj − p < W.
                let lo = max(0, p - kj), hi = min(OW, W + p - kj)
                for oh in 0..<OH {
                    let ih = oh + ki - p
                    let d = dst + oh * OW
                    if ih < 0 || ih >= H || lo >= hi {
                        d.update(repeating: 0, count: OW)
                        continue
                    }
                    let s = src + ih * W + (kj - p)
                    for ow in 0..<lo { d[ow] = 0 }
                    for ow in lo..<hi { d[ow] = s[ow] }
                    for ow in hi..<OW { d[ow] = 0 }
                }
            }
        }
    }

    /// dX[b, c, ih, iw] = Σ over the (ki, kj) that read that pixel of dcol[(c,ki,kj), (b,oh,ow)]:
    /// the adjoint of `im2col`. Overwrites `dX` (`[batch, C, H, W]`).
    public static func col2im(_ dcol: UnsafePointer<Float>, batch: Int, _ g: ConvGeometry,
                              dX: UnsafeMutablePointer<Float>, threads: Int) {
        let cs = ParallelChunks.Ptr(dcol), xs = ParallelChunks.Ptr(dX)
        let k = g.kernel, p = g.padding, H = g.height, W = g.width, OH = g.outHeight, OW = g.outWidth
        let HW = OH * OW, N = batch * HW, C = g.channels
        // Items are (image b, channel c) planes: all k·k rows that feed a plane are summed by
        // one thread, so the accumulation needs no synchronisation.
        ParallelChunks.run(count: batch * C, threads: threads, minItemsPerChunk: 4) { items in
            for item in items {
                let b = item / C, c = item % C
                let plane = xs.p + (b * C + c) * H * W
                plane.update(repeating: 0, count: H * W)
                for ki in 0..<k {
                    for kj in 0..<k {
                        let r = (c * k + ki) * k + kj
                        let src = cs.p + r * N + b * HW
                        let lo = max(0, p - kj), hi = min(OW, W + p - kj)
                        if lo >= hi { continue }
                        // Output rows whose input row ih = oh + ki − p lies inside the image.
                        let ohLo = max(0, p - ki), ohHi = min(OH, H + p - ki)
                        var oh = ohLo
                        while oh < ohHi {
                            let d = plane + (oh + ki - p) * W + (kj - p)
                            let s = src + oh * OW
                            for ow in lo..<hi { d[ow] += s[ow] }
                            oh += 1
                        }
                    }
                }
            }
        }
    }
}
