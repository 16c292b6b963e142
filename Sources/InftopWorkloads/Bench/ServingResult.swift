import Foundation
import InftopEngine
import InftopTelemetry

/// One row of the serving sweep, and the three ways `inftop bench --format` writes it (a
/// Markdown table row, CSV, a JSON line), each readable back by `parse`.
public struct ServingResult: Sendable {
    public var model: String
    public var config: ServingConfig
    /// Workers that actually ran (capped at the cores).
    public var workers: Int
    public var total: PhaseStat?
    public var queueWait: PhaseStat?
    public var itemsPerSecond: Double
    public var peakRSSBytes: Int
    public var accuracy: Double?
    public var accuracyLabel: String
    public var hitRate: Double?
    public var verdict: ScenarioVerdict

    public init(model: String, config: ServingConfig, workers: Int, total: PhaseStat?, queueWait: PhaseStat?, itemsPerSecond: Double,
                peakRSSBytes: Int, accuracy: Double?, accuracyLabel: String, hitRate: Double?, verdict: ScenarioVerdict) {
        self.model = model; self.config = config; self.workers = workers; self.total = total; self.queueWait = queueWait
        self.itemsPerSecond = itemsPerSecond; self.peakRSSBytes = peakRSSBytes; self.accuracy = accuracy
        self.accuracyLabel = accuracyLabel; self.hitRate = hitRate; self.verdict = verdict
    }

    public enum OutputFormat: String, CaseIterable, Sendable { case md, csv, json }

    /// Column names, in order (the CSV header, the JSON keys, the Markdown header).
    public static let columns = ["model", "scenario", "batch", "threads", "workers", "backend", "precision", "isa", "delay_ms",
                                 "cache", "repeat_pct", "rate", "p50_ms", "p90_ms", "p99_ms", "queue_p50_ms", "items_per_s",
                                 "peak_rss_mb", "accuracy", "hit_rate", "verdict", "reason"]

    /// The row's values as text, in `columns` order ("" for none).
    public var fields: [String] {
        func opt(_ v: Double?, _ d: Int) -> String { v.map { Format.fixed($0, d) } ?? "" }
        let c = config
        return [model, c.scenario.rawValue, String(c.batch), String(c.threads), String(workers), c.backend.rawValue,
                c.precision.rawValue, c.isa.rawValue, Format.fixed(c.maxQueueDelayMs, 1), c.cache ? "on" : "off",
                String(c.repeatPercent), c.scenario == .server ? Format.fixed(c.rate, 1) : "",
                opt(total?.p50Ms, 3), opt(total?.p90Ms, 3), opt(total?.p99Ms, 3), opt(queueWait?.p50Ms, 3),
                Format.fixed(itemsPerSecond, 1), Format.fixed(Double(peakRSSBytes) / 1_048_576, 1), opt(accuracy, 4),
                opt(hitRate, 3), verdict.label, verdict.reason]
    }

    /// The header line(s) of `format` (none for JSON).
    public static func header(_ format: OutputFormat) -> String? {
        switch format {
        case .md: "| " + columns.joined(separator: " | ") + " |\n|" + columns.map { _ in "---" }.joined(separator: "|") + "|"
        case .csv: columns.joined(separator: ",")
        case .json: nil
        }
    }

    /// This row in `format`.
    public func line(_ format: OutputFormat) -> String {
        let f = fields
        switch format {
        case .md: return "| " + f.map { $0.replacingOccurrences(of: "|", with: "/") }.joined(separator: " | ") + " |"
        case .csv: return f.map(Self.csvField).joined(separator: ",")
        case .json:
            let numeric: Set<String> = ["batch", "threads", "workers", "delay_ms", "repeat_pct", "rate", "p50_ms", "p90_ms", "p99_ms",
                                        "queue_p50_ms", "items_per_s", "peak_rss_mb", "accuracy", "hit_rate"]
            let pairs = zip(Self.columns, f).map { k, v -> String in
                let value = numeric.contains(k) ? (v.isEmpty ? "null" : v) : JSONText.quote(v)
                return JSONText.quote(k) + ":" + value
            }
            return "{" + pairs.joined(separator: ",") + ",\"accuracy_label\":" + JSONText.quote(accuracyLabel) + "}"
        }
    }

    private static func csvField(_ s: String) -> String {
        s.contains(",") || s.contains("\"") ? "\"" + s.replacingOccurrences(of: "\"", with: "\"\"") + "\"" : s
    }

    /// Reads a whole output of `format` back into rows of column → text (what a script
    /// reading our tables gets; the tests check every format round-trips).
    public static func parse(_ text: String, format: OutputFormat) -> [[String: String]] {
        let lines = text.split(separator: "\n").map(String.init)
        switch format {
        case .json:
            return lines.compactMap { line in
                guard let obj = try? JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any] else { return nil }
                var row: [String: String] = [:]
                for k in columns {
                    switch obj[k] {
                    case let s as String: row[k] = s
                    case let n as NSNumber: row[k] = n.stringValue
                    default: row[k] = ""
                    }
                }
                return row
            }
        case .csv:
            guard let head = lines.first else { return [] }
            let keys = csvSplit(head)
            return lines.dropFirst().map { Dictionary(uniqueKeysWithValues: zip(keys, csvSplit($0))) }
        case .md:
            let rows = lines.filter { $0.hasPrefix("|") && !$0.hasPrefix("|---") }
            guard let head = rows.first else { return [] }
            func cells(_ l: String) -> [String] {
                l.dropFirst().dropLast().split(separator: "|", omittingEmptySubsequences: false)
                    .map { $0.trimmingCharacters(in: .whitespaces) }
            }
            let keys = cells(head)
            return rows.dropFirst().map { Dictionary(uniqueKeysWithValues: zip(keys, cells($0))) }
        }
    }

    private static func csvSplit(_ line: String) -> [String] {
        var out: [String] = [], cur = "", quoted = false
        var it = Array(line)[...]
        while let ch = it.popFirst() {
            if quoted {
                if ch == "\"" {
                    if it.first == "\"" { cur.append("\""); it = it.dropFirst() } else { quoted = false }
                } else { cur.append(ch) }
            } else if ch == "\"" { quoted = true } else if ch == "," { out.append(cur); cur = "" } else { cur.append(ch) }
        }
        out.append(cur)
        return out
    }
}
