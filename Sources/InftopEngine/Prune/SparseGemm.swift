import CKernels
import InftopTelemetry

/// The sparse GEMM of a pruned weight-bearing node at inference:
///
///     Y[M, N] = X[M, K] · Wᵀ + bias        (W `[N, K]` in CSR: `SparseWeights`)
///
/// X rows have stride `ldx` ≥ K, Y rows `ldy` ≥ N, `bias` `[N]` or nil. Only W's nonzeros are
/// read: the work is nnz · M multiply-adds, not N · K · M.
///
/// Tiers: `reference` (plain loops, the oracle) and `avx2` (`ck_csr_gemm_avx2`: gathers for
/// M < 8, else X transposed into `scratch` and one broadcast-FMA per nonzero over 32 batch
/// rows). Single-threaded: the layers it pays on are small enough that one core is the fair
/// comparison with the dense kernel at `threads` 1 (DECISIONS.md).
public enum SparseGemm {
    public enum Tier: String, Sendable { case reference, avx2 }

    /// The tier for a backend: reference runs the reference loops, every other backend the AVX2 kernel.
    public static func tier(_ backend: KernelBackend) -> Tier { backend == .reference ? .reference : .avx2 }

    /// Runs the product; `scratch` (any tensor, resized here) holds X transposed for the avx2 tier.
    public static func run(_ tier: Tier, m: Int, x: UnsafePointer<Float>, ldx: Int, weights w: SparseWeights,
                           bias: UnsafePointer<Float>?, y: UnsafeMutablePointer<Float>, ldy: Int, scratch: Tensor) {
        precondition(m >= 0 && ldx >= w.k && ldy >= w.n, "SparseGemm: ldx \(ldx) / ldy \(ldy) too small for [\(w.n), \(w.k)]")
        if m == 0 { return }
        switch tier {
        case .reference:
            reference(m: m, x: x, ldx: ldx, weights: w, bias: bias, y: y, ldy: ldy)
        case .avx2:
            if m >= 8 { scratch.resize([w.k * ((m + 7) / 8 * 8)]) }
            ck_csr_gemm_avx2(m, w.n, w.k, x, ldx, UnsafePointer(w.rowptr), UnsafePointer(w.cols), UnsafePointer(w.vals),
                             bias, y, ldy, scratch.data)
        }
    }

    /// Plain loops: y[i, j] = bias[j] + Σ_p vals[p] · x[i, cols[p]], in storage order.
    public static func reference(m: Int, x: UnsafePointer<Float>, ldx: Int, weights w: SparseWeights,
                                 bias: UnsafePointer<Float>?, y: UnsafeMutablePointer<Float>, ldy: Int) {
        for i in 0..<m {
            for j in 0..<w.n {
                var s: Float = 0
                for p in Int(w.rowptr[j])..<Int(w.rowptr[j + 1]) { s += w.vals[p] * x[i * ldx + Int(w.cols[p])] }
                y[i * ldy + j] = s + (bias?[j] ?? 0)
            }
        }
    }

    /// The k-major product of a pruned convolution (its im2col columns):
    ///
    ///     C[j, i] = bias[j] + Σ_{p ∈ row j} vals[p] · B[cols[p], i]      (j < n, i < columns)
    ///
    /// B `[k, ldb]`, C `[n, ldc]`, `bias` `[n]` or nil: only W's nonzeros are read, each against
    /// one contiguous row of B. Tiers as `run` (`ck_csr_kmajor_avx2`).
    public static func runKMajor(_ tier: Tier, columns: Int, b: UnsafePointer<Float>, ldb: Int, weights w: SparseWeights,
                                 bias: UnsafePointer<Float>?, c: UnsafeMutablePointer<Float>, ldc: Int) {
        precondition(columns >= 0 && ldb >= columns && ldc >= columns, "SparseGemm: ldb \(ldb) / ldc \(ldc) below \(columns) columns")
        if columns == 0 { return }
        switch tier {
        case .reference: referenceKMajor(columns: columns, b: b, ldb: ldb, weights: w, bias: bias, c: c, ldc: ldc)
        case .avx2:
            ck_csr_kmajor_avx2(w.n, columns, b, ldb, UnsafePointer(w.rowptr), UnsafePointer(w.cols), UnsafePointer(w.vals), bias, c, ldc)
        }
    }

    /// Plain loops of `runKMajor`: c[j, i] = bias[j] + Σ_p vals[p] · b[cols[p], i], in storage order.
    public static func referenceKMajor(columns: Int, b: UnsafePointer<Float>, ldb: Int, weights w: SparseWeights,
                                       bias: UnsafePointer<Float>?, c: UnsafeMutablePointer<Float>, ldc: Int) {
        for j in 0..<w.n {
            for i in 0..<columns {
                var s = bias?[j] ?? 0
                for p in Int(w.rowptr[j])..<Int(w.rowptr[j + 1]) { s += w.vals[p] * b[Int(w.cols[p]) * ldb + i] }
                c[j * ldc + i] = s
            }
        }
    }

    /// Median ms of the dense forward GEMM (+ bias) and of the CSR one for `weight` `[n, k]` at
    /// each of `batches`, under `compute` (dense: its backend, threads and ISA; CSR: `tier(backend)`).
    /// Uses its own buffers (inputs drawn once), so it may run beside a forward of the same node.
    public static func measure(weight: UnsafePointer<Float>, sparse: SparseWeights, bias: UnsafePointer<Float>,
                               batches: [Int], compute: Compute, minSeconds: Double = 0.01) -> SparseChoice {
        let n = sparse.n, k = sparse.k
        let maxB = batches.max() ?? 1
        let x = Tensor([maxB, k], name: "sparse.measure.x")
        var rng = SeededRandom(seed: 7)
        rng.fillUniform(x, -1, 1)
        let y = Tensor([maxB, n], name: "sparse.measure.y")
        let scratch = Tensor([0], name: "sparse.measure.xt")
        func median(_ body: () -> Void) -> Double { medianMs(minSeconds: minSeconds, body) }
        var dense: [Double] = [], csr: [Double] = []
        let tier = tier(compute.backend)
        for b in batches {
            dense.append(median {
                Gemm.run(compute.backend, transA: false, transB: true, m: b, n: n, k: k, a: x.data, lda: k, b: weight, ldb: k,
                         beta: 0, c: y.data, ldc: n, threads: compute.threads, isa: compute.isa)
                Elementwise.addRowBias(y.data, bias: bias, rows: b, cols: n)
            })
            csr.append(median { run(tier, m: b, x: x.data, ldx: k, weights: sparse, bias: bias, y: y.data, ldy: n, scratch: scratch) })
        }
        return SparseChoice(batches: batches, denseMs: dense, sparseMs: csr)
    }
}

extension SparseGemm {
    /// Median ms of `body` after one warm-up run: at least 5 runs, more until `minSeconds` have
    /// passed (at most 200). What a sparse plan times dense and CSR with.
    static func medianMs(minSeconds: Double, _ body: () -> Void) -> Double {
        body()
        var times: [Double] = []
        let start = monotonicNanos()
        while times.count < 5 || (Double(monotonicNanos() - start) / 1e9 < minSeconds && times.count < 200) {
            let t0 = monotonicNanos()
            body()
            times.append(Double(monotonicNanos() - t0) / 1e6)
        }
        times.sort()
        return times[times.count / 2]
    }

    /// The crossover of one weight `[n, k]` at `batch`: its magnitude-pruned copies at each of
    /// `grid`'s sparsities timed dense and CSR (`measure`); the lowest sparsity from which CSR
    /// stays faster (nil: dense at every sparsity measured), and every point.
    public static func crossover(weight: UnsafePointer<Float>, bias: UnsafePointer<Float>, n: Int, k: Int, batch: Int,
                                 compute: Compute, grid: [Double] = [0.5, 0.6, 0.7, 0.8, 0.85, 0.9, 0.95])
        -> (sparsity: Double?, points: [(sparsity: Double, denseMs: Double, sparseMs: Double)]) {
        let w = Tensor([n, k], name: "sparse.crossover.w")
        var points: [(sparsity: Double, denseMs: Double, sparseMs: Double)] = []
        for s in grid {
            w.data.update(from: weight, count: n * k)
            for i in Model.smallestMagnitudes(weight, count: n * k, sparsity: s) { w.data[i] = 0 }
            let c = measure(weight: w.data, sparse: SparseWeights(w.data, n: n, k: k), bias: bias, batches: [batch], compute: compute,
                            minSeconds: 0.05)
            points.append((s, c.denseMs[0], c.sparseMs[0]))
        }
        let first = points.indices.first { j in points[j...].allSatisfy { $0.sparseMs < $0.denseMs } }
        return (first.map { points[$0].sparsity }, points)
    }
}
