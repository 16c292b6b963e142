/// 2-D convolution, stride 1, square kernel, zero padding, NCHW — PyTorch's
/// `nn.Conv2d(inChannels, outChannels, kernel, padding: padding)`.
///
/// Weight `[out, in, k, k]` (PyTorch's layout), bias `[out]`, initialised like PyTorch's default:
/// U(−1/√fanIn, 1/√fanIn) with fanIn = in·k·k, weights-then-bias from `SeededRandom(seed)`.
///
/// Lowered to GEMM over a chunk of `nb` images at once (K = in·k·k, N = nb·OH·OW):
///
///     forward   col[K, N] = im2col(X)
///               Yᵗ[out, N] = W[out, K] · col              (one GEMM for the whole chunk)
///               Y[b, o, :, :] = Yᵗ[o, b, :] + bias[o]      (permute + bias, one pass)
///     backward  dYᵗ[out, N] = permute(dY);  db += row sums of dYᵗ
///               dW[out, K] += dYᵗ · colᵀ                  (GEMM NT, beta 1)
///               dcol[K, N] = Wᵀ · dYᵗ                     (GEMM TN, into col's buffer)
///               dX = col2im(dcol)
///
/// With `samplesPerChunk ≥ batch` (the default) the forward's `col` is kept and reused by
/// backward; smaller chunks bound the scratch memory (col is K·nb·OH·OW floats) at the cost of
/// recomputing im2col in backward. Forward keeps a reference to X (no copy) for that case: X must
/// stay unchanged until backward.
public final class Conv2d: Layer {
    public let name: String
    public let inChannels: Int, outChannels: Int, kernel: Int, padding: Int
    /// `[out, in, k, k]`.
    public let weight: Parameter
    /// `[out]`.
    public let bias: Parameter
    /// Images per im2col+GEMM chunk; `Int.max` (default) = the whole batch in one GEMM.
    public var samplesPerChunk = Int.max {
        didSet { precondition(samplesPerChunk >= 1, "Conv2d '\(name)': samplesPerChunk must be ≥ 1") }
    }
    /// When false, backward skips dX (the dcol GEMM and col2im; for a first layer) and returns
    /// a zero-filled dX.
    public var computesInputGradient = true

    /// `[B, out, OH, OW]`; owned.
    private let y: Tensor
    /// `[B, in, H, W]`; owned.
    private let dX: Tensor
    /// `[K, nb·OH·OW]` im2col columns, then dcol in backward; owned scratch.
    private let col: Tensor
    /// `[out, nb·OH·OW]` GEMM output (forward) / permuted dY (backward); owned scratch.
    private let yT: Tensor
    private var savedX: Tensor?
    /// Whether `col` still holds the im2col of the whole last training batch.
    private var colHoldsBatch = false

    public var parameters: [Parameter] { [weight, bias] }

    public init(name: String, inChannels: Int, outChannels: Int, kernel: Int, padding: Int, seed: UInt64) {
        precondition(inChannels >= 1 && outChannels >= 1 && kernel >= 1 && padding >= 0,
                     "Conv2d '\(name)': bad in \(inChannels) / out \(outChannels) / kernel \(kernel) / padding \(padding)")
        self.name = name
        self.inChannels = inChannels
        self.outChannels = outChannels
        self.kernel = kernel
        self.padding = padding
        weight = Parameter(name + ".weight", shape: [outChannels, inChannels, kernel, kernel])
        bias = Parameter(name + ".bias", shape: [outChannels])
        var rng = SeededRandom(seed: seed)
        let bound = 1 / Float(inChannels * kernel * kernel).squareRoot()
        rng.fillUniform(weight.value, -bound, bound)
        rng.fillUniform(bias.value, -bound, bound)
        y = Tensor([0, outChannels, 0, 0], name: name + ".y")
        dX = Tensor([0, inChannels, 0, 0], name: name + ".dX")
        col = Tensor([0], name: name + ".col")
        yT = Tensor([0], name: name + ".yT")
    }

    private func geometry(_ input: [Int]) -> ConvGeometry {
        precondition(input.count == 4 && input[1] == inChannels,
                     "Conv2d '\(name)': input shape \(input), expected [batch, \(inChannels), H, W]")
        return ConvGeometry(channels: inChannels, height: input[2], width: input[3], kernel: kernel, padding: padding)
    }

    public func outputShape(_ input: [Int]) -> [Int] {
        let g = geometry(input)
        return [input[0], outChannels, g.outHeight, g.outWidth]
    }

    public func forward(_ x: Tensor, _ compute: Compute, training: Bool) -> Tensor {
        let g = geometry(x.shape)
        let batch = x.shape[0], HW = g.outHeight * g.outWidth, K = g.patchSize, O = outChannels
        y.resize([batch, O, g.outHeight, g.outWidth])
        let chunk = max(1, min(samplesPerChunk, batch))
        col.resize([K, chunk * HW])
        yT.resize([O, chunk * HW])
        let imageSize = g.channels * g.height * g.width
        var b0 = 0
        while b0 < batch {
            let nb = min(chunk, batch - b0), N = nb * HW
            Im2col.im2col(x.data + b0 * imageSize, batch: nb, g, col: col.data, threads: compute.threads)
            Gemm.run(compute.backend, m: O, n: N, k: K, a: weight.value.data, lda: K, b: col.data, ldb: N,
                     beta: 0, c: yT.data, ldc: N, threads: compute.threads)
            Self.unpermute(yT.data, bias: bias.value.data, into: y.data + b0 * O * HW,
                           images: nb, channels: O, planeSize: HW, threads: compute.threads)
            b0 += nb
        }
        savedX = training ? x : nil
        colHoldsBatch = training && chunk == batch
        return y
    }

    public func backward(_ dY: Tensor, _ compute: Compute) -> Tensor {
        guard let x = savedX else { preconditionFailure("Conv2d '\(name)': backward without a training forward") }
        let g = geometry(x.shape)
        let batch = x.shape[0], HW = g.outHeight * g.outWidth, K = g.patchSize, O = outChannels
        dY.expectShape([batch, O, g.outHeight, g.outWidth], "Conv2d '\(name)' backward dY")
        dX.resize(x.shape)
        let chunk = max(1, min(samplesPerChunk, batch))
        let imageSize = g.channels * g.height * g.width
        var b0 = 0
        while b0 < batch {
            let nb = min(chunk, batch - b0), N = nb * HW
            if !colHoldsBatch {
                Im2col.im2col(x.data + b0 * imageSize, batch: nb, g, col: col.data, threads: compute.threads)
            }
            Self.permute(dY.data + b0 * O * HW, into: yT.data, images: nb, channels: O, planeSize: HW, threads: compute.threads)
            Self.addRowSums(yT.data, rows: O, cols: N, into: bias.grad.data, threads: compute.threads)
            // dW += dYᵗ · colᵀ
            Gemm.run(compute.backend, transA: false, transB: true, m: O, n: K, k: N, a: yT.data, lda: N,
                     b: col.data, ldb: N, beta: 1, c: weight.grad.data, ldc: K, threads: compute.threads)
            if computesInputGradient {
                // dcol = Wᵀ · dYᵗ, written over col (no longer needed for this chunk).
                Gemm.run(compute.backend, transA: true, transB: false, m: K, n: N, k: O, a: weight.value.data, lda: K,
                         b: yT.data, ldb: N, beta: 0, c: col.data, ldc: N, threads: compute.threads)
                Im2col.col2im(col.data, batch: nb, g, dX: dX.data + b0 * imageSize, threads: compute.threads)
            }
            b0 += nb
        }
        if !computesInputGradient { dX.fill(0) }
        colHoldsBatch = false
        return dX
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
}
