import ArgumentParser
import Foundation
import InftopEngine
import InftopTelemetry
import InftopWorkloads
#if canImport(Glibc)
import Glibc
#endif

/// `inftop bench --model DIR --batch 1,8,32 --seq 128`: BERT sentence-embedding latency per batch
/// size (ModelBenchmark). `model` nil = the installed all-MiniLM-L6-v2. With `json`, one JSON
/// object per batch size; otherwise a table. Errors (no model, bad settings) print one line on
/// stderr and exit 2, as the other bench modes.
func runModelBench(model: String?, tokenizer: String? = nil, batches: [Int], seq: Int, threads: Int, backend: String, isa: KernelISA,
                   precisions: [Precision]? = nil, json: Bool) throws {
    guard let gemm = KernelBackend(rawValue: backend) else {
        try BenchCommand.fail("--backend for a model must be one of \(KernelBackend.allCases.map(\.rawValue).joined(separator: ", ")), got '\(backend)'")
    }
    guard threads >= 1 else { try BenchCommand.fail("--threads must be ≥ 1, got \(threads)") }
    guard !batches.isEmpty, batches.allSatisfy({ $0 >= 1 && $0 <= 4096 }) else {
        try BenchCommand.fail("--batch needs sizes in 1...4096, e.g. 1,8,32")
    }
    let bench: ModelBenchmark
    do {
        if let model, model.hasSuffix(".onnx") {
            // A BERT encoder exported to ONNX (ONNXBert), with the tokenizer of --tokenizer DIR.
            bench = ModelBenchmark(encoder: try SentenceEncoder.load(onnx: model, tokenizer: try tokenizer ?? ModelLocator.resolve(nil, option: "--tokenizer")),
                                   name: model)
        } else {
            if let tokenizer { try BenchCommand.fail("--tokenizer \(tokenizer): only with --model FILE.onnx (a model folder holds its vocab.txt)") }
            bench = try ModelBenchmark(directory: try ModelLocator.resolve(model))
        }
        _ = try bench.inputs(batch: 1, seq: seq)
    } catch let e as EngineError {
        try BenchCommand.fail("\(e)")
    } catch let e as BenchmarkError {
        try BenchCommand.fail("\(e)")
    }
    if !json {
        let c = bench.encoder.config
        print("model \(bench.modelName): \(c.layers) layers, hidden \(c.hiddenSize); seq \(seq), \(threads) thread(s), \(backend), isa \(isa.rawValue) (\(CPUFeatures.host.model))")
        print("precision batch     p50 ms     p90 ms     p99 ms   sent/s  GFLOP/s  peak RSS MB  runs")
    }
    // Default: the encoder's own precision (int8 for a dynamic-int8 ONNX file).
    for precision in precisions ?? [bench.encoder.nativePrecision] {
        _ = try bench.run(batches: batches, seq: seq, compute: Compute(backend: gemm, threads: threads, isa: isa, precision: precision)) { r in
            if json {
                print(r.jsonLine)
            } else {
                print(String(format: "%9@ %5d %10.2f %10.2f %10.2f %8.1f %8.1f %12.1f %5d", r.precision, r.batch, r.p50Ms, r.p90Ms, r.p99Ms,
                             r.sentencesPerSec, r.gflops, r.peakRssMB, r.runs))
            }
            fflush(nil)  // flush stdout (fflush(nil) flushes all streams; `stdout` is not concurrency-safe in Swift 6)
        }
    }
}
