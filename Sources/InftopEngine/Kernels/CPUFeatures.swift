import CKernels
import InftopTelemetry
#if canImport(Glibc)
import Glibc
#endif

/// What the CPU this process runs on can execute, read once with cpuid and xgetbv (the OS must
/// also save the wider registers: XCR0 bits 1–2 for ymm, 5–7 for zmm/opmask).
///
/// Every fast kernel tier is chosen from this at run time; no code path runs an instruction the
/// CPU lacks. `INFTOP_HIDE_ISA=avx512` (tests and benchmarks only) makes the process behave as on
/// an AVX2-only machine.
public struct CPUFeatures: Sendable, Equatable {
    public var avx2 = false, fma = false, f16c = false
    public var avx512f = false, avx512bw = false, avx512dq = false, avx512vl = false
    public var avx512vnni = false, avxvnni = false, avx512bf16 = false
    /// XCR0 says the OS saves ymm (bits 1, 2) and zmm/opmask state (bits 5, 6, 7).
    public var osYmm = false, osZmm = false
    /// The brand string (`AMD EPYC …`), or "" when cpuid does not report one.
    public var model = ""

    public init() {}

    /// The machine this process runs on (read once).
    public static let host: CPUFeatures = {
        var f = CPUFeatures.read()
        if let hide = getenvString("INFTOP_HIDE_ISA"), hide.split(separator: ",").contains("avx512") {
            f.avx512f = false; f.avx512bw = false; f.avx512dq = false; f.avx512vl = false
            f.avx512vnni = false; f.avx512bf16 = false; f.osZmm = false
        }
        return f
    }()

    static func read() -> CPUFeatures {
        var f = CPUFeatures()
        var r: [UInt32] = [0, 0, 0, 0]
        let xcr0 = ck_xcr0()
        f.osYmm = xcr0 & 0b110 == 0b110
        f.osZmm = f.osYmm && xcr0 & 0b1110_0000 == 0b1110_0000
        if ck_cpuid(1, 0, &r) != 0 {
            f.fma = r[2] & (1 << 12) != 0 && f.osYmm
            f.f16c = r[2] & (1 << 29) != 0 && f.osYmm
        }
        if ck_cpuid(7, 0, &r) != 0 {
            let ebx = r[1], ecx = r[2]
            f.avx2 = ebx & (1 << 5) != 0 && f.osYmm
            f.avx512f = ebx & (1 << 16) != 0 && f.osZmm
            f.avx512dq = ebx & (1 << 17) != 0 && f.osZmm
            f.avx512bw = ebx & (1 << 30) != 0 && f.osZmm
            f.avx512vl = ebx & (1 << 31) != 0 && f.osZmm
            f.avx512vnni = ecx & (1 << 11) != 0 && f.osZmm
        }
        if ck_cpuid(7, 1, &r) != 0 {
            f.avxvnni = r[0] & (1 << 4) != 0 && f.osYmm
            f.avx512bf16 = r[0] & (1 << 5) != 0 && f.osZmm
        }
        var brand = [UInt8]()
        for leaf: UInt32 in 0x8000_0002...0x8000_0004 where ck_cpuid(leaf, 0, &r) != 0 {
            for reg in r { for s in stride(from: 0, to: 32, by: 8) { brand.append(UInt8((reg >> UInt32(s)) & 0xff)) } }
        }
        f.model = String(decoding: brand.prefix { $0 != 0 }, as: UTF8.self).trimmingSpaces()
        return f
    }

    /// The baseline inftop needs at all (its fp32 kernels are at least AVX2 + FMA).
    public var hasAVX2: Bool { avx2 && fma }
    /// The 512-bit tier's needs.
    public var hasAVX512: Bool { avx512f && avx512bw && avx512dq && avx512vl }

    /// The widest tier this CPU runs.
    public var bestISA: KernelISA { hasAVX512 ? .avx512 : .avx2 }

    /// `auto` → `bestISA`; a named tier → itself if the CPU has it.
    /// - Throws: `EngineError.invalid` naming the missing feature (`avx512bw`, …).
    public func resolve(_ isa: KernelISA) throws -> KernelISA {
        switch isa {
        case .auto: return bestISA
        case .avx2:
            guard hasAVX2 else { throw EngineError.invalid(what: "--isa avx2", reason: "this CPU lacks \(avx2 ? "fma" : "avx2")") }
            return .avx2
        case .avx512:
            let missing = [("avx512f", avx512f), ("avx512bw", avx512bw), ("avx512dq", avx512dq), ("avx512vl", avx512vl)]
                .filter { !$0.1 }.map(\.0)
            guard missing.isEmpty else {
                throw EngineError.invalid(what: "--isa avx512", reason: "this CPU lacks \(missing.joined(separator: ", "))\(osZmm ? "" : " (or the OS does not save zmm state)")")
            }
            return .avx512
        }
    }

    /// The tiers this CPU runs, narrowest first (what the `I` key cycles).
    public var availableISAs: [KernelISA] { hasAVX512 ? [.avx2, .avx512] : [.avx2] }

    /// Short flag list for headers and JSON: `avx2 fma avx512f avx512bw avx512vl avx512vnni avxvnni avx512bf16`.
    public var flagList: String {
        [("avx2", avx2), ("fma", fma), ("avx512f", avx512f), ("avx512bw", avx512bw), ("avx512dq", avx512dq),
         ("avx512vl", avx512vl), ("avx512vnni", avx512vnni), ("avxvnni", avxvnni), ("avx512bf16", avx512bf16)]
            .filter { $0.1 }.map(\.0).joined(separator: " ")
    }
}

private func getenvString(_ name: String) -> String? {
    guard let p = getenv(name) else { return nil }
    return String(cString: p)
}

private extension String {
    func trimmingSpaces() -> String {
        var s = Substring(self)
        while s.first == " " { s = s.dropFirst() }
        while s.last == " " { s = s.dropLast() }
        return String(s)
    }
}
