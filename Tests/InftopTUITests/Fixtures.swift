import InftopTelemetry
import InftopTUI
import InftopWorkloads

/// Fixed, realistic dashboard snapshots: an MLP (fc1/relu1/fc2/relu2/fc3 + loss, optimizer)
/// training on Fashion-MNIST and serving at the same time. Everything is computed from
/// closed-form curves, so every run builds the same snapshot.
enum Fixtures {
    static func phase(_ mean: Double, p99: Double, calls: Int = 12_345) -> PhaseStat {
        PhaseStat(calls: calls, lastMs: mean * 1.02, meanMs: mean, p50Ms: mean * 0.97, p90Ms: (mean + p99) / 2, p99Ms: p99)
    }

    /// A smooth trend plus deterministic wiggle.
    static func curve(from t0: Double, to t1: Double, every dt: Double, _ f: (Double, Int) -> Double) -> (times: [Double], values: [Double]) {
        var ts: [Double] = [], vs: [Double] = []
        var t = t0, i = 0
        while t <= t1 + 1e-9 {
            ts.append(t); vs.append(f(t, i))
            t += dt; i += 1
        }
        return (ts, vs)
    }

    static func wiggle(_ i: Int, _ a: Double) -> Double {
        a * (sin(Double(i) * 1.7) * 0.6 + sin(Double(i) * 0.37) * 0.4)
    }

    static func series(_ name: String, unit: String = "", _ c: (times: [Double], values: [Double])) -> SeriesSnapshot {
        SeriesSnapshot(name: name, unit: unit, times: c.times, values: c.values)
    }

    static let uptime = 754.0

    static var trainingLayers: [LayerStat] {
        [
            LayerStat(name: "fc1", forward: phase(0.212, p99: 0.351), backward: phase(0.418, p99: 0.602), share: 0.412),
            LayerStat(name: "relu1", forward: phase(0.011, p99: 0.019), backward: phase(0.014, p99: 0.027), share: 0.017),
            LayerStat(name: "fc2", forward: phase(0.061, p99: 0.108), backward: phase(0.117, p99: 0.190), share: 0.116),
            LayerStat(name: "relu2", forward: phase(0.006, p99: 0.012), backward: phase(0.008, p99: 0.015), share: 0.009),
            LayerStat(name: "fc3", forward: phase(0.009, p99: 0.016), backward: phase(0.015, p99: 0.029), share: 0.016),
            LayerStat(name: "loss", forward: phase(0.007, p99: 0.011), backward: phase(0.003, p99: 0.006), share: 0.007),
            LayerStat(name: "optimizer", forward: nil, backward: nil, other: phase(0.151, p99: 0.233), share: 0.098),
        ]
    }

    static var training: TrainingSnapshot {
        let loss = curve(from: 150, to: uptime, every: 2) { t, i in 0.35 + 0.55 * exp(-(t - 150) / 200) + wiggle(i, 0.06) }
        let acc = curve(from: 150, to: uptime, every: 2) { t, i in 0.88 - 0.2 * exp(-(t - 150) / 200) + wiggle(i, 0.02) }
        // The rate in force: 0.05, halved by the user 40 s before the right edge.
        let lr = curve(from: 150, to: uptime, every: 2) { t, _ in t < uptime - 40 ? 0.05 : 0.025 }
        let testLoss = curve(from: 180, to: uptime, every: 60) { t, _ in 0.40 + 0.5 * exp(-(t - 150) / 220) }
        let testAcc = curve(from: 180, to: uptime, every: 60) { t, _ in 0.865 - 0.19 * exp(-(t - 150) / 220) }
        let sps = curve(from: 150, to: uptime, every: 2) { _, i in 18_400 + wiggle(i, 900) }
        return TrainingSnapshot(
            model: "mlp", state: .running, step: 12_345, epoch: 3, epochProgress: 0.62, epochETASeconds: 41,
            batchSize: 64, samplesPerSecond: 18_432, lastLoss: loss.values.last, lastAccuracy: acc.values.last,
            testLoss: testLoss.values.last, testAccuracy: testAcc.values.last, layers: trainingLayers,
            stepStat: phase(1.08, p99: 1.9), profilerOverhead: 0.012,
            series: [series("train_loss", loss), series("train_acc", acc), series("test_loss", testLoss),
                     series("test_acc", testAcc), series("samples_per_sec", unit: "1/s", sps), series("lr", lr)],
            hyperparameters: HyperparameterLabel(optimizer: "sgd", learningRate: 0.025, baseLearningRate: 0.025, schedule: "constant",
                                                 momentum: 0.9, weightDecay: 0),
            // The user halved the rate 40 s before the right edge: a dotted line on both charts.
            markers: [ChartMarker(time: uptime - 40, label: "lr 0.025")])
    }

    static var inference: InferenceSnapshot {
        let p50 = curve(from: 150, to: uptime, every: 1) { _, i in 0.82 + wiggle(i, 0.08) }
        let p99 = curve(from: 150, to: uptime, every: 1) { t, i in 2.9 + wiggle(i, 0.5) + (t > 500 && t < 540 ? 3.5 : 0) }
        let ips = curve(from: 150, to: uptime, every: 1) { _, i in 4_210 + wiggle(i, 300) }
        let layers = [
            LayerStat(name: "fc1", forward: phase(0.034, p99: 0.061), backward: nil, share: 0.62),
            LayerStat(name: "relu1", forward: phase(0.002, p99: 0.004), backward: nil, share: 0.04),
            LayerStat(name: "fc2", forward: phase(0.011, p99: 0.020), backward: nil, share: 0.21),
            LayerStat(name: "relu2", forward: phase(0.001, p99: 0.003), backward: nil, share: 0.02),
            LayerStat(name: "fc3", forward: phase(0.004, p99: 0.008), backward: nil, share: 0.08),
        ]
        return InferenceSnapshot(
            model: "mlp", state: .running, requests: 123_456, batches: 15_432, batchSize: 8,
            latency: PhaseStat(calls: 123_456, lastMs: 0.84, meanMs: 0.91, p50Ms: 0.82, p90Ms: 1.41, p99Ms: 2.93),
            itemsPerSecond: 4_210, cacheHitRate: nil, layers: layers, profilerOverhead: 0.004,
            series: [series("latency_p50_ms", unit: "ms", p50), series("latency_p99_ms", unit: "ms", p99),
                     series("items_per_sec", unit: "1/s", ips)])
    }

    /// The generator served: two streams, one decoding (its answer has a line break), one just
    /// taking its prompt; per stage kind rows.
    static var generation: InferenceSnapshot {
        let p50 = curve(from: 150, to: uptime, every: 5) { _, i in 210 + wiggle(i, 20) }
        let p99 = curve(from: 150, to: uptime, every: 5) { _, i in 460 + wiggle(i, 40) }
        let tps = curve(from: 150, to: uptime, every: 1) { _, i in 61 + wiggle(i, 4) }
        let layers = [("embed", 0.004, 0.0), ("attn_norm", 0.05, 0.004), ("qkv", 1.9, 0.13), ("rope", 0.2, 0.014), ("attention", 1.1, 0.08),
                      ("attn_out", 0.9, 0.06), ("ffn_norm", 0.05, 0.004), ("ffn_up", 4.6, 0.32), ("ffn_down", 2.3, 0.16), ("norm", 0.002, 0),
                      ("head", 3.1, 0.22)].map { LayerStat(name: $0.0, forward: phase($0.1, p99: $0.1 * 1.6), backward: nil, share: $0.2) }
        let g = GenerationSnapshot(
            ttft: PhaseStat(calls: 41, lastMs: 230, meanMs: 232, p50Ms: 214, p90Ms: 390, p99Ms: 471), prefillTokensPerSecond: 312,
            decodeTokensPerSecond: 61.4, timePerTokenMs: 32.4, kvCacheEnabled: true, kvPositions: 187, kvCapacity: 1024,
            kvBytes: 47_185_920, threads: 1, completed: 41, generatedTokens: 4_907, maxNewTokens: 128,
            sampling: "T 0.7 · top-k 40 · top-p 0.95 · seed 0",
            streams: [
                GenerationStreamSnapshot(phase: "decode", prompt: "Explain what a KV cache does in a language model.",
                                         text: "A KV cache stores the keys and values of every earlier token,\nso each new token attends to them without recomputing the whole prefix.",
                                         promptTokens: 41, generatedTokens: 29, positions: 70, capacity: 512, decodeTokensPerSecond: 30.8, stop: nil),
                GenerationStreamSnapshot(phase: "prefill", prompt: "Write a haiku about autumn leaves.", text: "", promptTokens: 37,
                                         generatedTokens: 0, positions: 0, capacity: 512, decodeTokensPerSecond: nil, stop: nil),
            ])
        return InferenceSnapshot(
            model: "SmolLM2-135M-Instruct.Q4_1", state: .running, requests: 41, batches: 4_866, batchSize: 2,
            latency: PhaseStat(calls: 9, lastMs: 230, meanMs: 232, p50Ms: 214, p90Ms: 390, p99Ms: 471), itemsPerSecond: 61.4,
            cacheHitRate: nil, layers: layers, profilerOverhead: 0.001,
            series: [series("latency_p50_ms", unit: "ms", p50), series("latency_p99_ms", unit: "ms", p99), series("items_per_sec", unit: "tok/s", tps)],
            accuracyLabel: "", summary: "30×576, 134.5M params, Q4_1+Q8_0",
            plan: PlanLabel(backend: .simd, isa: .avx2, precision: .fp32, threads: 1), generation: g,
            // The user went to two streams 30 s before the right edge: a dotted line on both charts.
            markers: [ChartMarker(time: uptime - 30, label: "2 streams · KV on · t1 · avx2 · simd")])
    }

    static var memory: MemorySnapshot {
        var owners = [Int](repeating: 0, count: MemoryOwner.allCases.count)
        owners[MemoryOwner.weightsFP32.rawValue] = 1_073_448        // 784·256+256·128+128·10 floats + biases
        owners[MemoryOwner.gradients.rawValue] = 1_073_448
        owners[MemoryOwner.optimizerState.rawValue] = 2_146_896    // Adam m and v
        owners[MemoryOwner.activations.rawValue] = 6_422_528
        owners[MemoryOwner.data.rawValue] = 219_520_000            // 70,000 images as float32
        return MemorySnapshot(bytesByOwner: owners, residentBytes: 301_989_888, peakResidentBytes: 335_544_320)
    }

    static var snapshot: DashboardSnapshot {
        let rss = curve(from: 150, to: uptime, every: 5) { t, _ in 288 - 10 * exp(-(t - 150) / 60) }
        return DashboardSnapshot(uptimeSeconds: uptime, training: training, inference: inference, memory: memory,
                                 memorySeries: series("rss_mb", unit: "MB", rss))
    }

    static var knobs: KnobValues { KnobValues(batchSize: 64, inferenceBatchSize: 8, threads: 1, backend: .blas, model: "mlp") }
}

#if canImport(Glibc)
import Glibc
#endif
