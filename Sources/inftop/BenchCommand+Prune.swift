import Foundation
import InftopEngine
import InftopTelemetry
import InftopWorkloads

extension BenchCommand {
    /// `bench --model mlp|cnn --weights CKPT --prune 0,0.5,0.9 [--prune-mode …] --batch 1,64`:
    /// latency, per-layer times (with each node's sparsity and format) and test accuracy per
    /// (sparsity, batch) (`PruneBenchmark`); `--crossover` adds each Linear's measured crossover.
    /// Bad sparsities, a missing, corrupt or foreign checkpoint get one line and status 2.
    func runPruneBench(model name: String, weights: String?, sparsitiesText: String, modeText: String, batches: [Int],
                       threads: Int, backend: String, json: Bool) throws {
        guard let weights else {
            try Self.fail("--model \(name) needs --weights CKPT (a checkpoint written by inftop train --model \(name) --checkpoint CKPT)")
        }
        guard let gemm = KernelBackend(rawValue: backend) else {
            try Self.fail("--backend for a model must be one of \(KernelBackend.allCases.map(\.rawValue).joined(separator: ", ")), got '\(backend)'")
        }
        guard let mode = PruneMode(rawValue: modeText) else {
            try Self.fail("--prune-mode \(modeText): unknown; known: \(PruneMode.allCases.map(\.rawValue).joined(separator: ", "))")
        }
        guard batches.allSatisfy({ $0 >= 1 && $0 <= 4096 }) else { try Self.fail("--batch needs sizes in 1...4096, e.g. 1,64") }
        let sparsities: [Double]
        do { sparsities = try BenchInput.sparsities(sparsitiesText) } catch let e as BenchInputError { try Self.fail(e.description) }
        let test: ImageDataset
        do {
            try Checkpoint.load(path: weights, into: try ModelZoo.make(name: name))  // fail now on a bad file
            test = try FashionMNIST.load(directory: data).test
        } catch let e as EngineError {
            try Self.fail("\(e)")
        }
        let compute = Compute(backend: gemm, threads: threads, isa: isaOption.resolved("bench"))
        let bench = PruneBenchmark(test: test) {
            let m = try ModelZoo.make(name: name)
            try Checkpoint.load(path: weights, into: m)
            return m
        }
        if !json {
            print("model \(name) from \(weights); \(mode.rawValue) pruning; \(threads) thread(s), \(backend), isa \(compute.isa.rawValue)")
            print("sparsity batch     p50 ms     p90 ms     p99 ms     items/s  test acc   params  layers (p50 ms, format)")
        }
        _ = try bench.run(sparsities: sparsities, mode: mode, batches: batches, compute: compute) { r in
            if json {
                print(r.jsonLine)
            } else {
                let layers = r.layers.filter { $0.format != nil }.map { l in
                    String(format: "%@ %.4f %@", l.name, l.p50Ms, l.format!.rawValue) + (l.sparsity.map { String(format: " %.0f%%", $0 * 100) } ?? "")
                }
                print(String(format: "%8.2f %5d %10.4f %10.4f %10.4f %11.1f %9.4f %8d  ", r.sparsity, r.batch, r.p50Ms, r.p90Ms, r.p99Ms,
                             r.itemsPerSec, r.testAccuracy, r.parameters) + layers.joined(separator: ", "))
            }
            fflush(nil)
        }
        if crossover && mode == .unstructured {
            let dense = try bench.makeModel()
            for b in batches { for line in PruneBenchmark.crossoverLines(model: dense, batch: b, compute: compute) { print(line); fflush(nil) } }
        }
    }
}
