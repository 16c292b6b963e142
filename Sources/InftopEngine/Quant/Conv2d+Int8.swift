/// INT8 inference forward of a convolution (`compute.precision == .int8`, not training): per
/// image, the im2col matrix col `[C·k·k, OH·OW]` is the feature-major input of `Int8Gemm`
/// (each output position's patch is one activation row, quantized on the fly), and the
/// product is written transposed, straight into the image's NCHW block `[out, OH·OW]`, with
/// the bias added in the epilogue:
///
///     Y[b] (as [out, OH·OW]) = (colᵀ · Wqᵀ)ᵀ + bias,   W `[out, C·k·k]` quantized per channel
///
/// Threads as the fp32 forward: chunks of the batch on workers (`forEachTask`), or, with one
/// worker, all threads inside each GEMM. The int8 weights are cached (`int8Weights`) and rebuilt
/// when the fp32 weights' version moves.
extension Conv2d {
    func forwardInt8(_ x: Tensor, _ compute: Compute, into y: Tensor) -> Tensor {
        precondition(x.shape.count == 4 && x.shape[1] == inChannels,
                     "Conv2d '\(name)': input shape \(x.shape), expected [batch, \(inChannels), H, W]")
        let g = ConvGeometry(channels: inChannels, height: x.shape[2], width: x.shape[3], kernel: kernel, padding: padding)
        let batch = x.shape[0], HW = g.outHeight * g.outWidth, K = g.patchSize, O = outChannels
        let imageSize = g.channels * g.height * g.width
        y.resize([batch, O, g.outHeight, g.outWidth])
        let s = split(batch: batch, compute)
        let bufs = buffers(s, g, lowered: true)
        let q = int8Weights.weights(for: weight.value, n: O, k: K)
        let inner = Compute(backend: compute.backend, threads: s.inner, isa: compute.isa, precision: .int8)
        let xs = ParallelChunks.Ptr(x.data), ys = ParallelChunks.Ptr(y.data), bs = ParallelChunks.Ptr(bias.value.data)
        forEachTask(s.chunks, s, compute) { t, c in
            let buf = bufs[t]
            buf.colChunk.pointee = -1  // col no longer holds a training forward's chunk
            for b in s.images(c) {
                ConvGemm.lower(image: xs.p + b * imageSize, g, col: buf.col)
                Int8Gemm.run(inner, m: HW, k: K, x: buf.col, ldx: HW, transX: true, weights: q, bias: bs.p,
                             y: ys.p + b * O * HW, ldy: HW, transY: true)
            }
        }
        return y
    }
}
