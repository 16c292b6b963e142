/// What a span measured.
public enum Phase: UInt8, Sendable, CaseIterable {
    case forward = 0, backward = 1, optimizer = 2, data = 3, other = 4
}

/// Single-writer span buffer of one workload thread, preallocated, no lock, no allocation per span.
///
/// Spans are laps: `lap(site:phase:)` records the time since the previous lap (or `start()`), so
/// the spans of one step tile the step with no gaps and add up to its wall time. When `enabled`
/// is false (nobody watching) `lap` returns at once without reading the clock.
///
/// Storage: `capacity` spans of (site: Int32, phase: UInt8, nanos: UInt64). A step that records
/// more than `capacity` spans drops the rest and counts them in `dropped`.
public final class SpanBuffer: @unchecked Sendable {
    public let capacity: Int
    /// Whether spans are taken at all; read at every lap, changed between steps.
    public var enabled: Bool
    public private(set) var count = 0
    public private(set) var dropped = 0
    /// Clock reads since the last `reset()`; the profiler's own cost is this × clock cost.
    public private(set) var clockReads = 0

    let sites: UnsafeMutablePointer<Int32>
    let phases: UnsafeMutablePointer<UInt8>
    let nanos: UnsafeMutablePointer<UInt64>
    private var last: UInt64 = 0
    /// When `start()` last read the clock (the step's first span begins here).
    public private(set) var startedAt: UInt64 = 0

    public init(capacity: Int = 4096, enabled: Bool = true) {
        self.capacity = capacity
        self.enabled = enabled
        sites = .allocate(capacity: capacity)
        phases = .allocate(capacity: capacity)
        nanos = .allocate(capacity: capacity)
    }

    deinit {
        sites.deallocate()
        phases.deallocate()
        nanos.deallocate()
    }

    /// Starts the lap clock (call at the start of a step).
    @inline(__always)
    public func start() {
        guard enabled else { return }
        last = monotonicNanos()
        startedAt = last
        clockReads &+= 1
    }

    /// Records the time since the previous lap as a span of `site` in `phase`.
    @inline(__always)
    public func lap(site: Int32, phase: Phase) {
        guard enabled else { return }
        let now = monotonicNanos()
        clockReads &+= 1
        if count < capacity {
            sites[count] = site
            phases[count] = phase.rawValue
            nanos[count] = now &- last
            count &+= 1
        } else {
            dropped &+= 1
        }
        last = now
    }

    /// Forgets the recorded spans (after they were aggregated).
    public func reset() {
        count = 0
        dropped = 0
        clockReads = 0
    }

    /// Visits the recorded spans in order.
    public func forEach(_ body: (Int32, Phase, UInt64) -> Void) {
        for i in 0..<count { body(sites[i], Phase(rawValue: phases[i]) ?? .other, nanos[i]) }
    }
}

/// Measured cost of one `monotonicNanos()` call in nanoseconds (median of 7 batches of 2 000).
public let clockCostNanos: Double = {
    var samples: [Double] = []
    for _ in 0..<7 {
        let t0 = monotonicNanos()
        var sink: UInt64 = 0
        for _ in 0..<2000 { sink &+= monotonicNanos() }
        let t1 = monotonicNanos()
        if sink == 42 { print("") }  // keep the loop
        samples.append(Double(t1 - t0) / 2000)
    }
    return samples.sorted()[3]
}()
