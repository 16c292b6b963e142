import InftopTelemetry

/// A pruned convolution's sparse plan, as Linear's (Linear+Sparse.swift): at `sparsity > 0` the
/// plan preparation builds the CSR form of the weight viewed `[out, in·k·k]` and times, for one
/// image of the size the model feeds this node (the chunk forward runs per image), the dense
/// pass the plan would run (the implicit GEMM on simd, im2col + GEMM otherwise) against im2col
/// + the k-major CSR product (`SparseGemm.runKMajor`). Forward runs CSR only where that measured
/// faster; the measurement holds for every batch (each chunk is one image).
extension Conv2d: PlanPreparing {
    public func needsPreparation(from old: Compute, to new: Compute) -> Bool { sparseWeights.needsPreparation(from: old, to: new) }

    public func prepare(for plan: Compute) -> any Sendable {
        let K = inChannels * kernel * kernel
        return PreparedSparse.make(weight: weight.value, n: outChannels, k: K, plan: plan) { w, csr in
            guard let image = sampleShape else { return SparseChoice(batches: [1], denseMs: [0], sparseMs: [1]) }  // never run: dense
            return measureSparse(weight: w, sparse: csr, image: image, plan: plan)
        }
    }

    public func adopt(_ prepared: any Sendable, for plan: Compute) {
        guard let p = prepared as? PreparedSparse else { sparseWeights.clear(); return }
        sparseWeights.adopt(p.csr, version: p.version, choice: p.choice)
    }

    public func weightsChanged(plan: Compute) {}

    /// Whether forward runs CSR under the adopted sparse plan (measured per image: any batch).
    func runsSparse() -> Bool { sparseWeights.choice?.sparseFaster(batch: 1) ?? false }

    /// What the last plan preparation measured (nil before any sparse plan).
    public var sparseChoice: SparseChoice? { sparseWeights.choice }

    /// Replaces the measured choice (tests pinning a format). Builds the CSR form now.
    public func pinSparseChoice(_ choice: SparseChoice) {
        sparseWeights.adopt(SparseWeights(weight.value.data, n: outChannels, k: inChannels * kernel * kernel),
                            version: weight.value.version, choice: choice)
    }

    /// Bytes of the CSR form held now.
    public var sparseWeightBytes: Int { sparseWeights.bytes }

    /// Median ms of one image's dense pass and of its CSR pass (bias excluded from both: the same
    /// work), on buffers of its own (it may run beside a forward of this node).
    private func measureSparse(weight w: UnsafePointer<Float>, sparse: SparseWeights, image: [Int], plan: Compute) -> SparseChoice {
        let g = ConvGeometry(channels: inChannels, height: image[1], width: image[2], kernel: kernel, padding: padding)
        let K = g.patchSize, N = g.outHeight * g.outWidth, O = outChannels
        let x = Tensor([g.channels * g.height * g.width], name: name + ".measure.x")
        var rng = SeededRandom(seed: 11)
        rng.fillUniform(x, -1, 1)
        let col = Tensor([K * N], name: name + ".measure.col"), y = Tensor([O * N], name: name + ".measure.y")
        let packed = Tensor([ConvGemm.packedCount(rows: O, k: K)], name: name + ".measure.packed")
        ConvGemm.packWeights(w, rows: O, k: K, into: packed.data)
        func median(_ body: () -> Void) -> Double { SparseGemm.medianMs(minSeconds: 0.01, body) }
        let dense = median {
            if plan.backend == .simd {
                ConvGemm.multiply(packedA: packed.data, rows: O, image: x.data, g, out: y.data, isa: plan.isa)
            } else {
                ConvGemm.lower(image: x.data, g, col: col.data)
                Gemm.run(plan.backend, m: O, n: N, k: K, a: w, lda: K, b: col.data, ldb: N, beta: 0, c: y.data, ldc: N, threads: 1, isa: plan.isa)
            }
        }
        let tier = SparseGemm.tier(plan.backend)
        let csr = median {
            ConvGemm.lower(image: x.data, g, col: col.data)
            SparseGemm.runKMajor(tier, columns: N, b: col.data, ldb: N, weights: sparse, bias: nil, c: y.data, ldc: N)
        }
        return SparseChoice(batches: [1], denseMs: [dense], sparseMs: [csr])
    }
}
