import InftopTelemetry
import Synchronization

/// Which model the serving side serves (`v` cycles).
public enum ServedModel: String, CaseIterable, Sendable, Codable {
    /// The model being trained, with its latest weights.
    case trained
    /// The pretrained text encoder (`--serve DIR`, by default the installed MiniLM).
    case encoder
    /// The generative model (`--llm FILE`, by default the installed SmolLM2-135M-Instruct).
    case generator

    /// The next of `available` after this one (`v`), in case order; this one when none other is.
    public func next(among available: Set<ServedModel>) -> ServedModel {
        let all = Self.allCases
        let i = all.firstIndex(of: self)!
        for k in 1...all.count where available.contains(all[(i + k) % all.count]) { return all[(i + k) % all.count] }
        return self
    }
}

/// What the user wants next. Workloads read a copy at each step boundary; the UI writes.
public struct KnobValues: Sendable, Equatable, Codable {
    /// Training mini-batch size, 1…1024.
    public var batchSize: Int
    /// Inference batch size, 1…1024 (follows the same key by default).
    public var inferenceBatchSize: Int
    public var precision: Precision
    /// Fraction of weights pruned, 0…0.9 (`p`): of the served model's weight-bearing nodes and,
    /// for mlp/cnn, of the trained model's (fine-tuning goes on with the masks).
    public var pruning: Double
    /// How `pruning` prunes (`P`); nil (records written before it existed) = unstructured.
    public var pruneMode: PruneMode?
    public var threads: Int
    public var backend: KernelBackend
    /// Kernel ISA tier (`I`, `--isa`): auto = the widest the CPU has; workloads map it through
    /// `HostCPU.runnable` into `Compute.isa`.
    public var isa: KernelISA
    public var responseCache: Bool
    /// `d`: a student (`ModelZoo.student(for:)` of `model`) trains live beside the model being
    /// trained, learning from its soft targets.
    public var distillation: Bool
    /// Distillation temperature T (> 0); nil = `DistillationSettings`' default (4).
    public var distillTemperature: Float?
    /// Distillation weight α of the soft term, in [0, 1]; nil = the default (0.9).
    public var distillAlpha: Float?
    /// `D` (with `distillation` on): the serving side serves the student instead of the teacher;
    /// nil (records written before it existed) = no. See `servingStudent`.
    public var servesStudent: Bool?
    public var trainingPaused: Bool
    public var inferencePaused: Bool
    /// The model being trained and served ("mlp", "cnn"); `m` cycles it, the workloads restart
    /// with the new one at the next step boundary.
    public var model: String
    /// What the serving side serves; `v` switches it while training goes on.
    public var served: ServedModel
    /// Dynamic batching: longest the oldest request waits for its batch to fill, ms (`w`).
    public var maxQueueDelayMs: Double
    /// Serving workers taking batches concurrently, one thread each (`a`).
    public var servingWorkers: Int
    /// Percent of requests drawn (Zipf-like) from a hot set (`z`): what the cache can hit.
    public var repeatPercent: Int
    /// How requests are offered (`L`).
    public var scenario: LoadScenario
    /// Server scenario's Poisson rate, requests/s (`<`/`>` on the serving panel); nil = the
    /// served model's descriptor rate.
    public var offeredRate: Double?
    /// Server scenario's p99 latency bound, ms; nil = the served model's descriptor bound.
    public var p99BoundMs: Double?
    /// Response cache capacity, bytes (keys, answers and bookkeeping). The default, 512 KiB,
    /// holds the hot set but not a pass over the cold inputs of either served model (5 000 of
    /// 10 000 test images' logits, 327 of 2 400 sentences' embeddings), so hits ≈ repeats.
    public var cacheBytes: Int
    /// Training's base learning rate (`<`/`>` halve/double it, `l` types one; the schedule
    /// scales it); nil = the run's `--lr`. > 0.
    public var learningRate: Float?
    /// Training's optimizer (`o`); nil = the run's `--optimizer`.
    public var optimizer: OptimizerKind?
    /// The generator's KV cache (`K`); nil (records written before it existed) = on.
    public var kvCache: Bool?
    /// The generator's concurrent generations (`+`/`-` on the Latency panel while it is
    /// served), 1…8; nil = 1.
    public var generationStreams: Int?

    public static let batchRange = 1...1024
    /// What `w` cycles through, ms.
    public static let queueDelaySteps: [Double] = [0, 1, 2, 5, 10]
    /// What `z` cycles through, percent.
    public static let repeatSteps = [0, 25, 50, 90]
    /// Offered rates the serving panel's `<`/`>` keep within, requests/s.
    public static let rateRange = 0.5...1_000_000.0

    public init(batchSize: Int = 64, inferenceBatchSize: Int = 8, precision: Precision = .fp32, pruning: Double = 0,
                threads: Int = 1, backend: KernelBackend = .blas, responseCache: Bool = false,
                distillation: Bool = false, trainingPaused: Bool = false, inferencePaused: Bool = false,
                model: String = "mlp", served: ServedModel = .trained, isa: KernelISA = .auto, pruneMode: PruneMode? = nil,
                maxQueueDelayMs: Double = 2, servingWorkers: Int = 1, repeatPercent: Int = 0,
                scenario: LoadScenario = .server, offeredRate: Double? = nil, p99BoundMs: Double? = nil,
                cacheBytes: Int = 512 << 10,
                learningRate: Float? = nil, optimizer: OptimizerKind? = nil,
                distillTemperature: Float? = nil, distillAlpha: Float? = nil, servesStudent: Bool? = nil) {
        self.batchSize = batchSize; self.inferenceBatchSize = inferenceBatchSize; self.precision = precision
        self.pruning = pruning; self.threads = threads; self.backend = backend; self.responseCache = responseCache
        self.distillation = distillation; self.trainingPaused = trainingPaused; self.inferencePaused = inferencePaused
        self.model = model; self.served = served; self.isa = isa
        self.maxQueueDelayMs = maxQueueDelayMs; self.servingWorkers = servingWorkers; self.repeatPercent = repeatPercent
        self.scenario = scenario; self.offeredRate = offeredRate; self.p99BoundMs = p99BoundMs; self.cacheBytes = cacheBytes
        self.learningRate = learningRate; self.optimizer = optimizer
        self.pruneMode = pruneMode
        self.distillTemperature = distillTemperature; self.distillAlpha = distillAlpha; self.servesStudent = servesStudent
    }

    /// The distillation settings in force (the knobs' T and α, the defaults where unset).
    public var distillationSettings: DistillationSettings {
        let d = DistillationSettings()
        return DistillationSettings(temperature: distillTemperature ?? d.temperature, alpha: distillAlpha ?? d.alpha)
    }

    /// Whether the student is served: `D` asked for it and distillation is on.
    public var servingStudent: Bool { distillation && servesStudent == true }

    /// The pruning mode in force (`pruneMode`, unstructured when unset).
    public var effectivePruneMode: PruneMode { pruneMode ?? .unstructured }
}

extension KnobValues {
    /// Takes from `new` every field that differs between `old` and `new` — what one writer
    /// changed in its copy — and leaves the others as they are here, so a writer that read
    /// `old`, edited a copy and writes back does not undo what another writer (the session's
    /// model switch, later an A/B run) set in between. Every field is listed; a test fails when
    /// a field is added without being listed here.
    public mutating func applyChanges(from old: KnobValues, to new: KnobValues) {
        Self.take(\.batchSize, &self, old, new)
        Self.take(\.inferenceBatchSize, &self, old, new)
        Self.take(\.precision, &self, old, new)
        Self.take(\.pruning, &self, old, new)
        Self.take(\.threads, &self, old, new)
        Self.take(\.backend, &self, old, new)
        Self.take(\.responseCache, &self, old, new)
        Self.take(\.distillation, &self, old, new)
        Self.take(\.trainingPaused, &self, old, new)
        Self.take(\.inferencePaused, &self, old, new)
        Self.take(\.model, &self, old, new)
        Self.take(\.served, &self, old, new)
        Self.take(\.isa, &self, old, new)
        Self.take(\.maxQueueDelayMs, &self, old, new)
        Self.take(\.servingWorkers, &self, old, new)
        Self.take(\.repeatPercent, &self, old, new)
        Self.take(\.scenario, &self, old, new)
        Self.take(\.offeredRate, &self, old, new)
        Self.take(\.p99BoundMs, &self, old, new)
        Self.take(\.cacheBytes, &self, old, new)
        Self.take(\.learningRate, &self, old, new)
        Self.take(\.optimizer, &self, old, new)
        Self.take(\.pruneMode, &self, old, new)
        Self.take(\.kvCache, &self, old, new)
        Self.take(\.generationStreams, &self, old, new)
        Self.take(\.distillTemperature, &self, old, new)
        Self.take(\.distillAlpha, &self, old, new)
        Self.take(\.servesStudent, &self, old, new)
    }

    /// The number of fields `applyChanges` copies (for the test that keeps it complete).
    public static let appliedFieldCount = 28

    private static func take<T: Equatable>(_ key: WritableKeyPath<KnobValues, T>, _ into: inout KnobValues,
                                           _ old: KnobValues, _ new: KnobValues) {
        if old[keyPath: key] != new[keyPath: key] { into[keyPath: key] = new[keyPath: key] }
    }
}

/// Shared, thread-safe knob values. Critical sections are a struct copy (nanoseconds).
public final class Knobs: Sendable {
    private let state: Locked<KnobValues>
    private let version = Atomic<Int>(0)

    public init(_ initial: KnobValues = KnobValues()) { state = Locked(initial) }

    /// A copy of the current values.
    public var values: KnobValues { state.withLock { $0 } }

    /// Changes values atomically; returns the new values.
    @discardableResult
    public func update(_ body: (inout KnobValues) -> Void) -> KnobValues {
        let v = state.withLock { s -> KnobValues in body(&s); return s }
        version.wrappingAdd(1, ordering: .releasing)
        return v
    }

    /// Increments on every update.
    public var changeCount: Int { version.load(ordering: .acquiring) }
}
