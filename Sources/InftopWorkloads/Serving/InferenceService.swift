import Foundation
import InftopEngine
import InftopTelemetry
import Synchronization

/// Serves a model of the graph to the built-in load generator, whatever its input (images for
/// mlp/cnn, sentences for a text encoder: a `ServingTask`):
///
///     load generator (Poisson) → RequestQueue → batcher (inference batch knob, ≤ maxDelay wait)
///     → inputs ("batch" span) → model.forward (a span per node) → responses ("respond" span)
///     → per-request latency = response time − arrival time → score (outside the latency)
///
/// Runs on its own thread (`JoinableThread`). At each batch boundary it reads the knobs
/// (inference batch size, backend, ISA, pause), asks the model for that plan (a plan that needs
/// work is prepared in the background while the old one serves), and takes newer weights from
/// the training loop if there are any. Latency covers queueing and compute, as a client would
/// see it. Publishes an `InferenceSnapshot` at most every 100 ms. Reads time from `clock`.
public final class InferenceService: @unchecked Sendable {
    public let task: any ServingTask
    public var modelName: String { task.model.name }
    public let snapshots: SnapshotSlot<InferenceSnapshot>
    public let queue: RequestQueue
    public let generator: LoadGenerator
    /// Longest a request waits for its batch to fill before a partial batch runs, ns.
    public let maxDelayNanos: UInt64

    private let knobs: Knobs
    private let weights: (@Sendable (Model, Int) -> Int?)?
    private let clock: any NanoClock
    private let profiler = StepProfiler(track: "serving")
    private let batchSite: Int32, respondSite: Int32
    private let nodeSites: [Int32]
    private let stopFlag = StopFlag()
    private var thread: JoinableThread?

    // Serving-thread state.
    private var samples: [Int32] = []
    private var pending: [Request] = []
    private var latency: LatencyWindow
    private var requests = 0, batches = 0
    private var scoreSum = 0.0, scored = 0
    private var weightsVersion = 0
    private var lastPublish: UInt64 = 0
    private var state: WorkloadState = .starting
    private var batcher: Batcher
    private var compute = Compute()
    private var nodePlansCache: (key: NodePlansKey, plans: [NodePlan])?

    /// - Parameters:
    ///   - task: the model and its request inputs.
    ///   - ratePerSecond: offered load (> 0); nil = the model descriptor's serving rate.
    ///   - weights: gives newer weights: `(replica, versionHeld) -> versionNow?` (e.g.
    ///     `TrainingLoop.copyLatestWeights`); nil serves the weights the model has.
    public init(task: any ServingTask, knobs: Knobs, ratePerSecond: Double? = nil,
                maxDelayNanos: UInt64 = 2_000_000, seed: UInt64 = 0, clock: any NanoClock = SystemClock(),
                weights: (@Sendable (Model, Int) -> Int?)? = nil,
                snapshots: SnapshotSlot<InferenceSnapshot> = SnapshotSlot()) {
        self.task = task
        self.knobs = knobs
        self.weights = weights
        self.maxDelayNanos = maxDelayNanos
        self.snapshots = snapshots
        self.clock = clock
        queue = RequestQueue()
        generator = LoadGenerator(queue: queue, sampleCount: task.sampleCount,
                                  ratePerSecond: ratePerSecond ?? task.model.descriptor.servingRate, seed: seed &+ 7, clock: clock)
        batchSite = profiler.site("batch")
        nodeSites = task.model.registerSites(in: profiler)
        respondSite = profiler.site("respond")
        batcher = Batcher(maxBatch: 8, maxDelayNanos: maxDelayNanos)
        latency = LatencyWindow(origin: clock.now())
        snapshots.publish(makeSnapshot())
    }

    public func start() {
        precondition(thread == nil, "InferenceService: start() called twice")
        generator.start()
        thread = JoinableThread(name: "inftop-serve") { [unowned(unsafe) self] in self.run() }
    }

    /// Stops the generator and the server at the next batch boundary and joins both threads.
    public func stop() {
        generator.stop()
        stopFlag.set()
        thread?.join()
    }

    deinit { stop() }

    private func run() {
        state = .running
        while !stopFlag.isSet {
            readKnobs()
            if case .paused = state {
                latency.closeWindowIfDue(now: clock.now())
                publishIfDue(force: false)
                usleep(20_000)
                continue
            }
            if let w = weights, let v = w(task.model, weightsVersion) { weightsVersion = v }
            let now = clock.now()
            guard let close = batcher.decide(queued: queue.count, oldestArrival: queue.oldestArrival(), now: now) else {
                latency.closeWindowIfDue(now: now)
                publishIfDue(force: false)
                usleep(queue.count == 0 ? 200 : 100)
                continue
            }
            _ = close
            serveOneBatch()
            publishIfDue(force: false)
        }
        state = .finished
        publishIfDue(force: true)
    }

    private func readKnobs() {
        let v = knobs.values
        let wanted: WorkloadState = v.inferencePaused ? .paused : .running
        if wanted != state { state = wanted; publishIfDue(force: true) }
        // Pruned (p): Linears run CSR where they measure it faster; structured pruning's zeroed
        // units are skipped the same way (the replica keeps the trained model's shapes).
        let c = Compute(backend: v.backend, threads: 1, isa: HostCPU.current.runnable(v.isa), precision: v.precision, sparsity: v.pruning)
        let size = max(1, min(v.inferenceBatchSize, KnobValues.batchRange.upperBound))
        if size != batcher.maxBatch || c != compute {
            batcher.maxBatch = size
            compute = c
            latency.reset()
            profiler.resetStatistics()
        }
        task.model.request(compute)
    }

    private func serveOneBatch() {
        // The step's wall time is on the profiler's clock (the spans' own); latency is on `clock`.
        let t0 = monotonicNanos()
        profiler.beginStep()
        let n = queue.pop(max: batcher.maxBatch, into: &pending)
        guard n > 0 else { return }
        if profiler.tap.isOn { profiler.tap.counter(.queueDepth, Double(queue.count)) }  // exports only
        samples.removeAll(keepingCapacity: true)
        for r in pending { samples.append(r.sample) }
        task.serve(samples, spans: profiler.buffer, inputSite: batchSite, sites: nodeSites)
        let doneAt = clock.now()
        for r in pending {
            latency.record(latencyNanos: doneAt &- r.arrivalNanos, now: doneAt)
            profiler.tap.request(at: doneAt, latencyNanos: doneAt &- r.arrivalNanos, queueNanos: t0 &- min(t0, r.arrivalNanos))
        }
        profiler.buffer.lap(site: respondSite, phase: .forward)
        profiler.endStep(wallNanos: monotonicNanos() &- t0)
        requests += n
        batches += 1
        let (sum, count) = task.score()
        scoreSum += sum
        scored += count
    }

    private func publishIfDue(force: Bool) {
        let now = clock.now()
        guard force || now &- lastPublish >= 100_000_000 else { return }
        lastPublish = now
        snapshots.publish(makeSnapshot())
    }

    /// The served model's per-node sparsity and format, recomputed only when the weights, the
    /// plan or the batch changed (it scans the weights).
    private func nodePlans() -> [NodePlan] {
        let key = NodePlansKey(weights: weightsVersion, plan: task.model.currentPlan, batch: batcher.maxBatch, preparing: task.model.isPreparingPlan)
        if let c = nodePlansCache, c.key == key { return c.plans }
        let plans = task.model.nodePlans(batch: batcher.maxBatch)
        nodePlansCache = (key, plans)
        return plans
    }

    private func makeSnapshot() -> InferenceSnapshot {
        let model = task.model
        return InferenceSnapshot(
            model: model.name, state: state, requests: requests, batches: batches, batchSize: batcher.maxBatch,
            latency: latency.recent, itemsPerSecond: latency.recentItemsPerSecond, cacheHitRate: nil,
            // Finished: the last snapshot stays on screen, so its percentiles are current ones.
            // (Paused snapshots go out at 10 Hz; the usual once-a-second refresh covers them.)
            layers: profiler.layerStats(fresh: state == .finished), profilerOverhead: profiler.overheadFraction,
            series: [latency.p50Series.snapshot(), latency.p99Series.snapshot(), latency.throughputSeries.snapshot()],
            servedAccuracy: scored > 0 ? scoreSum / Double(scored) : nil, accuracyLabel: task.accuracyLabel,
            offeredPerSecond: generator.ratePerSecond, dropped: queue.dropped, weightsVersion: weightsVersion,
            summary: model.descriptor.summary, plan: PlanLabel(backend: compute.backend, isa: compute.isa, precision: compute.precision, threads: compute.threads),
            nodeMemory: model.nodeMemory().map { NodeMemory(name: $0.name, weights: $0.weights, activations: $0.activations) },
            nodePlans: nodePlans())
    }
}

private struct NodePlansKey: Equatable {
    let weights: Int
    let plan: Compute
    let batch: Int
    let preparing: Bool
}
