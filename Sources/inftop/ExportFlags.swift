import ArgumentParser
import InftopExport
import InftopTelemetry
import InftopWorkloads

/// The export flags every running command shares (dashboard, serve, bench, train):
/// `--trace FILE [--trace-steps N]`, `--metrics [ADDR] [--metrics-public]`, `--record FILE.jsonl`.
struct ExportFlags: ParsableArguments {
    @Option(help: ArgumentHelp("Write a Chrome trace (Perfetto, chrome://tracing) of the next --trace-steps steps of every workload here.", valueName: "file"))
    var trace: String?

    @Option(name: .customLong("trace-steps"), parsing: .unconditional, help: "Steps a trace captures (also for the X key).")
    var traceSteps = "20"

    @Option(help: ArgumentHelp("Serve Prometheus /metrics at this address (bare --metrics = \(MetricsAddress.defaultText)).", valueName: "addr"))
    var metrics: String?

    @Flag(name: .customLong("metrics-public"), help: "Allow --metrics on a non-loopback address (the header says so).")
    var metricsPublic = false

    @Option(help: ArgumentHelp("Record one snapshot per tick to this JSON Lines file (inftop replay reads it).", valueName: "file.jsonl"))
    var record: String?

    /// The settings, or one line on stderr and status 2.
    func settings(command: String) -> ExportSession.Settings {
        guard let steps = Int(traceSteps), steps >= 1, steps <= 100_000 else {
            exitWithErrorLine(command, "--trace-steps \(traceSteps): must be an integer 1…100000")
        }
        var address: MetricsAddress?
        if let m = metrics {
            do { address = try MetricsAddress.parse(m, allowPublic: metricsPublic) } catch { exitWithErrorLine(command, "\(error)") }
        }
        return ExportSession.Settings(trace: trace, traceSteps: steps, metrics: address, record: record)
    }

    /// Opens the record, binds /metrics and checks the trace path, or one line and status 2.
    func session(command: String, knobs: Knobs?, snapshot: @escaping @Sendable () -> DashboardSnapshot,
                 onFailure: () -> Void = {}) -> ExportSession {
        let s = settings(command: command)
        do { return try ExportSession(s, knobs: knobs, snapshot: snapshot) } catch {
            onFailure()
            exitWithErrorLine(command, flagName(for: error, s) + "\(error)")
        }
    }

    private func flagName(for error: Error, _ s: ExportSession.Settings) -> String {
        guard case ExportError.io(let path, _) = error else { return "" }
        if path == s.trace { return "--trace " }
        if path == s.record { return "--record " }
        if let m = s.metrics, path == m.description { return "--metrics " }
        return ""
    }
}
