/// How the load generator offers requests, after MLPerf LoadGen's scenarios (`L` cycles).
public enum LoadScenario: String, CaseIterable, Sendable, Codable {
    /// One request at a time: the next is issued when the previous is answered. Judged on p90.
    case single
    /// Poisson arrivals at a target rate. Judged on p99 against a latency bound.
    case server
    /// Everything queued at once (blocks of queries). Judged on throughput.
    case offline

    public var next: LoadScenario {
        let all = Self.allCases
        return all[(all.firstIndex(of: self)! + 1) % all.count]
    }

    /// The name users know from LoadGen.
    public var title: String {
        switch self {
        case .single: "SingleStream"
        case .server: "Server"
        case .offline: "Offline"
        }
    }
}

/// Whether a run's figures count, with the rule that decided it (LoadGen's rules scaled to a
/// live session; `ScenarioRules` in InftopWorkloads holds the minimums).
public struct ScenarioVerdict: Sendable, Equatable, Codable {
    public var valid: Bool
    /// Why it is (in)valid: "p99 41.2 ms > bound 25 ms", "too few queries (412 < 1024)", …
    public var reason: String
    /// Queries answered and seconds measured since the configuration last changed.
    public var queries: Int
    public var seconds: Double

    public init(valid: Bool, reason: String, queries: Int, seconds: Double) {
        self.valid = valid; self.reason = reason; self.queries = queries; self.seconds = seconds
    }

    public var label: String { valid ? "VALID" : "INVALID" }
}

/// The response cache as of a snapshot.
public struct CacheStat: Sendable, Equatable, Codable {
    public var entries: Int
    public var bytes: Int
    public var capacityBytes: Int
    public var lookups: Int
    public var hits: Int
    /// Mean latency of requests answered from the cache, and of those that ran the model, ms.
    public var hitMeanMs: Double?
    public var missMeanMs: Double?

    public init(entries: Int, bytes: Int, capacityBytes: Int, lookups: Int, hits: Int, hitMeanMs: Double?, missMeanMs: Double?) {
        self.entries = entries; self.bytes = bytes; self.capacityBytes = capacityBytes; self.lookups = lookups
        self.hits = hits; self.hitMeanMs = hitMeanMs; self.missMeanMs = missMeanMs
    }

    public var hitRate: Double? { lookups > 0 ? Double(hits) / Double(lookups) : nil }

    /// Milliseconds the hits saved: each hit answered at its own latency instead of a miss's mean.
    public var savedMs: Double? {
        guard let h = hitMeanMs, let m = missMeanMs else { return nil }
        return Double(hits) * max(0, m - h)
    }
}

/// The serving floor's state beside the latency figures: scenario and verdict, the batching
/// and worker settings in force, each request's latency split into queue wait and compute, and
/// the cache. Figures cover the time since the configuration last changed (as `inftop bench`
/// reports them).
public struct ServingFloorSnapshot: Sendable, Equatable, Codable {
    public var scenario: LoadScenario
    public var verdict: ScenarioVerdict
    public var workers: Int
    public var threadsPerWorker: Int
    public var maxQueueDelayMs: Double
    /// Fraction of requests drawn from the hot set (the `z` knob).
    public var repeatFraction: Double
    /// The Server scenario's p99 bound, ms.
    public var p99BoundMs: Double
    /// Since the last configuration change: whole latency, queue wait, compute (misses only).
    public var total: PhaseStat?
    public var queueWait: PhaseStat?
    public var compute: PhaseStat?
    public var itemsPerSecond: Double
    public var cache: CacheStat?

    public init(scenario: LoadScenario, verdict: ScenarioVerdict, workers: Int, threadsPerWorker: Int,
                maxQueueDelayMs: Double, repeatFraction: Double, p99BoundMs: Double, total: PhaseStat?,
                queueWait: PhaseStat?, compute: PhaseStat?, itemsPerSecond: Double, cache: CacheStat?) {
        self.scenario = scenario; self.verdict = verdict; self.workers = workers; self.threadsPerWorker = threadsPerWorker
        self.maxQueueDelayMs = maxQueueDelayMs; self.repeatFraction = repeatFraction; self.p99BoundMs = p99BoundMs
        self.total = total; self.queueWait = queueWait; self.compute = compute; self.itemsPerSecond = itemsPerSecond
        self.cache = cache
    }
}

/// One configuration the session has served, as a point of the speed-vs-accuracy view.
public struct TradeoffPoint: Sendable, Equatable, Codable {
    /// What was served and how: "mlp fp32 b8 blas avx2 w1 d2 cache-off".
    public var label: String
    public var p99Ms: Double
    public var accuracy: Double?
    public var itemsPerSecond: Double
    /// Requests its figures cover.
    public var queries: Int
    /// The configuration serving now.
    public var current: Bool

    public init(label: String, p99Ms: Double, accuracy: Double?, itemsPerSecond: Double, queries: Int, current: Bool) {
        self.label = label; self.p99Ms = p99Ms; self.accuracy = accuracy; self.itemsPerSecond = itemsPerSecond
        self.queries = queries; self.current = current
    }

    /// Indices of the points no other point beats on both p99 (lower) and accuracy (higher).
    public static func paretoFront(_ points: [TradeoffPoint]) -> Set<Int> {
        var front = Set<Int>()
        for (i, p) in points.enumerated() {
            guard let a = p.accuracy else { continue }
            let dominated = points.enumerated().contains { j, q in
                guard j != i, let b = q.accuracy else { return false }
                return q.p99Ms <= p.p99Ms && b >= a && (q.p99Ms < p.p99Ms || b > a)
            }
            if !dominated { front.insert(i) }
        }
        return front
    }
}
