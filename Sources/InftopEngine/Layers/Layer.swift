import InftopTelemetry

/// How a node's kernels run for one step: its execution plan. Read at step boundaries.
///
/// - `backend`: the implementation tier (reference = plain loops everywhere, the oracle).
/// - `threads`: how many threads the node's kernels may use.
/// - `isa`: the vector ISA of the fast tiers, already resolved against the CPU (never `.auto`
///   inside a kernel: `CPUFeatures.resolve`).
/// - `precision`: the weights' precision for weight-bearing nodes (fp32 unless quantized).
public struct Compute: Sendable, Equatable {
    public var backend: KernelBackend
    public var threads: Int
    public var isa: KernelISA
    public var precision: Precision

    public init(backend: KernelBackend = .blas, threads: Int = 1, isa: KernelISA = CPUFeatures.host.bestISA,
                precision: Precision = .fp32) {
        precondition(threads >= 1, "Compute: threads must be ≥ 1, got \(threads)")
        precondition(isa != .auto, "Compute: isa must be resolved (CPUFeatures.resolve), got auto")
        self.backend = backend
        self.threads = threads
        self.isa = isa
        self.precision = precision
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

/// A layer with forward and backward side by side.
///
/// Forward returns a tensor the layer owns (resized to the batch, reused between steps) and keeps
/// what backward needs; backward takes dY of the output's shape, accumulates into its
/// parameters' `grad` (callers zero them between steps) and returns dX, which it also owns.
/// The caller must not keep a returned tensor across the next call of the same method.
public protocol Layer: AnyObject {
    /// Short name shown in the Layers table ("fc1", "conv2", "relu1").
    var name: String { get }
    /// Trainable parameters, empty for stateless layers.
    var parameters: [Parameter] { get }
    /// Output shape for an input shape (batch first); stops with a clear message if it does not fit.
    func outputShape(_ input: [Int]) -> [Int]
    /// Y = f(X). `training` switches dropout and whether inputs are kept for backward.
    func forward(_ x: Tensor, _ compute: Compute, training: Bool) -> Tensor
    /// dX from dY (shape of the last forward output); accumulates parameter gradients.
    func backward(_ dY: Tensor, _ compute: Compute) -> Tensor
}

extension Layer {
    public var parameters: [Parameter] { [] }
}
