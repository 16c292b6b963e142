import Foundation
import InftopEngine
import InftopTelemetry
import Synchronization

/// A Chrome trace of the next `steps` steps of some workload threads (`--trace FILE`, the `X`
/// key), collected from their taps by the pump and written, when every wanted track has its
/// steps (or at `finish()`), to `path` through a temporary name and a rename.
///
/// Events: one complete event (`ph: "X"`) per step on its thread's track, and inside it one per
/// node span (forward, backward, data, optimizer, …) — the spans are laps that tile the step, so
/// they nest without overlap by construction. Counter events (`ph: "C"`): the loss (training),
/// the queue depth (serving), and memory by owner (sampled by the pump while capturing).
/// The file never exceeds `capBytes`: a step that would not fit ends that track's capture (the
/// file says so in `otherData.truncated`).
public final class TraceCapture: TapSink, @unchecked Sendable {
    /// Default size cap of a trace file: 64 MiB (about 500 000 events).
    public static let defaultCapBytes = 64 << 20

    public let path: String
    public let steps: Int
    public let capBytes: Int
    /// Tracks captured; nil = every track alive when armed.
    public let tracks: Set<String>?
    public let armedAt: UInt64

    public enum Outcome: Sendable, Equatable {
        case collecting(steps: Int, of: Int)
        case written(path: String, bytes: Int, steps: Int)
        case failed(String)
    }

    /// Records are kept raw while capturing (the pump only copies them) and turned into JSON
    /// when the file is written.
    private struct Track {
        var tid: Int
        var steps = 0
        /// Step records, each followed by its spans.
        var records: [TapRecord] = []
        var names: [String] = []
        var full = false
    }
    private struct Counter {
        var name: String
        var ts: UInt64
        var args: [(String, Double)]
    }
    private struct State {
        var tracks: [String: Track] = [:]
        var counters: [Counter] = []
        /// Bytes the events will take at least (`minEventBytes` each): bounds memory while capturing.
        var bytes = 0
        var truncated = false
        var events = 0
        var outcome: Outcome
    }
    /// Fewest bytes one event takes in the file (a complete event with a one-letter name).
    static let minEventBytes = 90
    private let state: Locked<State>
    private let expected: Set<String>
    private let pid = Int(getpid())
    private let registry: TapRegistry

    /// Checks that `path` can be written (creates and removes its temporary name) and arms the
    /// taps. - Throws: `ExportError.io` naming the path when it cannot be written.
    public init(path: String, steps: Int, tracks: Set<String>? = nil, capBytes: Int = TraceCapture.defaultCapBytes,
                registry: TapRegistry = .shared) throws {
        guard steps >= 1 else { throw ExportError.invalid("--trace-steps \(steps): must be ≥ 1") }
        try Self.checkWritable(path)
        self.path = path; self.steps = steps; self.capBytes = capBytes; self.tracks = tracks; self.registry = registry
        armedAt = monotonicNanos()
        // Helper threads (the loader) are captured beside their workload but never hold it up.
        let alive = registry.all.map(\.track).filter { !Self.isLoader($0) }
        expected = (tracks ?? Set(alive)).filter { !Self.isLoader($0) }
        state = Locked(State(outcome: .collecting(steps: 0, of: steps)))
        for t in registry.all where tracks?.contains(t.track) ?? true { t.want(.trace, true) }
    }

    /// The loader threads' tracks ("loader", "loader 2"): captured, never waited for.
    static func isLoader(_ track: String) -> Bool { track == "loader" || track.hasPrefix("loader ") }

    /// Creates and removes `path`'s temporary name: an unwritable path fails now, not after the capture.
    static func checkWritable(_ path: String) throws {
        let probe = path + ".tmp-\(getpid())"
        let fd = open(probe, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw ExportError.io(path: path, reason: String(cString: strerror(errno))) }
        close(fd)
        unlink(probe)
    }

    public var outcome: Outcome { state.withLock { $0.outcome } }

    /// Events in the written file (metadata included), 0 before it is written.
    public var eventsWritten: Int { state.withLock { $0.events } }

    public var isDone: Bool {
        if case .collecting = outcome { return false }
        return true
    }

    public var isFinished: Bool { isDone }

    // MARK: TapSink

    public func step(_ tap: SpanTap, _ step: TapRecord, _ spans: ArraySlice<TapRecord>) {
        guard tracks?.contains(tap.track) ?? true, step.t0 >= armedAt else { return }
        let needNames = state.withLock { s in
            s.tracks[tap.track].map { tr in spans.contains { Int($0.site) >= tr.names.count } } ?? true
        }
        let names = needNames ? tap.siteNames : nil
        state.withLock { s in
            guard case .collecting = s.outcome else { return }
            var tr = s.tracks[tap.track] ?? Track(tid: s.tracks.count + 1)
            guard tr.steps < steps, !tr.full else { return }
            if let names { tr.names = names }
            let size = (spans.count + 1) * Self.minEventBytes
            if s.bytes + size > capBytes - 4096 {
                tr.full = true; s.truncated = true
            } else {
                tr.records.append(step)
                tr.records.append(contentsOf: spans)
                s.bytes += size
                tr.steps += 1
            }
            s.tracks[tap.track] = tr
            s.outcome = .collecting(steps: s.tracks.values.map(\.steps).min() ?? 0, of: steps)
        }
    }

    public func event(_ tap: SpanTap, _ record: TapRecord) {
        guard record.kind == .counter, tracks?.contains(tap.track) ?? true, record.t0 >= armedAt,
              let c = TapCounter(rawValue: record.site) else { return }
        let v = Double(bitPattern: record.value)
        // Only while this track is still being captured (its steps are not all in).
        guard v.isFinite, state.withLock({ s in s.tracks[tap.track].map { $0.steps < steps && !$0.full } ?? true }) else { return }
        addCounter(Counter(name: c.name, ts: record.t0, args: [(c.name, v)]))
    }

    public func drained(now: UInt64) {
        guard !isDone else { return }
        let mem = MemoryLedger.shared.all()
        addCounter(Counter(name: "memory_mb", ts: now, args: MemoryOwner.allCases.map { ($0.description, Double(mem[$0.rawValue]) / 1_048_576) }))
        let complete = state.withLock { s in
            expected.allSatisfy { name in s.tracks[name].map { $0.steps >= steps || $0.full } ?? false }
        }
        if complete { finish() }
    }

    /// Stops collecting and writes the file (what was captured so far); idempotent. Steps go in
    /// whole until the next one would pass the cap (then `truncated`).
    @discardableResult
    public func finish() -> Outcome {
        for t in registry.all where tracks?.contains(t.track) ?? true { t.want(.trace, false) }
        return state.withLock { s -> Outcome in
            guard case .collecting = s.outcome else { return s.outcome }
            var body: [String] = []
            var bytes = 0
            func room(_ lines: [String]) -> Bool {
                let n = lines.reduce(0) { $0 + $1.utf8.count + 2 }
                guard bytes + n <= capBytes - 1024 else { return false }
                bytes += n
                return true
            }
            _ = room(["{\"ph\":\"M\",\"name\":\"process_name\",\"pid\":\(pid),\"tid\":0,\"args\":{\"name\":\"inftop\"}}"])
            body.append("{\"ph\":\"M\",\"name\":\"process_name\",\"pid\":\(pid),\"tid\":0,\"args\":{\"name\":\"inftop\"}}")
            var written: [Int] = []
            for (name, tr) in s.tracks.sorted(by: { $0.value.tid < $1.value.tid }) {
                let meta = "{\"ph\":\"M\",\"name\":\"thread_name\",\"pid\":\(pid),\"tid\":\(tr.tid),\"args\":{\"name\":\(JSONText.quote(name))}}"
                guard room([meta]) else { s.truncated = true; break }
                body.append(meta)
                var i = 0, n = 0
                while i < tr.records.count {
                    let st = tr.records[i]
                    let k = Int(st.site)
                    var group = [complete(name: name == "training" ? "step \(n + 1)" : Self.isLoader(name) ? "fill \(n + 1)" : "batch \(n + 1)", cat: "step",
                                          ts: st.t0, dur: st.value, tid: tr.tid)]
                    for r in tr.records[(i + 1)..<min(tr.records.count, i + 1 + k)] {
                        let node = Int(r.site) < tr.names.count ? tr.names[Int(r.site)] : "site\(r.site)"
                        group.append(complete(name: node, cat: "\(r.phase)", ts: r.t0, dur: r.value, tid: tr.tid))
                    }
                    guard room(group) else { s.truncated = true; break }
                    body.append(contentsOf: group)
                    n += 1
                    i += 1 + k
                }
                if !Self.isLoader(name) { written.append(n) }
            }
            for c in s.counters {
                let args = c.args.map { "\(JSONText.quote($0.0)):\(Self.number($0.1))" }.joined(separator: ",")
                let line = "{\"ph\":\"C\",\"name\":\(JSONText.quote(c.name)),\"pid\":\(pid),\"tid\":0,\"ts\":\(micros(c.ts)),\"args\":{\(args)}}"
                guard room([line]) else { s.truncated = true; break }
                body.append(line)
            }
            var out = "{\"displayTimeUnit\":\"ms\",\"otherData\":{\"producer\":\"inftop\",\"steps\":\(steps),"
            out += "\"cap_bytes\":\(capBytes),\"truncated\":\(s.truncated)},\"traceEvents\":[\n"
            out += body.joined(separator: ",\n")
            out += "\n]}\n"
            s.events = body.count
            do {
                var data = Array(out.utf8)
                try data.withUnsafeMutableBytes { try FileBytes.writeAtomically(path: path, parts: [UnsafeRawBufferPointer($0)]) }
                s.outcome = .written(path: path, bytes: data.count, steps: written.min() ?? 0)
            } catch {
                s.outcome = .failed("\(error)")
            }
            s.tracks = [:]; s.counters = []
            return s.outcome
        }
    }

    private func addCounter(_ c: Counter) {
        state.withLock { s in
            guard case .collecting = s.outcome, s.bytes + Self.minEventBytes + 4096 < capBytes else { return }
            s.counters.append(c)
            s.bytes += Self.minEventBytes
        }
    }

    private func complete(name: String, cat: String, ts: UInt64, dur: UInt64, tid: Int) -> String {
        "{\"ph\":\"X\",\"name\":\(JSONText.quote(name)),\"cat\":\"\(cat)\",\"pid\":\(pid),\"tid\":\(tid),\"ts\":\(micros(ts)),\"dur\":\(Self.micros(dur))}"
    }

    /// Nanoseconds since arming as microseconds with three decimals (exact: no rounding).
    private func micros(_ t: UInt64) -> String { Self.micros(t &- min(t, armedAt)) }

    static func micros(_ ns: UInt64) -> String {
        let frac = String(ns % 1000)
        return "\(ns / 1000)." + String(repeating: "0", count: 3 - frac.count) + frac
    }

    static func number(_ x: Double) -> String {
        x.isFinite ? "\(x)" : "0"
    }
}

/// Bad input to an exporter: one line for `inftop <command>: …`.
public enum ExportError: Error, CustomStringConvertible, Equatable {
    case invalid(String)
    case io(path: String, reason: String)

    public var description: String {
        switch self {
        case .invalid(let why): why
        case .io(let path, let reason): "\(path): \(reason)"
        }
    }
}
