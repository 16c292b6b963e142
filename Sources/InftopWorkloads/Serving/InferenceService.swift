import Foundation
import InftopEngine
import InftopTelemetry
import Synchronization

/// Serves a `ModelZoo` model to the built-in load generator, from the latest trained weights.
///
///     load generator (Poisson) → RequestQueue → batcher (inference batch knob, ≤ maxDelay wait)
///     → gather ("batch" span) → model.forward (a span per layer) → argmax ("respond" span)
///     → per-request latency = response time − arrival time
///
/// Runs on its own thread. At each batch boundary it reads the knobs (inference batch size,
/// backend, pause) and takes newer weights from the training loop if there are any. Latency
/// covers queueing and compute, as a client would see it. Publishes an `InferenceSnapshot` at
/// most every 100 ms.
public final class InferenceService: @unchecked Sendable {
    public let modelName: String
    public let snapshots: SnapshotSlot<InferenceSnapshot>
    public let queue: RequestQueue
    public let generator: LoadGenerator
    /// Longest a request waits for its batch to fill before a partial batch runs, ns.
    public let maxDelayNanos: UInt64

    private let replica: Sequential
    private let dataset: ImageDataset
    private let knobs: Knobs
    private let weights: (@Sendable (Sequential, Int) -> Int?)?
    private let profiler = StepProfiler(track: "serving")
    private let batchSite: Int32, respondSite: Int32
    private let layerSites: [Int32]
    private let stopFlag = StopFlag()
    private var thread: Thread?
    private let done = Mutex<Bool>(false)

    // Serving-thread state.
    private var x: Tensor
    private var labels: [Int32] = []
    private var indices: [Int32] = []
    private var pending: [Request] = []
    private var latency: LatencyWindow
    private var requests = 0, batches = 0, correct = 0
    private var weightsVersion = 0
    private var lastPublish: UInt64 = 0
    private var state: WorkloadState = .starting
    private var batchSize = 8
    private var compute = Compute()

    /// - Parameters:
    ///   - modelName: a `ModelZoo` name (the replica's architecture).
    ///   - dataset: samples requests ask about (the test set).
    ///   - ratePerSecond: offered load (> 0).
    ///   - weights: gives newer weights: `(replica, versionHeld) -> versionNow?` (e.g.
    ///     `TrainingLoop.copyLatestWeights`); nil serves the initial weights.
    /// - Throws: `EngineError.invalid` for an unknown model.
    public init(modelName: String, dataset: ImageDataset, knobs: Knobs, ratePerSecond: Double,
                maxDelayNanos: UInt64 = 2_000_000, seed: UInt64 = 0,
                weights: (@Sendable (Sequential, Int) -> Int?)?,
                snapshots: SnapshotSlot<InferenceSnapshot> = SnapshotSlot()) throws {
        replica = try ModelZoo.make(name: modelName, seed: seed)
        self.modelName = modelName
        self.dataset = dataset
        self.knobs = knobs
        self.weights = weights
        self.maxDelayNanos = maxDelayNanos
        self.snapshots = snapshots
        queue = RequestQueue()
        generator = LoadGenerator(queue: queue, sampleCount: dataset.count, ratePerSecond: ratePerSecond, seed: seed &+ 7)
        batchSite = profiler.site("batch")
        layerSites = replica.registerSites(in: profiler)
        respondSite = profiler.site("respond")
        x = Tensor([1] + replica.inputShape, name: "serve.x")
        latency = LatencyWindow(origin: monotonicNanos())
        snapshots.publish(makeSnapshot())
    }

    public func start() {
        generator.start()
        let t = Thread { [self] in
            nameCurrentThread("inftop-serve")
            run()
            done.withLock { $0 = true }
        }
        t.name = "inftop-serve"
        thread = t
        t.start()
    }

    /// Stops the generator and the server and waits (bounded) for the serving thread to leave.
    public func stop() {
        generator.stop()
        stopFlag.set()
        for _ in 0..<500 where !done.withLock({ $0 }) { usleep(2_000) }
    }

    private func run() {
        state = .running
        while !stopFlag.isSet {
            readKnobs()
            if case .paused = state {
                latency.closeWindowIfDue(now: monotonicNanos())
                publishIfDue(force: false)
                usleep(20_000)
                continue
            }
            if let w = weights, let v = w(replica, weightsVersion) { weightsVersion = v }
            guard let first = queue.oldestArrival() else {
                latency.closeWindowIfDue(now: monotonicNanos())
                publishIfDue(force: false)
                usleep(200)
                continue
            }
            // Dynamic batching: run when the batch is full or the oldest request waited maxDelay.
            let now = monotonicNanos()
            if queue.count < batchSize && now &- first < maxDelayNanos {
                usleep(100)
                continue
            }
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
        let c = Compute(backend: KernelBackend(rawValue: v.backend.rawValue) ?? .blas, threads: 1)
        if v.inferenceBatchSize != batchSize || c != compute {
            batchSize = max(1, min(v.inferenceBatchSize, KnobValues.batchRange.upperBound))
            compute = c
            latency.reset()
            profiler.resetStatistics()
        }
    }

    private func serveOneBatch() {
        let t0 = monotonicNanos()
        profiler.beginStep()
        let n = queue.pop(max: batchSize, into: &pending)
        guard n > 0 else { return }
        if profiler.tap.isOn { profiler.tap.counter(.queueDepth, Double(queue.count)) }  // exports only
        x.resize([n] + replica.inputShape)
        indices.removeAll(keepingCapacity: true)
        for r in pending { indices.append(r.sample) }
        if labels.count < n { labels = Array(repeating: 0, count: n) }
        indices.withUnsafeBufferPointer { idx in
            labels.withUnsafeMutableBufferPointer { lab in
                dataset.gather(indices: idx.baseAddress!, n: n, x: x.data, labels: lab.baseAddress!)
            }
        }
        profiler.buffer.lap(site: batchSite, phase: .forward)
        let logits = replica.forward(x, compute, training: false, spans: profiler.buffer, sites: layerSites)
        let classes = logits.shape.last ?? 1
        let out = logits.data
        for b in 0..<n {
            var best = 0
            for c in 1..<classes where out[b * classes + c] > out[b * classes + best] { best = c }
            if Int32(best) == labels[b] { correct += 1 }
        }
        let doneAt = monotonicNanos()
        for r in pending {
            latency.record(latencyNanos: doneAt &- r.arrivalNanos, now: doneAt)
            profiler.tap.request(at: doneAt, latencyNanos: doneAt &- r.arrivalNanos, queueNanos: t0 &- min(t0, r.arrivalNanos))
        }
        profiler.buffer.lap(site: respondSite, phase: .forward)
        profiler.endStep(wallNanos: monotonicNanos() &- t0)
        requests += n
        batches += 1
    }

    private func publishIfDue(force: Bool) {
        let now = monotonicNanos()
        guard force || now &- lastPublish >= 100_000_000 else { return }
        lastPublish = now
        snapshots.publish(makeSnapshot())
    }

    private func makeSnapshot() -> InferenceSnapshot {
        InferenceSnapshot(
            model: modelName, state: state, requests: requests, batches: batches, batchSize: batchSize,
            latency: latency.recent, itemsPerSecond: latency.recentItemsPerSecond, cacheHitRate: nil,
            // Finished: the last snapshot stays on screen, so its percentiles are current ones.
            // (Paused snapshots go out at 10 Hz; the usual once-a-second refresh covers them.)
            layers: profiler.layerStats(fresh: state == .finished), profilerOverhead: profiler.overheadFraction,
            series: [latency.p50Series.snapshot(), latency.p99Series.snapshot(), latency.throughputSeries.snapshot()],
            servedAccuracy: requests > 0 ? Double(correct) / Double(requests) : nil,
            offeredPerSecond: generator.ratePerSecond, dropped: queue.dropped, weightsVersion: weightsVersion)
    }
}
