import Foundation
import InftopTelemetry
import InftopWorkloads

/// Everything a run sends off the screen, started and stopped as one: the pump, `/metrics`,
/// a trace capture (`--trace`, the `X` key) and a record (`--record`). Built before the
/// workloads start, so bad input (an address in use, an unwritable path) stops the run before
/// anything else happens.
public final class ExportSession: @unchecked Sendable {
    public struct Settings: Sendable {
        public var trace: String?
        public var traceSteps: Int
        public var metrics: MetricsAddress?
        public var record: String?

        public init(trace: String? = nil, traceSteps: Int = 20, metrics: MetricsAddress? = nil, record: String? = nil) {
            self.trace = trace; self.traceSteps = traceSteps; self.metrics = metrics; self.record = record
        }
    }

    public let settings: Settings
    public let pump = TelemetryPump()
    public private(set) var exporter: MetricsExporter?
    public private(set) var server: MetricsServer?
    public private(set) var recorder: RecordWriter?
    private let lock = NSLock()
    private var capture: TraceCapture?
    private var pumpStarted = false
    /// The latest capture (running or done).
    public var lastCapture: TraceCapture? { lock.lock(); defer { lock.unlock() }; return capture }

    /// Opens the record and binds `/metrics`; checks the trace path.
    /// - Throws: `ExportError` naming what is wrong.
    public init(_ settings: Settings, knobs: Knobs?, snapshot: @escaping @Sendable () -> DashboardSnapshot) throws {
        self.settings = settings
        if let t = settings.trace {
            guard settings.traceSteps >= 1 else { throw ExportError.invalid("--trace-steps \(settings.traceSteps): must be ≥ 1") }
            try TraceCapture.checkWritable(t)
        }
        if let r = settings.record { recorder = try RecordWriter(path: r) }
        if let a = settings.metrics {
            let e = MetricsExporter(knobs: knobs, snapshot: snapshot)
            let s = try MetricsServer(address: a, render: { e.renderBytes() })
            try s.start()
            exporter = e
            server = s
            pump.add(e)
            TapRegistry.shared.wantAll(.metrics, true)
            startPump()
        }
    }

    private func startPump() {
        lock.lock(); defer { lock.unlock() }
        if !pumpStarted { pump.start(); pumpStarted = true }
    }

    /// Arms `--trace` (call once the workloads run, so their taps exist).
    public func armStartupTrace() throws {
        guard let path = settings.trace else { return }
        _ = try startTrace(path: path, tracks: nil)
    }

    /// Starts a capture of the next `settings.traceSteps` steps of `tracks` (nil = all) into `path`.
    /// - Throws: `ExportError` when a capture is already running or the path cannot be written.
    @discardableResult
    public func startTrace(path: String, tracks: Set<String>?) throws -> TraceCapture {
        lock.lock()
        if let c = capture, !c.isDone {
            lock.unlock()
            throw ExportError.invalid("a trace is already being captured (\(c.path))")
        }
        lock.unlock()
        let c = try TraceCapture(path: path, steps: settings.traceSteps, tracks: tracks)
        lock.lock(); capture = c; lock.unlock()
        pump.add(c)
        startPump()
        return c
    }

    /// The `X` key: a trace of the focused workload into ./inftop-trace-<workload>-<time>.json.
    public func keyTrace(workload: String) -> String {
        let stamp = Self.stamp(Date())
        let path = "inftop-trace-\(workload)-\(stamp).json"
        do {
            let c = try startTrace(path: path, tracks: workload == "training" ? ["training", "loader", "loader 2"] : [workload])
            return "tracing the next \(c.steps) \(workload) steps → \(path)"
        } catch {
            return "X: \(error)"
        }
    }

    /// The current capture's state, for the footer.
    public var traceStatus: String? {
        lock.lock(); let c = capture; lock.unlock()
        guard let c else { return nil }
        switch c.outcome {
        case .collecting(let n, let of): return "trace: \(n)/\(of) steps → \(c.path)"
        case .written(let path, let bytes, let steps): return "trace written: \(path) (\(steps) steps, \(bytes / 1024) KiB)"
        case .failed(let why): return "trace failed: \(why)"
        }
    }

    /// One tick: the record's line.
    public func frame(_ snapshot: DashboardSnapshot, knobs: KnobValues) {
        recorder?.append(snapshot: snapshot, knobs: knobs)
    }

    /// Header badges: recording, a non-loopback metrics address.
    public var badges: [String] {
        var b: [String] = []
        if let r = recorder { b.append(r.failure == nil ? " REC " : " REC failed ") }
        if let a = settings.metrics { b.append(a.isLoopback ? " metrics \(a) " : " metrics \(a) PUBLIC ") }
        return b
    }

    /// Writes what a capture still holds, stops the pump and the server. Returns the lines to
    /// print on the way out (trace written, record closed, failures).
    @discardableResult
    public func finish() -> [String] {
        pump.drainNow()
        lock.lock(); let c = capture; lock.unlock()
        var notes: [String] = []
        if let c {
            switch c.finish() {
            case .written(let path, let bytes, let steps): notes.append("trace: wrote \(path) (\(steps) steps, \(bytes) bytes)")
            case .failed(let why): notes.append("trace: \(why)")
            case .collecting: break
            }
        }
        pump.stop()
        server?.stop()
        if let exporter { pump.remove(exporter); TapRegistry.shared.wantAll(.metrics, false) }
        if let r = recorder {
            notes.append(r.failure.map { "record: \($0)" } ?? "record: wrote \(r.path) (\(r.ticks) ticks, \(r.bytes) bytes)")
        }
        return notes
    }

    static func stamp(_ d: Date) -> String {
        let f = DateFormatter()
        f.locale = Locale(identifier: "en_US_POSIX")
        f.timeZone = TimeZone(identifier: "UTC")
        f.dateFormat = "yyyyMMdd-HHmmss"
        return f.string(from: d)
    }
}
