import InftopEngine
import InftopTelemetry

/// The optimizer settings a step runs with: what `--optimizer`/`--lr`/`--momentum`/
/// `--weight-decay`/`--schedule` set at start, and the knobs (`o`, `<`/`>`/`l`) change later.
public struct Hyperparameters: Sendable, Equatable {
    public var optimizer: OptimizerKind
    /// The rate the schedule scales (the knob's, or `--lr`).
    public var baseLearningRate: Float
    /// The rate in force this step: base × schedule factor.
    public var learningRate: Float
    public var momentum: Float
    public var weightDecay: Float
    public var schedule: LRSchedule
}

/// Averages gradients across the ranks of a data-parallel run (`MPIGradientSync`); nil when
/// training runs in one process.
protocol GradientSync: AnyObject {
    /// Replaces each parameter's gradient with Σ over ranks of `scale`·grad (the caller's
    /// `scale` = its samples ÷ the global batch, so the sum is the global batch's mean), and
    /// `stats` (this rank's loss·samples, correct) with their sums over ranks.
    func allreduce(_ params: [Parameter], scale: Float, stats: inout (Double, Double)) throws
}

/// One training step's compute, [teacher forward] → forward → loss → backward → (allreduce) →
/// update, and the hyperparameters it runs with. With a teacher (distillation) the loss is
/// `DistillationLoss` on the teacher's logits for the same batch, else `SoftmaxCrossEntropy`. The update (`update()`) is the one place the parameters
/// change: a hook that must touch every update (pruning masks) goes there.
final class TrainingStep {
    let model: Model
    let profiler: StepProfiler
    let spansOn: Bool
    let lossFunction = SoftmaxCrossEntropy()
    /// The model distilled from (not trained here; its forward gives the soft targets), nil
    /// without distillation.
    let teacher: Model?
    /// The loss with a teacher (its T and α change at step boundaries: `setDistillation`).
    let distillLoss: DistillationLoss?
    /// One site per teacher node, "teacher.<node>".
    let teacherSites: [Int32]
    let lossSite: Int32, optimizerSite: Int32
    /// "allreduce", only under data parallelism.
    let syncSite: Int32?
    let layerSites: [Int32]
    let sync: GradientSync?
    private(set) var optimizer: any Optimizer
    private(set) var hyper: Hyperparameters
    /// The explicit `--weight-decay`, nil = each optimizer's default.
    private let configuredWeightDecay: Float?

    init(model: Model, profiler: StepProfiler, config: TrainingConfig, sync: GradientSync?, teacher: Model? = nil) {
        self.model = model
        self.profiler = profiler
        spansOn = config.telemetry
        self.sync = sync
        self.teacher = teacher
        let d = config.distillation ?? DistillationSettings()
        distillLoss = teacher == nil ? nil : DistillationLoss(temperature: d.temperature, alpha: d.alpha)
        teacherSites = teacher?.registerSites(in: profiler, prefix: "teacher.") ?? []
        layerSites = model.registerSites(in: profiler)
        lossSite = profiler.site("loss")
        syncSite = sync == nil ? nil : profiler.site("allreduce")
        optimizerSite = profiler.site("optimizer")
        configuredWeightDecay = config.weightDecay
        hyper = Hyperparameters(optimizer: config.optimizer, baseLearningRate: config.learningRate, learningRate: config.learningRate,
                                momentum: config.momentum, weightDecay: config.effectiveWeightDecay, schedule: config.schedule)
        optimizer = Self.make(hyper)
    }

    static func make(_ h: Hyperparameters) -> any Optimizer {
        switch h.optimizer {
        case .sgd: SGD(learningRate: h.learningRate, momentum: h.momentum, weightDecay: h.weightDecay)
        case .adamw: AdamW(learningRate: h.learningRate, weightDecay: h.weightDecay)
        }
    }

    /// Forward, loss, backward and the update on `batch`; the batch's mean loss and correct
    /// predictions (over the global batch under data parallelism).
    @inline(__always)
    func run(_ batch: StepBatch) throws -> (loss: Float, correct: Int) {
        let spans: SpanBuffer? = spansOn ? profiler.buffer : nil
        let soft = teacher?.forward(batch.x, spans: spans, sites: teacherSites)
        let logits = model.forward(batch.x, training: true, spans: spans, sites: layerSites)
        var (loss, correct) = if let distillLoss, let soft {
            distillLoss.forward(student: logits, teacher: soft, labels: batch.labels, count: batch.count)
        } else {
            lossFunction.forward(logits: logits, labels: batch.labels, count: batch.count)
        }
        profiler.buffer.lap(site: lossSite, phase: .forward)
        let dLogits = distillLoss?.backward() ?? lossFunction.backward()
        profiler.buffer.lap(site: lossSite, phase: .backward)
        model.backward(dLogits, spans: spans, sites: layerSites)
        if let sync, let syncSite {
            var stats = (Double(loss) * Double(batch.count), Double(correct))
            try sync.allreduce(model.parameters, scale: Float(batch.count) / Float(batch.globalCount), stats: &stats)
            loss = Float(stats.0 / Double(batch.globalCount))
            correct = Int(stats.1.rounded())
            profiler.buffer.lap(site: syncSite, phase: .other)
        }
        update()
        profiler.buffer.lap(site: optimizerSite, phase: .optimizer)
        return (loss, correct)
    }

    /// The update: the optimizer's step on every parameter from its gradient, then the
    /// gradients cleared for the next backward.
    @inline(__always)
    func update() {
        optimizer.step(model.parameters)
        model.applyMasks()  // pruned weights stay exactly zero while fine-tuning (no-op unpruned)
        zeroGradients(model.parameters)
    }

    // MARK: hyperparameters (at step boundaries only)

    /// New distillation temperature and α (validated by the caller); no-op without a teacher.
    func setDistillation(_ d: DistillationSettings) {
        distillLoss?.temperature = d.temperature
        distillLoss?.alpha = d.alpha
    }

    /// Sets the rate for the run's progress `p` (0…1) from the base rate and the schedule.
    func schedule(progress p: Double) {
        let lr = Float(Double(hyper.baseLearningRate) * hyper.schedule.factor(progress: p))
        hyper.learningRate = lr
        optimizer.learningRate = lr
    }

    /// A new base rate; the caller re-applies the schedule.
    func setBaseLearningRate(_ lr: Float) { hyper.baseLearningRate = lr }

    /// Switches the optimizer, carrying its first moment over (`OptimizerHandover`); the weight
    /// decay becomes `--weight-decay` or the new optimizer's default. Returns false when
    /// `kind` is already in force.
    @discardableResult
    func setOptimizer(_ kind: OptimizerKind) -> Bool {
        guard kind != hyper.optimizer else { return false }
        hyper.optimizer = kind
        hyper.weightDecay = configuredWeightDecay ?? (kind == .adamw ? 0.01 : 0)
        let next = Self.make(hyper)
        OptimizerHandover.carry(from: optimizer, to: next)
        optimizer = next
        return true
    }
}
