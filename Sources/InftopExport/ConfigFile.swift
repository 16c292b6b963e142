import Foundation
import InftopEngine
import InftopTelemetry

/// `$XDG_CONFIG_HOME/inftop/inftop.conf` (else `~/.config/inftop/inftop.conf`), btop-style:
///
///     # comment
///     theme = "nord"
///     interval = 250
///
/// One `key = value` per line; values may be quoted. Flags on the command line win over the
/// file, the file over the built-in defaults. An unknown key or a bad value gives one warning
/// line each (`inftop.conf:3: …`) and is ignored: a config never stops inftop.
public struct ConfigFile: Sendable, Equatable {
    /// What a key takes; `check` returns nil when `value` is fine, else why not.
    public struct Key: Sendable {
        public var name: String
        public var help: String
        public var defaultValue: String
        public var check: @Sendable (String) -> String?
    }

    /// Every key, in the order `--write-config` writes them.
    public static let keys: [Key] = [
        Key(name: "theme", help: "theme name (themes/ or $XDG_CONFIG_HOME/inftop/themes/) or path", defaultValue: "default", check: { _ in nil }),
        Key(name: "no_color", help: "monochrome: true or false", defaultValue: "false", check: bool),
        Key(name: "interval", help: "milliseconds between frames, 10…10000", defaultValue: "100", check: int(10...10_000)),
        Key(name: "model", help: "model to train and serve", defaultValue: "mlp", check: { _ in nil }),
        Key(name: "batch", help: "training batch size, 1…1024", defaultValue: "64", check: int(1...1024)),
        Key(name: "threads", help: "compute threads for training", defaultValue: "1", check: int(1...4096)),
        Key(name: "backend", help: "GEMM backend: blas, simd or reference", defaultValue: "blas",
            check: { KernelBackend(rawValue: $0) == nil ? "must be blas, simd or reference" : nil }),
        Key(name: "epochs", help: "epochs to train before training stops", defaultValue: "1000", check: int(1...1_000_000)),
        Key(name: "seed", help: "random seed", defaultValue: "0", check: { UInt64($0) == nil ? "must be a non-negative integer" : nil }),
        Key(name: "serve", help: "served model (a BERT-family folder), \"\" = the trained model", defaultValue: "", check: { _ in nil }),
        Key(name: "metrics", help: "Prometheus /metrics address (e.g. 127.0.0.1:9464), \"\" = off", defaultValue: "",
            check: { $0.isEmpty ? nil : ((try? MetricsAddress.parse($0, allowPublic: true)) == nil ? "must be HOST:PORT, e.g. 127.0.0.1:9464" : nil) }),
        Key(name: "trace_steps", help: "steps a trace captures (X key, --trace)", defaultValue: "20", check: int(1...100_000)),
    ]

    /// Known keys set by the file (value unquoted), in file order.
    public var values: [String: String] = [:]
    /// One line per problem ("PATH:LINE: unknown key 'colour'").
    public var warnings: [String] = []
    public var path: String

    public init(path: String, values: [String: String] = [:], warnings: [String] = []) {
        self.path = path; self.values = values; self.warnings = warnings
    }

    public static func == (a: ConfigFile, b: ConfigFile) -> Bool { a.path == b.path && a.values == b.values && a.warnings == b.warnings }

    /// Where the file lives for `environment`.
    public static func defaultPath(environment: [String: String] = ProcessInfo.processInfo.environment) -> String {
        let base: String
        if let x = environment["XDG_CONFIG_HOME"], !x.isEmpty { base = x }
        else { base = (environment["HOME"] ?? NSHomeDirectory()) + "/.config" }
        return base + "/inftop/inftop.conf"
    }

    /// Reads `path`; a missing file is an empty config (no warning), an unreadable one a warning.
    public static func load(path: String) -> ConfigFile {
        guard FileManager.default.fileExists(atPath: path) else { return ConfigFile(path: path) }
        guard let data = FileManager.default.contents(atPath: path), let text = String(data: data, encoding: .utf8) else {
            return ConfigFile(path: path, warnings: ["\(path): cannot be read as UTF-8 text; ignored"])
        }
        return parse(text, path: path)
    }

    public static func parse(_ text: String, path: String) -> ConfigFile {
        var c = ConfigFile(path: path)
        let byName = Dictionary(uniqueKeysWithValues: keys.map { ($0.name, $0) })
        // Lines split on the scalar "\n" (a Character split would keep "\r\n" lines together).
        for (i, raw) in text.unicodeScalars.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let line = String(raw).trimmingCharacters(in: .whitespacesAndNewlines)
            if line.isEmpty || line.hasPrefix("#") { continue }
            let at = "\(path):\(i + 1)"
            // `=` and the quotes are found among Unicode scalars, not Characters: a value that
            // starts with a combining mark joins the opening quote into one Character, and then
            // `theme = "\u{651}x"` (as --write-config writes it) read back with its quotes (fuzzing).
            let scalars = line.unicodeScalars
            guard let eq = scalars.firstIndex(of: "=") else {
                c.warnings.append("\(at): not a 'key = value' line; ignored"); continue
            }
            let name = String(scalars[..<eq]).trimmingCharacters(in: .whitespaces)
            var value = String(scalars[scalars.index(after: eq)...]).trimmingCharacters(in: .whitespaces)
            let v = value.unicodeScalars
            if v.count >= 2, v.first == "\"", v.last == "\"" { value = String(v.dropFirst().dropLast()) }
            guard let key = byName[name] else {
                c.warnings.append("\(at): unknown key '\(Self.shown(name))' (known: \(keys.map(\.name).joined(separator: ", "))); ignored")
                continue
            }
            if let why = key.check(value) {
                c.warnings.append("\(at): \(name) = \"\(Self.shown(value))\": \(why); ignored"); continue
            }
            c.values[name] = value
        }
        return c
    }

    /// The file's text for `settings` (key → value; keys not given get their defaults).
    public static func render(_ settings: [String: String]) -> String {
        var out = "# inftop.conf: written by inftop --write-config. One `key = value` per line;\n"
        out += "# flags on the command line win over this file.\n"
        for k in keys {
            out += "\n# \(k.help)\n"
            let v = settings[k.name] ?? k.defaultValue
            out += "\(k.name) = \(Int(v) != nil || v == "true" || v == "false" ? v : "\"\(v)\"")\n"
        }
        return out
    }

    /// Writes `settings` to `path` atomically (temporary name, fsync, rename), creating the folder.
    public static func write(_ settings: [String: String], to path: String) throws {
        let dir = (path as NSString).deletingLastPathComponent
        do { try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true) }
        catch { throw ExportError.io(path: dir, reason: "cannot create the folder") }
        var bytes = Array(render(settings).utf8)
        do { try bytes.withUnsafeMutableBytes { try FileBytes.writeAtomically(path: path, parts: [UnsafeRawBufferPointer($0)]) } }
        catch { throw ExportError.io(path: path, reason: "\(error)") }
    }

    static func shown(_ s: String) -> String {
        let clean = String(s.unicodeScalars.map { $0.value < 0x20 || $0.value == 0x7F ? "?" : Character($0) })
        return clean.count > 40 ? String(clean.prefix(37)) + "..." : clean
    }
}

private func bool(_ v: String) -> String? { v == "true" || v == "false" ? nil : "must be true or false" }
private func int(_ r: ClosedRange<Int>) -> @Sendable (String) -> String? {
    { v in Int(v).map { r.contains($0) } == true ? nil : "must be an integer \(r.lowerBound)…\(r.upperBound)" }
}
