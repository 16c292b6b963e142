import InftopTelemetry
import ArgumentParser
import Foundation
import InftopEngine
import InftopWorkloads

extension BenchCommand {
    /// `inftop bench --train mlp --batch 64 --threads 1`: training throughput with telemetry off vs
    /// on (alternated), and how closely the per-layer spans add up to the step's wall time.
    func runTrainOverhead(model: String) throws {
        guard ["mlp", "cnn"].contains(model) else { try Self.fail("--train \(model): unknown; use mlp or cnn") }
        guard let b = Int(batch ?? "64"), (1...1024).contains(b) else { try Self.fail("--batch for --train must be one integer 1…1024") }
        let t = try BenchInput.threads(threads)
        guard t.count == 1 else { try Self.fail("--train takes one --threads value") }
        guard let kb = KernelBackend(rawValue: backend == "simd,blas" ? "blas" : backend) else {
            try Self.fail("--backend \(backend): use one of blas, simd, reference with --train")
        }
        let (trainSet, testSet): (ImageDataset, ImageDataset)
        do { (trainSet, testSet) = try FashionMNIST.load(directory: data) } catch { try Self.fail("\(error)") }
        let r = try TelemetryOverheadBenchmark.run(model: model, batch: b, threads: t[0], backend: kb, isa: isaOption.resolved("bench"),
                                                   train: trainSet, test: testSet, stepsPerRun: model == "cnn" ? 60 : 300)
        if json {
            print(r.jsonLine)
        } else {
            print(String(format: "%@ batch %d, %d thread(s), %d rounds: telemetry off %.0f samples/s, on %.0f samples/s → slowdown %.2f%%",
                         r.model, r.batch, r.threads, r.rounds, r.samplesPerSecondOff, r.samplesPerSecondOn, r.slowdown * 100))
            print(String(format: "per-layer spans sum to %.2f%% of the step's wall time; profiler's own cost %.2f%%",
                         r.spanSumOverWall * 100, r.profilerOverhead * 100))
        }
    }
}
