import Foundation
import InftopEngine
import InftopTelemetry
import InftopWorkloads

/// One tick of a record: what the dashboard drew from (`--record FILE.jsonl`, one line each).
public struct RecordFrame: Sendable, Equatable {
    public var tick: Int
    /// Seconds since the recording started.
    public var time: Double
    public var knobs: KnobValues
    public var snapshot: DashboardSnapshot

    public init(tick: Int, time: Double, knobs: KnobValues, snapshot: DashboardSnapshot) {
        self.tick = tick; self.time = time; self.knobs = knobs; self.snapshot = snapshot
    }
}

/// The line format of a record (JSON Lines, one object per tick):
///
///     {"schema_version":2,"tick":0,"t":0.1,"knobs":{…},"snapshot":{…},
///      "series":[{"key":…,"n":…,"full":…,"times":[…],"values":[…]}]}
///
/// `snapshot` is the `DashboardSnapshot` as Codable writes it, with its series' points left
/// out: they are in `series[i]` (by stable key), only those added since the previous line
/// (`n` is how many the full series had, `full` says the points are the whole series: first
/// line, or a series that restarted). A reader rebuilds every series exactly: previous points +
/// new ones, the last `n` kept. Lines are written by `JSONStreamEncoder` (JSONEncoder cost
/// 0.6–1.2 ms a line); schema 1 lines (points inside `snapshot`) are still read.
public enum RecordFormat {
    public static let schemaVersion = 2

    struct Line: Codable {
        var schema_version: Int
        var tick: Int
        var t: Double
        var knobs: KnobValues
        var snapshot: DashboardSnapshot
        var series: [SeriesCount]
    }
    struct SeriesCount: Codable, Equatable {
        var key: String
        var n: Int
        var full: Bool
        /// The new points (schema 2; in schema 1 they were inside `snapshot`).
        var times: [Double]?
        var values: [Double]?
    }
    /// Only the version, to tell a newer schema from a corrupt line.
    struct Version: Codable { var schema_version: Int }

    static func decoder() -> JSONDecoder {
        let d = JSONDecoder()
        d.nonConformingFloatDecodingStrategy = .convertFromString(positiveInfinity: "inf", negativeInfinity: "-inf", nan: "nan")
        return d
    }

    /// Visits the snapshot's series with stable keys ("training/train_loss", "memory", …).
    static func mapSeries(_ s: inout DashboardSnapshot, _ body: (String, inout SeriesSnapshot) -> Void) {
        if var t = s.training {
            for i in t.series.indices { body("training/" + t.series[i].name, &t.series[i]) }
            s.training = t
        }
        if var inf = s.inference {
            for i in inf.series.indices { body("inference/" + inf.series[i].name, &inf.series[i]) }
            s.inference = inf
        }
        if var m = s.memorySeries { body("memory/" + m.name, &m); s.memorySeries = m }
    }
}

/// Turns frames into lines, keeping the previous series to send only what is new.
public struct RecordEncoder {
    private var previous: [String: SeriesSnapshot] = [:]

    public init() {}

    /// The line for `frame`, with its newline.
    public mutating func line(_ frame: RecordFrame) throws -> Data {
        var snap = frame.snapshot
        var series: [(key: String, n: Int, full: Bool, times: ArraySlice<Double>, values: ArraySlice<Double>)] = []
        var seen: [String: SeriesSnapshot] = [:]
        RecordFormat.mapSeries(&snap) { key, s in
            let full = s
            seen[key] = full
            // Points after the previous line's last point are new; without it (first line, or
            // the series restarted) the whole series goes out.
            if let p = previous[key], let lastT = p.times.last, let lastV = p.values.last,
               let j = full.times.indices.last(where: { full.times[$0] == lastT && full.values[$0].bitPattern == lastV.bitPattern }) {
                series.append((key, full.times.count, false, full.times[(j + 1)...], full.values[(j + 1)...]))
            } else {
                series.append((key, full.times.count, true, full.times[...], full.values[...]))
            }
            s.times = []; s.values = []
        }
        previous = seen
        var out = [UInt8]()
        out.reserveCapacity(16_384)
        out.append(contentsOf: "{\"schema_version\":\(RecordFormat.schemaVersion),\"tick\":\(frame.tick),\"t\":".utf8)
        try JSONStreamEncoder.encode(frame.time, into: &out)
        out.append(contentsOf: ",\"knobs\":".utf8)
        try JSONStreamEncoder.encode(frame.knobs, into: &out)
        out.append(contentsOf: ",\"snapshot\":".utf8)
        try JSONStreamEncoder.encode(snap, into: &out)
        out.append(contentsOf: ",\"series\":[".utf8)
        for (k, e) in series.enumerated() {
            if k > 0 { out.append(0x2C) }
            out.append(contentsOf: "{\"key\":\(JSONText.quote(e.key)),\"n\":\(e.n),\"full\":\(e.full),\"times\":".utf8)
            JSONStreamEncoder.encode(e.times, into: &out)
            out.append(contentsOf: ",\"values\":".utf8)
            JSONStreamEncoder.encode(e.values, into: &out)
            out.append(0x7D)
        }
        out.append(contentsOf: "]}\n".utf8)
        return Data(out)
    }
}

/// Rebuilds frames from lines (the inverse of `RecordEncoder`).
public struct RecordDecoder {
    private var previous: [String: SeriesSnapshot] = [:]
    private let decoder = RecordFormat.decoder()

    public init() {}

    public enum LineError: Error { case newerSchema(Int), corrupt(String) }

    public mutating func frame(_ line: Data) throws -> RecordFrame {
        let l: RecordFormat.Line
        do {
            l = try decoder.decode(RecordFormat.Line.self, from: line)
        } catch {
            if let v = try? decoder.decode(RecordFormat.Version.self, from: line), v.schema_version > RecordFormat.schemaVersion {
                throw LineError.newerSchema(v.schema_version)
            }
            throw LineError.corrupt(Self.reason(error))
        }
        guard l.schema_version <= RecordFormat.schemaVersion else { throw LineError.newerSchema(l.schema_version) }
        var snap = l.snapshot
        let counts = Dictionary(l.series.map { ($0.key, $0) }, uniquingKeysWith: { a, _ in a })
        var seen: [String: SeriesSnapshot] = [:]
        RecordFormat.mapSeries(&snap) { key, series in
            // Schema 2: the new points are in the line's series entry; schema 1: in the snapshot.
            if let c = counts[key], let t = c.times, let v = c.values { series.times = t; series.values = v }
            if let c = counts[key], !c.full, let p = previous[key] {
                let times = p.times + series.times, values = p.values + series.values
                let keep = min(c.n, times.count)
                series.times = Array(times.suffix(keep)); series.values = Array(values.suffix(keep))
            }
            seen[key] = series
        }
        previous = seen
        return RecordFrame(tick: l.tick, time: l.t, knobs: l.knobs, snapshot: snap)
    }

    static func reason(_ error: any Error) -> String {
        if case DecodingError.dataCorrupted(let c) = error { return "not JSON (\(c.debugDescription))" }
        if case DecodingError.keyNotFound(let k, _) = error { return "no \"\(k.stringValue)\" field" }
        if case DecodingError.typeMismatch(_, let c) = error { return "a wrong type at \(c.codingPath.map(\.stringValue).joined(separator: "."))" }
        if case DecodingError.valueNotFound(_, let c) = error { return "a missing value at \(c.codingPath.map(\.stringValue).joined(separator: "."))" }
        return "\(error)"
    }
}
