/// Statistics of one phase (forward, backward, …) of one site, in milliseconds.
public struct PhaseStat: Sendable, Equatable, Codable {
    public var calls: Int
    public var lastMs: Double
    public var meanMs: Double
    public var p50Ms: Double
    public var p90Ms: Double
    public var p99Ms: Double

    public init(calls: Int, lastMs: Double, meanMs: Double, p50Ms: Double, p90Ms: Double, p99Ms: Double) {
        self.calls = calls; self.lastMs = lastMs; self.meanMs = meanMs
        self.p50Ms = p50Ms; self.p90Ms = p90Ms; self.p99Ms = p99Ms
    }
}

/// One row of the Layers table: a site (a layer, or a part of one) and its timings.
public struct LayerStat: Sendable, Equatable, Codable {
    public var name: String
    public var forward: PhaseStat?
    public var backward: PhaseStat?
    /// Optimizer / data / other time attributed to this site, if any.
    public var other: PhaseStat?
    /// Fraction (0…1) of all span time spent in this site.
    public var share: Double

    public init(name: String, forward: PhaseStat?, backward: PhaseStat?, other: PhaseStat? = nil, share: Double) {
        self.name = name; self.forward = forward; self.backward = backward; self.other = other; self.share = share
    }
}

/// Bytes by owner and the process's resident memory.
public struct MemorySnapshot: Sendable, Equatable, Codable {
    /// Bytes per owner, indexed by `MemoryOwner.rawValue`.
    public var bytesByOwner: [Int]
    /// Bytes in use per owner (the rest of `bytesByOwner` is room tensors keep for their largest
    /// shape); nil in records written before it existed.
    public var inUseByOwner: [Int]?
    public var residentBytes: Int
    public var peakResidentBytes: Int

    public init(bytesByOwner: [Int], inUseByOwner: [Int]? = nil, residentBytes: Int, peakResidentBytes: Int) {
        self.bytesByOwner = bytesByOwner; self.inUseByOwner = inUseByOwner
        self.residentBytes = residentBytes; self.peakResidentBytes = peakResidentBytes
    }

    /// Reads the ledger and /proc now.
    public static func now(ledger: MemoryLedger = .shared) -> MemorySnapshot {
        MemorySnapshot(
            bytesByOwner: ledger.all(),
            inUseByOwner: ledger.allInUse(),
            residentBytes: ProcessMemory.shared.residentBytes(),
            peakResidentBytes: ProcessMemory.shared.peakResidentBytes())
    }

    public func bytes(_ owner: MemoryOwner) -> Int {
        owner.rawValue < bytesByOwner.count ? bytesByOwner[owner.rawValue] : 0
    }

    /// Bytes of `owner` in use; its allocated bytes when not recorded.
    public func inUse(_ owner: MemoryOwner) -> Int {
        guard let u = inUseByOwner, owner.rawValue < u.count else { return bytes(owner) }
        return u[owner.rawValue]
    }
}

/// A time series as plotted: `(seconds since start, value)` points, oldest first.
public struct SeriesSnapshot: Sendable, Equatable, Codable {
    public var name: String
    public var unit: String
    public var times: [Double]
    public var values: [Double]

    public init(name: String, unit: String, times: [Double], values: [Double]) {
        self.name = name; self.unit = unit; self.times = times; self.values = values
    }

    public var last: Double? { values.last }
}

/// State of a workload as the header shows it.
public enum WorkloadState: Sendable, Equatable, Codable {
    case starting, running, paused, finished
    case failed(String)

    public var label: String {
        switch self {
        case .starting: "starting"
        case .running: "running"
        case .paused: "PAUSED"
        case .finished: "finished"
        case .failed(let why): "failed: \(why)"
        }
    }
}

/// What the training loop did, published at a step boundary.
public struct TrainingSnapshot: Sendable, Equatable, Codable {
    public var model: String
    public var state: WorkloadState
    public var step: Int
    public var epoch: Int
    /// Fraction (0…1) of the current epoch done.
    public var epochProgress: Double
    /// Seconds left in this epoch at the current rate, nil before a rate is known.
    public var epochETASeconds: Double?
    public var batchSize: Int
    public var samplesPerSecond: Double
    public var lastLoss: Double?
    public var lastAccuracy: Double?
    public var testLoss: Double?
    public var testAccuracy: Double?
    public var layers: [LayerStat]
    public var stepTime: PhaseStat?
    /// Profiler's own cost as a fraction of wall time.
    public var profilerOverhead: Double
    /// Series: "train_loss", "train_acc" (per step, smoothed by the widget), "test_loss",
    /// "test_acc" (per evaluation), "samples_per_sec".
    public var series: [SeriesSnapshot]
    /// The optimizer settings in force (nil in records made before they were published).
    public var hyperparameters: HyperparameterLabel?
    /// Every hyperparameter change the user made, on the series' clock: markers on the charts.
    public var markers: [ChartMarker]?
    /// Data-parallel figures (nil when training runs in one process).
    public var distributed: DistributedStats?
    /// Times (seconds, the series' clock) at which the model was pruned or its pruning changed
    /// (`p` / `P`): marked on the training charts. Nil in records written before pruning existed.
    public var pruneMarkers: [Double]?
    /// The trained model's parameter count (nil in records written before it was published).
    public var parameters: Int? = nil

    public init(model: String, state: WorkloadState, step: Int, epoch: Int, epochProgress: Double,
                epochETASeconds: Double?, batchSize: Int, samplesPerSecond: Double, lastLoss: Double?,
                lastAccuracy: Double?, testLoss: Double?, testAccuracy: Double?, layers: [LayerStat],
                stepStat: PhaseStat?, profilerOverhead: Double, series: [SeriesSnapshot],
                hyperparameters: HyperparameterLabel? = nil, markers: [ChartMarker]? = nil, distributed: DistributedStats? = nil,
                pruneMarkers: [Double]? = nil) {
        self.hyperparameters = hyperparameters; self.markers = markers; self.distributed = distributed
        self.pruneMarkers = pruneMarkers
        self.model = model; self.state = state; self.step = step; self.epoch = epoch
        self.epochProgress = epochProgress; self.epochETASeconds = epochETASeconds
        self.batchSize = batchSize; self.samplesPerSecond = samplesPerSecond; self.lastLoss = lastLoss
        self.lastAccuracy = lastAccuracy; self.testLoss = testLoss; self.testAccuracy = testAccuracy
        self.layers = layers; self.stepTime = stepStat; self.profilerOverhead = profilerOverhead; self.series = series
    }

    public func series(_ name: String) -> SeriesSnapshot? { series.first { $0.name == name } }
}

/// The training's optimizer settings, as the header names them.
public struct HyperparameterLabel: Sendable, Equatable, Codable {
    /// "sgd", "adamw".
    public var optimizer: String
    /// The rate in force (base × schedule).
    public var learningRate: Double
    /// The rate the schedule scales (what `<`/`>`/`l` set).
    public var baseLearningRate: Double
    /// "constant", "step", "cosine", "one-cycle".
    public var schedule: String
    public var momentum: Double
    public var weightDecay: Double

    public init(optimizer: String, learningRate: Double, baseLearningRate: Double, schedule: String, momentum: Double, weightDecay: Double) {
        self.optimizer = optimizer; self.learningRate = learningRate; self.baseLearningRate = baseLearningRate
        self.schedule = schedule; self.momentum = momentum; self.weightDecay = weightDecay
    }
}

/// A moment worth a vertical mark on a chart (a hyperparameter change), with what changed.
public struct ChartMarker: Sendable, Equatable, Codable {
    /// Seconds on the series' clock.
    public var time: Double
    public var label: String

    public init(time: Double, label: String) { self.time = time; self.label = label }
}

/// What a data-parallel training run (MPI) measured, from rank 0's side.
public struct DistributedStats: Sendable, Equatable, Codable {
    public var ranks: Int
    /// Mean step time of each rank over the last publication interval, ms (index = rank).
    public var rankStepMs: [Double]
    /// Mean allreduce time per step on rank 0, ms.
    public var allreduceMs: Double

    public init(ranks: Int, rankStepMs: [Double], allreduceMs: Double) {
        self.ranks = ranks; self.rankStepMs = rankStepMs; self.allreduceMs = allreduceMs
    }
}

/// The execution plan a workload runs, as the header names it.
public struct PlanLabel: Sendable, Equatable, Codable {
    public var backend: KernelBackend
    public var isa: KernelISA
    public var precision: Precision
    public var threads: Int

    public init(backend: KernelBackend, isa: KernelISA, precision: Precision, threads: Int) {
        self.backend = backend; self.isa = isa; self.precision = precision; self.threads = threads
    }
}

/// Bytes one node of a model holds: its weights and its activation buffers.
public struct NodeMemory: Sendable, Equatable, Codable {
    public var name: String
    public var weights: Int
    public var activations: Int

    public init(name: String, weights: Int, activations: Int) {
        self.name = name; self.weights = weights; self.activations = activations
    }
}

/// How one node of a served model runs its weights: the fraction that is zero and the format
/// (dense, or csr where its pruned plan measured CSR faster); nil for weight-free nodes.
public struct NodePlan: Sendable, Equatable, Codable {
    public var name: String
    public var sparsity: Double?
    public var format: WeightFormat?

    public init(name: String, sparsity: Double?, format: WeightFormat?) {
        self.name = name; self.sparsity = sparsity; self.format = format
    }
}

/// The served model's per-node figures under the configuration before the last change (the
/// layer table's "vs" column: which rows got faster after `i`, `k`, `I`, `p`, …).
public struct LayerBaseline: Sendable, Equatable, Codable {
    /// That configuration ("fp32 simd avx2").
    public var label: String
    public var layers: [LayerStat]

    public init(label: String, layers: [LayerStat]) { self.label = label; self.layers = layers }
}

/// What the inference service did, published after a batch.
public struct InferenceSnapshot: Sendable, Equatable, Codable {
    public var model: String
    public var state: WorkloadState
    public var requests: Int
    public var batches: Int
    public var batchSize: Int
    /// Per-request latency (queueing + compute) percentiles over the recent window, ms.
    public var latency: PhaseStat?
    public var itemsPerSecond: Double
    public var cacheHitRate: Double?
    /// The served model's live accuracy: for classifiers the fraction of predictions that
    /// matched the label, for encoders the mean cosine to the fp32 reference embedding.
    public var servedAccuracy: Double?
    /// What `servedAccuracy` measures ("test accuracy", "cosine to fp32").
    public var accuracyLabel: String
    /// What the served model is ("MLP 784-256-128-10", "BERT 6×384, 22.7M params").
    public var summary: String
    /// The plan the served model runs.
    public var plan: PlanLabel?
    /// Per node: weights and activation bytes, in node order.
    public var nodeMemory: [NodeMemory]
    /// Per node: sparsity and format (nil in records written before pruning existed).
    public var nodePlans: [NodePlan]?
    /// Requests offered per second by the load generator, and dropped because the queue was full.
    public var offeredPerSecond: Double
    public var dropped: Int
    /// Version of the weights being served (increments when the replica takes newer trained weights).
    public var weightsVersion: Int
    public var layers: [LayerStat]
    public var profilerOverhead: Double
    /// Series: "latency_p50_ms", "latency_p99_ms", "items_per_sec".
    public var series: [SeriesSnapshot]
    /// Scenario, verdict, batching/worker settings, queue/compute split and cache (nil in
    /// records made before the serving floor existed).
    public var floor: ServingFloorSnapshot?
    /// Every configuration served this session (the current one last), for the trade-off view.
    public var tradeoff: [TradeoffPoint]?
    /// The generative model's figures when it is what is served (nil for classifiers and encoders).
    public var generation: GenerationSnapshot?
    /// When a knob change restarted the serving figures (series time), with the new
    /// configuration, for dotted lines on the serving charts (nil in older records).
    public var markers: [ChartMarker]?
    /// The per-node figures before the last configuration change (nil before any change and in
    /// older records).
    public var baseline: LayerBaseline?

    public init(model: String, state: WorkloadState, requests: Int, batches: Int, batchSize: Int,
                latency: PhaseStat?, itemsPerSecond: Double, cacheHitRate: Double?, layers: [LayerStat],
                profilerOverhead: Double, series: [SeriesSnapshot], servedAccuracy: Double? = nil,
                accuracyLabel: String = "test accuracy",
                offeredPerSecond: Double = 0, dropped: Int = 0, weightsVersion: Int = 0,
                summary: String = "", plan: PlanLabel? = nil, nodeMemory: [NodeMemory] = [], nodePlans: [NodePlan]? = nil,
                floor: ServingFloorSnapshot? = nil, tradeoff: [TradeoffPoint]? = nil, generation: GenerationSnapshot? = nil,
                markers: [ChartMarker]? = nil, baseline: LayerBaseline? = nil) {
        self.floor = floor; self.tradeoff = tradeoff; self.generation = generation; self.markers = markers
        self.baseline = baseline
        self.model = model; self.state = state; self.requests = requests; self.batches = batches
        self.batchSize = batchSize; self.latency = latency; self.itemsPerSecond = itemsPerSecond
        self.cacheHitRate = cacheHitRate; self.layers = layers; self.profilerOverhead = profilerOverhead
        self.series = series; self.servedAccuracy = servedAccuracy; self.offeredPerSecond = offeredPerSecond
        self.dropped = dropped; self.weightsVersion = weightsVersion
        self.accuracyLabel = accuracyLabel; self.summary = summary; self.plan = plan; self.nodeMemory = nodeMemory
        self.nodePlans = nodePlans
    }

    public func series(_ name: String) -> SeriesSnapshot? { series.first { $0.name == name } }
}

/// Everything the dashboard draws in one frame.
public struct DashboardSnapshot: Sendable, Equatable, Codable {
    public var uptimeSeconds: Double
    public var training: TrainingSnapshot?
    public var inference: InferenceSnapshot?
    public var memory: MemorySnapshot
    /// Series: "rss_mb".
    public var memorySeries: SeriesSnapshot?
    /// The distillation student training beside `training` (its teacher) while `d` is on; nil
    /// otherwise and in records written before it existed.
    public var student: TrainingSnapshot?
    /// The hyperparameter search of `inftop --tune` (the leaderboard panel); nil without one
    /// and in records written before it existed.
    public var tuning: TuningSnapshot?

    public init(uptimeSeconds: Double, training: TrainingSnapshot?, inference: InferenceSnapshot?,
                memory: MemorySnapshot, memorySeries: SeriesSnapshot?, student: TrainingSnapshot? = nil, tuning: TuningSnapshot? = nil) {
        self.uptimeSeconds = uptimeSeconds; self.training = training; self.inference = inference
        self.memory = memory; self.memorySeries = memorySeries; self.student = student; self.tuning = tuning
    }
}
