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
        let HW = g.outHeight * g.outWidth, N = batch * HW, imageSize = g.channels * g.height * g.width
        // Items are (row r, image b): each writes the OH·OW run col[r, b·HW ..< (b+1)·HW].
        ParallelChunks.run(count: g.patchSize * batch, threads: threads, minItemsPerChunk: 8) { items in
            for item in items {
                let r = item / batch, b = item % batch
                row(UnsafePointer(xs.p + b * imageSize), g, r: r, into: cs.p + r * N + b * HW)
            }
        }
    }

    /// One row r = (c, ki, kj) of one image's column matrix, OH·OW floats:
    /// `dst[oh·OW + ow] = image[c, oh+ki−p, ow+kj−p]` (0 outside the image). `image` is
    /// `[C, H, W]`, contiguous.
    @inline(__always)
    static func row(_ image: UnsafePointer<Float>, _ g: ConvGeometry, r: Int, into dst: UnsafeMutablePointer<Float>) {
        let k = g.kernel, p = g.padding, H = g.height, W = g.width, OH = g.outHeight, OW = g.outWidth
        let c = r / (k * k), ki = (r / k) % k, kj = r % k
        let src = image + c * H * W
        // Valid output columns: 0 ≤ ow + kj − p < W.
        let lo = max(0, p - kj), hi = min(OW, W + p - kj)
        if OH == H && OW == W {
            sameShiftCopy(src, dst, H: H, W: W, ki: ki, kj: kj, p: p, lo: lo, hi: hi)
            return
        }
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

    /// dX[b, c, ih, iw] = Σ over the (ki, kj) that read that pixel of dcol[(c,ki,kj), (b,oh,ow)]:
    /// the adjoint of `im2col`. Overwrites `dX` (`[batch, C, H, W]`). `dcol` is scratch: entries
    /// at padded positions (which belong to no input pixel) may be zeroed.
    public static func col2im(_ dcol: UnsafeMutablePointer<Float>, batch: Int, _ g: ConvGeometry,
                              dX: UnsafeMutablePointer<Float>, threads: Int) {
        let cs = ParallelChunks.Ptr(dcol), xs = ParallelChunks.Ptr(dX)
        let k = g.kernel, p = g.padding, H = g.height, W = g.width, OH = g.outHeight, OW = g.outWidth
        let HW = OH * OW, N = batch * HW, C = g.channels
        let same = OH == H && OW == W
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
                        if same {
                            sameShiftAdd(src, plane, H: H, W: W, ki: ki, kj: kj, p: p, lo: lo, hi: hi)
                            continue
                        }
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

    // "Same" convolutions (OH = H, OW = W, i.e. 2p = k − 1) have a shortcut: for a fixed
    // (ki, kj), output pixel q = oh·W + ow reads input pixel q + D with D = (ki−p)·W + (kj−p), so
    // the valid output rows form ONE contiguous shifted run instead of OH runs of OW. The run
    // also carries, at each row's edge, |kj − p| values that wrapped from the neighbouring input
    // row; those are the padded columns and are fixed up separately (zeroed in im2col, dropped
    // in col2im). Long vectorised copies instead of 14-float ones: ~3× fewer cycles at 14×14.

    /// One im2col segment (`H·W` floats at `dst`) for kernel offset (ki, kj) from the `H×W`
    /// channel plane at `src`; `lo..<hi` are the output columns whose input column is inside.
    @inline(__always)
    static func sameShiftCopy(_ src: UnsafePointer<Float>, _ dst: UnsafeMutablePointer<Float>,
                              H: Int, W: Int, ki: Int, kj: Int, p: Int, lo: Int, hi: Int) {
        let D = (ki - p) * W + (kj - p)
        // Output rows whose input row is inside; the flat run is clamped to the plane.
        let ohLo = max(0, p - ki), ohHi = min(H, H + p - ki)
        if lo >= hi || ohLo >= ohHi { dst.update(repeating: 0, count: H * W); return }
        let start = max(ohLo * W, -D), end = min(ohHi * W, H * W - D)
        dst.update(repeating: 0, count: start)
        (dst + start).update(from: src + start + D, count: end - start)
        (dst + end).update(repeating: 0, count: H * W - end)
        // Zero the padded columns of the valid rows (they hold wrapped neighbours now).
        if lo > 0 || hi < W {
            for oh in ohLo..<ohHi {
                let row = dst + oh * W
                for ow in 0..<lo { row[ow] = 0 }
                for ow in hi..<W { row[ow] = 0 }
            }
        }
    }

    /// Adds one dcol segment (`H·W` floats at `src`, scratch: its padded columns are zeroed
    /// here) into the `H×W` plane at `dst` for kernel offset (ki, kj); the adjoint of `sameShiftCopy`.
    @inline(__always)
    static func sameShiftAdd(_ src: UnsafeMutablePointer<Float>, _ dst: UnsafeMutablePointer<Float>,
                             H: Int, W: Int, ki: Int, kj: Int, p: Int, lo: Int, hi: Int) {
        let D = (ki - p) * W + (kj - p)
        let ohLo = max(0, p - ki), ohHi = min(H, H + p - ki)
        if ohLo >= ohHi { return }
        // Gradients of padded positions belong to no input pixel: zero them so the bulk add
        // below does not credit them to the wrapped neighbour.
        if lo > 0 || hi < W {
            for oh in ohLo..<ohHi {
                let row = src + oh * W
                for ow in 0..<lo { row[ow] = 0 }
                for ow in hi..<W { row[ow] = 0 }
            }
        }
        let start = max(ohLo * W, -D), end = min(ohHi * W, H * W - D)
        let s = src + start, d = dst + start + D
        let n = end - start
        var i = 0
        while i + 8 <= n { d.storeV8(d.loadV8(at: i) + s.loadV8(at: i), at: i); i += 8 }
        while i < n { d[i] += s[i]; i += 1 }
    }
}
