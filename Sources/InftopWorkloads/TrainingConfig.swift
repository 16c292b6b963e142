import InftopEngine
import InftopTelemetry

/// The optimizer a training run uses.
public enum OptimizerKind: String, CaseIterable, Sendable, Codable {
    /// `torch.optim.SGD` (momentum, L2 weight decay).
    case sgd
    /// `torch.optim.AdamW` (decoupled weight decay).
    case adamw

    /// What `o` switches to.
    public var next: OptimizerKind { self == .sgd ? .adamw : .sgd }

    /// The rate a switch to this optimizer starts at when the run has not used it yet (SGD's
    /// 0.05 would make AdamW diverge; AdamW's usual 1e-3 would stall SGD).
    public var defaultLearningRate: Float { self == .sgd ? 0.05 : 0.001 }

    /// Parses an `--optimizer` value; throws `EngineError.invalid` naming the flag and the known ones.
    public static func parse(_ s: String, flag: String = "--optimizer") throws -> OptimizerKind {
        guard let v = OptimizerKind(rawValue: s) else {
            throw EngineError.invalid(what: "\(flag) \(s)", reason: "unknown; known: \(allCases.map(\.rawValue).joined(separator: ", "))")
        }
        return v
    }
}

/// What a training run is asked to do. Everything the user can change while it runs (batch
/// size, threads, backend, pause) lives in `Knobs` instead.
public struct TrainingConfig: Sendable, Equatable {
    /// A `ModelZoo` name.
    public var model = "mlp"
    /// Epochs to run (≥ 1), unless the target accuracy stops it first.
    public var epochs = 5
    public var optimizer: OptimizerKind = .sgd
    /// > 0.
    public var learningRate: Float = 0.05
    /// How the rate moves over the run (the base rate is `learningRate`, or the knob's).
    public var schedule: LRSchedule = .constant
    /// SGD momentum (0…<1); AdamW ignores it (its β1 is 0.9).
    public var momentum: Float = 0.9
    /// ≥ 0; nil means 0 for SGD and 0.01 for AdamW (PyTorch's defaults).
    public var weightDecay: Float? = nil
    /// Seeds the weights and the loader's shuffles.
    public var seed: UInt64 = 0
    /// Stop as soon as an evaluation reaches this test accuracy (0…1).
    public var target: Double? = nil
    /// Test-set evaluations per epoch (≥ 1, the last at the epoch's end); more finds the time to
    /// target more precisely, as the PyTorch peers do with 10.
    public var evalsPerEpoch = 1
    /// Stop after this many steps (≥ 1), whatever the epochs say; nil = no limit.
    public var maxSteps: Int? = nil
    /// Stop once this much training time (seconds, evaluation excluded) has passed; nil = no limit.
    public var maxTrainingSeconds: Double? = nil
    /// Write the parameters here (safetensors, atomically) at each epoch end.
    public var checkpointPath: String? = nil
    /// false: no per-step clock reads, no spans, no per-step series (measuring is off).
    public var telemetry = true
    /// Loader threads converting batches ahead (0…2); 0: the training thread converts each batch
    /// itself (for comparing).
    public var loaderThreads = 1
    /// Batches the loader prepares ahead (1…7; the loader's pool holds one more, the batch in use).
    public var prefetchDepth = 2
    /// Convert the whole training set to fp32 once at start instead of each batch as it is made.
    public var cachePreprocessed = false
    /// Training-time augmentation (random crop with 2 px zero padding + horizontal flip); nil = none.
    public var augmentation: Augmentation? = nil
    /// Distill from a teacher (`TrainingLoop(…, teacher:)`) with these settings; nil = hard
    /// labels only.
    public var distillation: DistillationSettings? = nil
    /// Evaluation batch; nil picks 1000 for the MLP and 100 for the CNN (its im2col scratch
    /// grows with the batch).
    public var evalBatchSize: Int? = nil
    /// Least time between two published snapshots, nanoseconds.
    /// 100 ms: the dashboard draws at 10 Hz, a faster rate would build snapshots nobody sees.
    public var snapshotIntervalNanos: UInt64 = 100_000_000
    /// Least time between two weight publications for the inference replica, nanoseconds.
    public var weightsIntervalNanos: UInt64 = 200_000_000

    public init(model: String = "mlp", epochs: Int = 5, optimizer: OptimizerKind = .sgd, learningRate: Float = 0.05,
                momentum: Float = 0.9, weightDecay: Float? = nil, seed: UInt64 = 0, target: Double? = nil,
                evalsPerEpoch: Int = 1, checkpointPath: String? = nil, telemetry: Bool = true) {
        self.model = model; self.epochs = epochs; self.optimizer = optimizer; self.learningRate = learningRate
        self.momentum = momentum; self.weightDecay = weightDecay; self.seed = seed; self.target = target
        self.evalsPerEpoch = evalsPerEpoch; self.checkpointPath = checkpointPath; self.telemetry = telemetry
    }

    /// The weight decay in effect.
    public var effectiveWeightDecay: Float { weightDecay(for: optimizer) }

    /// The weight decay `kind` runs with: `weightDecay` when given, else its PyTorch default.
    public func weightDecay(for kind: OptimizerKind) -> Float { weightDecay ?? (kind == .adamw ? 0.01 : 0) }

    /// Throws `EngineError.invalid` naming the first bad value (as the CLI flag names it).
    public func validate() throws {
        if !ModelZoo.allNames.contains(model) {
            throw EngineError.invalid(what: "--model \(model)", reason: "unknown; known models: \(ModelZoo.allNames.joined(separator: ", "))")
        }
        if epochs < 1 { throw EngineError.invalid(what: "--epochs \(epochs)", reason: "must be ≥ 1") }
        if !(learningRate > 0) || !learningRate.isFinite {
            throw EngineError.invalid(what: "--lr \(learningRate)", reason: "must be a finite number > 0")
        }
        if !(momentum >= 0 && momentum < 1) { throw EngineError.invalid(what: "--momentum \(momentum)", reason: "must be in 0…<1") }
        if let wd = weightDecay, !(wd >= 0 && wd.isFinite) {
            throw EngineError.invalid(what: "--weight-decay \(wd)", reason: "must be a finite number ≥ 0")
        }
        if !(0...2).contains(loaderThreads) { throw EngineError.invalid(what: "--loader-threads \(loaderThreads)", reason: "must be 0, 1 or 2") }
        if !(1...7).contains(prefetchDepth) { throw EngineError.invalid(what: "--prefetch-depth \(prefetchDepth)", reason: "must be 1…7") }
        if let m = maxSteps, m < 1 { throw EngineError.invalid(what: "--max-steps \(m)", reason: "must be ≥ 1") }
        if let t = target, !(t > 0 && t <= 1) { throw EngineError.invalid(what: "--target \(t)", reason: "must be an accuracy in (0, 1]") }
        if evalsPerEpoch < 1 || evalsPerEpoch > 1000 {
            throw EngineError.invalid(what: "--evals-per-epoch \(evalsPerEpoch)", reason: "must be 1…1000")
        }
        try distillation?.validate()
        if let b = evalBatchSize, !KnobValues.batchRange.contains(b) {
            throw EngineError.invalid(what: "eval batch \(b)", reason: "must be 1…1024")
        }
    }
}

/// One evaluation point, or the end of an epoch, as the CLI prints it.
public struct EpochSummary: Sendable, Equatable, Codable {
    /// 1-based epoch number.
    public var epoch: Int
    /// Fraction of this epoch done (1 at its end; less when the target stopped it early).
    public var epochFraction: Double
    /// Mean training loss over this epoch's samples so far.
    public var trainLoss: Double
    public var trainAccuracy: Double
    public var testLoss: Double
    public var testAccuracy: Double
    /// Training samples per second over this epoch (evaluation excluded).
    public var samplesPerSecond: Double
    /// Wall seconds of this epoch, evaluation included.
    public var seconds: Double
    /// Training seconds since the run started, evaluation and pauses excluded (MLPerf's clock).
    public var trainingSeconds: Double
    /// Steps taken in this epoch.
    public var steps: Int
    /// Set on the summary whose evaluation first reached the target: `trainingSeconds` then.
    public var timeToTarget: Double?
    /// Every test evaluation of this epoch so far, in order (the last is the summary's own):
    /// with `evalsPerEpoch` > 1 they show how much test accuracy moves between nearby steps.
    public var evaluations: [Evaluation] = []
}

/// One evaluation on the test set during training.
public struct Evaluation: Sendable, Equatable, Codable {
    /// Fraction of the epoch done when it ran (0…1].
    public var epochFraction: Double
    /// Training seconds since the run started (as `EpochSummary.trainingSeconds`).
    public var trainingSeconds: Double
    public var testLoss: Double
    public var testAccuracy: Double

    public init(epochFraction: Double, trainingSeconds: Double, testLoss: Double, testAccuracy: Double) {
        self.epochFraction = epochFraction; self.trainingSeconds = trainingSeconds
        self.testLoss = testLoss; self.testAccuracy = testAccuracy
    }
}

/// What a finished run did.
public struct TrainingReport: Sendable {
    public var model: String
    public var epochs: [EpochSummary]
    /// The profiler's per-site table at the end (empty with telemetry off).
    public var layers: [LayerStat]
    public var stepStat: PhaseStat?
    public var profilerOverhead: Double
    /// Training seconds (evaluation and pauses excluded) until the target, if it was reached.
    public var timeToTarget: Double?
    public var totalSteps: Int
    /// Why it ended early: "stopped", "target reached", or an error's line; nil when all epochs ran.
    public var endedBecause: String?
    /// A failure (a checkpoint that could not be written…), if any.
    public var error: EngineError?
}
