import Foundation
import InftopEngine
import InftopTelemetry

/// One serving worker: its own replica of the served model (a `ServingTask`), profiler and
/// thread. In turn with the other workers it gathers a batch from the shared queue — answering
/// cache hits at once — until the batch is full or its oldest request has waited the max queue
/// delay (`Batcher`), then runs it while the next free worker gathers.
final class ServingWorker: @unchecked Sendable {
    let index: Int
    let task: any ServingTask
    let profiler: StepProfiler
    private let batchSite: Int32, respondSite: Int32
    private let nodeSites: [Int32]
    private let stopFlag = StopFlag()
    private var thread: JoinableThread?
    private unowned(unsafe) let service: InferenceService
    /// The profiler's per-node figures as of the worker's last batch boundary (at most every
    /// 100 ms): the profiler belongs to the worker thread, the snapshot is made elsewhere.
    let layers = Locked<(stats: [LayerStat], overhead: Double)>(([], 0))
    /// The model replica's per-node bytes as of the same boundary: a forward pass resizes its
    /// activations, so only the worker thread may read them (TSan saw the snapshot's read race
    /// `Tensor.resize`).
    let memory: Locked<[NodeMemory]>
    /// Worker 0's per-node sparsity and format, made on this thread (they scan the weights the
    /// worker writes when it takes newer ones) only when the weights, the plan or the batch changed.
    let plans = Locked<[NodePlan]>([])
    private var plansKey: NodePlansKey?
    /// The figures under the plan before the last configuration change, with that plan's label.
    let baseline = Locked<LayerBaseline?>(nil)
    /// The plan the figures being gathered are of (worker thread).
    private var gathered: (compute: Compute, structured: Double)?
    private var layersAt: UInt64 = 0

    // Worker-thread state.
    /// The batch being gathered (misses only), oldest first.
    private var pending: [Request] = []
    private var popped: [Request] = []
    private var samples: [Int32] = []
    private var rowScores: [Double] = []
    private var hitArrivals: [UInt64] = []
    /// One answer (`answerWidth` floats): a hit's copy, a miss's copy into the cache.
    private var answer: [Float]
    private var weightsVersion = 0
    private var generation = -1
    /// Salt mixed into cache keys: answers of another precision are other answers.
    private var keySalt: UInt64 = 0

    init(index: Int, task: any ServingTask, service: InferenceService) {
        self.index = index
        self.task = task
        self.service = service
        profiler = StepProfiler(track: index == 0 ? "serving" : "serving.\(index)")
        batchSite = profiler.site("batch")
        nodeSites = task.model.registerSites(in: profiler)
        respondSite = profiler.site("respond")
        answer = Array(repeating: 0, count: task.answerWidth)
        memory = Locked(Self.nodeMemory(task.model))   // before the thread starts
    }

    static func nodeMemory(_ model: Model) -> [NodeMemory] {
        model.nodeMemory().map { NodeMemory(name: $0.name, weights: $0.weights, activations: $0.activations) }
    }

    func start() {
        guard thread == nil else { return }
        thread = JoinableThread(name: "inftop-serve-\(index)") { [unowned(unsafe) self] in self.run() }
    }

    /// Stops at the next batch boundary (a gathered batch is served first) and joins.
    func stop() {
        stopFlag.set()
        thread?.join()
    }

    /// "int8 simd avx2", "pruned 90%" (unstructured) or "shrunk 50%" (structured), "t2" for more
    /// than one thread.
    static func label(_ c: Compute, structured: Double = 0) -> String {
        var parts = [c.precision.rawValue, c.backend.rawValue, c.isa.rawValue]
        if c.threads > 1 { parts.append("t\(c.threads)") }
        if c.sparsity > 0 { parts.append("pruned \(Format.percent(c.sparsity))") }
        if structured > 0 { parts.append("shrunk \(Format.percent(structured))") }
        return parts.joined(separator: " ")
    }

    private func publishLayers(fresh: Bool) {
        let now = monotonicNanos()
        guard fresh || now &- layersAt >= 100_000_000 else { return }
        layersAt = now
        let l = profiler.layerStats(fresh: fresh), o = profiler.overheadFraction
        layers.withLock { $0 = (l, o) }
        // What serves: the replica, or the smaller model structured pruning cut from it.
        let served = task.servedModel
        let m = Self.nodeMemory(served)
        memory.withLock { $0 = m }
        guard index == 0 else { return }
        let batch = service.config.withLock { $0.batch }
        let key = NodePlansKey(weights: weightsVersion, plan: served.currentPlan, batch: batch, preparing: served.isPreparingPlan,
                               served: ObjectIdentifier(served))
        if key != plansKey {
            plansKey = key
            let p = served === task.model ? task.model.nodePlans(batch: batch) : served.shrunkNodePlans(cutFrom: task.model)
            plans.withLock { $0 = p }
        }
    }

    private func run() {
        defer { publishLayers(fresh: true) }
        while !stopFlag.isSet {
            let cfg = service.config.withLock { $0 }
            if cfg.generation != generation {
                generation = cfg.generation
                // What the old plan measured becomes the baseline the table compares with, when
                // the plan itself changed and it measured anything.
                if let old = gathered, old.compute != cfg.compute || old.structured != cfg.structured {
                    let before = profiler.layerStats(fresh: true)
                    if before.contains(where: { ($0.forward?.calls ?? 0) > 0 }) {
                        baseline.withLock { $0 = LayerBaseline(label: Self.label(old.compute, structured: old.structured), layers: before) }
                    }
                }
                gathered = (cfg.compute, cfg.structured)
                profiler.resetStatistics()
                publishLayers(fresh: true)
            }
            if cfg.paused { usleep(20_000); continue }
            task.model.request(cfg.compute)
            keySalt = task.model.currentPlan.precision == .fp32 ? 0 : 0x9E37_79B9_7F4A_7C15
            if let v = service.takeWeights(into: task.model, held: weightsVersion) { weightsVersion = v }
            task.followStructured(cfg.structured, plan: cfg.compute, weightsVersion: weightsVersion)
            guard service.gathering.compareExchange(expected: false, desired: true, ordering: .acquiring).exchanged else {
                usleep(100)  // another worker is gathering the next batch
                continue
            }
            gather(cfg)
            service.gathering.store(false, ordering: .releasing)
            if pending.isEmpty {
                usleep(200)
            } else {
                serve()
            }
        }
    }

    /// Gathers `pending` until the batch closes; returns early (possibly empty) when the queue
    /// is empty, so the caller re-reads the knobs.
    private func gather(_ cfg: InferenceService.Config) {
        let batcher = Batcher(maxBatch: cfg.batch, maxDelayNanos: cfg.delayNanos)
        while !stopFlag.isSet {
            let room = batcher.maxBatch - pending.count
            if room > 0 { _ = service.queue.pop(max: room, into: &popped) } else { popped.removeAll(keepingCapacity: true) }
            if cfg.cacheOn && !popped.isEmpty {
                answerHits()
            } else {
                pending.append(contentsOf: popped)
            }
            let now = service.clock.now()
            if batcher.decide(queued: pending.count, oldestArrival: pending.first?.arrivalNanos, now: now) != nil { return }
            if pending.isEmpty { return }
            let left = batcher.remainingNanos(oldestArrival: pending[0].arrivalNanos, now: now)
            if left > 100_000 { usleep(50) } else { sched_yield() }
        }
    }

    /// Answers the cache's hits among `popped` now; the misses join `pending`.
    private func answerHits() {
        var hits = 0, scoreSum = 0.0, scoredHits = 0
        let cache = service.cache
        let done = service.clock.now()
        hitArrivals.removeAll(keepingCapacity: true)
        answer.withUnsafeMutableBufferPointer { out in
            for r in popped {
                if let s = cache.lookup(task.inputKey(r.sample) ^ keySalt, into: out.baseAddress!) {
                    hits += 1
                    if !s.isNaN { scoreSum += s; scoredHits += 1 }
                    hitArrivals.append(r.arrivalNanos)
                } else {
                    pending.append(r)
                }
            }
        }
        guard hits > 0 else { return }
        service.stats.withLock { st in
            for a in hitArrivals { st.recordHit(arrival: a, done: done) }
            st.requests += hits
            st.scoreSum += scoreSum
            st.scored += scoredHits
        }
        service.generator.didAnswer(hits)
    }

    private func serve() {
        // The step's wall time is on the profiler's clock (the spans' own); latency is on `clock`.
        let t0 = monotonicNanos()
        let start = service.clock.now()
        profiler.beginStep()
        let n = pending.count
        if profiler.tap.isOn { profiler.tap.counter(.queueDepth, Double(service.queue.count)) }  // exports only
        samples.removeAll(keepingCapacity: true)
        for r in pending { samples.append(r.sample) }
        task.serve(samples, spans: profiler.buffer, inputSite: batchSite, sites: nodeSites)
        let done = service.clock.now()
        for r in pending {
            profiler.tap.request(at: done, latencyNanos: done &- r.arrivalNanos, queueNanos: start &- min(start, r.arrivalNanos))
        }
        profiler.buffer.lap(site: respondSite, phase: .forward)
        profiler.endStep(wallNanos: monotonicNanos() &- t0)
        service.stats.withLock { st in
            for r in pending { st.recordMiss(arrival: r.arrivalNanos, start: start, done: done) }
            st.requests += n
            st.batches += 1
        }
        service.generator.didAnswer(n)
        // After the answers are out: scores, then the cache (answers of the weights it holds).
        task.scores(into: &rowScores)
        var sum = 0.0, scored = 0
        for s in rowScores where !s.isNaN { sum += s; scored += 1 }
        service.stats.withLock { st in
            st.scoreSum += sum
            st.scored += scored
        }
        if service.config.withLock({ $0.cacheOn }) && weightsVersion >= service.cacheVersion.load(ordering: .acquiring) {
            answer.withUnsafeMutableBufferPointer { out in
                for (b, r) in pending.enumerated() {
                    task.copyAnswer(row: b, into: out.baseAddress!)
                    service.cache.insert(task.inputKey(r.sample) ^ keySalt, answer: out.baseAddress!, score: rowScores[b])
                }
            }
        }
        pending.removeAll(keepingCapacity: true)
        publishLayers(fresh: false)
    }
}
