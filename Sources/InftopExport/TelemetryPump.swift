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
}

/// The one consumer of every `SpanTap`: a thread that drains the taps every 20 ms and hands
/// the records to the sinks (trace captures, /metrics). The workload threads never wait for it;
/// a sink that is slow only lets the rings fill (their `dropped` counts the steps lost).
public final class TelemetryPump: @unchecked Sendable {
    public static let periodNanos: UInt64 = 20_000_000
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
        draining.withLock { scratch in
            for tap in registry.all {
                scratch.removeAll(keepingCapacity: true)
                tap.drain { scratch.append($0) }
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
    }
}
