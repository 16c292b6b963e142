import Foundation
import InftopEngine
import InftopTelemetry

/// What measuring costs: the same training run with telemetry off and on, alternated so load on
/// the machine hits both alike, plus how well the per-layer spans add up to the step.
public struct TelemetryOverheadResult: Sendable {
    public var model: String
    public var batch: Int
    public var threads: Int
    /// Kernel ISA tier both runs used.
    public var isa: KernelISA
    /// Median training samples/s over the rounds, telemetry off and on.
    public var samplesPerSecondOff: Double
    public var samplesPerSecondOn: Double
    /// (off − on) / off: the slowdown telemetry causes (negative = noise in its favour).
    public var slowdown: Double { (samplesPerSecondOff - samplesPerSecondOn) / samplesPerSecondOff }
    /// Σ per-site mean times ÷ mean step wall time (1.0 = the spans tile the step exactly).
    public var spanSumOverWall: Double
    /// The profiler's own measured cost as a fraction of wall time.
    public var profilerOverhead: Double
    public var rounds: Int

    public var jsonLine: String {
        String(format: #"{"bench":"telemetry_overhead","model":"%@","batch":%d,"threads":%d,"samples_per_sec_off":%.1f,"samples_per_sec_on":%.1f,"slowdown":%.4f,"span_sum_over_wall":%.4f,"profiler_overhead":%.4f,"rounds":%d,"isa":"%@"}"#,
               model, batch, threads, samplesPerSecondOff, samplesPerSecondOn, slowdown, spanSumOverWall, profilerOverhead, rounds, isa.rawValue)
    }
}

public enum TelemetryOverheadBenchmark {
    /// Trains `model` for `rounds` × 2 short runs (`stepsPerRun` steps each, one epoch over a prefix
    /// of the training set), alternating telemetry off and on, and compares median throughput.
    /// - Throws: `EngineError` for a bad model or data.
    public static func run(model: String, batch: Int, threads: Int, backend: KernelBackend, isa: KernelISA = HostCPU.current.bestISA,
                           train: ImageDataset, test: ImageDataset, stepsPerRun: Int = 300, rounds: Int = 5) throws -> TelemetryOverheadResult {
        let subset = train.prefix(min(train.count, batch * stepsPerRun))
        let smallTest = test.prefix(min(test.count, 1000))
        var off: [Double] = [], on: [Double] = []
        var ratio: [Double] = [], overhead: [Double] = []
        for _ in 0..<rounds {
            for telemetry in [false, true] {
                let config = TrainingConfig(model: model, epochs: 1, seed: 0, telemetry: telemetry)
                let knobs = Knobs(KnobValues(batchSize: batch, threads: threads, backend: backend, model: model, isa: isa))
                let loop = try TrainingLoop(config: config, train: subset, test: smallTest, knobs: knobs)
                let report = loop.run()
                if let e = report.error { throw e }
                guard let epoch = report.epochs.last else { continue }
                if telemetry {
                    on.append(epoch.samplesPerSecond)
                    if let step = report.stepStat, step.meanMs > 0 {
                        let sum = report.layers.reduce(0.0) { acc, l in
                            acc + (l.forward?.meanMs ?? 0) + (l.backward?.meanMs ?? 0) + (l.other?.meanMs ?? 0)
                        }
                        ratio.append(sum / step.meanMs)
                    }
                    overhead.append(report.profilerOverhead)
                } else {
                    off.append(epoch.samplesPerSecond)
                }
            }
        }
        func median(_ v: [Double]) -> Double { v.isEmpty ? 0 : v.sorted()[v.count / 2] }
        return TelemetryOverheadResult(model: model, batch: batch, threads: threads, isa: HostCPU.current.runnable(isa),
                                       samplesPerSecondOff: median(off), samplesPerSecondOn: median(on),
                                       spanSumOverWall: median(ratio), profilerOverhead: median(overhead), rounds: rounds)
    }
}
