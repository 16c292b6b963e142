import Dispatch

/// How a convolution uses `Compute.threads`.
public enum ConvThreading: String, Sendable, CaseIterable {
    /// Chunks of the batch are handed out to threads (dynamically, from a shared counter, so a
    /// thread the OS preempts does not hold the others up); each runs its own im2col → GEMM →
    /// permute pipeline with single-threaded kernels (one fork-join per pass, each core keeps its
    /// chunk in cache). Backward hands out fixed groups of chunks instead, each summing its
    /// weight gradient in its own buffer; the groups' sums are added in group order, so a run is
    /// bit-reproducible at a given thread count whichever thread ran which group.
    case batch
    /// One pipeline over the whole batch; every GEMM and memory kernel uses all threads.
    case gemm
}

/// 2-D convolution, stride 1, square kernel, zero padding, NCHW — PyTorch's
/// `nn.Conv2d(inChannels, outChannels, kernel, padding: padding)`.
///
/// Weight `[out, in, k, k]` (PyTorch's layout), bias `[out]`, initialised like PyTorch's default:
/// U(−1/√fanIn, 1/√fanIn) with fanIn = in·k·k, weights-then-bias from `SeededRandom(seed)`.
///
/// Lowered to GEMM over chunks of `nb` images (K = in·k·k, N = nb·OH·OW):
///
///     forward   col[K, N] = im2col(X)
///               Yᵗ[out, N] = W[out, K] · col              (one GEMM per chunk)
///               Y[b, o, :, :] = Yᵗ[o, b, :] + bias[o]      (permute + bias, one pass)
///     backward  dYᵗ[out, N] = permute(dY);  db += row sums of dYᵗ
///               dW[out, K] += dYᵗ · colᵀ                  (GEMM NT, beta 1)
///               dcol[K, N] = Wᵀ · dYᵗ                     (GEMM TN, into col's buffer)
///               dX = col2im(dcol)
///
/// With the simd backend (and the batch split across threads) forward and dX skip the lowering:
/// `ConvGemm` runs them as implicit GEMMs on our microkernel, straight from the images into
/// NCHW (dX as the correlation of dY with the 180°-rotated kernel), and dW = dYᵗ · colᵀ with col
/// made 16 rows at a time in L1 (`ConvGemm.weightGradient`).
///
/// Chunks of one image by default keep `col` (K·nb·OH·OW floats: 627 KB per image for the
/// CNN's conv2) in the core's L2 between im2col and the GEMM that reads it; backward recomputes
/// im2col per chunk, except for the chunk a thread's `col` still holds from the forward.
/// Measured on the CNN at batch 64, 2 threads (2026-11-22): 1-image chunks gave 1 220–1 284
/// samples/s, 2-image 1 184–1 194, 8-image 1 027–1 091 (conv1: 1-image chunks also fastest). Forward keeps a
/// reference to X (no copy): X must stay unchanged until backward.
public final class Conv2d: Layer {
    public let name: String
    public var kind: NodeKind { .convolution }
    public var buffers: [Tensor] { [y, dX, packedW, flippedW, dWParts, dbParts] + workspaces.flatMap { [$0.col, $0.yT] } }
    public let inChannels: Int, outChannels: Int, kernel: Int, padding: Int
    /// `[out, in, k, k]`.
    public let weight: Parameter
    /// `[out]`.
    public let bias: Parameter
    /// `[in, H, W]` of one image as the model feeds it (set when the model chains shapes; nil
    /// before): what a sparse plan measures at (Conv2d+Sparse.swift).
    var sampleShape: [Int]?
    /// The weight's CSR form `[out, in·k·k]` and measured choice under a sparse plan.
    let sparseWeights = SparseWeightCache()
    /// Images per im2col+GEMM chunk (≥ 1; `Int.max` = everything a thread has in one GEMM).
    public var samplesPerChunk = 1 {
        didSet { precondition(samplesPerChunk >= 1, "Conv2d '\(name)': samplesPerChunk must be ≥ 1") }
    }
    /// How threads are used (see `ConvThreading`).
    public var threading = ConvThreading.batch
    /// When false, backward skips dX (the dcol GEMM and col2im; for a first layer) and returns
    /// a zero-filled dX.
    public var computesInputGradient = true

    /// `[B, out, OH, OW]`; owned.
    private let y: Tensor
    /// `[B, in, H, W]`; owned.
    private let dX: Tensor
    /// The implicit-GEMM passes' weights packed into micro-panels (`ConvGemm.packWeights`):
    /// W `[out, in·k·k]` in forward, the flipped weights `[in, out·k·k]` in backward. Repacked
    /// every pass (the weights change each step; 51 K floats for conv2, ~1 % of its work).
    private let packedW: Tensor
    /// `[in, out, k, k]`: W rotated by 180° with in/out swapped (backward's dX convolution).
    private let flippedW: Tensor
    /// Per-thread scratch, grown when the thread count grows.
    var workspaces: [Workspace] = []
    /// `[groups − 1, out·K]` and `[groups − 1, out]`: the weight and bias gradients of backward's
    /// chunk groups after the first (which sums straight into the parameters' gradients).
    private let dWParts: Tensor, dbParts: Tensor
    private var savedX: Tensor?
    /// Next chunk to hand out in a parallel pass.
    let nextChunk = ChunkCounter()
    /// The last training forward's split: workspaces' `colChunk` numbers refer to it.
    private var forwardSplit: Split?
    /// The last `buffers` answer and what it was sized for.
    var bufferCache: (workers: Int, chunk: Int, geometry: ConvGeometry, lowered: Bool, buffers: [Buffers])?

    /// The weight's int8 form for inference at `precision == .int8` (Conv2d+Int8.swift).
    let int8Weights = Int8WeightCache()

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
        packedW = Tensor([0], name: name + ".packedW", owner: .other)
        flippedW = Tensor([0], name: name + ".flippedW", owner: .other)
        dWParts = Tensor([0], name: name + ".dWparts", owner: .gradients)
        dbParts = Tensor([0], name: name + ".dbparts", owner: .gradients)
    }

    private func geometry(_ input: [Int]) -> ConvGeometry {
        precondition(input.count == 4 && input[1] == inChannels,
                     "Conv2d '\(name)': input shape \(input), expected [batch, \(inChannels), H, W]")
        return ConvGeometry(channels: inChannels, height: input[2], width: input[3], kernel: kernel, padding: padding)
    }

    public func outputShape(_ input: [Int]) -> [Int] {
        let g = geometry(input)
        sampleShape = Array(input.dropFirst())  // the model computes shapes once at init: what it feeds this node
        return [input[0], outChannels, g.outHeight, g.outWidth]
    }

    /// Whether this pass runs as an implicit GEMM (`ConvGemm`): the simd tier with one thread per
    /// kernel call (the batch is what is split across threads).
    private func implicit(_ s: Split, _ compute: Compute) -> Bool { compute.backend == .simd && s.inner == 1 }

    public func forward(_ x: Tensor, _ compute: Compute, training: Bool) -> Tensor {
        if compute.precision == .int8 && !training { savedX = nil; forwardSplit = nil; return forwardInt8(x, compute, into: y) }
        let g = geometry(x.shape)
        let batch = x.shape[0], HW = g.outHeight * g.outWidth, K = g.patchSize, O = outChannels
        let imageSize = g.channels * g.height * g.width
        y.resize([batch, O, g.outHeight, g.outWidth])
        let s = split(batch: batch, compute)
        // Pruned, where CSR measured faster: im2col, then only the weight's nonzeros (k-major CSR).
        let csr = compute.sparsity > 0 && !training && runsSparse() ? sparseWeights.weights(for: weight.value, n: O, k: K) : nil
        let tier = SparseGemm.tier(compute.backend)
        let backend = compute.backend, implicit = csr == nil && implicit(s, compute)
        let bufs = buffers(s, g, lowered: !implicit)
        let xs = ParallelChunks.Ptr(x.data), ys = ParallelChunks.Ptr(y.data)
        let ws = ParallelChunks.Ptr(weight.value.data), bs = ParallelChunks.Ptr(bias.value.data)
        if implicit {
            packedW.resize([ConvGemm.packedCount(rows: O, k: K)])
            ConvGemm.packWeights(weight.value.data, rows: O, k: K, into: packedW.data)
        }
        let pw = ParallelChunks.Ptr(packedW.data)
        forEachTask(s.chunks, s, compute) { t, c in
            let buf = bufs[t], images = s.images(c)
            let b0 = images.lowerBound, nb = images.count, N = nb * HW
            let out = ys.p + b0 * O * HW
            buf.colChunk.pointee = -1
            if implicit {
                for b in images {
                    ConvGemm.multiply(packedA: pw.p, rows: O, image: xs.p + b * imageSize, g, out: ys.p + b * O * HW, isa: compute.isa)
                }
                Self.addBias(bs.p, to: out, images: nb, channels: O, planeSize: HW)
                return
            }
            if nb == 1 && s.inner == 1 {
                ConvGemm.lower(image: xs.p + b0 * imageSize, g, col: buf.col)
            } else {
                Im2col.im2col(xs.p + b0 * imageSize, batch: nb, g, col: buf.col, threads: s.inner)
            }
            if let csr {
                // One image: [O, HW] is its NCHW block, bias included; more: Yᵗ, then the permute adds it.
                SparseGemm.runKMajor(tier, columns: N, b: buf.col, ldb: N, weights: csr, bias: nb == 1 ? bs.p : nil,
                                     c: nb == 1 ? out : buf.yT, ldc: N)
                if nb > 1 { Self.unpermute(buf.yT, bias: bs.p, into: out, images: nb, channels: O, planeSize: HW, threads: s.inner) }
            } else if nb == 1 {
                // One image: the GEMM's [O, HW] result is already its NCHW block.
                Gemm.run(backend, m: O, n: N, k: K, a: ws.p, lda: K, b: buf.col, ldb: N,
                         beta: 0, c: out, ldc: N, threads: s.inner, isa: compute.isa)
                Self.addBias(bs.p, to: out, images: 1, channels: O, planeSize: HW)
            } else {
                Gemm.run(backend, m: O, n: N, k: K, a: ws.p, lda: K, b: buf.col, ldb: N,
                         beta: 0, c: buf.yT, ldc: N, threads: s.inner, isa: compute.isa)
                Self.unpermute(buf.yT, bias: bs.p, into: out, images: nb, channels: O, planeSize: HW, threads: s.inner)
            }
            buf.colChunk.pointee = training ? c : -1
        }
        savedX = training ? x : nil
        forwardSplit = training ? s : nil
        return y
    }

    public func backward(_ dY: Tensor, _ compute: Compute) -> Tensor {
        guard let x = savedX else { preconditionFailure("Conv2d '\(name)': backward without a training forward") }
        let g = geometry(x.shape)
        let batch = x.shape[0], HW = g.outHeight * g.outWidth, K = g.patchSize, O = outChannels
        let imageSize = g.channels * g.height * g.width
        dY.expectShape([batch, O, g.outHeight, g.outWidth], "Conv2d '\(name)' backward dY")
        dX.resize(x.shape)
        let s = split(batch: batch, compute)
        let xs = ParallelChunks.Ptr(x.data), dys = ParallelChunks.Ptr(dY.data), dxs = ParallelChunks.Ptr(dX.data)
        let ws = ParallelChunks.Ptr(weight.value.data)
        let dW0 = ParallelChunks.Ptr(weight.grad.data), db0 = ParallelChunks.Ptr(bias.grad.data)
        let backend = compute.backend, wantDX = computesInputGradient
        let sameSplit = forwardSplit == s
        forwardSplit = nil
        // dX as an implicit GEMM: the correlation of dY (O channels, OH×OW, padding k−1−p) with
        // the flipped weights has exactly the input's H×W (stride 1), so it needs p ≤ k−1.
        let flipGeometry = implicit(s, compute) && wantDX && padding <= kernel - 1
            ? ConvGeometry(channels: O, height: g.outHeight, width: g.outWidth, kernel: kernel, padding: kernel - 1 - padding)
            : nil
        if let fg = flipGeometry {
            flippedW.resize([inChannels, O, kernel, kernel])
            ConvGemm.flipWeights(weight.value.data, out: O, in: inChannels, kernel: kernel, into: flippedW.data)
            packedW.resize([ConvGemm.packedCount(rows: inChannels, k: fg.patchSize)])
            ConvGemm.packWeights(flippedW.data, rows: inChannels, k: fg.patchSize, into: packedW.data)
        }
        let pw = ParallelChunks.Ptr(packedW.data), C = inChannels
        let implicitDW = implicit(s, compute)
        // col is needed by the lowered path, and by the implicit one only for dX with padding
        // past k − 1.
        let bufs = buffers(s, g, lowered: !implicitDW || (wantDX && flipGeometry == nil))
        // The first group sums into the parameters' gradients, the others into their parts
        // (zeroed by whichever worker takes the group), added in group order after the join.
        let groups = s.groups
        dWParts.resize([groups - 1, O * K])
        dbParts.resize([groups - 1, O])
        let dWp = ParallelChunks.Ptr(dWParts.data), dbp = ParallelChunks.Ptr(dbParts.data)
        forEachTask(groups, s, compute) { t, group in
            let buf = bufs[t]
            let dW = group == 0 ? dW0.p : dWp.p + (group - 1) * O * K
            let db = group == 0 ? db0.p : dbp.p + (group - 1) * O
            if group > 0 {
                dW.update(repeating: 0, count: O * K)
                db.update(repeating: 0, count: O)
            }
            for c in s.chunks(ofGroup: group) {
                let images = s.images(c)
                let b0 = images.lowerBound, nb = images.count, N = nb * HW
                if implicitDW {
                    buf.colChunk.pointee = -1
                    for b in images {
                        let dYb = dys.p + b * O * HW, xb = xs.p + b * imageSize
                        Self.addRowSums(dYb, rows: O, cols: HW, into: db, threads: 1)
                        ConvGemm.weightGradient(dY: dYb, rows: O, image: xb, g, dW: dW, isa: compute.isa)
                        if let fg = flipGeometry {
                            ConvGemm.multiply(packedA: pw.p, rows: C, image: dYb, fg, out: dxs.p + b * imageSize, isa: compute.isa)
                        } else if wantDX {
                            // Padding past k − 1: dX through the lowered path, one image.
                            ConvGemm.lower(image: xb, g, col: buf.col)
                            Gemm.run(backend, transA: true, transB: false, m: K, n: HW, k: O, a: ws.p, lda: K,
                                     b: dYb, ldb: HW, beta: 0, c: buf.col, ldc: HW, threads: 1, isa: compute.isa)
                            Im2col.col2im(buf.col, batch: 1, g, dX: dxs.p + b * imageSize, threads: 1)
                        }
                    }
                    continue
                }
                if !sameSplit || buf.colChunk.pointee != c {
                    if nb == 1 && s.inner == 1 {
                        ConvGemm.lower(image: xs.p + b0 * imageSize, g, col: buf.col)
                    } else {
                        Im2col.im2col(xs.p + b0 * imageSize, batch: nb, g, col: buf.col, threads: s.inner)
                    }
                }
                buf.colChunk.pointee = -1   // col becomes dcol below
                // dYᵗ [O, N]: for one image dY's own [O, HW] block, else a permuted copy.
                let dYt: UnsafeMutablePointer<Float>
                if nb == 1 {
                    dYt = dys.p + b0 * O * HW
                } else {
                    Self.permute(dys.p + b0 * O * HW, into: buf.yT, images: nb, channels: O, planeSize: HW, threads: s.inner)
                    dYt = buf.yT
                }
                Self.addRowSums(dYt, rows: O, cols: N, into: db, threads: s.inner)
                // dW += dYᵗ · colᵀ
                Gemm.run(backend, transA: false, transB: true, m: O, n: K, k: N, a: dYt, lda: N,
                         b: buf.col, ldb: N, beta: 1, c: dW, ldc: K, threads: s.inner, isa: compute.isa)
                if wantDX {
                    // dcol = Wᵀ · dYᵗ, written over col (no longer needed for this chunk).
                    Gemm.run(backend, transA: true, transB: false, m: K, n: N, k: O, a: ws.p, lda: K,
                             b: dYt, ldb: N, beta: 0, c: buf.col, ldc: N, threads: s.inner, isa: compute.isa)
                    Im2col.col2im(buf.col, batch: nb, g, dX: dxs.p + b0 * imageSize, threads: s.inner)
                }
            }
        }
        for group in 1..<groups {
            Self.add(dWParts.data + (group - 1) * O * K, into: weight.grad.data, count: O * K)
            Self.add(dbParts.data + (group - 1) * O, into: bias.grad.data, count: O)
        }
        if !wantDX { dX.fill(0) }
        return dX
    }
}
