import ArgumentParser
import InftopEngine
import InftopTelemetry

/// `--isa auto|avx2|avx512`, shared by every command: which kernel ISA tier the fast kernels use
/// (`Compute.isa`). `auto` is the widest tier this CPU has. A tier the CPU lacks gets one line
/// naming the missing feature and status 2, before any work starts.
struct ISAOption: ParsableArguments {
    @Option(name: .customLong("isa"), help: ArgumentHelp("Kernel ISA tier: auto (the widest this CPU has), avx2 or avx512.", valueName: "isa"))
    var isa: String = "auto"

    /// The tier to run, resolved against `CPUFeatures.host`, or the error line for `command`.
    func resolved(_ command: String) -> KernelISA {
        resolvedList(command, allowList: false)[0]
    }

    /// `--isa` as a comma-separated list (bench --gemm compares tiers side by side), each resolved.
    func resolvedList(_ command: String, allowList: Bool = true) -> [KernelISA] {
        let parts = isa.split(separator: ",").map { String($0).trimmingCharacters(in: .whitespaces) }
        if parts.isEmpty || (!allowList && parts.count > 1) {
            exitWithErrorLine(command, "--isa '\(isa)': give one of \(KernelISA.allCases.map(\.rawValue).joined(separator: ", "))")
        }
        return parts.map { name in
            guard let wanted = KernelISA(rawValue: name) else {
                exitWithErrorLine(command, "--isa '\(name)': unknown ISA; known: \(KernelISA.allCases.map(\.rawValue).joined(separator: ", "))")
            }
            do { return try CPUFeatures.host.resolve(wanted) } catch { exitWithErrorLine(command, "\(error)") }
        }
    }
}
