import Foundation
import InftopEngine

/// Which exporters one run of `inftop bench --exports` has on.
public enum ExportsConfiguration: String, CaseIterable, Sendable {
    /// `/metrics` bound on loopback, every step and request fed to its histograms, scraped over HTTP.
    case metrics
    /// A record line every 100 ms (the dashboard's default tick).
    case record
    /// A Chrome trace of the first `traceSteps` steps (what `--trace` does; 20 by default).
    case trace
    /// All three at once.
    case all

    public var metrics: Bool { self == .metrics || self == .all }
    public var record: Bool { self == .record || self == .all }
    public var trace: Bool { self == .trace || self == .all }
}

/// What one training run measured.
public struct ExportsRun: Sendable {
    public var steps: Int
    /// Training samples per second of wall time (evaluations excluded).
    public var samplesPerSecond: Double
    /// Process CPU time per step, ms (every thread: training, loader, exporters, scrapes).
    public var cpuMsPerStep: Double
    /// The training thread's own CPU time per step, ms.
    public var trainingCpuMsPerStep: Double
    /// CPU time per step of the threads the exporters run on (pump, recorder, HTTP server, the
    /// scraper) plus arming and finishing them on the bench thread, ms; 0 with exports off.
    public var exporterCpuMsPerStep: Double
    /// The profiler's measured share of the training thread's wall time.
    public var profilerShare: Double
}

/// One configuration against exports off: each of its runs sits between two off runs, and
/// its figures are taken against the mean of those two (so a linear drift cancels).
public struct ExportsComparison: Sendable {
    public var configuration: ExportsConfiguration
    public var runs: [ExportsRun] = []
    /// Per round, in run order: (off − on) / off of samples/s.
    public var wallSlowdowns: [Double] = []
    /// Per round: (on − off) / off of process CPU per step.
    public var cpuOverheads: [Double] = []
    /// Per round: the exporters' own threads' CPU per step over off's process CPU per step (a
    /// direct reading, not a difference of two noisy totals).
    public var exporterCpuShares: [Double] = []
    /// Per round: (on − off) / off of the training thread's own CPU per step (what the step
    /// itself pays: copying into the taps, and caches or cores shared with the exporters).
    public var trainingCpuOverheads: [Double] = []
    public var traceEvents = 0, recordLines = 0, scrapes = 0, scrapeBytes = 0
    /// Where the exporters' CPU went, summed over this configuration's runs: by thread name
    /// ("inftop-pump", "inftop-bench-re" the recorder, "inftop-bench-sc" the scraper, "server"
    /// the HTTP server's pool threads, "arm+finish" on the bench thread), and the steps run.
    public var exporterNanosByThread: [String: UInt64] = [:]
    public var exporterSteps = 0

    /// The exporters' CPU per step by thread, µs, largest first.
    public var exporterMicrosPerStepByThread: [(String, Double)] {
        exporterNanosByThread.map { ($0.key, Double($0.value) / 1e3 / Double(max(1, exporterSteps))) }.sorted { $0.1 > $1.1 }
    }

    public var wallSlowdown: Double { Self.median(wallSlowdowns) }
    public var cpuOverhead: Double { Self.median(cpuOverheads) }
    public var exporterCpuShare: Double { Self.median(exporterCpuShares) }
    public var trainingCpuOverhead: Double { Self.median(trainingCpuOverheads) }
    public var samplesPerSecond: Double { Self.median(runs.map(\.samplesPerSecond)) }
    public var cpuMsPerStep: Double { Self.median(runs.map(\.cpuMsPerStep)) }

    static func median(_ v: [Double]) -> Double { v.isEmpty ? 0 : v.sorted()[v.count / 2] }
}

public struct ExportsOverheadResult: Sendable {
    public var model: String
    public var batch: Int
    public var threads: Int
    public var rounds: Int
    public var stepsPerRun: Int
    public var traceSteps: Int
    public var scrapeIntervalMs: Int
    public var recordIntervalMs: Int
    public var off: [ExportsRun]
    public var comparisons: [ExportsComparison]

    public var samplesPerSecondOff: Double { ExportsComparison.median(off.map(\.samplesPerSecond)) }
    public var cpuMsPerStepOff: Double { ExportsComparison.median(off.map(\.cpuMsPerStep)) }

    public var jsonLine: String {
        func list(_ v: [Double]) -> String { "[" + v.map { String(format: "%.4f", $0) }.joined(separator: ",") + "]" }
        let parts = comparisons.map { c in
            String(format: #"%@:{"samples_per_sec":%.1f,"cpu_ms_per_step":%.4f,"wall_slowdown":%.4f,"cpu_overhead":%.4f,"exporter_cpu_share":%.4f,"training_cpu_overhead":%.4f,"#,
                   JSONText.quote(c.configuration.rawValue), c.samplesPerSecond, c.cpuMsPerStep, c.wallSlowdown, c.cpuOverhead, c.exporterCpuShare, c.trainingCpuOverhead)
            + #""wall_slowdowns":\#(list(c.wallSlowdowns)),"cpu_overheads":\#(list(c.cpuOverheads)),"exporter_cpu_shares":\#(list(c.exporterCpuShares)),"training_cpu_overheads":\#(list(c.trainingCpuOverheads)),"#
            + #""exporter_us_per_step_by_thread":{\#(c.exporterMicrosPerStepByThread.map { "\(JSONText.quote($0.0)):\(String(format: "%.3f", $0.1))" }.joined(separator: ","))},"#
            + #""trace_events":\#(c.traceEvents),"record_lines":\#(c.recordLines),"scrapes":\#(c.scrapes),"scrape_bytes":\#(c.scrapeBytes)}"#
        }
        return String(format: #"{"bench":"exports_overhead","model":%@,"batch":%d,"threads":%d,"rounds":%d,"steps_per_run":%d,"trace_steps":%d,"scrape_interval_ms":%d,"record_interval_ms":%d,"samples_per_sec_off":%.1f,"cpu_ms_per_step_off":%.4f,"#,
                      JSONText.quote(model), batch, threads, rounds, stepsPerRun, traceSteps, scrapeIntervalMs, recordIntervalMs, samplesPerSecondOff, cpuMsPerStepOff)
            + #""configurations":{\#(parts.joined(separator: ","))}}"#
    }

    /// The human table: one line per configuration, then the per-round values.
    public var lines: [String] {
        var out = [String(format: "%@ batch %d, %d thread(s), %d rounds × %d steps a run; off %.0f samples/s, %.4f ms CPU/step",
                          model, batch, threads, rounds, stepsPerRun, samplesPerSecondOff, cpuMsPerStepOff)]
        out.append("exports     samples/s  wall slowdown  CPU overhead  exporters' CPU  training thread CPU")
        for c in comparisons {
            out.append(c.configuration.rawValue.padding(toLength: 8, withPad: " ", startingAt: 0)
                       + String(format: " %12.0f %13.2f%% %12.2f%% %14.2f%% %19.2f%%", c.samplesPerSecond, c.wallSlowdown * 100, c.cpuOverhead * 100,
                                c.exporterCpuShare * 100, c.trainingCpuOverhead * 100))
        }
        func pct(_ v: [Double]) -> String { v.map { String(format: "%+.2f", $0 * 100) }.joined(separator: " ") }
        for c in comparisons {
            out.append("\(c.configuration.rawValue) per round (%): wall \(pct(c.wallSlowdowns)); CPU \(pct(c.cpuOverheads)); exporters' CPU \(pct(c.exporterCpuShares)); training thread CPU \(pct(c.trainingCpuOverheads))")
        }
        for c in comparisons {
            out.append("\(c.configuration.rawValue): exporters' CPU per step by thread: "
                       + c.exporterMicrosPerStepByThread.map { "\($0.0) \(String(format: "%.2f", $0.1)) µs" }.joined(separator: ", "))
        }
        for c in comparisons {
            out.append("\(c.configuration.rawValue): \(c.scrapes) scrapes (\(c.scrapeBytes / max(1, c.scrapes)) bytes each), \(c.recordLines) record lines, \(c.traceEvents) trace events")
        }
        return out
    }
}
