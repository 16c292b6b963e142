import Histogram

/// A latency histogram in nanoseconds, 1 ns … 100 s, 2 significant digits (1 % resolution,
/// ~30 KB each; 3 digits would be ~230 KB per layer and phase).
public func makeHistogram() -> Histogram<UInt64> {
    Histogram<UInt64>(lowestDiscernibleValue: 1, highestTrackableValue: 100_000_000_000, numberOfSignificantValueDigits: .two)
}

/// Aggregates the spans of one workload into per-site, per-phase statistics.
///
/// Owned by the workload thread: `endStep` runs on it after each step, folds the step's spans
/// into HdrHistograms (1 µs … 100 s, 3 significant digits) and running sums, and resets the
/// buffer. Nothing here locks; the workload publishes `layerStats()` in its snapshot.
public final class StepProfiler: @unchecked Sendable {
    public let buffer: SpanBuffer
    /// Where finished steps go when an exporter (trace, /metrics) is on; one relaxed load per
    /// step when none is.
    public let tap: SpanTap
    public private(set) var siteNames: [String] = []
    private var index: [String: Int32] = [:]

    /// Per (site, phase) statistics in flat arrays indexed `site * phases + phase`: nested arrays
    /// of structs holding histograms cost a 30 KB copy per record (measured 9 µs per step).
    private static let phases = Phase.allCases.count
    /// A tiny placeholder until the first record (most (site, phase) pairs are never used);
    /// `real[i]` tells which are real. Not optionals: mutating through `histograms[i]!` copied
    /// the 30 KB counts array on every record (measured 11 µs per step).
    private var histograms: [Histogram<UInt64>] = []
    private var real: [Bool] = []
    private static let placeholder = Histogram<UInt64>(lowestDiscernibleValue: 1, highestTrackableValue: 2, numberOfSignificantValueDigits: .zero)
    private var calls: [Int] = []
    private var totalNanos: [UInt64] = []
    private var lastNanos: [UInt64] = []
    /// This step's sum per cell (a site can be hit several times per step).
    private var stepNanos: [UInt64] = []
    /// Cells hit in this step (so `endStep` touches only those).
    private var hit: [Int] = []
    /// Percentiles per cell (p50, p90, p99 in ns) as last computed, and when. HdrHistogram's
    /// `valueAtPercentile` walks the counts (~100 µs each here): recomputing them for every
    /// snapshot at 20 Hz cost 5–12 % of an MLP step (measured with `inftop bench --train`).
    private var percentiles: [(UInt64, UInt64, UInt64)] = []
    private var percentilesAt: UInt64 = 0
    /// Least time between two percentile computations, ns (`layerStats` reuses them in between).
    public var percentileRefreshNanos: UInt64 = 1_000_000_000

    public private(set) var steps = 0
    public private(set) var lastStepWallNanos: UInt64 = 0
    public private(set) var lastStepSpanNanos: UInt64 = 0
    public private(set) var totalWallNanos: UInt64 = 0
    /// Nanoseconds spent inside `endStep` itself plus clock reads (the profiler's own cost).
    public private(set) var overheadNanos: Double = 0
    private var stepHistogram = makeHistogram()

    /// - Parameter track: the workload thread's name in exports ("training", "serving", …).
    public init(capacity: Int = 4096, enabled: Bool = true, track: String = "workload") {
        buffer = SpanBuffer(capacity: capacity, enabled: enabled)
        tap = SpanTap(track: track)
    }

    /// The id of a named site, registering it on first use. Call before the first step, not per span.
    public func site(_ name: String) -> Int32 {
        if let id = index[name] { return id }
        let id = Int32(siteNames.count)
        siteNames.append(name)
        index[name] = id
        tap.noteSite(name)
        for _ in 0..<Self.phases {
            histograms.append(Self.placeholder); real.append(false); percentiles.append((0, 0, 0)); calls.append(0); totalNanos.append(0); lastNanos.append(0); stepNanos.append(0)
        }
        return id
    }

    /// Starts a step: the lap clock begins now.
    @inline(__always)
    public func beginStep() { buffer.start() }

    /// Ends a step that took `wallNanos` of wall time: folds its spans into the statistics.
    public func endStep(wallNanos: UInt64) {
        let t0 = monotonicNanos()
        var spanSum: UInt64 = 0
        let phases = Self.phases, cellCount = stepNanos.count
        hit.removeAll(keepingCapacity: true)
        // Raw buffers, not class-property arrays, in this loop: each property access pays an
        // exclusivity check and a uniqueness check (PLATFORM.md: ~30× slower).
        let n = buffer.count
        let bs = buffer.sites, bp = buffer.phases, bn = buffer.nanos
        stepNanos.withUnsafeMutableBufferPointer { step in
            calls.withUnsafeMutableBufferPointer { calls in
                for k in 0..<n {
                    let i = Int(bs[k]) * phases + Int(bp[k])
                    guard i < cellCount else { continue }
                    if step[i] == 0 { hit.append(i) }
                    step[i] &+= max(bn[k], 1)
                    calls[i] &+= 1
                    spanSum &+= bn[k]
                }
            }
        }
        for i in hit {
            let ns = stepNanos[i]
            stepNanos[i] = 0
            if !real[i] { histograms[i] = makeHistogram(); real[i] = true }
            _ = histograms[i].record(ns)
            totalNanos[i] &+= ns
            lastNanos[i] = ns
        }
        let reads = buffer.clockReads
        if tap.isOn { tap.pushStep(buffer, wallNanos: wallNanos) }
        buffer.reset()
        steps += 1
        lastStepWallNanos = wallNanos
        lastStepSpanNanos = spanSum
        totalWallNanos &+= wallNanos
        _ = stepHistogram.record(max(wallNanos, 1))
        overheadNanos += Double(monotonicNanos() - t0) + Double(reads) * clockCostNanos
    }

    /// Per-site statistics in registration order; `share` is the site's fraction of all span time.
    /// Percentiles are recomputed at most every `percentileRefreshNanos` unless `fresh` (a final
    /// report must not quote percentiles from up to a second before the run ended).
    public func layerStats(fresh: Bool = false) -> [LayerStat] {
        let grand = totalNanos.reduce(UInt64(0), &+)
        let phases = Self.phases
        let now = monotonicNanos()
        let refresh = fresh || percentilesAt == 0 || now &- percentilesAt >= percentileRefreshNanos
        if refresh {
            percentilesAt = now
            for i in histograms.indices where real[i] {
                let h = histograms[i]
                percentiles[i] = (h.valueAtPercentile(50), h.valueAtPercentile(90), h.valueAtPercentile(99))
            }
        }
        return siteNames.indices.map { s in
            func stat(_ p: Phase) -> PhaseStat? {
                let i = s * phases + Int(p.rawValue)
                guard calls[i] > 0, real[i] else { return nil }
                let h = histograms[i]
                let steps = max(1, Int(h.totalCount))
                let (p50, p90, p99) = percentiles[i]
                return PhaseStat(
                    calls: calls[i],
                    lastMs: Double(lastNanos[i]) / 1e6,
                    meanMs: Double(totalNanos[i]) / Double(steps) / 1e6,
                    p50Ms: Double(p50) / 1e6, p90Ms: Double(p90) / 1e6, p99Ms: Double(p99) / 1e6)
            }
            let total = (0..<phases).reduce(UInt64(0)) { $0 &+ totalNanos[s * phases + $1] }
            return LayerStat(
                name: siteNames[s], forward: stat(.forward), backward: stat(.backward),
                other: stat(.optimizer) ?? stat(.data) ?? stat(.other),
                share: grand > 0 ? Double(total) / Double(grand) : 0)
        }
    }

    /// Step wall-time statistics (percentiles as in `layerStats(fresh:)`).
    public func stepStat(fresh: Bool = false) -> PhaseStat? {
        guard steps > 0 else { return nil }
        let now = monotonicNanos()
        if fresh || stepPercentilesAt == 0 || now &- stepPercentilesAt >= percentileRefreshNanos {
            stepPercentilesAt = now
            stepPercentiles = (stepHistogram.valueAtPercentile(50), stepHistogram.valueAtPercentile(90), stepHistogram.valueAtPercentile(99))
        }
        return PhaseStat(
            calls: steps, lastMs: Double(lastStepWallNanos) / 1e6,
            meanMs: Double(totalWallNanos) / Double(steps) / 1e6,
            p50Ms: Double(stepPercentiles.0) / 1e6, p90Ms: Double(stepPercentiles.1) / 1e6,
            p99Ms: Double(stepPercentiles.2) / 1e6)
    }
    private var stepPercentiles: (UInt64, UInt64, UInt64) = (0, 0, 0)
    private var stepPercentilesAt: UInt64 = 0

    /// Fraction of wall time the profiler itself cost so far.
    public var overheadFraction: Double {
        totalWallNanos > 0 ? overheadNanos / Double(totalWallNanos) : 0
    }

    /// Forgets all statistics (e.g. after a knob changed the shapes), keeping the sites.
    public func resetStatistics() {
        for i in histograms.indices {
            histograms[i] = Self.placeholder; real[i] = false; percentiles[i] = (0, 0, 0); calls[i] = 0; totalNanos[i] = 0; lastNanos[i] = 0; stepNanos[i] = 0
        }
        percentilesAt = 0; stepPercentilesAt = 0
        steps = 0; totalWallNanos = 0; overheadNanos = 0; lastStepWallNanos = 0; lastStepSpanNanos = 0
        stepHistogram.reset()
    }
}
