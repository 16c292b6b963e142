import InftopEngine
import InftopTelemetry

/// What the dashboard and the JSON lines say about the CPU, read once from `CPUFeatures.host`:
/// a Workloads-level value so the TUI (which never imports the engine) can show the model and
/// cycle the ISA tiers the CPU has.
public struct HostCPU: Sendable, Equatable {
    /// The brand string (`AMD EPYC 9R14 …`; "" when cpuid has none).
    public var model: String
    /// The kernel ISA tiers this CPU runs, narrowest first (what `I` cycles).
    public var availableISAs: [KernelISA]
    /// The widest of them (`--isa auto`).
    public var bestISA: KernelISA
    /// `avx2 fma avx512f …`.
    public var flags: String

    public init(model: String, availableISAs: [KernelISA], bestISA: KernelISA, flags: String) {
        self.model = model; self.availableISAs = availableISAs; self.bestISA = bestISA; self.flags = flags
    }

    /// This machine (INFTOP_HIDE_ISA=avx512 makes it an AVX2-only one).
    public static let current: HostCPU = {
        let f = CPUFeatures.host
        return HostCPU(model: f.model, availableISAs: f.availableISAs, bestISA: f.bestISA, flags: f.flagList)
    }()

    /// The tier a workload runs for the knob value `isa`: `auto` → the best; a tier this CPU
    /// runs → itself; one it lacks → the best (the CLI rejects such a value with a clear line
    /// before any knob is made, and `I` only offers `availableISAs`, so this only keeps a stale
    /// knob from ever reaching an instruction the CPU lacks).
    /// The fallback is said once (`notices`): a record made on a wider machine and re-run here.
    public func runnable(_ isa: KernelISA, notices: Notices = .shared) -> KernelISA {
        if availableISAs.contains(isa) || isa == .auto { return isa == .auto ? bestISA : isa }
        notices.post("isa \(isa.rawValue): not available on this CPU (\(model.isEmpty ? "flags: " + flags : model)); the kernels run \(bestISA.rawValue)")
        return bestISA
    }
}
