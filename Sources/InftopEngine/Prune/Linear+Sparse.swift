import InftopTelemetry

/// A pruned Linear's sparse plan: at `sparsity > 0` the plan preparation (background thread)
/// builds the CSR form of the current weights and times dense against CSR for this layer's
/// shape at `SparseWeightCache.measuredBatches`; forward then runs CSR at the batches where it
/// measured faster (the crossover is measured per layer and batch, never assumed). Later weight
/// changes (the replica taking newer trained weights) rebuild the CSR form on the model's thread
/// and keep the measurement.
extension Linear: PlanPreparing {
    public func needsPreparation(from old: Compute, to new: Compute) -> Bool {
        if new.sparsity == 0 { return sparseWeights.choice != nil }  // release the CSR form
        return (sparseWeights.choice == nil || old.sparsity != new.sparsity || old.backend != new.backend
                             || old.threads != new.threads || old.isa != new.isa)
    }

    public func prepare(for plan: Compute) -> any Sendable {
        if plan.sparsity == 0 { return PreparedSparse?.none as any Sendable }
        let version = weight.value.version
        let w = Tensor([outFeatures, inFeatures], name: name + ".weight.snapshot")
        w.copy(from: weight.value)
        // Weights not (yet) pruned to the plan's sparsity (a replica whose pruned weights are on
        // their way): measure on a copy pruned to it, and build the real CSR form at first use.
        var zeros = 0
        for i in 0..<w.count where w.data[i] == 0 { zeros += 1 }
        let representative = Double(zeros) / Double(w.count) < plan.sparsity - 0.005
        if representative { for i in Model.smallestMagnitudes(w.data, count: w.count, sparsity: plan.sparsity) { w.data[i] = 0 } }
        let csr = SparseWeights(w.data, n: outFeatures, k: inFeatures)
        let choice = SparseGemm.measure(weight: w.data, sparse: csr, bias: bias.value.data,
                                        batches: SparseWeightCache.measuredBatches, compute: plan)
        return PreparedSparse(csr: csr, version: representative ? -1 : version, choice: choice)
    }

    public func adopt(_ prepared: any Sendable, for plan: Compute) {
        guard let p = prepared as? PreparedSparse else { sparseWeights.clear(); return }
        sparseWeights.adopt(p.csr, version: p.version, choice: p.choice)
    }

    public func weightsChanged(plan: Compute) {}

    /// Whether forward at `batch` runs CSR under the adopted sparse plan.
    func runsSparse(batch: Int) -> Bool { sparseWeights.choice?.sparseFaster(batch: batch) ?? false }

    /// What the last plan preparation measured (nil before any sparse plan).
    public var sparseChoice: SparseChoice? { sparseWeights.choice }

    /// Replaces the measured choice (tests and benchmarks pinning a format; the next plan
    /// preparation measures again). Builds the CSR form now.
    public func pinSparseChoice(_ choice: SparseChoice) {
        sparseWeights.adopt(SparseWeights(weight.value.data, n: outFeatures, k: inFeatures), version: weight.value.version, choice: choice)
    }

    /// Bytes of the CSR form held now.
    public var sparseWeightBytes: Int { sparseWeights.bytes }
}

struct PreparedSparse: @unchecked Sendable {
    let csr: SparseWeights
    let version: Int
    let choice: SparseChoice
}

extension SparseWeightCache {
    /// Batch sizes a sparse plan times dense and CSR at.
    public static let measuredBatches = [1, 4, 16, 64, 256]
}
