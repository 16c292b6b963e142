import ArgumentParser
import Foundation
import InftopEngine
import InftopTelemetry
import InftopWorkloads

/// `inftop bench --llm FILE --pp 64,512 --tg 128 --threads 1,2 [--no-kv-cache] --format md|json`:
/// llama-bench's table (model, size, params, backend, threads, test, t/s mean ± sd). `FILE` empty =
/// the installed SmolLM2-135M-Instruct.
func runLLMBench(model: String, pp: String, tg: String, ttft: String?, threads: String, isa: String, kvCache: Bool, format: String, reps: Int) throws {
    func list(_ s: String, _ flag: String) throws -> [Int] {
        try s.split(separator: ",").map { part in
            guard let v = Int(part.trimmingCharacters(in: .whitespaces)), v >= 1, v <= 8192 else {
                try BenchCommand.fail("\(flag) '\(part)': must be token counts in 1…8192, e.g. 64,512")
            }
            return v
        }
    }
    guard format == "md" || format == "json" else { try BenchCommand.fail("--format '\(format)': must be md or json") }
    guard reps >= 1, reps <= 1000 else { try BenchCommand.fail("--reps \(reps): must be in 1…1000") }
    let pps = try list(pp, "--pp"), tgs = try list(tg, "--tg"), ttfts = try list(ttft ?? "", "--ttft")
    let ts = try BenchInput.threads(threads)
    guard let want = KernelISA(rawValue: isa) else { try BenchCommand.fail("--isa '\(isa)': must be auto, avx2 or avx512") }
    let bench: LLMBenchmark
    let resolved: KernelISA
    do {
        resolved = try CPUFeatures.host.resolve(want)
        let need = max((pps + ttfts).max() ?? 1, ((tgs.max() ?? 0) + 1))
        bench = try LLMBenchmark(path: try LLMLocator.resolve(model.isEmpty ? nil : model), contextCapacity: need)
    } catch let e as EngineError {
        try BenchCommand.fail("\(e)")
    }
    let tests = pps.map { "pp\($0)" } + tgs.map { "tg\($0)" } + ttfts.map { "ttft\($0)" }
    if format == "md" {
        print("| model | size | params | backend | isa | threads | kv | test | t/s |")
        print("| --- | ---: | ---: | --- | --- | ---: | --- | ---: | ---: |")
    }
    for t in ts {
        try bench.run(tests: tests, compute: Compute(backend: .simd, threads: t, isa: resolved), kvCache: kvCache, reps: reps) { r in
            if format == "json" {
                print(r.jsonLine)
            } else {
                let value = r.test.hasPrefix("ttft") ? String(format: "%.2f ms ± %.2f", r.mean, r.sd) : String(format: "%.2f ± %.2f", r.mean, r.sd)
                print("| \(r.model) | \(String(format: "%.2f MiB", Double(r.sizeBytes) / 1_048_576)) | \(String(format: "%.2f M", Double(r.params) / 1e6)) | \(r.backend) | \(r.isa) | \(r.threads) | \(r.kvCache ? "on" : "off") | \(r.test) | \(value) |")
            }
            fflush(nil)
        }
    }
}

/// The options of `bench --llm` (an option group, so BenchCommand.swift only hooks it in).
struct LLMBenchOptions: ParsableArguments {
    @Option(name: .customLong("llm"), help: ArgumentHelp("Generative GGUF model to time, llama-bench style (empty = the installed SmolLM2-135M-Instruct).", valueName: "file"))
    var llm: String?
    @Option(name: .customLong("pp"), help: ArgumentHelp("Prefill sizes for --llm, comma-separated.", valueName: "list"))
    var pp: String = "64,512"
    @Option(name: .customLong("tg"), help: ArgumentHelp("Decode lengths for --llm, comma-separated.", valueName: "list"))
    var tg: String = "128"
    @Option(name: .customLong("ttft"), help: ArgumentHelp("Prompt sizes whose time to first token --llm reports (e.g. 64).", valueName: "list"))
    var ttft: String?
    @Option(name: .customLong("isa"), help: ArgumentHelp("Kernel ISA for --llm: auto, avx2 or avx512.", valueName: "isa"))
    var isa: String = "auto"
    @Option(name: .customLong("reps"), help: ArgumentHelp("Repetitions per --llm test (after one warm-up).", valueName: "n"))
    var reps: Int = 5
    @Flag(name: .customLong("no-kv-cache"), help: "--llm: recompute the whole prefix at every decode step.")
    var noKVCache = false
    @Option(name: .customLong("format"), help: ArgumentHelp("Output: md (llama-bench's table) or json for --llm; md, csv or json for --scenario.", valueName: "fmt"))
    var format: String = "md"

    func run(model: String, threads: String, json: Bool) throws {
        try runLLMBench(model: model, pp: pp, tg: tg, ttft: ttft, threads: threads, isa: isa, kvCache: !noKVCache,
                        format: json ? "json" : format, reps: reps)
    }
}
