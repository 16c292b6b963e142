import Foundation
import InftopEngine
import InftopTelemetry
import Synchronization

/// Serves a model of the graph to the built-in load generator, whatever its input (images for
/// mlp/cnn, sentences for a text encoder: a `ServingTask`), the way a serving stack does:
///
///     load generator (scenario, rate, repeats) → RequestQueue → one worker gathers a batch
///     (cache hits answered at once; closes on max batch or max queue delay) → that worker runs
///     it on its replica (a span per node) while the next free worker gathers the next batch
///     → per-request latency = answer − arrival, split into queue wait and compute
///     → scores and cache insertion (outside the latency)
///
/// A control thread (`JoinableThread`) reads the knobs every 10 ms — batch size, max queue
/// delay, workers, backend, ISA, precision, cache, scenario, rate, repeats, bound, pause — and
/// applies them: a configuration change restarts the since-change figures (what the verdict
/// and `inftop bench` judge) and clears the cache; a worker count change starts replicas
/// (`makeTask(i)`) or stops workers at their batch boundary. Workers take the plan at their
/// batch boundaries (a plan that needs work is prepared in the background while the old one
/// serves) and newer trained weights when there are any. Publishes an `InferenceSnapshot`
/// every 100 ms. Reads time from `clock`.
public final class InferenceService: @unchecked Sendable {
    /// Worker 0's task (the one whose layers the screen shows).
    public let task: any ServingTask
    public var modelName: String { task.model.name }
    public let snapshots: SnapshotSlot<InferenceSnapshot>
    public let queue: RequestQueue
    public let generator: LoadGenerator
    public let rules: ScenarioRules
    /// The session's configurations so far (the trade-off view).
    public let history: ServingHistory

    let knobs: Knobs
    let weights: (@Sendable (Model, Int) -> Int?)?
    let clock: any NanoClock
    private let makeTask: (Int) throws -> any ServingTask
    /// Requests/s offered when the knobs leave the rate to the service (`offeredRate` nil).
    let defaultRate: Double
    /// Compute threads each worker's forward uses (the dashboard: 1; `inftop bench --threads`).
    let threadsPerWorker: Int
    private let stopFlag = StopFlag()
    private var thread: JoinableThread?

    /// What the workers act on, written by the control thread.
    struct Config: Equatable {
        var batch = 8
        var delayNanos: UInt64 = 2_000_000
        var compute = Compute()
        /// Structured pruning: the fraction of units the served model loses physically (0 = none;
        /// unstructured pruning is `compute.sparsity`).
        var structured = 0.0
        var cacheOn = false
        var paused = false
        /// Increments on every change that restarts the figures (workers reset their profilers).
        var generation = 0
    }
    let config = Locked(Config())
    let stats: Locked<ServingStats>
    let cache: ResponseCache
    /// Held by the worker gathering the next batch (one at a time, as one dynamic batcher).
    let gathering = Atomic<Bool>(false)
    /// The weights version the cached answers come from.
    let cacheVersion = Atomic<Int>(0)

    // Control-thread state.
    var workers: [ServingWorker] = []
    private var applied: KnobValues?
    var state: WorkloadState = .starting
    private var lastPublish: UInt64 = 0
    /// Why the last worker-count change fell short, nil when it did not (not yet on screen: the
    /// floor line shows the workers actually running).
    var note: String?
    /// Time zero of the series (the stats' origin), and the knob changes on them (at most 32).
    let origin: UInt64
    private(set) var markers: [ChartMarker] = []

    /// - Parameters:
    ///   - makeTask: the task (model replica and inputs) of worker `i`; worker 0's is made here.
    ///   - ratePerSecond: offered load (> 0) unless the knobs set one; nil = the descriptor's.
    ///   - weights: gives newer weights: `(replica, versionHeld) -> versionNow?` (e.g.
    ///     `TrainingLoop.copyLatestWeights`); nil serves the weights each replica has.
    /// - Throws: what `makeTask(0)` throws.
    public init(makeTask: @escaping (Int) throws -> any ServingTask, knobs: Knobs, ratePerSecond: Double? = nil,
                threadsPerWorker: Int = 1, seed: UInt64 = 0, clock: any NanoClock = SystemClock(), rules: ScenarioRules = .live,
                history: ServingHistory = ServingHistory(), weights: (@Sendable (Model, Int) -> Int?)? = nil,
                snapshots: SnapshotSlot<InferenceSnapshot> = SnapshotSlot()) throws {
        let first = try makeTask(0)
        task = first
        self.makeTask = makeTask
        self.knobs = knobs
        self.weights = weights
        self.snapshots = snapshots
        self.clock = clock
        self.rules = rules
        self.history = history
        self.threadsPerWorker = max(1, threadsPerWorker)
        defaultRate = ratePerSecond ?? first.model.descriptor.servingRate
        queue = RequestQueue()
        let v = knobs.values
        generator = LoadGenerator(queue: queue, sampleCount: first.sampleCount,
                                  settings: LoadSettings(scenario: v.scenario, ratePerSecond: v.offeredRate ?? defaultRate,
                                                         repeatFraction: Double(v.repeatPercent) / 100),
                                  seed: seed &+ 7, clock: clock)
        cache = ResponseCache(width: first.answerWidth, capacityBytes: v.cacheBytes)
        origin = clock.now()
        stats = Locked(ServingStats(origin: origin))
        workers = [ServingWorker(index: 0, task: first, service: self)]
        applyKnobs()
        snapshots.publish(makeSnapshot())
    }

    /// One task for every worker: the service cannot add workers (the `a` knob stays at 1).
    public convenience init(task: any ServingTask, knobs: Knobs, ratePerSecond: Double? = nil, seed: UInt64 = 0,
                            clock: any NanoClock = SystemClock(), weights: (@Sendable (Model, Int) -> Int?)? = nil,
                            snapshots: SnapshotSlot<InferenceSnapshot> = SnapshotSlot()) {
        // swiftlint:disable:next force_try
        try! self.init(makeTask: { i in
            guard i == 0 else { throw EngineError.invalid(what: "serving workers", reason: "this service was given one replica") }
            return task
        }, knobs: knobs, ratePerSecond: ratePerSecond, seed: seed, clock: clock, weights: weights, snapshots: snapshots)
    }

    public func start() {
        precondition(thread == nil, "InferenceService: start() called twice")
        state = .running
        generator.start()
        for w in workers { w.start() }
        thread = JoinableThread(name: "inftop-serve") { [unowned(unsafe) self] in self.control() }
    }

    /// Stops the generator, the control thread and every worker (each at its next batch
    /// boundary) and joins them.
    public func stop() {
        generator.stop()
        stopFlag.set()
        thread?.join()
        for w in workers { w.stop() }
    }

    deinit { stop() }

    /// Starts the since-change figures (and the cache's hit counters) afresh without a
    /// configuration change: `inftop bench` after its warm-up.
    public func restartFigures() {
        cache.resetCounters()
        let now = clock.now(), dropped = queue.dropped
        stats.withLock { $0.reset(now: now, dropped: dropped) }
    }

    /// Workers running now.
    public var workerCount: Int { workersRunning.load(ordering: .acquiring) }
    private let workersRunning = Atomic<Int>(1)

    private func control() {
        while !stopFlag.isSet {
            applyKnobs()
            let now = clock.now()
            stats.withLock { $0.window.closeWindowIfDue(now: now) }
            publishIfDue(force: false)
            usleep(10_000)
        }
        state = .finished
        for w in workers { w.stop() }
        publishIfDue(force: true)
    }

    /// Applies the knobs; on the control thread (and once in `init`).
    private func applyKnobs() {
        let v = knobs.values
        let wantedState: WorkloadState = v.inferencePaused ? .paused : (state == .starting ? .starting : .running)
        if wantedState != state { state = wantedState; publishIfDue(force: true) }
        var c = config.withLock { $0 }
        let next = Config(batch: max(1, min(v.inferenceBatchSize, KnobValues.batchRange.upperBound)),
                          delayNanos: UInt64(max(0, v.maxQueueDelayMs) * 1e6),
                          compute: Compute(backend: v.backend, threads: threadsPerWorker, isa: HostCPU.current.runnable(v.isa), precision: v.precision,
                                           // Pruned (p), unstructured: Linears run CSR where they measure it faster.
                                           sparsity: v.effectivePruneMode == .unstructured ? v.pruning : 0),
                          // Structured: the workers serve a smaller model without the removed units.
                          structured: v.effectivePruneMode == .structured ? v.pruning : 0,
                          cacheOn: v.responseCache, paused: v.inferencePaused, generation: c.generation)
        var restart = next.batch != c.batch || next.delayNanos != c.delayNanos || next.compute != c.compute || next.cacheOn != c.cacheOn
            || next.structured != c.structured
        if let a = applied {
            restart = restart || a.servingWorkers != v.servingWorkers || a.scenario != v.scenario || a.offeredRate != v.offeredRate
                || a.repeatPercent != v.repeatPercent || a.cacheBytes != v.cacheBytes || a.p99BoundMs != v.p99BoundMs
        }
        applied = v
        if reconcileWorkers(v.servingWorkers) { restart = true }
        generator.settings = LoadSettings(scenario: v.scenario, ratePerSecond: v.offeredRate ?? defaultRate,
                                          repeatFraction: Double(v.repeatPercent) / 100)
        if cache.capacityBytes != v.cacheBytes { cache.resize(capacityBytes: v.cacheBytes) }
        if restart {
            if let point = currentPoint(current: false) { history.file(point) }
            let first = c.generation == 0
            c = next
            c.generation += 1
            config.withLock { $0 = c }
            if !first {
                if markers.count == 32 { markers.removeFirst() }
                markers.append(ChartMarker(time: Double(clock.now() &- origin) / 1e9,
                                           label: Self.label(model: task.model.name, values: v, config: c, workers: workers.count)))
            }
            cache.clear(counters: true)
            let now = clock.now(), dropped = queue.dropped
            stats.withLock { $0.reset(now: now, dropped: dropped) }
        } else if next.paused != c.paused {
            config.withLock { $0.paused = next.paused }
        }
    }

    /// The configuration serving now as a trade-off point (nil before any answer); `stats` and
    /// `total` when the caller has them already.
    func currentPoint(current: Bool, stats st: ServingStats? = nil, total: PhaseStat? = nil) -> TradeoffPoint? {
        guard let v = applied else { return nil }
        let c = config.withLock { $0 }
        let now = clock.now()
        // A copy (copy-on-write histograms), the percentiles outside the lock.
        let st = st ?? stats.withLock { $0 }
        guard let total = total ?? st.window.cumulativeStat else { return nil }
        let seconds = st.seconds(now: now)
        return TradeoffPoint(label: Self.label(model: task.model.name, values: v, config: c, workers: workers.count),
                             p99Ms: total.p99Ms, accuracy: st.scored > 0 ? st.scoreSum / Double(st.scored) : nil,
                             itemsPerSecond: seconds > 0 ? Double(st.answered) / seconds : 0, queries: st.answered, current: current)
    }

    /// "mlp int8 b8 simd avx2 w2 d2ms cache server": what tells two configurations apart.
    static func label(model: String, values v: KnobValues, config c: Config, workers: Int) -> String {
        var parts = [model, c.compute.precision.rawValue, "b\(c.batch)", c.compute.backend.rawValue, c.compute.isa.rawValue,
                     "w\(workers)", "d\(Format.compact(Double(c.delayNanos) / 1e6))ms", v.scenario.rawValue]
        if c.compute.threads > 1 { parts.insert("t\(c.compute.threads)", at: 4) }
        if v.pruning > 0 { parts.append((v.effectivePruneMode == .structured ? "struct" : "prune") + Format.percent(v.pruning)) }
        if c.cacheOn { parts.append("cache\(v.repeatPercent)%rep") }
        return parts.joined(separator: " ")
    }

    /// Brings the worker count to `wanted` (1…cores); true when it changed.
    private func reconcileWorkers(_ wanted: Int) -> Bool {
        let n = max(1, min(wanted, ProcessInfo.processInfo.activeProcessorCount))
        guard n != workers.count else { return false }
        while workers.count > n {
            let w = workers.removeLast()
            w.stop()
        }
        while workers.count < n {
            do {
                let w = ServingWorker(index: workers.count, task: try makeTask(workers.count), service: self)
                workers.append(w)
                if state != .starting { w.start() }
                note = nil
            } catch {
                note = "serving workers: \(error)"
                break
            }
        }
        workersRunning.store(workers.count, ordering: .releasing)
        return true
    }

    /// Takes newer weights into worker `w`'s replica; the first replica to hold a newer version
    /// clears the cache (its answers came from older weights).
    func takeWeights(into model: Model, held: Int) -> Int? {
        guard let weights, let v = weights(model, held) else { return nil }
        if cacheVersion.load(ordering: .acquiring) < v {
            cacheVersion.store(v, ordering: .releasing)
            cache.clear()
        }
        return v
    }

    private func publishIfDue(force: Bool) {
        let now = clock.now()
        guard force || now &- lastPublish >= 100_000_000 else { return }
        lastPublish = now
        snapshots.publish(makeSnapshot())
    }
}

/// What the served model's per-node plans depend on (they scan the weights: worker 0 makes
/// them again only when one of these changes).
struct NodePlansKey: Equatable {
    let weights: Int
    let plan: Compute
    let batch: Int
    let preparing: Bool
    /// The model serving (the replica, or the smaller one structured pruning cut from it).
    let served: ObjectIdentifier
}
