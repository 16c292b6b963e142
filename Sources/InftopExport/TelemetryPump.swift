import InftopEngine
import InftopTelemetry
import Synchronization
#if canImport(Glibc)
import Glibc
#endif

/// What the pump hands the exporters, decoded from one tap's records.
public protocol TapSink: AnyObject, Sendable {
    /// A finished step of `tap`'s thread: `step` (kind .step) and its spans, in order.
    func step(_ tap: SpanTap, _ step: TapRecord, _ spans: ArraySlice<TapRecord>)
    /// A counter reading or an answered request (kinds .counter, .request).
    func event(_ tap: SpanTap, _ record: TapRecord)
    /// After each round of draining (every `TelemetryPump.periodNanos`), on the pump thread.
    func drained(now: UInt64)
    /// True once the sink wants nothing more (a trace capture written): the pump drops it.
    var isFinished: Bool { get }
}

extension TapSink {
    public var isFinished: Bool { false }
}

/// The one consumer of every `SpanTap`: a thread that drains the taps every 100 ms and hands
/// the records to the sinks (trace captures, /metrics). The workload threads never wait for it;
/// a sink that is slow only lets the rings fill (their `dropped` counts the steps lost).
///
/// 100 ms, not 20: each wake-up cost the 2-core machine ~40 µs of CPU however little there
/// was to drain (`inftop bench --exports`), and a ring holds 65 536 records, ~4 s of MLP steps.
public final class TelemetryPump: @unchecked Sendable {
    public static let periodNanos: UInt64 = 100_000_000
    private let sinks = Locked<[any TapSink]>([])
    private let stopped = Atomic<Bool>(false)
    private let registry: TapRegistry
    private var thread: JoinableThread?
    /// Serialises draining (the pump thread, and `drainNow` from tests or at exit).
    private let draining = Locked<[TapRecord]>([])

    public init(registry: TapRegistry = .shared) { self.registry = registry }

    public func add(_ sink: any TapSink) { sinks.withLock { $0.append(sink) } }
    public func remove(_ sink: any TapSink) { sinks.withLock { $0.removeAll { $0 === sink } } }

    /// Starts the draining thread (once).
    public func start() {
        guard thread == nil else { return }
        thread = JoinableThread(name: "inftop-pump") { [self] in
            while !stopped.load(ordering: .relaxed) {
                drainNow()
                usleep(UInt32(Self.periodNanos / 1000))
            }
            drainNow()
        }
    }

    /// Stops the thread after a last drain.
    public func stop() {
        stopped.store(true, ordering: .relaxed)
        thread?.join()
        thread = nil
    }

    /// Drains every tap once, now, on the calling thread.
    public func drainNow() {
        let list = sinks.withLock { $0 }
        guard !list.isEmpty else { return }
        draining.withLock { scratch in
            for tap in registry.all {
                scratch.removeAll(keepingCapacity: true)
                tap.drain(into: &scratch)
                if scratch.isEmpty { continue }
                var i = 0
                while i < scratch.count {
                    let r = scratch[i]
                    if r.kind == .step {
                        let n = Int(r.site)
                        let spans = scratch[(i + 1)..<min(scratch.count, i + 1 + n)]
                        for s in list { s.step(tap, r, spans) }
                        i += 1 + n
                    } else {
                        for s in list { s.event(tap, r) }
                        i += 1
                    }
                }
            }
            let now = monotonicNanos()
            for s in list { s.drained(now: now) }
        }
        if list.contains(where: \.isFinished) { sinks.withLock { $0.removeAll { $0.isFinished } } }
    }
}
