import InftopTelemetry

/// How a node's kernels run for one step: its execution plan. Read at step boundaries.
///
/// - `backend`: the implementation tier (reference = plain loops everywhere, the oracle).
/// - `threads`: how many threads the node's kernels may use.
/// - `isa`: the vector ISA of the fast tiers, already resolved against the CPU (never `.auto`
///   inside a kernel: `CPUFeatures.resolve`).
/// - `precision`: the weights' precision for weight-bearing nodes (fp32 unless quantized).
/// - `sparsity`: the fraction of weights pruned (0 = dense). Above 0, pruned Linears measure at
///   plan preparation whether their CSR kernel beats dense for their shape at each batch, and run
///   it at inference where it does (Linear+Sparse.swift).
public struct Compute: Sendable, Equatable {
    public var backend: KernelBackend
    public var threads: Int
    public var isa: KernelISA
    public var precision: Precision
    public var sparsity: Double

    public init(backend: KernelBackend = .blas, threads: Int = 1, isa: KernelISA = CPUFeatures.host.bestISA,
                precision: Precision = .fp32, sparsity: Double = 0) {
        precondition(threads >= 1, "Compute: threads must be ≥ 1, got \(threads)")
        precondition(isa != .auto, "Compute: isa must be resolved (CPUFeatures.resolve), got auto")
        self.backend = backend
        self.threads = threads
        self.isa = isa
        self.precision = precision
        self.sparsity = sparsity
    }
}

/// A trainable tensor and its gradient (same shape). `value` is counted as weights,
/// `grad` as gradients.
public final class Parameter: @unchecked Sendable {
    public let name: String
    public let value: Tensor
    public let grad: Tensor

    public init(_ name: String, shape: [Int]) {
        self.name = name
        value = Tensor(shape, name: name, owner: .weightsFP32)
        grad = Tensor(shape, name: name + ".grad", owner: .gradients)
    }
}
