import Histogram
import InftopTelemetry

/// Per-request latency over rolling windows, owned by the serving thread.
///
/// Latencies go into the current window's HdrHistogram; when a window of `windowSeconds` closes,
/// its p50/p99 and throughput become one point of each series, and its statistics become the
/// `recent` figure the header and panels show. A cumulative histogram covers everything since the
/// last `reset()` (a knob change), which is what `inftop bench` reports.
public struct LatencyWindow {
    public let windowSeconds: Double
    private var window = makeHistogram()
    private var windowStart: UInt64
    private var windowItems = 0
    private var cumulative = makeHistogram()
    private let origin: UInt64

    public private(set) var recent: PhaseStat?
    public private(set) var recentItemsPerSecond: Double = 0
    public private(set) var p50Series: SeriesRing
    public private(set) var p99Series: SeriesRing
    public private(set) var throughputSeries: SeriesRing

    /// - Parameters:
    ///   - origin: `monotonicNanos()` of time zero for the series.
    ///   - windowSeconds: length of one window (> 0).
    ///   The first window starts at `origin`.
    public init(origin: UInt64, windowSeconds: Double = 1.0) {
        precondition(windowSeconds > 0, "LatencyWindow: window must be > 0 s")
        self.origin = origin
        self.windowSeconds = windowSeconds
        windowStart = origin
        p50Series = SeriesRing(name: "latency_p50_ms", unit: "ms")
        p99Series = SeriesRing(name: "latency_p99_ms", unit: "ms")
        throughputSeries = SeriesRing(name: "items_per_sec", unit: "/s")
    }

    /// Records one request's latency (ns) and closes the window if it is over.
    public mutating func record(latencyNanos: UInt64, now: UInt64) {
        _ = window.record(max(latencyNanos, 1))
        _ = cumulative.record(max(latencyNanos, 1))
        windowItems += 1
        closeWindowIfDue(now: now)
    }

    /// Closes the window if `windowSeconds` passed (call also when idle, so throughput can fall to 0).
    public mutating func closeWindowIfDue(now: UInt64) {
        guard now > windowStart else { return }  // a timestamp taken before the window opened
        let elapsed = Double(now - windowStart) / 1e9
        guard elapsed >= windowSeconds else { return }
        let t = Double(now - origin) / 1e9
        recentItemsPerSecond = Double(windowItems) / elapsed
        throughputSeries.append(time: t, value: recentItemsPerSecond)
        if window.totalCount > 0 {
            let stat = Self.stat(window)
            recent = stat
            p50Series.append(time: t, value: stat.p50Ms)
            p99Series.append(time: t, value: stat.p99Ms)
        }
        window.reset()
        windowItems = 0
        windowStart = now
    }

    /// Statistics since the last `reset()`.
    public var cumulativeStat: PhaseStat? { cumulative.totalCount > 0 ? Self.stat(cumulative) : nil }

    /// Forgets the cumulative histogram (the series and the recent window stay).
    public mutating func reset() { cumulative.reset() }

    static func stat(_ h: Histogram<UInt64>) -> PhaseStat {
        PhaseStat(calls: Int(h.totalCount), lastMs: Double(h.maxRecorded) / 1e6, meanMs: h.mean / 1e6,
                  p50Ms: Double(h.valueAtPercentile(50)) / 1e6,
                  p90Ms: Double(h.valueAtPercentile(90)) / 1e6,
                  p99Ms: Double(h.valueAtPercentile(99)) / 1e6)
    }
}
