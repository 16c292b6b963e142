import InftopTelemetry
import InftopEngine
import InftopWorkloads

extension BenchCommand {
    /// `bench --gemm`: times every (shape, layout, threads) combination, the backends of one
    /// combination interleaved batch by batch, and prints a table (with the simd/blas ratio)
    /// or JSON lines.
    func runGemm(shapesText: String) throws {
        let shapes: [GemmShape], backends: [KernelBackend], threadCounts: [Int], layouts: [GemmLayout]
        let (fp32List, int8) = BenchInput.splittingInt8(backend)
        do {
            shapes = try BenchInput.shapes(shapesText)
            backends = fp32List.isEmpty ? [] : try BenchInput.backends(fp32List)
            threadCounts = try BenchInput.threads(threads)
            layouts = try BenchInput.layouts(layout)
        } catch let error as BenchInputError {
            try Self.fail("" + error.description)
        }
        // simd once per ISA tier asked for; reference and blas once (they have no tiers).
        let isas = isaOption.resolvedList("bench")
        let variants = backends.flatMap { b in b == .simd ? isas.map { GemmVariant(b, isa: $0) } : [GemmVariant(b, isa: isas[0])] }
        let simds = variants.filter { $0.backend == .simd }
        let showRatio = !simds.isEmpty && backends.contains(.blas)
        let tierRatio = isas.contains(.avx2) && isas.contains(.avx512) && backends.contains(.simd)
        // The one-core FMA peak of the widest tier timed, measured by this run right before each
        // row (so a burst of load on a shared machine hits the probe and the row alike; `--peak`
        // alone prints every tier's); single-thread rows show the best simd tier's share of it.
        let peakISA: KernelISA = isas.contains(.avx512) ? .avx512 : .avx2
        if !json { print("CPU \(CPUFeatures.host.model) (\(CPUFeatures.host.flagList)); % peak = best simd ÷ the \(peakISA.rawValue) FMA peak measured before the row, both by thread CPU time (one thread)") }
        if !json {
            var header = pad("shape MxNxK", 18) + pad("layout", 7) + pad("threads", 8)
            for v in variants { header += pad(v.label, 12, right: true) }
            if int8 { header += pad("int8", 12, right: true) }
            if showRatio { header += pad("simd/blas", 11, right: true) }
            if tierRatio { header += pad("512/avx2", 10, right: true) }
            header += pad("peak", 8, right: true) + pad("% peak", 8, right: true)
            print(header)
            print(pad("", 33) + variants.map { _ in pad("GFLOP/s", 12, right: true) }.joined() + (int8 ? pad("GOP/s", 12, right: true) : ""))
        }
        for shape in shapes {
            for layout in layouts {
                for t in threadCounts {
                    let peak = FMAPeak.measure(peakISA, seconds: 0.15, rounds: 3)
                    if json { print(peak.jsonLine) }
                    var row: [GemmVariant: Double] = [:], cpuRow: [GemmVariant: Double] = [:]
                    var int8Rate = 0.0
                    for r in GemmBenchmark.compare(shape, layout: layout, variants: variants, int8: int8, threads: t) {
                        if r.precision == .int8 { int8Rate = r.gflops; if json { print(r.jsonLine) }; continue }
                        row[GemmVariant(r.backend, isa: r.isa)] = r.gflops
                        cpuRow[GemmVariant(r.backend, isa: r.isa)] = r.cpuGflops
                        if json { print(r.jsonLine) }
                    }
                    guard !json else { continue }
                    var line = pad(shape.description, 18) + pad(layout.rawValue, 7) + pad(String(t), 8)
                    for v in variants { line += pad(fixed(row[v] ?? 0, 2), 12, right: true) }
                    if int8 { line += pad(fixed(int8Rate, 2), 12, right: true) }
                    let best = simds.last.flatMap { row[$0] }
                    if showRatio, let s = best, let bl = row[GemmVariant(.blas, isa: isas[0])], bl > 0 { line += pad(fixed(s / bl, 3), 11, right: true) }
                    if tierRatio, let w = row[GemmVariant(.simd, isa: .avx512)], let n = row[GemmVariant(.simd, isa: .avx2)], n > 0 {
                        line += pad(fixed(w / n, 3), 10, right: true)
                    }
                    let top = simds.compactMap { cpuRow[$0] }.max()
                    line += pad(fixed(peak.cpuGflops, 1), 8, right: true)
                    line += pad(t == 1 ? top.map { fixed(100 * $0 / peak.cpuGflops, 1) } ?? "–" : "–", 8, right: true)
                    print(line)
                }
            }
        }
    }

    /// `bench --peak`: every tier the CPU has (or those `--isa` names), one line each.
    func runPeak() {
        let isas = isaOption.isa == "auto" ? CPUFeatures.host.availableISAs : isaOption.resolvedList("bench")
        for isa in isas {
            let p = FMAPeak.measure(isa, seconds: 0.5)
            print(json ? p.jsonLine : "\(pad(isa.rawValue, 8))\(fixed(p.gflops, 1)) GFLOP/s by wall time, \(fixed(p.cpuGflops, 1)) by thread CPU time  (one core, 12 independent FMA chains; \(CPUFeatures.host.model))")
        }
    }

    private func pad(_ s: String, _ width: Int, right: Bool = false) -> String {
        let fill = String(repeating: " ", count: max(0, width - s.count))
        return right ? fill + s : s + fill
    }

    /// `x` with `digits` decimals (no Foundation `String(format:)` needed).
    private func fixed(_ x: Double, _ digits: Int) -> String {
        var scale = 1.0
        for _ in 0..<digits { scale *= 10 }
        let v = Int((x * scale).rounded())
        let whole = v / Int(scale), frac = abs(v % Int(scale))
        let fracText = String(frac)
        return "\(whole)." + String(repeating: "0", count: digits - fracText.count) + fracText
    }
}
