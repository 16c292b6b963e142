import Foundation
import InftopEngine
import InftopTelemetry
import InftopWorkloads
import Synchronization
#if canImport(Glibc)
import Glibc
#endif

/// What exporting costs (`inftop bench --exports mlp`): the same short training run with the
/// profiler on and exports off, then with all three exports on at once — `/metrics` served and
/// rendered twice a second, a Chrome trace capturing `traceSteps` steps (every step by default, up
/// to its cap), a record line
/// every 100 ms — in alternating order (off→on, then on→off, …) so drift hits both alike.
public struct ExportsOverheadResult: Sendable {
    public var model: String
    public var batch: Int
    public var threads: Int
    public var rounds: Int
    public var samplesPerSecondOff: Double
    public var samplesPerSecondOn: Double
    public var stepMsOff: Double
    public var stepMsOn: Double
    /// Process CPU time (every thread: training, loader, pump, recorder, scrapes) per step, ms:
    /// steadier than wall time on a shared machine, and it counts the exporters' own threads.
    public var cpuMsPerStepOff: Double
    public var cpuMsPerStepOn: Double
    public var cpuSlowdowns: [Double]
    /// The profiler's own measured share of the training thread's wall time (clock reads, folding
    /// spans, and with exports on copying each step into the tap): what the step itself pays.
    public var profilerShareOff: Double
    public var profilerShareOn: Double
    /// Per-round slowdowns, (off − on) / off, in run order.
    public var slowdowns: [Double]
    public var traceEvents: Int
    public var recordLines: Int
    public var scrapes: Int

    /// Median of the per-round slowdowns (negative = noise in the exports' favour).
    public var slowdown: Double { slowdowns.isEmpty ? 0 : slowdowns.sorted()[slowdowns.count / 2] }
    /// Median of the per-round (on − off) / off CPU time per step.
    public var cpuOverhead: Double { cpuSlowdowns.isEmpty ? 0 : cpuSlowdowns.sorted()[cpuSlowdowns.count / 2] }

    public var jsonLine: String {
        String(format: #"{"bench":"exports_overhead","model":"%@","batch":%d,"threads":%d,"rounds":%d,"samples_per_sec_off":%.1f,"samples_per_sec_on":%.1f,"step_ms_off":%.4f,"step_ms_on":%.4f,"slowdown":%.4f,"cpu_ms_per_step_off":%.4f,"cpu_ms_per_step_on":%.4f,"cpu_overhead":%.4f,"profiler_share_off":%.5f,"profiler_share_on":%.5f,"trace_events":%d,"record_lines":%d,"scrapes":%d}"#,
               model, batch, threads, rounds, samplesPerSecondOff, samplesPerSecondOn, stepMsOff, stepMsOn, slowdown, cpuMsPerStepOff, cpuMsPerStepOn, cpuOverhead, profilerShareOff, profilerShareOn,
               traceEvents, recordLines, scrapes)
    }
}

public enum ExportsOverheadBenchmark {
    public static func run(model: String, batch: Int, threads: Int, backend: KernelBackend, train: ImageDataset, test: ImageDataset,
                           stepsPerRun: Int = 300, rounds: Int = 6, traceSteps: Int = 100_000,
                           folder: String = NSTemporaryDirectory()) throws -> ExportsOverheadResult {
        let subset = train.prefix(min(train.count, batch * stepsPerRun))
        let smallTest = test.prefix(min(test.count, 1000))
        var off: [(Double, Double, Double, Double)] = [], on: [(Double, Double, Double, Double)] = [], slowdowns: [Double] = [], cpuSlowdowns: [Double] = []
        var events = 0, lines = 0, scrapes = 0
        for round in 0..<rounds {
            var pair: [Bool: Double] = [:], cpuPair: [Bool: Double] = [:]
            for exporting in round % 2 == 0 ? [false, true] : [true, false] {
                let config = TrainingConfig(model: model, epochs: 1, seed: 0, telemetry: true)
                let knobs = Knobs(KnobValues(batchSize: batch, threads: threads, backend: backend, model: model))
                let slot = SnapshotSlot<TrainingSnapshot>()
                let loop = try TrainingLoop(config: config, train: subset, test: smallTest, knobs: knobs, snapshots: slot)
                var session: ExportSession?
                var sideThread: JoinableThread?
                let stop = Atomic<Bool>(false)
                let counts = Locked((lines: 0, scrapes: 0))
                if exporting {
                    let snapshot: @Sendable () -> DashboardSnapshot = {
                        DashboardSnapshot(uptimeSeconds: 0, training: slot.latest(), inference: nil, memory: .now(), memorySeries: nil)
                    }
                    let s = try ExportSession(.init(trace: folder + "/inftop-bench-\(getpid()).trace.json", traceSteps: traceSteps,
                                                    metrics: MetricsAddress(host: "127.0.0.1", port: 0),
                                                    record: folder + "/inftop-bench-\(getpid()).jsonl"),
                                              knobs: knobs, snapshot: snapshot)
                    try s.armStartupTrace()
                    session = s
                    sideThread = JoinableThread(name: "inftop-bench-side") {
                        var tick = 0
                        while !stop.load(ordering: .relaxed) {
                            usleep(100_000)
                            s.frame(snapshot(), knobs: knobs.values)
                            tick += 1
                            if tick % 5 == 0, let e = s.exporter { _ = e.render(); counts.withLock { $0.scrapes += 1 } }
                            counts.withLock { $0.lines += 1 }
                        }
                    }
                }
                let cpu0 = processCPUNanos()
                let report = loop.run()
                let cpu1 = processCPUNanos()
                stop.store(true, ordering: .relaxed)
                sideThread?.join()
                if let s = session {
                    s.pump.drainNow()
                    _ = s.finish()
                    events += s.lastCapture?.eventsWritten ?? 0
                    let c = counts.withLock { $0 }
                    lines += c.lines; scrapes += c.scrapes
                    unlink(folder + "/inftop-bench-\(getpid()).trace.json")
                    unlink(folder + "/inftop-bench-\(getpid()).jsonl")
                }
                if let e = report.error { throw e }
                guard let epoch = report.epochs.last else { continue }
                let ms = report.stepStat?.meanMs ?? 0
                let cpuMs = Double(cpu1 &- cpu0) / 1e6 / Double(max(1, report.totalSteps))
                let row = (epoch.samplesPerSecond, ms, cpuMs, report.profilerOverhead)
                if exporting { on.append(row) } else { off.append(row) }
                pair[exporting] = epoch.samplesPerSecond
                cpuPair[exporting] = cpuMs
            }
            if let a = pair[false], let b = pair[true], a > 0 { slowdowns.append((a - b) / a) }
            if let a = cpuPair[false], let b = cpuPair[true], a > 0 { cpuSlowdowns.append((b - a) / a) }
        }
        func median(_ v: [Double]) -> Double { v.isEmpty ? 0 : v.sorted()[v.count / 2] }
        return ExportsOverheadResult(
            model: model, batch: batch, threads: threads, rounds: rounds,
            samplesPerSecondOff: median(off.map(\.0)), samplesPerSecondOn: median(on.map(\.0)),
            stepMsOff: median(off.map(\.1)), stepMsOn: median(on.map(\.1)),
            cpuMsPerStepOff: median(off.map(\.2)), cpuMsPerStepOn: median(on.map(\.2)), cpuSlowdowns: cpuSlowdowns,
            profilerShareOff: median(off.map(\.3)), profilerShareOn: median(on.map(\.3)), slowdowns: slowdowns,
            traceEvents: events, recordLines: lines, scrapes: scrapes)
    }
}

/// CPU time of the whole process so far (all threads), ns.
func processCPUNanos() -> UInt64 {
    var ts = timespec()
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts)
    return UInt64(ts.tv_sec) * 1_000_000_000 + UInt64(ts.tv_nsec)
}
