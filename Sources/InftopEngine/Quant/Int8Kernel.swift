import CKernels
import InftopTelemetry

/// The INT8 GEMM tiers (`Sources/CKernels/int8_gemm.c`), chosen at run time from the plan's ISA
/// and what the CPU reports; `reference` is the plain-loop twin every tier is tested against.
public enum Int8Kernel: String, Sendable, CaseIterable {
    case reference
    /// vpmaddubsw + vpmaddwd (AVX2); activations limited to 0…127 so pair sums cannot saturate.
    case avx2
    /// vpdpbusd on ymm (AVX-VNNI: Alder Lake, Zen 5).
    case avxvnni
    /// vpdpbusd on zmm (AVX-512 VNNI: Cascade Lake, Zen 4, Zen 5).
    case avx512vnni

    /// Largest activation code the tier takes: 127 for avx2 (7-bit operands, no int16
    /// saturation by construction), 255 for the VNNI tiers (int32 accumulation throughout).
    public var activationMax: Int32 { self == .avx2 ? 127 : 255 }

    /// Whether `cpu` can run this tier.
    public func runs(on cpu: CPUFeatures) -> Bool {
        switch self {
        case .reference: true
        case .avx2: cpu.hasAVX2
        case .avxvnni: cpu.hasAVX2 && cpu.avxvnni
        case .avx512vnni: cpu.hasAVX512 && cpu.avx512vnni
        }
    }

    /// The fastest tier for a plan's (resolved) ISA on `cpu`: zmm VNNI under `avx512` when the CPU
    /// has it, else ymm VNNI when it has that, else AVX2.
    public static func select(isa: KernelISA, cpu: CPUFeatures = .host) -> Int8Kernel {
        if isa == .avx512 && Int8Kernel.avx512vnni.runs(on: cpu) { return .avx512vnni }
        if Int8Kernel.avxvnni.runs(on: cpu) { return .avxvnni }
        return .avx2
    }

    /// The tier and activation range a plan runs: `backend == .reference` runs the reference
    /// loops with the activation range of the fast tier it stands for, so the two agree exactly.
    public static func plan(_ compute: Compute) -> (kernel: Int8Kernel, activationMax: Int32) {
        let fast = select(isa: compute.isa)
        return (compute.backend == .reference ? .reference : fast, fast.activationMax)
    }

    /// Runs the C kernel of this tier (not `reference`).
    func call(_ args: inout ck_i8gemm_args) {
        precondition(runs(on: .host), "Int8Kernel: \(rawValue) needs CPU features this machine lacks")
        switch self {
        case .avx2: ck_i8gemm_avx2(&args)
        case .avxvnni: ck_i8gemm_avxvnni(&args)
        case .avx512vnni: ck_i8gemm_avx512vnni(&args)
        case .reference: preconditionFailure("Int8Kernel.call: the reference tier is Swift (Int8Gemm.reference)")
        }
    }
}
