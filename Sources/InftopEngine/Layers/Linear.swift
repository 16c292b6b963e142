/// Fully connected layer, PyTorch's `nn.Linear(inFeatures, outFeatures)`:
///
///     forward   Y[B, out] = X[B, in] · Wᵀ + b          (GEMM NT)
///     backward  dX[B, in] = dY[B, out] · W             (GEMM NN)
///               dW[out, in] += dYᵀ · X                 (GEMM TN, beta 1)
///               db[out] += Σ_batch dY
///
/// Weight `[out, in]` (nn.Linear's layout, so PyTorch state dicts load unchanged), bias `[out]`.
/// Initialised like PyTorch's default (`kaiming_uniform_(a=√5)` and its bias rule), which both come
/// to U(−1/√in, 1/√in), drawn weights-then-bias in storage order from `SeededRandom(seed)`.
///
/// Forward keeps a reference to X for backward (no copy): X must stay unchanged until backward
/// has run, as with autograd's saved tensors.
public final class Linear: Layer {
    public let name: String
    public var kind: NodeKind { .linear }
    public var buffers: [Tensor] { [y, dX] }
    public let inFeatures: Int, outFeatures: Int
    /// `[out, in]`.
    public let weight: Parameter
    /// `[out]`.
    public let bias: Parameter
    /// When false, backward skips dX (saves a GEMM for a first layer, whose input needs no
    /// gradient) and returns a zero-filled dX.
    public var computesInputGradient = true

    /// `[B, out]`, owned, reused across steps.
    private let y: Tensor
    /// `[B, in]`, owned.
    private let dX: Tensor
    /// The last training forward's input `[B, in]` (not owned).
    private var savedX: Tensor?

    /// The weight's int8 form for inference at `precision == .int8` (rebuilt when the weight changes).
    let int8Weights = Int8WeightCache()
    /// The weight's CSR form and measured crossover at `sparsity > 0` (Linear+Sparse.swift).
    let sparseWeights = SparseWeightCache()

    public var parameters: [Parameter] { [weight, bias] }

    public init(name: String, inFeatures: Int, outFeatures: Int, seed: UInt64) {
        precondition(inFeatures >= 1 && outFeatures >= 1, "Linear '\(name)': features must be ≥ 1, got in \(inFeatures) out \(outFeatures)")
        self.name = name
        self.inFeatures = inFeatures
        self.outFeatures = outFeatures
        weight = Parameter(name + ".weight", shape: [outFeatures, inFeatures])
        bias = Parameter(name + ".bias", shape: [outFeatures])
        var rng = SeededRandom(seed: seed)
        let bound = 1 / Float(inFeatures).squareRoot()
        rng.fillUniform(weight.value, -bound, bound)
        rng.fillUniform(bias.value, -bound, bound)
        y = Tensor([0, outFeatures], name: name + ".y")
        dX = Tensor([0, inFeatures], name: name + ".dX")
    }

    public func outputShape(_ input: [Int]) -> [Int] {
        precondition(input.count == 2 && input[1] == inFeatures, "Linear '\(name)': input shape \(input), expected [batch, \(inFeatures)]")
        return [input[0], outFeatures]
    }

    public func forward(_ x: Tensor, _ compute: Compute, training: Bool) -> Tensor {
        x.expectShape([-1, inFeatures], "Linear '\(name)' forward")
        let batch = x.shape[0]
        y.resize([batch, outFeatures])
        if compute.precision == .int8 && !training {
            Int8Gemm.run(compute, m: batch, k: inFeatures, x: x.data, ldx: inFeatures,
                         weights: int8Weights.weights(for: weight.value, n: outFeatures, k: inFeatures),
                         bias: bias.value.data, y: y.data, ldy: outFeatures)
            savedX = nil
            return y
        }
        if compute.sparsity > 0 && !training, runsSparse(batch: batch) {
            SparseGemm.run(SparseGemm.tier(compute.backend), m: batch, x: x.data, ldx: inFeatures,
                           weights: sparseWeights.weights(for: weight.value, n: outFeatures, k: inFeatures),
                           bias: bias.value.data, y: y.data, ldy: outFeatures, scratch: sparseWeights.scratch)
            savedX = nil
            return y
        }
        Gemm.run(compute.backend, transA: false, transB: true, m: batch, n: outFeatures, k: inFeatures,
                 a: x.data, lda: inFeatures, b: weight.value.data, ldb: inFeatures,
                 beta: 0, c: y.data, ldc: outFeatures, threads: compute.threads, isa: compute.isa)
        Elementwise.addRowBias(y.data, bias: bias.value.data, rows: batch, cols: outFeatures)
        savedX = training ? x : nil
        return y
    }

    public func backward(_ dY: Tensor, _ compute: Compute) -> Tensor {
        guard let x = savedX else { preconditionFailure("Linear '\(name)': backward without a training forward") }
        let batch = x.shape[0]
        dY.expectShape([batch, outFeatures], "Linear '\(name)' backward dY")
        // dW += dYᵀ · X
        Gemm.run(compute.backend, transA: true, transB: false, m: outFeatures, n: inFeatures, k: batch,
                 a: dY.data, lda: outFeatures, b: x.data, ldb: inFeatures,
                 beta: 1, c: weight.grad.data, ldc: inFeatures, threads: compute.threads, isa: compute.isa)
        Elementwise.addColumnSums(dY.data, rows: batch, cols: outFeatures, into: bias.grad.data)
        dX.resize([batch, inFeatures])
        if computesInputGradient {
            Gemm.run(compute.backend, transA: false, transB: false, m: batch, n: inFeatures, k: outFeatures,
                     a: dY.data, lda: outFeatures, b: weight.value.data, ldb: inFeatures,
                     beta: 0, c: dX.data, ldc: inFeatures, threads: compute.threads, isa: compute.isa)
        } else {
            dX.fill(0)
        }
        return dX
    }
}
