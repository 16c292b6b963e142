#if canImport(Glibc)
import Glibc
#endif
import InftopTelemetry

/// A pruned fp32 weight `[n, k]` (row j = output channel j, nn.Linear's `[out, in]`) in
/// compressed sparse rows: only its nonzeros, for `SparseGemm`.
///
///     rowptr [n + 1]  Int32: row j's nonzeros are at rowptr[j] ..< rowptr[j + 1]
///     cols   [nnz]    Int32: their input column
///     vals   [nnz]    fp32:  their value
///
/// Built once per plan change or weight change (`SparseWeightCache`); bytes are counted under
/// `.weightsSparse`: 8 bytes per nonzero plus 4 per row.
public final class SparseWeights: @unchecked Sendable {
    public let n: Int, k: Int
    /// Stored nonzeros.
    public let nnz: Int
    let rowptr: UnsafeMutablePointer<Int32>
    let cols: UnsafeMutablePointer<Int32>
    let vals: UnsafeMutablePointer<Float>

    /// Bytes held (row pointers, column indices, values).
    public var bytes: Int { Self.bytes(n: n, nnz: nnz) }

    /// Bytes of the CSR form of an `[n, k]` weight with `nnz` nonzeros.
    public static func bytes(n: Int, nnz: Int) -> Int { (n + 1) * 4 + nnz * 8 }

    /// Fraction of the weight's entries that are zero (not stored).
    public var sparsity: Double { 1 - Double(nnz) / Double(n * k) }

    /// Keeps the nonzeros of `w` (row j at `w + j·k`).
    public init(_ w: UnsafePointer<Float>, n: Int, k: Int) {
        precondition(n >= 1 && k >= 1 && k <= Int(Int32.max), "SparseWeights: n \(n), k \(k) out of range")
        self.n = n
        self.k = k
        var count = 0
        for i in 0..<(n * k) where w[i] != 0 { count += 1 }
        nnz = count
        rowptr = Self.alloc(n + 1, Int32.self)
        cols = Self.alloc(max(count, 1), Int32.self)
        vals = Self.alloc(max(count, 1), Float.self)
        var p = 0
        for j in 0..<n {
            rowptr[j] = Int32(p)
            let row = w + j * k
            for c in 0..<k where row[c] != 0 {
                cols[p] = Int32(c)
                vals[p] = row[c]
                p += 1
            }
        }
        rowptr[n] = Int32(p)
        MemoryLedger.shared.add(bytes, to: .weightsSparse)
    }

    deinit {
        free(rowptr); free(cols); free(vals)
        MemoryLedger.shared.add(-bytes, to: .weightsSparse)
    }

    /// The weight as dense `[n, k]` row-major (tests).
    public func dense() -> [Float] {
        var out = [Float](repeating: 0, count: n * k)
        for j in 0..<n { for p in Int(rowptr[j])..<Int(rowptr[j + 1]) { out[j * k + Int(cols[p])] = vals[p] } }
        return out
    }

    private static func alloc<T>(_ count: Int, _: T.Type) -> UnsafeMutablePointer<T> {
        let bytes = max(64, (count * MemoryLayout<T>.stride + 63) / 64 * 64)
        guard let raw = aligned_alloc(64, bytes) else { fatalError("SparseWeights: out of memory allocating \(bytes) bytes") }
        return raw.bindMemory(to: T.self, capacity: count)
    }
}

/// What a node measured when it prepared its sparse plan: dense and CSR forward times at a few
/// batch sizes for its own shape and weights, and so which format is faster at each.
public struct SparseChoice: Sendable, Equatable {
    /// Batch sizes measured, ascending.
    public var batches: [Int]
    /// Median ms per forward at each batch: dense (the plan's backend) and CSR.
    public var denseMs: [Double], sparseMs: [Double]

    public init(batches: [Int], denseMs: [Double], sparseMs: [Double]) {
        precondition(batches.count == denseMs.count && batches.count == sparseMs.count, "SparseChoice: \(batches.count) batches, \(denseMs.count) dense and \(sparseMs.count) CSR times")
        self.batches = batches; self.denseMs = denseMs; self.sparseMs = sparseMs
    }

    /// A choice that runs one format at every batch (tests and benchmarks pinning the format).
    public static func pinned(_ format: WeightFormat) -> SparseChoice {
        SparseChoice(batches: [1], denseMs: [format == .csr ? 1 : 0], sparseMs: [format == .csr ? 0 : 1])
    }

    /// The largest measured batch at which CSR is faster (nil: dense at every batch measured).
    public var crossoverBatch: Int? { batches.indices.last { sparseMs[$0] < denseMs[$0] }.map { batches[$0] } }

    /// Whether CSR is faster at `batch` (the measured batch nearest on a log scale).
    public func sparseFaster(batch: Int) -> Bool {
        guard !batches.isEmpty else { return false }
        var best = 0
        for i in batches.indices where abs(log(Double(batches[i])) - log(Double(max(batch, 1))))
            < abs(log(Double(batches[best])) - log(Double(max(batch, 1)))) { best = i }
        return sparseMs[best] < denseMs[best]
    }
}

/// The CSR form of one fp32 weight, with the scratch its kernel needs and the measured choice;
/// rebuilt when the weight's `version` moves (an optimizer step, the replica taking newer
/// weights). Used by one thread at a time (the node's forward), filled by `adopt`.
public final class SparseWeightCache: @unchecked Sendable {
    private(set) var cached: SparseWeights?
    private var version = -1
    /// The crossover measured at plan preparation (nil: not measured, dense everywhere).
    public internal(set) var choice: SparseChoice?
    /// `[k, mp]`: X transposed for batches ≥ 8 (grows with the largest batch seen).
    let scratch = Tensor([0], name: "sparse.xt", owner: .activations)

    public init() {}

    /// The CSR form of `weight` viewed as `[n, k]`, rebuilt if the weight changed since.
    public func weights(for weight: Tensor, n: Int, k: Int) -> SparseWeights {
        if let c = cached, version == weight.version, c.n == n, c.k == k { return c }
        cached = nil
        let s = SparseWeights(weight.data, n: n, k: k)
        cached = s
        version = weight.version
        return s
    }

    /// Takes a form built elsewhere (plan preparation) for `weight` at `version`.
    func adopt(_ s: SparseWeights, version v: Int, choice c: SparseChoice) {
        cached = s
        version = v
        choice = c
    }

    /// Drops the CSR form and the measurement (back to dense).
    public func clear() { cached = nil; choice = nil; version = -1 }

    /// Bytes of the cached CSR form (0 when none).
    public var bytes: Int { cached?.bytes ?? 0 }
}
