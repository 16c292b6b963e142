import Synchronization

/// One record a workload thread hands to the exporters (trace capture, /metrics).
///
/// `kind` says how to read the rest:
/// - `.step`: a step began at `t0` and lasted `value` ns; `site` = the number of `.span` records
///   that follow it (the step's spans, in order).
/// - `.span`: `site` in `phase`, from `t0` for `value` ns (laps of the step: they tile it).
/// - `.counter`: counter `site` (`TapCounter.rawValue`) read `Double(bitPattern: value)` at `t0`.
/// - `.request`: one served request answered at `t0` after `value` ns in all, `extra` of them queued.
public struct TapRecord: Sendable, Equatable {
    public enum Kind: UInt8, Sendable { case step, span, counter, request }
    public var kind: Kind
    public var phase: Phase
    public var site: Int32
    public var t0: UInt64
    public var value: UInt64
    public var extra: UInt64

    public init(kind: Kind, phase: Phase = .other, site: Int32 = 0, t0: UInt64, value: UInt64, extra: UInt64 = 0) {
        self.kind = kind; self.phase = phase; self.site = site; self.t0 = t0; self.value = value; self.extra = extra
    }
}

/// Counters a workload reports through its tap (trace counter events, /metrics gauges).
public enum TapCounter: Int32, CaseIterable, Sendable {
    case loss = 0, queueDepth = 1

    public var name: String { self == .loss ? "loss" : "queue_depth" }
}

/// The exporters' window on one workload thread's profiler: a single-producer single-consumer
/// ring of `TapRecord`s, preallocated (`capacity` records of 40 bytes, untouched pages cost no
/// memory), no lock and no allocation on the producer side.
///
/// Off (nobody exporting) every producer call is one relaxed atomic load and a branch. On, the
/// profiler copies each finished step into the ring in `endStep` (after the step's clock stopped):
/// the whole step or, when the ring lacks room, none of it (counted in `dropped`), so a consumer
/// never sees half a step. The consumer (`drain`, one thread: the exporters' pump) runs at its own
/// pace; the producer never waits for it.
public final class SpanTap: @unchecked Sendable {
    /// The thread's track name: "training", "serving", … (one Chrome-trace track each).
    public let track: String
    public let capacity: Int
    private let ring: UnsafeMutablePointer<TapRecord>
    private let mask: Int
    private let head = Atomic<Int>(0)   // next record to read (consumer writes)
    private let tail = Atomic<Int>(0)   // next record to write (producer writes)
    private let wanted = Atomic<Int>(0)  // bit set of `Reason`s that want records
    private let droppedCount = Atomic<Int>(0)
    private let names = Locked<[String]>([])

    /// Why a tap is on; several may be at once.
    public struct Reason: OptionSet, Sendable {
        public let rawValue: Int
        public init(rawValue: Int) { self.rawValue = rawValue }
        public static let metrics = Reason(rawValue: 1)
        public static let trace = Reason(rawValue: 2)
    }

    /// - Parameter capacity: records kept until drained (rounded up to a power of two).
    public init(track: String, capacity: Int = 1 << 16) {
        var c = 1
        while c < max(capacity, 64) { c <<= 1 }
        self.track = track
        self.capacity = c
        mask = c - 1
        ring = .allocate(capacity: c)
        TapRegistry.shared.add(self)
    }

    deinit { ring.deallocate() }

    /// Whether anyone wants records now (read by the producer at each step end).
    @inline(__always)
    public var isOn: Bool { wanted.load(ordering: .relaxed) != 0 }

    /// Turns records on for `reason` (off when no reason is left).
    public func want(_ reason: Reason, _ on: Bool) {
        if on { wanted.bitwiseOr(reason.rawValue, ordering: .relaxed) }
        else { wanted.bitwiseAnd(~reason.rawValue, ordering: .relaxed) }
    }

    /// Steps (or requests, counters) left out because the ring was full.
    public var dropped: Int { droppedCount.load(ordering: .relaxed) }

    /// Site names by id, as the profiler registered them.
    public var siteNames: [String] { names.withLock { $0 } }

    func noteSite(_ name: String) { names.withLock { $0.append(name) } }

    /// Registers a site for a thread without a profiler (`interval`); call before use, not per span.
    public func addSite(_ name: String) -> Int32 { names.withLock { $0.append(name); return Int32($0.count - 1) } }

    /// A step of one span (`site` from `t0`, `nanos` long) for a thread without a profiler
    /// (the loader's fills). Nothing when off.
    @inline(__always)
    public func interval(site: Int32, phase: Phase, t0: UInt64, nanos: UInt64) {
        guard isOn, let t = room(2) else { return }
        ring[t & mask] = TapRecord(kind: .step, site: 1, t0: t0, value: nanos)
        ring[(t &+ 1) & mask] = TapRecord(kind: .span, phase: phase, site: site, t0: t0, value: nanos)
        tail.store(t &+ 2, ordering: .releasing)
    }

    @inline(__always)
    private func room(_ n: Int) -> Int? {
        let t = tail.load(ordering: .relaxed)
        guard t &- head.load(ordering: .acquiring) + n <= capacity else {
            droppedCount.wrappingAdd(1, ordering: .relaxed)
            return nil
        }
        return t
    }

    /// Copies the step in `buffer` (begun at `buffer.startedAt`, `wallNanos` long) into the ring.
    func pushStep(_ buffer: SpanBuffer, wallNanos: UInt64) {
        let n = buffer.count
        guard let t = room(n + 1) else { return }
        var at = buffer.startedAt
        ring[t & mask] = TapRecord(kind: .step, site: Int32(n), t0: at, value: wallNanos)
        for k in 0..<n {
            let d = buffer.nanos[k]
            ring[(t &+ 1 &+ k) & mask] = TapRecord(kind: .span, phase: Phase(rawValue: buffer.phases[k]) ?? .other,
                                                   site: buffer.sites[k], t0: at, value: d)
            at &+= d
        }
        tail.store(t &+ n &+ 1, ordering: .releasing)
    }

    /// Reports `value` of `counter` now (nothing when off).
    @inline(__always)
    public func counter(_ counter: TapCounter, _ value: Double) {
        guard isOn, let t = room(1) else { return }
        ring[t & mask] = TapRecord(kind: .counter, site: counter.rawValue, t0: monotonicNanos(), value: value.bitPattern)
        tail.store(t &+ 1, ordering: .releasing)
    }

    /// Reports one answered request: `latencyNanos` in all, `queueNanos` of them waiting for a batch.
    @inline(__always)
    public func request(at now: UInt64, latencyNanos: UInt64, queueNanos: UInt64) {
        guard isOn, let t = room(1) else { return }
        ring[t & mask] = TapRecord(kind: .request, t0: now, value: latencyNanos, extra: queueNanos)
        tail.store(t &+ 1, ordering: .releasing)
    }

    /// Appends every record written so far to `out`, oldest first, in at most two copies
    /// (consumer thread only). - Returns: how many were appended.
    @discardableResult
    public func drain(into out: inout [TapRecord]) -> Int {
        let h = head.load(ordering: .relaxed)
        let t = tail.load(ordering: .acquiring)
        let n = t &- h
        guard n > 0 else { return 0 }
        let start = h & mask, first = min(n, capacity - start)
        out.append(contentsOf: UnsafeBufferPointer(start: ring + start, count: first))
        if first < n { out.append(contentsOf: UnsafeBufferPointer(start: ring, count: n - first)) }
        head.store(t, ordering: .releasing)
        return n
    }

    /// Hands every record written so far to `body`, oldest first (consumer thread only).
    /// - Returns: how many were handed over.
    @discardableResult
    public func drain(_ body: (TapRecord) -> Void) -> Int {
        let h = head.load(ordering: .relaxed)
        let t = tail.load(ordering: .acquiring)
        var i = h
        while i != t { body(ring[i & mask]); i &+= 1 }
        head.store(t, ordering: .releasing)
        return t &- h
    }
}

/// Every live `SpanTap` of the process, for the exporters to find (weak: a workload that ends
/// takes its tap with it). Taps register when their profiler is built, never per step.
public final class TapRegistry: Sendable {
    public static let shared = TapRegistry()

    private struct Weak: @unchecked Sendable { weak var tap: SpanTap? }
    private let taps = Locked<[Weak]>([])
    /// Reasons every tap built from now on starts with (so a workload restarted by a model
    /// switch keeps feeding /metrics).
    private let defaults = Locked<SpanTap.Reason>([])

    public init() {}

    func add(_ tap: SpanTap) {
        let on = defaults.withLock { $0 }
        if !on.isEmpty { tap.want(on, true) }
        taps.withLock { list in
            list.removeAll { $0.tap == nil }
            list.append(Weak(tap: tap))
        }
    }

    /// The taps alive now, in registration order.
    public var all: [SpanTap] { taps.withLock { $0.compactMap(\.tap) } }

    /// Turns `reason` on or off for every tap, present and future.
    public func wantAll(_ reason: SpanTap.Reason, _ on: Bool) {
        defaults.withLock { if on { $0.insert(reason) } else { $0.remove(reason) } }
        for t in all { t.want(reason, on) }
    }
}
