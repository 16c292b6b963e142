import Foundation
import InftopEngine
import InftopTelemetry

/// One configuration of the serving sweep (`inftop bench --scenario …`): every knob the
/// dashboard's serving side has.
public struct ServingConfig: Sendable, Equatable {
    public var batch: Int
    public var threads: Int
    public var backend: KernelBackend
    public var precision: Precision
    public var isa: KernelISA
    public var workers: Int
    public var scenario: LoadScenario
    /// Server scenario's Poisson rate, requests/s.
    public var rate: Double
    public var maxQueueDelayMs: Double
    public var cache: Bool
    public var repeatPercent: Int
    public var p99BoundMs: Double

    public init(batch: Int, threads: Int = 1, backend: KernelBackend = .blas, precision: Precision = .fp32, isa: KernelISA = .auto,
                workers: Int = 1, scenario: LoadScenario = .server, rate: Double, maxQueueDelayMs: Double = 2, cache: Bool = false,
                repeatPercent: Int = 0, p99BoundMs: Double) {
        self.batch = batch; self.threads = threads; self.backend = backend; self.precision = precision; self.isa = isa
        self.workers = workers; self.scenario = scenario; self.rate = rate; self.maxQueueDelayMs = maxQueueDelayMs
        self.cache = cache; self.repeatPercent = repeatPercent; self.p99BoundMs = p99BoundMs
    }

    /// The dashboard's knobs for this configuration.
    public var knobs: KnobValues {
        KnobValues(inferenceBatchSize: batch, precision: precision, backend: backend, responseCache: cache, isa: isa,
                   maxQueueDelayMs: maxQueueDelayMs, servingWorkers: workers, repeatPercent: repeatPercent, scenario: scenario,
                   offeredRate: rate, p99BoundMs: p99BoundMs)
    }
}

/// Runs serving configurations through the very `InferenceService` the dashboard runs — load
/// generator, batching, workers, cache, verdict — for a wall-clock duration each, on the real
/// clock, and reports what the serving floor panel reports for the same settings.
public final class ServingBenchmark {
    public let model: String
    private let makeTask: (Int) throws -> any ServingTask
    public let rules: ScenarioRules

    /// - Parameter makeTask: worker `i`'s task (a replica with the weights to serve).
    public init(model: String, rules: ScenarioRules = .live, makeTask: @escaping (Int) throws -> any ServingTask) {
        self.model = model
        self.rules = rules
        self.makeTask = makeTask
    }

    /// Serves `config` for `warmup` seconds (figures discarded), then `seconds` measured.
    public func run(_ config: ServingConfig, seconds: Double, warmup: Double = 1) throws -> ServingResult {
        precondition(seconds > 0 && warmup >= 0, "ServingBenchmark: seconds must be > 0")
        resetPeakRSS()
        let knobs = Knobs(config.knobs)
        let service = try InferenceService(makeTask: makeTask, knobs: knobs, threadsPerWorker: config.threads, rules: rules)
        service.start()
        defer { service.stop() }
        if warmup > 0 { Thread.sleep(forTimeInterval: warmup) }
        service.restartFigures()
        // The control thread publishes every 100 ms: wait until a snapshot covers `seconds`
        // (its since-restart figures are consistent with their own duration).
        Thread.sleep(forTimeInterval: seconds)
        var snap = service.snapshots.latest()
        while (snap?.floor?.verdict.seconds ?? 0) < seconds {
            Thread.sleep(forTimeInterval: 0.02)
            snap = service.snapshots.latest()
        }
        guard let snap else { throw EngineError.invalid(what: "serving", reason: "no snapshot") }
        service.stop()
        let floor = snap.floor
        return ServingResult(model: model, config: config, workers: floor?.workers ?? config.workers, total: floor?.total,
                             queueWait: floor?.queueWait, itemsPerSecond: floor?.itemsPerSecond ?? 0,
                             peakRSSBytes: ProcessMemory.shared.peakResidentBytes(), accuracy: snap.servedAccuracy,
                             accuracyLabel: snap.accuracyLabel, hitRate: floor?.cache?.hitRate,
                             verdict: floor?.verdict ?? ScenarioVerdict(valid: false, reason: "no figures", queries: 0, seconds: 0))
    }

    /// One probe of `findPeak`.
    public struct Probe: Sendable { public var rate: Double; public var result: ServingResult; public var passed: Bool }

    /// MLPerf's FindPeakPerformance for the Server scenario: the highest Poisson rate whose
    /// run is VALID (p99 within the bound, enough queries, nothing dropped), searched by
    /// `searchPeak` from the Offline throughput of `config` (which bounds it above). `progress`
    /// sees every probe.
    public func findPeak(_ config: ServingConfig, seconds: Double, maxProbes: Int = 10,
                         progress: (Probe) -> Void = { _ in }) throws -> (peak: Double?, probes: [Probe]) {
        var offline = config
        offline.scenario = .offline
        let ceiling = try run(offline, seconds: min(seconds, 3), warmup: 0.5).itemsPerSecond
        guard ceiling > 0 else { return (nil, []) }
        var probes: [Probe] = []
        let peak = try Self.searchPeak(ceiling: ceiling, maxProbes: maxProbes) { rate in
            var c = config
            c.scenario = .server
            c.rate = rate
            let r = try run(c, seconds: Self.probeSeconds(seconds, rate: rate, rules: rules))
            let p = Probe(rate: rate, result: r, passed: r.verdict.valid)
            probes.append(p)
            progress(p)
            return p.passed
        }
        return (peak, probes)
    }

    /// How long a Server probe at `rate` runs: at least `seconds`, and long enough for the
    /// scenario's minimum query count at that rate (LoadGen runs until both its minimum duration
    /// and its minimum query count are met), plus 5 % for Poisson's spread. Without it a slow
    /// model's probes were INVALID for "too few queries" whatever their latency.
    public static func probeSeconds(_ seconds: Double, rate: Double, rules: ScenarioRules) -> Double {
        let need = Double(rules.minQueries[.server] ?? 0)
        guard rate > 0, need > 0 else { return seconds }
        return max(seconds, need / rate * 1.05)
    }

    /// The search behind `findPeak`, over any pass/fail `probe` of a rate: halves down from 0.9 ×
    /// `ceiling` to a passing rate, bisects (geometrically) until the bracket is within 5 % or
    /// `maxProbes` ran, then confirms: the rate found must pass once more, else it counts as a
    /// failure and the search bisects again below it, between it and the previous pass (at most
    /// `confirmations` rounds of a few probes; nil when no rate passes twice). A p99 near the bound passes or fails by chance
    /// from run to run; one lucky pass high in the bracket would otherwise be the answer, which
    /// is what made two searches in a row disagree by 15 % (docs/benchmarks.md, issue 13).
    public static func searchPeak(ceiling: Double, maxProbes: Int = 10, confirmations: Int = 3,
                                  probe: (Double) throws -> Bool) rethrows -> Double? {
        var probes = 0
        func tryRate(_ r: Double) throws -> Bool { probes += 1; return try probe(r) }
        var hi = ceiling
        /// Rates that passed, ascending: the bracket's low end is the last.
        var passes: [Double] = []
        /// Halves down from `start` to a passing rate (within `budget` probes).
        func descend(from start: Double, budget: Int) throws {
            var rate = start
            while probes < budget && rate >= 0.5 {
                if try tryRate(rate) { passes.append(rate); return }
                hi = rate
                rate /= 2
            }
        }
        func bisect(budget: Int) throws {
            while probes < budget, let low = passes.last, hi / low > 1.05 {
                let mid = (hi * low).squareRoot()
                if try tryRate(mid) { passes.append(mid) } else { hi = mid }
            }
        }
        try descend(from: ceiling * 0.9, budget: maxProbes)
        try bisect(budget: maxProbes)
        // Confirm: a pass that does not repeat was luck; search again below it.
        for round in 1...max(1, confirmations) {
            guard let candidate = passes.popLast() else { return nil }
            if try tryRate(candidate) { return candidate }
            hi = candidate
            let budget = maxProbes + 4 * round
            if passes.isEmpty { try descend(from: candidate / 2, budget: budget) }
            try bisect(budget: budget)
        }
        return nil
    }

    /// Linux: writing 5 to clear_refs resets the peak RSS (VmHWM), so each row's peak is its own.
    private func resetPeakRSS() {
        if let f = fopen("/proc/self/clear_refs", "w") { fputs("5", f); fclose(f) }
    }
}
