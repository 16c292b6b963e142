import InftopEngine
import InftopTelemetry

/// One trial of `inftop tune`: a real training run (TrainingLoop, on the calling thread) of
/// `config` for `budgetSeconds` of training time, then one evaluation on the test set.
/// `onLoop` is handed the loop before it runs.
public enum TuneTrial {
    public static func run(model: String, config trial: TrialConfig, budgetSeconds: Double, seed: UInt64, target: Double?,
                           threads: Int, backend: KernelBackend, isa: KernelISA, train: ImageDataset, test: ImageDataset,
                           clock: any NanoClock = SystemClock(), onLoop: (TrainingLoop) -> Void = { _ in }) throws -> TrialOutcome {
        let start = clock.now()
        var c = TrainingConfig(model: model, epochs: 1000, optimizer: trial.optimizer, learningRate: trial.learningRate, seed: seed, target: target)
        c.maxTrainingSeconds = budgetSeconds
        // A target is checked a few times an epoch (its time then is what the ranking compares).
        c.evalsPerEpoch = target == nil ? 1 : 10
        c.snapshotIntervalNanos = 1_000_000_000
        let knobs = Knobs(KnobValues(batchSize: trial.batchSize, threads: threads, backend: backend, model: model, isa: isa))
        let loop = try TrainingLoop(config: c, train: train, test: test, knobs: knobs, clock: clock)
        onLoop(loop)  // the dashboard's search keeps it to stop it on quit (requestStop)
        let report = loop.run()
        if let e = report.error { throw e }
        let last = report.epochs.last
        return TrialOutcome(testAccuracy: last?.testAccuracy ?? .nan, trainingSeconds: last?.trainingSeconds ?? 0,
                            wallSeconds: Double(clock.now() - start) / 1e9, steps: report.totalSteps, timeToTarget: report.timeToTarget)
    }
}
