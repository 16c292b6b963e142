import Histogram
import InftopTelemetry

/// What the serving workers measure together, under the service's one lock (a lock per batch,
/// not per kernel): the rolling latency windows and series, and — since the configuration last
/// changed — whole latency, queue wait and compute histograms, the hit and miss latency sums,
/// answers and scores.
///
/// Queue wait = batch start − arrival; compute = answer − batch start; a cache hit has neither
/// (it never queues for a batch), only its whole latency.
struct ServingStats {
    var window: LatencyWindow
    var queueWait = makeHistogram()
    var compute = makeHistogram()
    /// When the figures below started (the last configuration change), clock ns.
    var since: UInt64
    var answered = 0
    var batches = 0
    var requests = 0
    var scoreSum = 0.0, scored = 0
    var hitNanos = 0.0, hits = 0
    var missNanos = 0.0, misses = 0
    /// Dropped-by-the-queue count when the figures started (drops since then fail a verdict).
    var droppedAtStart = 0

    init(origin: UInt64) {
        window = LatencyWindow(origin: origin)
        since = origin
    }

    /// Forgets the since-change figures (the rolling series stay).
    mutating func reset(now: UInt64, dropped: Int) {
        window.reset()
        queueWait.reset()
        compute.reset()
        since = now
        answered = 0
        scoreSum = 0; scored = 0
        hitNanos = 0; hits = 0
        missNanos = 0; misses = 0
        droppedAtStart = dropped
    }

    /// One request answered from the model: arrived at `arrival`, its batch started at `start`
    /// and answered at `done`.
    mutating func recordMiss(arrival: UInt64, start: UInt64, done: UInt64) {
        let total = done &- arrival
        window.record(latencyNanos: total, now: done)
        _ = queueWait.record(max(start &- min(start, arrival), 1))
        _ = compute.record(max(done &- start, 1))
        missNanos += Double(total); misses += 1
        answered += 1
    }

    /// One request answered from the cache at `done`.
    mutating func recordHit(arrival: UInt64, done: UInt64) {
        let total = done &- arrival
        window.record(latencyNanos: total, now: done)
        hitNanos += Double(total); hits += 1
        answered += 1
    }

    var queueStat: PhaseStat? { queueWait.totalCount > 0 ? LatencyWindow.stat(queueWait) : nil }
    var computeStat: PhaseStat? { compute.totalCount > 0 ? LatencyWindow.stat(compute) : nil }
    var hitMeanMs: Double? { hits > 0 ? hitNanos / Double(hits) / 1e6 : nil }
    var missMeanMs: Double? { misses > 0 ? missNanos / Double(misses) / 1e6 : nil }

    /// Seconds since the figures started, at `now`.
    func seconds(now: UInt64) -> Double { now > since ? Double(now - since) / 1e9 : 0 }
}
