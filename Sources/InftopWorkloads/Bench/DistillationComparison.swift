import InftopEngine
import InftopTelemetry

/// One epoch of `inftop train --distill`: the distilled student's and the hard-label control's
/// summaries of the same epoch.
public struct DistillationEpoch: Sendable {
    public var distilled: EpochSummary
    public var control: EpochSummary
}

/// Parameters and measured inference latency of one model of the comparison.
public struct DistillationModelFacts: Sendable {
    public var name: String
    public var parameters: Int
    public var testAccuracy: Double
    /// Forward of one batch of `batch` test images, p50 over `runs` timed runs (`ClassifierBenchmark`).
    public var p50Ms: Double
    public var batch: Int
    public var runs: Int
}

/// `inftop train --distill`: a student trained on a teacher's soft targets (α, T) beside a
/// control — the same student, seed, initial weights and batch order, trained on the hard
/// labels only — so what distillation buys is measured, not assumed. The two run at once, each
/// a `TrainingLoop` on its own thread (the distilled one also runs the teacher's forward per
/// batch); a callback gets each epoch once both have finished it.
///
/// The control trains with `SoftmaxCrossEntropy`, which is α = 0 of the distillation loss bit
/// for bit (DistillationLossTests), without the teacher's forward it would multiply by zero.
public final class DistillationComparison {
    public let distilled: TrainingLoop
    public let control: TrainingLoop
    public let teacher: Model
    private let test: ImageDataset

    /// `config.model` is the student, `config.distillation` the settings; `teacher` holds its
    /// trained weights. The control gets the same config without distillation or checkpoint.
    /// - Throws: `EngineError.invalid` for a bad config or pair (`TrainingLoop`).
    public init(config: TrainingConfig, teacher: Model, train: ImageDataset, test: ImageDataset, knobs: KnobValues) throws {
        precondition(config.distillation != nil, "DistillationComparison: config has no distillation settings")
        var plain = config
        plain.distillation = nil
        plain.checkpointPath = nil
        distilled = try TrainingLoop(config: config, train: train, test: test, knobs: Knobs(knobs), teacher: teacher)
        control = try TrainingLoop(config: plain, train: train, test: test, knobs: Knobs(knobs))
        self.teacher = teacher
        self.test = test
    }

    /// Trains both to the end; `onEpoch` is called (on one of the loops' threads, one call at a
    /// time) with each epoch both have finished, in order. Returns both reports.
    public func run(onEpoch: @escaping @Sendable (DistillationEpoch) -> Void) -> (distilled: TrainingReport?, control: TrainingReport?) {
        let pairs = EpochPairs(onEpoch)
        distilled.onEpoch = { pairs.arrived($0, distilledSide: true) }
        control.onEpoch = { pairs.arrived($0, distilledSide: false) }
        distilled.start()
        control.start()
        return (distilled.wait(), control.wait())
    }

    /// Parameters, test accuracy and the p50 latency of a forward of `batch` test images for
    /// `model` (after training: nothing else is running).
    public func facts(_ model: Model, batch: Int = 64, compute: Compute) -> DistillationModelFacts {
        let r = ClassifierBenchmark(model: model, test: test).run(precisions: [.fp32], batches: [batch], compute: compute, minRuns: 50, minSeconds: 1)[0]
        return DistillationModelFacts(name: model.name, parameters: model.parameterCount, testAccuracy: r.testAccuracy,
                                      p50Ms: r.p50Ms, batch: batch, runs: r.runs)
    }
}

/// Each side's epoch summaries until the other side has the same epoch; then the pair goes to
/// the callback, under the lock (one call at a time; each side's epochs come in order, so the
/// pairs do too).
private final class EpochPairs: Sendable {
    private let state = Locked<(distilled: [Int: EpochSummary], control: [Int: EpochSummary])>(([:], [:]))
    private let onEpoch: @Sendable (DistillationEpoch) -> Void

    init(_ onEpoch: @escaping @Sendable (DistillationEpoch) -> Void) { self.onEpoch = onEpoch }

    func arrived(_ s: EpochSummary, distilledSide: Bool) {
        state.withLock { p in
            if distilledSide { p.distilled[s.epoch] = s } else { p.control[s.epoch] = s }
            guard let d = p.distilled[s.epoch], let c = p.control[s.epoch] else { return }
            onEpoch(DistillationEpoch(distilled: d, control: c))
        }
    }
}
