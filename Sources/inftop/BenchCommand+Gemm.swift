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
        let showRatio = backends.contains(.simd) && backends.contains(.blas)
        if !json {
            var header = pad("shape MxNxK", 18) + pad("layout", 7) + pad("threads", 8)
            for b in backends { header += pad(b.rawValue, 12, right: true) }
            if int8 { header += pad("int8", 12, right: true) }
            if showRatio { header += pad("simd/blas", 11, right: true) }
            print(header)
            print(pad("", 33) + backends.map { _ in pad("GFLOP/s", 12, right: true) }.joined() + (int8 ? pad("GOP/s", 12, right: true) : ""))
        }
        for shape in shapes {
            for layout in layouts {
                for t in threadCounts {
                    var row: [KernelBackend: Double] = [:]
                    var int8Rate = 0.0
                    for r in GemmBenchmark.compare(shape, layout: layout, backends: backends, int8: int8, threads: t) {
                        if r.precision == .int8 { int8Rate = r.gflops } else { row[r.backend] = r.gflops }
                        if json { print(r.jsonLine) }
                    }
                    guard !json else { continue }
                    var line = pad(shape.description, 18) + pad(layout.rawValue, 7) + pad(String(t), 8)
                    for b in backends { line += pad(fixed(row[b] ?? 0, 2), 12, right: true) }
                    if int8 { line += pad(fixed(int8Rate, 2), 12, right: true) }
                    if showRatio, let s = row[.simd], let bl = row[.blas], bl > 0 { line += pad(fixed(s / bl, 3), 11, right: true) }
                    print(line)
                }
            }
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
