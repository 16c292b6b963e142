import InftopTelemetry
import ArgumentParser
import Foundation
import InftopEngine
import InftopWorkloads

extension BenchCommand {
    /// The settings of a bench mode that trains (`--train`, `--exports`): one batch size, one
    /// thread count, one backend, and Fashion-MNIST; bad input exits with one line.
    func trainingRunInputs(flag: String, model: String) throws -> (batch: Int, threads: Int, backend: KernelBackend, train: ImageDataset, test: ImageDataset) {
        guard (try? ModelZoo.descriptor(model)) != nil else { try Self.fail("\(flag) \(model): unknown; use \(ModelZoo.names.joined(separator: " or "))") }
        guard let b = Int(batch ?? "64"), (1...1024).contains(b) else { try Self.fail("--batch for \(flag) must be one integer 1…1024") }
        let t = try BenchInput.threads(threads)
        guard t.count == 1 else { try Self.fail("\(flag) takes one --threads value") }
        guard let kb = KernelBackend(rawValue: backend == "simd,blas" ? "blas" : backend) else {
            try Self.fail("--backend \(backend): use one of blas, simd, reference with \(flag)")
        }
        let (trainSet, testSet): (ImageDataset, ImageDataset)
        do { (trainSet, testSet) = try FashionMNIST.load(directory: data) } catch { try Self.fail("\(error)") }
        return (b, t[0], kb, trainSet, testSet)
    }

    /// `inftop bench --train mlp --batch 64 --threads 1`: training throughput with telemetry off vs
    /// on (alternated), and how closely the per-layer spans add up to the step's wall time.
    func runTrainOverhead(model: String) throws {
        let (b, t, kb, trainSet, testSet) = try trainingRunInputs(flag: "--train", model: model)
        let r = try TelemetryOverheadBenchmark.run(model: model, batch: b, threads: t, backend: kb, isa: isaOption.resolved("bench"),
                                                   train: trainSet, test: testSet, stepsPerRun: Self.overheadSteps(try ModelZoo.descriptor(model)))
        if json {
            print(r.jsonLine)
        } else {
            print(String(format: "%@ batch %d, %d thread(s), %d rounds: telemetry off %.0f samples/s, on %.0f samples/s → slowdown %.2f%%",
                         r.model, r.batch, r.threads, r.rounds, r.samplesPerSecondOff, r.samplesPerSecondOn, r.slowdown * 100))
            print(String(format: "per-layer spans sum to %.2f%% of the step's wall time; profiler's own cost %.2f%%",
                         r.spanSumOverWall * 100, r.profilerOverhead * 100))
        }
    }

    /// Steps per timed run: runs of similar length whatever the model's cost (its serving
    /// rate is what one thread sustains): 300 for the MLP, 60 for the CNN.
    static func overheadSteps(_ d: ModelDescriptor) -> Int { min(300, max(60, Int(d.servingRate * 0.3))) }
}
