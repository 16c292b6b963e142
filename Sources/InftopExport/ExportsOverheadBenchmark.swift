import Foundation
import InftopEngine
import InftopTelemetry
import InftopWorkloads
import Synchronization
#if canImport(Glibc)
import Glibc
#endif

/// What exporting costs (`inftop bench --exports mlp`), per exporter: the same training run with
/// the profiler on and exports off, then with `/metrics` alone (scraped over HTTP every
/// `scrapeIntervalMs`), a record alone (a line every 100 ms), a bounded trace alone (the first
/// `traceSteps` steps, as `--trace` takes by default) and all three. Runs go
/// off, c₁, off, c₂, off, … with the configurations in forward then reverse order by round, and
/// each configuration's run is compared with the mean of the two off runs around it.
public enum ExportsOverheadBenchmark {
    public static let recordIntervalMs = 100

    public static func run(model: String, batch: Int, threads: Int, backend: KernelBackend, train: ImageDataset, test: ImageDataset,
                           stepsPerRun: Int = 1800, rounds: Int = 5, traceSteps: Int = 20, scrapeIntervalMs: Int = 1000,
                           configurations: [ExportsConfiguration] = ExportsConfiguration.allCases,
                           folder: String = NSTemporaryDirectory()) throws -> ExportsOverheadResult {
        let subset = train.prefix(min(train.count, batch * stepsPerRun))
        let smallTest = test.prefix(min(test.count, 1000))
        let epochs = (stepsPerRun * batch + subset.count - 1) / subset.count + 1
        func once(_ c: ExportsConfiguration?, into comparison: inout ExportsComparison?) throws -> ExportsRun {
            var config = TrainingConfig(model: model, epochs: epochs, seed: 0, telemetry: true)
            config.maxSteps = stepsPerRun
            let knobs = Knobs(KnobValues(batchSize: batch, threads: threads, backend: backend, model: model))
            let slot = SnapshotSlot<TrainingSnapshot>()
            let loop = try TrainingLoop(config: config, train: subset, test: smallTest, knobs: knobs, snapshots: slot)
            let tracePath = folder + "/inftop-bench-\(getpid()).trace.json", recordPath = folder + "/inftop-bench-\(getpid()).jsonl"
            let before = ThreadCPU.sample()
            let setup0 = threadCPUNanos(), cpu0 = processCPUNanos()
            var session: ExportSession?
            var sides: [JoinableThread] = []
            let wake = DispatchSemaphore(value: 0)   // signalled once per side thread at the end
            let counts = Locked((scrapes: 0, bytes: 0))
            if let c {
                let snapshot: @Sendable () -> DashboardSnapshot = {
                    DashboardSnapshot(uptimeSeconds: 0, training: slot.latest(), inference: nil, memory: .now(), memorySeries: nil)
                }
                let s = try ExportSession(.init(trace: c.trace ? tracePath : nil, traceSteps: traceSteps,
                                                metrics: c.metrics ? MetricsAddress(host: "127.0.0.1", port: 0) : nil,
                                                record: c.record ? recordPath : nil),
                                          knobs: knobs, snapshot: snapshot)
                try s.armStartupTrace()
                session = s
                if c.record {
                    sides.append(JoinableThread(name: "inftop-bench-record") {
                        while wake.wait(timeout: .now() + .milliseconds(recordIntervalMs)) == .timedOut {
                            s.frame(snapshot(), knobs: knobs.values)
                        }
                    })
                }
                if c.metrics, let port = s.server?.boundPort {
                    sides.append(JoinableThread(name: "inftop-bench-scrape") {
                        while wake.wait(timeout: .now() + .milliseconds(scrapeIntervalMs)) == .timedOut {
                            let body = MetricsServer.getBytes(port: port, path: "/metrics")
                            counts.withLock { $0.scrapes += 1; $0.bytes += body.count }
                        }
                    })
                }
            }
            let setup = threadCPUNanos() &- setup0
            let train0 = threadCPUNanos()
            let report = loop.run()
            let trainCPU = threadCPUNanos() &- train0
            let after = ThreadCPU.sample()
            let finish0 = threadCPUNanos()
            for _ in sides { wake.signal() }
            for t in sides { t.join() }
            if let s = session {
                _ = s.finish()
                if comparison != nil {
                    comparison!.traceEvents += s.lastCapture?.eventsWritten ?? 0
                    comparison!.recordLines += s.recorder?.ticks ?? 0
                    let n = counts.withLock { $0 }
                    comparison!.scrapes += n.scrapes; comparison!.scrapeBytes += n.bytes
                }
            }
            let finish = threadCPUNanos() &- finish0
            let cpu1 = processCPUNanos()
            unlink(tracePath); unlink(recordPath)
            if let e = report.error { throw e }
            let steps = max(1, report.totalSteps)
            // The exporters' threads (pump, side threads, the HTTP server's), until training ended,
            // plus arming and finishing them here; the training and loader threads are not theirs.
            let exporterNanos = session == nil ? 0 : ThreadCPU.delta(before, after, excluding: ["inftop", "inftop-loader"]) &+ setup &+ finish
            if session != nil, comparison != nil {
                var by = ThreadCPU.byName(before, after, excluding: ["inftop", "inftop-loader"])
                by["arm+finish", default: 0] &+= setup &+ finish
                for (name, ns) in by { comparison!.exporterNanosByThread[name, default: 0] &+= ns }
                comparison!.exporterSteps += max(1, report.totalSteps)
            }
            let seconds = report.epochs.last?.trainingSeconds ?? 0
            return ExportsRun(steps: steps, samplesPerSecond: seconds > 0 ? Double(steps * batch) / seconds : 0,
                              cpuMsPerStep: Double(cpu1 &- cpu0) / 1e6 / Double(steps),
                              trainingCpuMsPerStep: Double(trainCPU) / 1e6 / Double(steps),
                              exporterCpuMsPerStep: Double(exporterNanos) / 1e6 / Double(steps),
                              profilerShare: report.profilerOverhead)
        }

        var none: ExportsComparison? = nil
        var comparisons = configurations.map { ExportsComparison(configuration: $0) }
        var offRuns = [try once(nil, into: &none)]
        for round in 0..<rounds {
            let order = round % 2 == 0 ? Array(comparisons.indices) : comparisons.indices.reversed()
            for k in order {
                var cmp: ExportsComparison? = comparisons[k]
                let on = try once(cmp!.configuration, into: &cmp)
                let offBefore = offRuns.last!
                let offAfter = try once(nil, into: &none)
                offRuns.append(offAfter)
                let wallOff = (offBefore.samplesPerSecond + offAfter.samplesPerSecond) / 2
                let cpuOff = (offBefore.cpuMsPerStep + offAfter.cpuMsPerStep) / 2
                var c = cmp!
                c.runs.append(on)
                if wallOff > 0 { c.wallSlowdowns.append((wallOff - on.samplesPerSecond) / wallOff) }
                if cpuOff > 0 {
                    c.cpuOverheads.append((on.cpuMsPerStep - cpuOff) / cpuOff)
                    c.exporterCpuShares.append(on.exporterCpuMsPerStep / cpuOff)
                }
                let trainOff = (offBefore.trainingCpuMsPerStep + offAfter.trainingCpuMsPerStep) / 2
                if trainOff > 0 { c.trainingCpuOverheads.append((on.trainingCpuMsPerStep - trainOff) / trainOff) }
                comparisons[k] = c
            }
        }
        return ExportsOverheadResult(model: model, batch: batch, threads: threads, rounds: rounds, stepsPerRun: stepsPerRun,
                                     traceSteps: traceSteps, scrapeIntervalMs: scrapeIntervalMs, recordIntervalMs: recordIntervalMs,
                                     off: offRuns, comparisons: comparisons)
    }
}

/// CPU time of each thread of this process (`/proc/self/task/*/schedstat`, ns on a CPU), by
/// thread id with the thread's name: for telling the exporters' threads from the training ones.
enum ThreadCPU {
    typealias Sample = [Int: (name: String, nanos: UInt64)]

    static func sample() -> Sample {
        var out: Sample = [:]
        guard let tids = try? FileManager.default.contentsOfDirectory(atPath: "/proc/self/task") else { return out }
        for t in tids {
            guard let tid = Int(t),
                  let stat = try? String(contentsOfFile: "/proc/self/task/\(t)/schedstat", encoding: .utf8),
                  let ns = stat.split(separator: " ").first.flatMap({ UInt64($0) }) else { continue }
            let name = (try? String(contentsOfFile: "/proc/self/task/\(t)/comm", encoding: .utf8))?
                .trimmingCharacters(in: .whitespacesAndNewlines) ?? ""
            out[tid] = (name, ns)
        }
        return out
    }

    /// CPU the threads alive at `after` spent since `before` (threads born since count from 0),
    /// leaving out those named in `excluding`.
    static func delta(_ before: Sample, _ after: Sample, excluding: Set<String>) -> UInt64 {
        byName(before, after, excluding: excluding).values.reduce(0, &+)
    }

    /// As `delta`, by thread name (the runtime's pool threads, which serve /metrics, as "server").
    static func byName(_ before: Sample, _ after: Sample, excluding: Set<String>) -> [String: UInt64] {
        var out: [String: UInt64] = [:]
        for (tid, e) in after where !excluding.contains(e.name) {
            let name = e.name.hasPrefix("inftop-") ? e.name : "server"
            out[name, default: 0] &+= e.nanos &- min(e.nanos, before[tid]?.nanos ?? 0)
        }
        return out
    }
}
