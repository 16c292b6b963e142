import Foundation
import InftopEngine
import InftopTelemetry

/// One (precision, batch) configuration of `inftop bench --model mlp|cnn --weights CKPT`.
public struct ClassifierBenchResult: Sendable, Equatable {
    public var model: String
    public var precision: Precision
    public var batch: Int
    public var threads: Int
    public var backend: KernelBackend
    public var isa: KernelISA
    /// The int8 GEMM tier (int8 rows only).
    public var kernel: String?
    public var p50Ms: Double, p90Ms: Double, p99Ms: Double
    /// batch / p50.
    public var itemsPerSec: Double
    /// Accuracy of this precision's predictions on the whole test set (10 000 images).
    public var testAccuracy: Double
    /// Weight bytes this precision's forward reads: fp32 parameters, or the int8 forms
    /// (packed codes, scales, column sums) of the weight-bearing layers plus their fp32 biases.
    public var weightBytes: Int
    public var runs: Int

    /// `{"model":…,"precision":…,"batch":…,"threads":…,"backend":…,"isa":…,["kernel":…,]"p50_ms":…,
    /// "p90_ms":…,"p99_ms":…,"items_per_sec":…,"test_accuracy":…,"weight_bytes":…,"runs":…}`.
    public var jsonLine: String {
        func r(_ v: Double, _ digits: Int) -> String { String(format: "%.\(digits)f", v) }
        return "{\"model\":\(JSONText.quote(model)),\"precision\":\"\(precision.rawValue)\",\"batch\":\(batch),\"threads\":\(threads),"
            + "\"backend\":\"\(backend.rawValue)\",\"isa\":\"\(isa.rawValue)\"" + (kernel.map { ",\"kernel\":\"\($0)\"" } ?? "")
            + ",\"p50_ms\":\(r(p50Ms, 4)),\"p90_ms\":\(r(p90Ms, 4)),\"p99_ms\":\(r(p99Ms, 4)),\"items_per_sec\":\(r(itemsPerSec, 1)),"
            + "\"test_accuracy\":\(r(testAccuracy, 4)),\"weight_bytes\":\(weightBytes),\"runs\":\(runs)}"
    }
}

/// Inference latency and test accuracy of a trained mlp/cnn at each precision: the forward of
/// `batch` test images (successive slices of the test set, so every run reads fresh inputs),
/// warmed up, then timed until `minRuns` and `minSeconds`; accuracy over all test images at
/// that precision (per-row activation quantization makes it independent of the batch size).
/// Precisions are measured in the order given, batch sizes inside each.
public final class ClassifierBenchmark {
    public let model: Model
    public let test: ImageDataset

    public init(model: Model, test: ImageDataset) {
        self.model = model
        self.test = test
    }

    public func run(precisions: [Precision], batches: [Int], compute base: Compute, minRuns: Int = 20, minSeconds: Double = 1,
                    maxSeconds: Double = 20, progress: ((ClassifierBenchResult) -> Void)? = nil) -> [ClassifierBenchResult] {
        var results: [ClassifierBenchResult] = []
        for precision in precisions {
            var compute = base
            compute.precision = precision
            let accuracy = TrainingLoop.evaluate(model: model, batches: SequentialBatches(dataset: test, batchSize: 500, sampleShape: model.descriptor.sampleShape!),
                                                 compute: compute).accuracy
            model.setPlan(compute)
            for b in batches {
                let slices = SequentialBatches(dataset: test, batchSize: b, sampleShape: model.descriptor.sampleShape!)
                func nextBatch() -> Batch {
                    if let batch = slices.next(), batch.count == b { return batch }
                    slices.reset()
                    return slices.next()!
                }
                let warm = monotonicNanos()
                var warmRuns = 0
                while warmRuns < 3 || monotonicNanos() - warm < 200_000_000 {
                    _ = model.forward(nextBatch().x)
                    warmRuns += 1
                }
                var times: [Double] = []
                let start = monotonicNanos()
                while true {
                    let x = nextBatch().x
                    let t0 = monotonicNanos()
                    _ = model.forward(x)
                    let t1 = monotonicNanos()
                    times.append(Double(t1 - t0) / 1e6)
                    let elapsed = Double(t1 - start) / 1e9
                    if times.count >= minRuns && elapsed >= minSeconds { break }
                    if times.count >= 3 && elapsed >= maxSeconds { break }
                }
                times.sort()
                func pct(_ p: Double) -> Double { times[min(times.count - 1, max(0, Int((p / 100 * Double(times.count)).rounded(.up)) - 1))] }
                let r = ClassifierBenchResult(
                    model: model.name, precision: precision, batch: b, threads: compute.threads, backend: compute.backend,
                    isa: compute.isa, kernel: precision == .int8 ? Int8Kernel.plan(compute).kernel.rawValue : nil,
                    p50Ms: pct(50), p90Ms: pct(90), p99Ms: pct(99), itemsPerSec: Double(b) / (pct(50) / 1e3),
                    testAccuracy: accuracy, weightBytes: Self.weightBytes(model, precision), runs: times.count)
                progress?(r)
                results.append(r)
            }
        }
        return results
    }

    /// Bytes of the weights a forward at `precision` reads (see `ClassifierBenchResult.weightBytes`).
    public static func weightBytes(_ model: Model, _ precision: Precision) -> Int {
        model.nodes.reduce(0) { sum, layer in
            let ps = layer.parameters
            guard precision == .int8, let w = ps.first, w.value.shape.count >= 2 else { return sum + ps.reduce(0) { $0 + $1.value.count * 4 } }
            let n = w.value.shape[0], k = w.value.count / n
            return sum + QuantizedWeights.bytes(n: n, k: k) + ps.dropFirst().reduce(0) { $0 + $1.value.count * 4 }
        }
    }
}
