import Foundation
import InftopEngine
import InftopTelemetry

/// One node's share of a `PruneBenchResult`: its median forward time and how it ran.
public struct PruneBenchLayer: Sendable, Equatable {
    public var name: String
    public var p50Ms: Double
    /// Fraction of the node's weight that is zero (nil for weight-free nodes).
    public var sparsity: Double?
    /// dense or csr at this batch (nil for weight-free nodes).
    public var format: WeightFormat?
    /// `[out, in]` of the weight as run (structured pruning shrinks it; nil for weight-free nodes).
    public var shape: [Int]?
}

/// One (sparsity, batch) configuration of `inftop bench --model mlp|cnn --weights CKPT --prune …`.
public struct PruneBenchResult: Sendable, Equatable {
    public var model: String
    public var mode: PruneMode
    public var sparsity: Double
    public var batch: Int
    public var threads: Int
    public var backend: KernelBackend
    public var isa: KernelISA
    public var p50Ms: Double, p90Ms: Double, p99Ms: Double
    public var itemsPerSec: Double
    /// Test accuracy of the pruned model (all test images, no fine-tuning).
    public var testAccuracy: Double
    public var parameters: Int
    /// fp32 weight bytes plus the CSR forms held.
    public var weightBytes: Int
    public var sparseBytes: Int
    public var layers: [PruneBenchLayer]
    public var runs: Int

    public var jsonLine: String {
        func r(_ v: Double, _ digits: Int) -> String { String(format: "%.\(digits)f", v) }
        let rows = layers.map { l in
            "{\"name\":\(JSONText.quote(l.name)),\"p50_ms\":\(r(l.p50Ms, 4)),\"sparsity\":\(l.sparsity.map { r($0, 4) } ?? "null"),"
                + "\"format\":\(l.format.map { "\"\($0.rawValue)\"" } ?? "null"),\"shape\":\(l.shape.map { "[\($0.map(String.init).joined(separator: ","))]" } ?? "null")}"
        }
        return "{\"model\":\(JSONText.quote(model)),\"prune_mode\":\"\(mode.rawValue)\",\"sparsity\":\(r(sparsity, 4)),\"batch\":\(batch),"
            + "\"threads\":\(threads),\"backend\":\"\(backend.rawValue)\",\"isa\":\"\(isa.rawValue)\",\"p50_ms\":\(r(p50Ms, 4)),"
            + "\"p90_ms\":\(r(p90Ms, 4)),\"p99_ms\":\(r(p99Ms, 4)),\"items_per_sec\":\(r(itemsPerSec, 1)),"
            + "\"test_accuracy\":\(r(testAccuracy, 4)),\"parameters\":\(parameters),\"weight_bytes\":\(weightBytes),"
            + "\"sparse_bytes\":\(sparseBytes),\"runs\":\(runs),\"layers\":[\(rows.joined(separator: ","))]}"
    }
}

/// Latency, per-layer times and test accuracy of a trained mlp/cnn at each sparsity: a fresh
/// copy of the model per sparsity (`makeModel`), pruned unstructured (magnitude, per layer; the
/// plan measures where CSR beats dense) or structured (units by L2 norm, then `Model.shrunk`).
/// Each run times every node of the chain on its own (their sum is the forward), on successive
/// slices of the test set; warmed up, then timed until `minRuns` and `minSeconds`.
public final class PruneBenchmark {
    public let makeModel: () throws -> Model
    public let test: ImageDataset

    public init(test: ImageDataset, makeModel: @escaping () throws -> Model) {
        self.makeModel = makeModel
        self.test = test
    }

    public func run(sparsities: [Double], mode: PruneMode, batches: [Int], compute base: Compute, minRuns: Int = 30,
                    minSeconds: Double = 1, maxSeconds: Double = 20, progress: ((PruneBenchResult) -> Void)? = nil) throws -> [PruneBenchResult] {
        var results: [PruneBenchResult] = []
        for s in sparsities {
            var model = try makeModel()
            var plan = base
            if s > 0 {
                switch mode {
                case .unstructured:
                    model.pruneMagnitude(sparsity: s)
                    plan.sparsity = s
                case .structured:
                    model.pruneStructured(fraction: s)
                    model = try model.shrunk()
                }
            }
            model.setPlan(plan)  // unstructured: each Linear measures dense vs CSR here
            let shape = model.descriptor.sampleShape!
            let accuracy = TrainingLoop.evaluate(model: model, batches: SequentialBatches(dataset: test, batchSize: 500, sampleShape: shape),
                                                 compute: plan).accuracy
            let layers = model.nodes.map { $0 as! any Layer }
            for b in batches {
                let slices = SequentialBatches(dataset: test, batchSize: b, sampleShape: shape)
                func nextBatch() -> Batch {
                    if let batch = slices.next(), batch.count == b { return batch }
                    slices.reset()
                    return slices.next()!
                }
                var perLayer = [[Double]](repeating: [], count: layers.count), totals: [Double] = []
                let start = monotonicNanos()
                var warm = 0
                while true {
                    var h = nextBatch().x
                    var total = 0.0
                    for i in layers.indices {
                        let t0 = monotonicNanos()
                        h = layers[i].forward(h, model.plan(ofNode: i), training: false)
                        let ms = Double(monotonicNanos() - t0) / 1e6
                        if warm >= 3 { perLayer[i].append(ms) }
                        total += ms
                    }
                    if warm < 3 { warm += 1; continue }
                    totals.append(total)
                    let elapsed = Double(monotonicNanos() - start) / 1e9
                    if totals.count >= minRuns && elapsed >= minSeconds { break }
                    if totals.count >= 3 && elapsed >= maxSeconds { break }
                }
                let rows = layers.indices.map { i in
                    PruneBenchLayer(name: layers[i].name, p50Ms: Self.percentile(perLayer[i], 50), sparsity: model.weightSparsity(ofNode: i),
                                    format: model.weightFormat(ofNode: i, batch: b),
                                    shape: layers[i].kind.isWeightBearing ? layers[i].parameters.first.map { Array($0.value.shape.prefix(2)) } : nil)
                }
                let p50 = Self.percentile(totals, 50)
                let r = PruneBenchResult(
                    model: model.name, mode: mode, sparsity: s, batch: b, threads: plan.threads, backend: plan.backend, isa: plan.isa,
                    p50Ms: p50, p90Ms: Self.percentile(totals, 90), p99Ms: Self.percentile(totals, 99), itemsPerSec: Double(b) / (p50 / 1e3),
                    testAccuracy: accuracy, parameters: model.parameterCount, weightBytes: model.parameterCount * 4 + model.sparseWeightBytes,
                    sparseBytes: model.sparseWeightBytes, layers: rows, runs: totals.count)
                progress?(r)
                results.append(r)
            }
        }
        return results
    }

    /// The `p`-th percentile (nearest rank) of `values`.
    static func percentile(_ values: [Double], _ p: Double) -> Double {
        let v = values.sorted()
        return v[min(v.count - 1, max(0, Int((p / 100 * Double(v.count)).rounded(.up)) - 1))]
    }

    /// Each Linear of `model` (dense): the lowest sparsity from which CSR stays faster than dense
    /// at `batch` under `compute` (`SparseGemm.crossover`), as one JSON object per layer.
    public static func crossoverLines(model: Model, batch: Int, compute: Compute) -> [String] {
        model.nodes.compactMap { $0 as? Linear }.map { l in
            let c = SparseGemm.crossover(weight: l.weight.value.data, bias: l.bias.value.data, n: l.outFeatures, k: l.inFeatures,
                                         batch: batch, compute: compute)
            let pts = c.points.map { String(format: "{\"sparsity\":%.2f,\"dense_ms\":%.4f,\"csr_ms\":%.4f}", $0.sparsity, $0.denseMs, $0.sparseMs) }
            return "{\"crossover\":\(JSONText.quote(l.name)),\"batch\":\(batch),\"backend\":\"\(compute.backend.rawValue)\","
                + "\"sparsity\":\(c.sparsity.map { String(format: "%.2f", $0) } ?? "null"),\"points\":[\(pts.joined(separator: ","))]}"
        }
    }
}
