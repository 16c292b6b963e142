import InftopExport
import InftopTelemetry
#if canImport(Glibc)
import Glibc
#endif

/// Command-line preparation before ArgumentParser sees it: a bare `--metrics` gets the default
/// address, and for the dashboard (the default command) the config file's settings become
/// flags wherever the command line does not give them (flags win over the file).
enum Arguments {
    static let subcommands: Set<String> = ["dashboard", "train", "tune", "bench", "embed", "serve", "replay", "export", "help"]

    /// Config key → dashboard flag (`no_color` is a flag without a value).
    static let dashboardFlags: [String: String] = [
        "theme": "--theme", "no_color": "--no-color", "interval": "--interval", "model": "--model", "batch": "--batch",
        "threads": "--threads", "backend": "--backend", "epochs": "--epochs", "seed": "--seed", "metrics": "--metrics",
        "trace_steps": "--trace-steps",
    ]

    static func prepare(_ args: [String], environment: [String: String]) -> [String] {
        var out: [String] = []
        for (i, a) in args.enumerated() {
            out.append(a)
            if a == "--metrics" && (i + 1 == args.count || args[i + 1].hasPrefix("-")) { out.append(MetricsAddress.defaultText) }
            if a == "--tune" && (i + 1 == args.count || args[i + 1].hasPrefix("-")) { out.append("") }  // the defaults
        }
        let isDashboard = out.first.map { !subcommands.contains($0) || $0 == "dashboard" } ?? true
        guard isDashboard, !out.contains("--help"), !out.contains("-h") else { return out }
        let path = environment["INFTOP_CONFIG"] ?? ConfigFile.defaultPath(environment: environment)
        let config = ConfigFile.load(path: path)
        for w in config.warnings { warn(w) }
        for key in ConfigFile.keys.map(\.name) {
            guard let value = config.values[key], let flag = dashboardFlags[key] else { continue }
            if out.contains(where: { $0 == flag || $0.hasPrefix(flag + "=") }) { continue }
            if key == "metrics" && value.isEmpty { continue }
            if key == "no_color" { if value == "true" { out.append(flag) }; continue }
            out.append(contentsOf: [flag, value])
        }
        return out
    }

    /// A config warning: said once on stderr and in the dashboard's footer (`Notices`).
    static func warn(_ line: String) { Notices.shared.post(line) }
}
