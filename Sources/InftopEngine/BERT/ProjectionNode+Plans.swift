import InftopTelemetry

/// A BERT projection's plans that need work, prepared in the background (`Model.request`) while
/// the current plan keeps serving, adopted at the next step boundary. The loaded weights never
/// change, so reading them on another thread is safe.
///
/// - int8: the weight quantized per output channel (once; the file's own form when it had one).
/// - unstructured pruning: the encoder's weights are loaded, not trained here, so the plan prunes
///   a copy itself — exactly `sparsity` of the weight, smallest magnitudes first (the loaded
///   weights stay, so sparsity 0 brings the exact encoder back) — builds its CSR form and times
///   dense (on the pruned copy) against CSR in this node's layout at `measuredTokens`. Forward
///   runs CSR at the token counts where it measured faster and the pruned dense copy elsewhere,
///   so the answers are the pruned model's either way. Int8 takes precedence over pruning.
extension ProjectionNode: PlanPreparing {
    /// Token counts (rows M) a sparse plan times dense and CSR at.
    public static let measuredTokens = [16, 128, 1024]

    public func needsPreparation(from old: Compute, to new: Compute) -> Bool {
        new.precision == .int8 ? q8 == nil : sparseWeights.needsPreparation(from: old, to: new)
    }

    public func prepare(for plan: Compute) -> any Sendable {
        if plan.precision == .int8 { return QuantizedWeights(weight.pointer, n: outFeatures, k: inFeatures) }
        if plan.sparsity == 0 { return PreparedProjection?.none as any Sendable }
        let n = outFeatures, k = inFeatures
        let pruned = Tensor([n, k], name: name + ".pruned", owner: .weightsSparse)
        pruned.data.update(from: weight.pointer, count: n * k)
        for i in Model.smallestMagnitudes(pruned.data, count: n * k, sparsity: plan.sparsity) { pruned.data[i] = 0 }
        let csr = SparseWeights(pruned.data, n: n, k: k)
        return PreparedProjection(pruned: pruned, csr: csr, choice: measure(pruned, csr, plan))
    }

    public func adopt(_ prepared: any Sendable, for plan: Compute) {
        if let q = prepared as? QuantizedWeights {
            if q8 == nil { q8 = q }
        } else if let p = prepared as? PreparedProjection {
            prunedWeight = p.pruned
            sparseWeights.adopt(p.csr, version: p.pruned.version, choice: p.choice)
        } else {
            sparseWeights.clear()
            prunedWeight = nil
        }
    }

    public func weightsChanged(plan: Compute) {}

    /// Whether forward at `tokens` rows runs CSR under the adopted sparse plan.
    func runsSparse(tokens: Int) -> Bool { sparseWeights.choice?.sparseFaster(batch: tokens) ?? false }

    /// What the last sparse plan preparation measured (nil before any).
    public var sparseChoice: SparseChoice? { sparseWeights.choice }

    /// Replaces the measured choice of the adopted sparse plan (tests pinning a format).
    public func pinSparseChoice(_ choice: SparseChoice) {
        guard let p = prunedWeight else { preconditionFailure("ProjectionNode '\(name)': no sparse plan adopted to pin") }
        sparseWeights.adopt(SparseWeights(p.data, n: outFeatures, k: inFeatures), version: p.version, choice: choice)
    }

    /// Bytes of the pruned copy and its CSR form held now.
    public var sparseWeightBytes: Int { (prunedWeight?.bytes ?? 0) + sparseWeights.bytes }

    /// Fraction of the weight that is zero under the adopted plan (0 when unpruned).
    public var prunedSparsity: Double {
        guard let p = prunedWeight else { return 0 }
        var zeros = 0
        for i in 0..<p.count where p.data[i] == 0 { zeros += 1 }
        return Double(zeros) / Double(p.count)
    }

    /// The CSR product of `rows` token rows in this node's layout (`x` as forward gets it).
    func sparseForward(_ tier: SparseGemm.Tier, rows m: Int, x: UnsafePointer<Float>, weights w: SparseWeights,
                       y: UnsafeMutablePointer<Float>, scratch: Tensor) {
        switch layout {
        case .rowMajor: SparseGemm.run(tier, m: m, x: x, ldx: inFeatures, weights: w, bias: nil, y: y, ldy: outFeatures, scratch: scratch)
        case .featureMajorOut: SparseGemm.runTransposedOut(tier, m: m, x: x, ldx: inFeatures, weights: w, bias: nil, yT: y, ldyT: m, scratch: scratch)
        case .featureMajorIn: SparseGemm.runKMajorIn(tier, m: m, xt: x, ldxt: m, weights: w, bias: nil, y: y, ldy: outFeatures, scratch: scratch)
        }
    }

    /// The dense product on `w` in this node's layout (what forward runs unpruned).
    func denseForward(_ plan: Compute, rows m: Int, x: UnsafePointer<Float>, w: UnsafePointer<Float>, y: UnsafeMutablePointer<Float>) {
        let n = outFeatures, k = inFeatures
        switch layout {
        case .rowMajor:
            Gemm.run(plan.backend, transB: true, m: m, n: n, k: k, a: x, lda: k, b: w, ldb: k, c: y, ldc: n, threads: plan.threads, isa: plan.isa)
        case .featureMajorOut:
            Gemm.run(plan.backend, transB: true, m: n, n: m, k: k, a: w, lda: k, b: x, ldb: k, c: y, ldc: m, threads: plan.threads, isa: plan.isa)
        case .featureMajorIn:
            Gemm.run(plan.backend, transA: true, transB: true, m: m, n: n, k: k, a: x, lda: m, b: w, ldb: k, c: y, ldc: n,
                     threads: plan.threads, isa: plan.isa)
        }
    }

    /// Median ms of dense and CSR at each of `measuredTokens`, on buffers of its own.
    private func measure(_ pruned: Tensor, _ csr: SparseWeights, _ plan: Compute) -> SparseChoice {
        let maxM = Self.measuredTokens.max() ?? 1
        let x = Tensor([maxM * inFeatures], name: name + ".measure.x")
        var rng = SeededRandom(seed: 13)
        rng.fillUniform(x, -1, 1)
        let y = Tensor([maxM * outFeatures], name: name + ".measure.y"), scratch = Tensor([0], name: name + ".measure.xt")
        let tier = SparseGemm.tier(plan.backend)
        var dense: [Double] = [], sparse: [Double] = []
        for m in Self.measuredTokens {
            dense.append(SparseGemm.medianMs(minSeconds: 0.01) { denseForward(plan, rows: m, x: x.data, w: pruned.data, y: y.data) })
            sparse.append(SparseGemm.medianMs(minSeconds: 0.01) { sparseForward(tier, rows: m, x: x.data, weights: csr, y: y.data, scratch: scratch) })
        }
        return SparseChoice(batches: Self.measuredTokens, denseMs: dense, sparseMs: sparse)
    }
}

/// What a projection's sparse plan made: the pruned copy `[N, K]`, its CSR form, the timings.
struct PreparedProjection: @unchecked Sendable {
    let pruned: Tensor
    let csr: SparseWeights
    let choice: SparseChoice
}
