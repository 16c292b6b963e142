import Foundation
import InftopEngine
import InftopTelemetry
import InftopWorkloads

extension BenchCommand {
    /// `bench --model mlp|cnn --weights CKPT --precision fp32,int8 --batch 1,64`: inference latency
    /// and test accuracy of a trained checkpoint per (precision, batch) (`ClassifierBenchmark`).
    /// A missing, corrupt or foreign checkpoint gets one line and status 2.
    func runClassifierBench(model name: String, weights: String?, batches: [Int], threads: Int, backend: String,
                            precisions: [Precision], json: Bool) throws {
        guard let weights else {
            try Self.fail("--model \(name) needs --weights CKPT (a checkpoint written by inftop train --model \(name) --checkpoint CKPT)")
        }
        guard let gemm = KernelBackend(rawValue: backend) else {
            try Self.fail("--backend for a model must be one of \(KernelBackend.allCases.map(\.rawValue).joined(separator: ", ")), got '\(backend)'")
        }
        guard batches.allSatisfy({ $0 >= 1 && $0 <= 4096 }) else { try Self.fail("--batch needs sizes in 1...4096, e.g. 1,64") }
        let bench: ClassifierBenchmark
        do {
            let model = try ModelZoo.make(name: name)
            try Checkpoint.load(path: weights, into: model)
            bench = ClassifierBenchmark(model: model, test: try FashionMNIST.load(directory: data).test)
        } catch let e as EngineError {
            try Self.fail("\(e)")
        }
        if !json {
            print("model \(name) from \(weights); \(threads) thread(s), \(backend)")
            print("precision batch     p50 ms     p90 ms     p99 ms     items/s  test acc  weight KB  runs")
        }
        _ = bench.run(precisions: precisions, batches: batches, compute: Compute(backend: gemm, threads: threads)) { r in
            if json {
                print(r.jsonLine)
            } else {
                print(String(format: "%9@ %5d %10.3f %10.3f %10.3f %11.1f %9.4f %10.1f %5d", r.precision.rawValue, r.batch, r.p50Ms,
                             r.p90Ms, r.p99Ms, r.itemsPerSec, r.testAccuracy, Double(r.weightBytes) / 1024, r.runs))
            }
            fflush(nil)
        }
    }
}
