import Foundation
import InftopExport
import InftopTUI
import InftopTelemetry
import InftopWorkloads
#if canImport(Glibc)
import Glibc
#endif

extension DashboardCommand {
    /// `-n N` / `--once`: how many frames to print, nil for the live screen.
    func frameCountOption() throws -> Int? {
        if once { return 1 }
        guard let text = frameCount else { return nil }
        guard let n = Int(text), n >= 1, n <= 1_000_000 else { exitWithErrorLine("", "-n \(text): must be an integer 1…1000000") }
        return n
    }

    /// `--write-config`: these settings (flags over the config file over defaults), atomically.
    func writeConfigFile() throws {
        let path = ProcessInfo.processInfo.environment["INFTOP_CONFIG"] ?? ConfigFile.defaultPath()
        var settings = ["interval": interval, "model": model, "batch": batch, "threads": threads, "backend": backend,
                        "epochs": epochs, "seed": seed, "no_color": String(noColor), "trace_steps": exports.traceSteps,
                        "metrics": exports.metrics ?? ""]
        if let theme { settings["theme"] = theme }
        do { try ConfigFile.write(settings, to: path) } catch { exitWithErrorLine("", "--write-config: \(error)") }
        print("inftop: wrote \(path)")
    }

    /// Prints `count` frames to stdout, one every `intervalMs` (the first after one interval, as
    /// `htop -n`), each a text screen of 120×40 followed by a form feed line; records each.
    func runFrames(_ count: Int, intervalMs: Int, session: DashboardSession, exports: ExportSession, knobs: Knobs) {
        let start = monotonicNanos()
        for i in 1...count {
            let due = start &+ UInt64(i) * UInt64(intervalMs) * 1_000_000
            let now = monotonicNanos()
            if due > now { usleep(UInt32(min((due - now) / 1000, UInt64(UInt32.max)))) }
            let snap = session.snapshot()
            let k = knobs.values
            exports.frame(snap, knobs: k)
            print(renderTextSnapshot(snap, width: 120, height: 40, knobs: k), terminator: "\u{0C}\n")
            fflush(nil)
        }
    }

    /// The dashboard's export hooks: record each frame, `X` traces, the footer and header notes.
    func exportHooks(_ exports: ExportSession) -> DashboardHooks {
        DashboardHooks(
            onFrame: { snap, knobs, _ in exports.frame(snap, knobs: knobs) },
            // What inftop had to tell (config, theme, a clamp, a fallback) for ten seconds each.
            statusLine: { Notices.shared.footer() ?? exports.traceStatus },
            badges: { exports.badges },
            trace: { w in exports.keyTrace(workload: w == .training ? "training" : "serving") })
    }
}

/// A line on stderr after the run ("trace: wrote …"), not an error.
func printNote(_ line: String, command: String = "") {
    let text = (command.isEmpty ? "inftop: " : "inftop \(command): ") + line + "\n"
    _ = text.withCString { write(2, $0, strlen($0)) }
}
