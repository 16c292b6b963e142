/// The memory passes around Conv2d's GEMMs: bias, the `[O, nb·HW]` ↔ NCHW permutes of the
/// lowered path, bias-gradient row sums, and summing per-worker partial gradients.
extension Conv2d {
    /// y[b, o, :] += bias[o] for `images` NCHW images of `channels` planes of `planeSize`.
    static func addBias(_ bias: UnsafePointer<Float>, to y: UnsafeMutablePointer<Float>,
                        images: Int, channels: Int, planeSize: Int) {
        for item in 0..<(images * channels) {
            let bv = bias[item % channels], bvec = SIMD8<Float>(repeating: bv), dst = y + item * planeSize
            var j = 0
            while j + 8 <= planeSize { dst.storeV8(dst.loadV8(at: j) + bvec, at: j); j += 8 }
            while j < planeSize { dst[j] += bv; j += 1 }
        }
    }

    /// y[b, o, :] = t[o, b·planeSize ..< (b+1)·planeSize] + bias[o]: the GEMM's `[O, nb·HW]`
    /// result into NCHW, with the bias added in the same pass.
    static func unpermute(_ t: UnsafePointer<Float>, bias: UnsafePointer<Float>, into y: UnsafeMutablePointer<Float>,
                          images: Int, channels: Int, planeSize: Int, threads: Int) {
        let ts = ParallelChunks.Ptr(t), ys = ParallelChunks.Ptr(y), bs = ParallelChunks.Ptr(bias)
        let N = images * planeSize
        ParallelChunks.run(count: images * channels, threads: threads, minItemsPerChunk: max(1, 8192 / planeSize)) { items in
            for item in items {
                let b = item / channels, o = item % channels
                let src = ts.p + o * N + b * planeSize, dst = ys.p + item * planeSize
                let bv = bs.p[o], bvec = SIMD8<Float>(repeating: bv)
                var j = 0
                while j + 8 <= planeSize { dst.storeV8(src.loadV8(at: j) + bvec, at: j); j += 8 }
                while j < planeSize { dst[j] = src[j] + bv; j += 1 }
            }
        }
    }

    /// t[o, b·planeSize ..< (b+1)·planeSize] = dY[b, o, :]: NCHW into the GEMM's `[O, nb·HW]`.
    static func permute(_ dY: UnsafePointer<Float>, into t: UnsafeMutablePointer<Float>,
                        images: Int, channels: Int, planeSize: Int, threads: Int) {
        let ds = ParallelChunks.Ptr(dY), ts = ParallelChunks.Ptr(t)
        let N = images * planeSize
        ParallelChunks.run(count: images * channels, threads: threads, minItemsPerChunk: max(1, 8192 / planeSize)) { items in
            for item in items {
                let b = item / channels, o = item % channels
                (ts.p + o * N + b * planeSize).update(from: ds.p + item * planeSize, count: planeSize)
            }
        }
    }

    /// sums[r] += Σ_c x[r, c] for `[rows, cols]`, rows split across threads.
    static func addRowSums(_ x: UnsafePointer<Float>, rows: Int, cols: Int, into sums: UnsafeMutablePointer<Float>, threads: Int) {
        let xs = ParallelChunks.Ptr(x), ss = ParallelChunks.Ptr(sums)
        ParallelChunks.run(count: rows, threads: threads, minItemsPerChunk: max(1, 65_536 / max(cols, 1))) { rs in
            for r in rs { ss.p[r] += Elementwise.sum(xs.p + r * cols, count: cols) }
        }
    }

    /// y[i] += x[i].
    static func add(_ x: UnsafePointer<Float>, into y: UnsafeMutablePointer<Float>, count: Int) {
        var i = 0
        while i + 8 <= count { y.storeV8(y.loadV8(at: i) + x.loadV8(at: i), at: i); i += 8 }
        while i < count { y[i] += x[i]; i += 1 }
    }
}
