import Foundation
import InftopEngine
import InftopTelemetry
import Synchronization

/// What `inftop` runs with no arguments: a training loop and, in the same process, an inference
/// service serving the latest trained weights to the built-in load generator.
///
/// The UI thread calls `snapshot()` at its own pace; it only reads published snapshots and the
/// memory counters, never waits for a step. A supervisor thread watches `knobs.model` and, when
/// the user switches model (`m`), stops both workloads at their next step boundary and starts
/// new ones for the new model (on the same loaded dataset).
public final class DashboardSession: @unchecked Sendable {
    public let knobs: Knobs
    public let train: ImageDataset
    public let test: ImageDataset
    /// The recipe; `model` comes from the knobs, everything else from here.
    public let baseConfig: TrainingConfig
    /// Requests per second offered to the inference service, per model.
    public let servingRate: [String: Double]

    private struct Running {
        var model: String
        var training: TrainingLoop
        var serving: InferenceService
    }
    private let running = Mutex<Running?>(nil)
    private let trainingSlot = SnapshotSlot<TrainingSnapshot>()
    private let servingSlot = SnapshotSlot<InferenceSnapshot>()
    private let stopFlag = StopFlag()
    private let origin = monotonicNanos()
    private let memory = Mutex<(series: SeriesRing, last: UInt64)>((SeriesRing(name: "rss_mb", unit: "MB"), 0))
    private var supervisor: JoinableThread?
    private let lastError = Mutex<String?>(nil)

    /// - Throws: `EngineError` when the first workloads cannot be built (unknown model, data that
    ///   does not fit).
    public init(train: ImageDataset, test: ImageDataset, knobs: Knobs, baseConfig: TrainingConfig,
                servingRate: [String: Double] = ["mlp": 1000, "cnn": 100]) throws {
        self.train = train
        self.test = test
        self.knobs = knobs
        self.baseConfig = baseConfig
        self.servingRate = servingRate
        try launch(model: knobs.values.model)
    }

    /// Starts the supervisor (the workloads are already running).
    public func start() {
        supervisor = JoinableThread(name: "inftop-switch") { [self] in supervise() }
    }

    /// Stops the supervisor, then the workloads (each at its next step boundary). The supervisor
    /// is joined first, so a model switch in flight finishes before the workloads are stopped
    /// and none it launched outlives the session.
    public func stop() {
        stopFlag.set()
        supervisor?.join()
        let r = running.withLock { r -> Running? in let old = r; r = nil; return old }
        if let r {
            r.serving.stop()
            r.training.stop()
        }
    }

    /// The names `m` cycles through.
    public static var modelNames: [String] { ModelZoo.names }

    /// Everything the dashboard draws, as of the latest published step of each workload.
    public func snapshot() -> DashboardSnapshot {
        let now = monotonicNanos()
        let mem = MemorySnapshot.now()
        let rss = memory.withLock { m -> SeriesSnapshot in
            if now &- m.last >= 500_000_000 {
                m.series.append(time: Double(now &- origin) / 1e9, value: Double(mem.residentBytes) / 1_048_576)
                m.last = now
            }
            return m.series.snapshot()
        }
        var training = trainingSlot.latest()
        if let why = lastError.withLock({ $0 }) { training?.state = .failed(why) }
        return DashboardSnapshot(uptimeSeconds: Double(now &- origin) / 1e9, training: training,
                                 inference: servingSlot.latest(), memory: mem, memorySeries: rss)
    }

    /// The latest training loop (for tests and the headless paths).
    public var trainingLoop: TrainingLoop? { running.withLock { $0?.training } }

    private func launch(model: String) throws {
        var config = baseConfig
        config.model = model
        let loop = try TrainingLoop(config: config, train: train, test: test, knobs: knobs, snapshots: trainingSlot)
        let serve = try InferenceService(
            modelName: model, dataset: test, knobs: knobs, ratePerSecond: servingRate[model] ?? 100,
            seed: config.seed, weights: { [weak loop] replica, held in loop?.copyLatestWeights(into: replica, ifNewerThan: held) },
            snapshots: servingSlot)
        loop.start()
        serve.start()
        running.withLock { $0 = Running(model: model, training: loop, serving: serve) }
    }

    private func supervise() {
        while !stopFlag.isSet {
            usleep(50_000)
            let wanted = knobs.values.model
            guard let current = running.withLock({ $0?.model }), current != wanted, !stopFlag.isSet else { continue }
            let old = running.withLock { r -> Running? in let o = r; r = nil; return o }
            old?.serving.stop()
            old?.training.stop()
            do {
                try launch(model: wanted)
                lastError.withLock { $0 = nil }
            } catch {
                lastError.withLock { $0 = "\(error)" }
                knobs.update { $0.model = current }
                try? launch(model: current)
            }
        }
    }
}
