/// The vocabulary of kernel choices, shared by the engine (which runs them), the workloads (which
/// read them from the knobs) and the TUI (which names them): one enum each, defined here because
/// Telemetry is the one module all of them import.

/// Which implementation of a kernel runs (selectable at run time, per call).
public enum KernelBackend: String, CaseIterable, Sendable, Codable {
    /// OpenBLAS `cblas_sgemm` (Debian's libopenblas0-pthread) for GEMMs; our fast tier elsewhere.
    case blas
    /// Our own packed, register-blocked kernels (the ISA tier the plan names).
    case simd
    /// Plain loops, kept forever as the test oracle — for every kernel, not only GEMM.
    case reference

    /// The next backend in the `k` key's cycle: blas → simd → reference → blas.
    public var next: KernelBackend {
        switch self { case .blas: .simd; case .simd: .reference; case .reference: .blas }
    }
}

/// The vector instruction set our fast kernels use. `auto` resolves, at start, to the widest one
/// the CPU (and the OS's saved register state) supports.
public enum KernelISA: String, CaseIterable, Sendable, Codable {
    case auto
    /// 256-bit AVX2 + FMA (Haswell and later, Zen 1–5).
    case avx2
    /// 512-bit AVX-512 F/BW/DQ/VL (Skylake-SP and later, Zen 4–5).
    case avx512
}

/// Weight precision of a served model (`i` key).
public enum Precision: String, CaseIterable, Sendable, Codable { case fp32, int8 }

/// How a weight-bearing node runs its weights at inference, as the layer table shows it: dense,
/// CSR where its pruned plan measured CSR faster than dense for its shape and the batch, or
/// shrunk (structured pruning: a smaller dense matrix without the removed units).
public enum WeightFormat: String, CaseIterable, Sendable, Codable { case dense, csr, shrunk }

/// How `p` prunes (`P` switches): unstructured = the smallest-magnitude single weights (kept
/// as CSR where faster); structured = whole output units by L2 norm (the matrices shrink).
public enum PruneMode: String, CaseIterable, Sendable, Codable { case unstructured, structured }
