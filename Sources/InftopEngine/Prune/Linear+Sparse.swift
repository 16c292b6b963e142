import InftopTelemetry

/// A pruned Linear's sparse plan: at `sparsity > 0` the plan preparation (background thread)
/// builds the CSR form of the current weights and times dense against CSR for this layer's
/// shape at `SparseWeightCache.measuredBatches`; forward then runs CSR at the batches where it
/// measured faster (the crossover is measured per layer and batch, never assumed). Later weight
/// changes (the replica taking newer trained weights) rebuild the CSR form on the model's thread
/// and keep the measurement.
extension Linear: PlanPreparing {
    public func needsPreparation(from old: Compute, to new: Compute) -> Bool { sparseWeights.needsPreparation(from: old, to: new) }

    public func prepare(for plan: Compute) -> any Sendable {
        PreparedSparse.make(weight: weight.value, n: outFeatures, k: inFeatures, plan: plan) { w, csr in
            SparseGemm.measure(weight: w, sparse: csr, bias: bias.value.data, batches: SparseWeightCache.measuredBatches, compute: plan)
        }
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

    /// A node's sparse plan (background thread): the CSR form of a snapshot of `weight` (`[n, k]`)
    /// and what `measure` timed for it. When the weights are not (yet) pruned to the plan's
    /// sparsity (a replica whose pruned weights are on their way), `measure` gets a copy pruned
    /// to it and the real CSR form is built at first use. Sparsity 0 makes nothing (back to dense).
    static func make(weight: Tensor, n: Int, k: Int, plan: Compute,
                     measure: (UnsafePointer<Float>, SparseWeights) -> SparseChoice) -> any Sendable {
        if plan.sparsity == 0 { return PreparedSparse?.none as any Sendable }
        let version = weight.version
        let w = Tensor([n, k], name: weight.name + ".snapshot")
        w.copy(from: weight)
        var zeros = 0
        for i in 0..<w.count where w.data[i] == 0 { zeros += 1 }
        let representative = Double(zeros) / Double(w.count) < plan.sparsity - 0.005
        if representative { for i in Model.smallestMagnitudes(w.data, count: w.count, sparsity: plan.sparsity) { w.data[i] = 0 } }
        let csr = SparseWeights(w.data, n: n, k: k)
        return PreparedSparse(csr: csr, version: representative ? -1 : version, choice: measure(w.data, csr))
    }
}

extension SparseWeightCache {
    /// Whether a node holding this cache must prepare to move from `old` to `new`: a sparse plan
    /// not measured yet or measured under other settings, or a dense one releasing the CSR form.
    func needsPreparation(from old: Compute, to new: Compute) -> Bool {
        if new.sparsity == 0 { return choice != nil }
        return choice == nil || old.sparsity != new.sparsity || old.backend != new.backend || old.threads != new.threads || old.isa != new.isa
    }

    /// Batch sizes a sparse plan times dense and CSR at.
    public static let measuredBatches = [1, 4, 16, 64, 256]
}
