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
    public private(set) var siteNames: [String] = []
    private var index: [String: Int32] = [:]

    private struct Cell {
        /// Created on first record: most (site, phase) pairs are never used.
        var histogram: Histogram<UInt64>? = nil
        var calls = 0
        var totalNanos: UInt64 = 0
        var lastNanos: UInt64 = 0
        var stepNanos: UInt64 = 0  // this step's sum (a site can be hit several times per step)
    }
    private var cells: [[Cell]] = []  // [site][phase]
    private var touched: [Bool] = []

    public private(set) var steps = 0
    public private(set) var lastStepWallNanos: UInt64 = 0
    public private(set) var lastStepSpanNanos: UInt64 = 0
    public private(set) var totalWallNanos: UInt64 = 0
    /// Nanoseconds spent inside `endStep` itself plus clock reads (the profiler's own cost).
    public private(set) var overheadNanos: Double = 0
    private var stepHistogram = makeHistogram()

    public init(capacity: Int = 4096, enabled: Bool = true) {
        buffer = SpanBuffer(capacity: capacity, enabled: enabled)
    }

    /// The id of a named site, registering it on first use. Call before the first step, not per span.
    public func site(_ name: String) -> Int32 {
        if let id = index[name] { return id }
        let id = Int32(siteNames.count)
        siteNames.append(name)
        index[name] = id
        cells.append(Phase.allCases.map { _ in Cell() })
        touched.append(false)
        return id
    }

    /// Starts a step: the lap clock begins now.
    @inline(__always)
    public func beginStep() { buffer.start() }

    /// Ends a step that took `wallNanos` of wall time: folds its spans into the statistics.
    public func endStep(wallNanos: UInt64) {
        let t0 = monotonicNanos()
        var spanSum: UInt64 = 0
        for s in 0..<cells.count { for p in 0..<cells[s].count { cells[s][p].stepNanos = 0 } }
        buffer.forEach { site, phase, ns in
            let s = Int(site), p = Int(phase.rawValue)
            guard s < cells.count else { return }
            cells[s][p].stepNanos &+= ns
            cells[s][p].calls &+= 1
            spanSum &+= ns
        }
        for s in 0..<cells.count {
            for p in 0..<cells[s].count where cells[s][p].stepNanos > 0 {
                let ns = cells[s][p].stepNanos
                if cells[s][p].histogram == nil { cells[s][p].histogram = makeHistogram() }
                _ = cells[s][p].histogram!.record(max(ns, 1))
                cells[s][p].totalNanos &+= ns
                cells[s][p].lastNanos = ns
            }
        }
        let reads = buffer.clockReads
        buffer.reset()
        steps += 1
        lastStepWallNanos = wallNanos
        lastStepSpanNanos = spanSum
        totalWallNanos &+= wallNanos
        _ = stepHistogram.record(max(wallNanos, 1))
        overheadNanos += Double(monotonicNanos() - t0) + Double(reads) * clockCostNanos
    }

    /// Per-site statistics in registration order; `share` is the site's fraction of all span time.
    public func layerStats() -> [LayerStat] {
        var grand: UInt64 = 0
        for row in cells { for c in row { grand &+= c.totalNanos } }
        return siteNames.indices.map { s in
            let row = cells[s]
            func stat(_ p: Phase) -> PhaseStat? {
                let c = row[Int(p.rawValue)]
                guard c.calls > 0, let h = c.histogram else { return nil }
                let steps = max(1, Int(h.totalCount))
                return PhaseStat(
                    calls: c.calls,
                    lastMs: Double(c.lastNanos) / 1e6,
                    meanMs: Double(c.totalNanos) / Double(steps) / 1e6,
                    p50Ms: Double(h.valueAtPercentile(50)) / 1e6,
                    p90Ms: Double(h.valueAtPercentile(90)) / 1e6,
                    p99Ms: Double(h.valueAtPercentile(99)) / 1e6)
            }
            let total = row.reduce(UInt64(0)) { $0 &+ $1.totalNanos }
            return LayerStat(
                name: siteNames[s], forward: stat(.forward), backward: stat(.backward),
                other: stat(.optimizer) ?? stat(.data) ?? stat(.other),
                share: grand > 0 ? Double(total) / Double(grand) : 0)
        }
    }

    /// Step wall-time statistics.
    public func stepStat() -> PhaseStat? {
        guard steps > 0 else { return nil }
        return PhaseStat(
            calls: steps, lastMs: Double(lastStepWallNanos) / 1e6,
            meanMs: Double(totalWallNanos) / Double(steps) / 1e6,
            p50Ms: Double(stepHistogram.valueAtPercentile(50)) / 1e6,
            p90Ms: Double(stepHistogram.valueAtPercentile(90)) / 1e6,
            p99Ms: Double(stepHistogram.valueAtPercentile(99)) / 1e6)
    }

    /// Fraction of wall time the profiler itself cost so far.
    public var overheadFraction: Double {
        totalWallNanos > 0 ? overheadNanos / Double(totalWallNanos) : 0
    }

    /// Forgets all statistics (e.g. after a knob changed the shapes), keeping the sites.
    public func resetStatistics() {
        for s in cells.indices { for p in cells[s].indices { cells[s][p] = Cell() } }
        steps = 0; totalWallNanos = 0; overheadNanos = 0; lastStepWallNanos = 0; lastStepSpanNanos = 0
        stepHistogram.reset()
    }
}
