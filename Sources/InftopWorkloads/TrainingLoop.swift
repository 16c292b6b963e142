import InftopEngine
import InftopTelemetry
import Synchronization

/// Trains a `ModelZoo` model on an image dataset on its own thread, step by step:
///
///     data wait ("data") → forward (a span per layer) → loss ("loss") → backward (a span per
///     layer, reverse order) → [gradient allreduce ("allreduce")] → optimizer step + zero grad
///     ("optimizer")
///
/// Each span is a lap of the loop's `StepProfiler`, so the spans of a step add up to its wall
/// time. The loop is the orchestration; each lever has one home:
///
///     data          TrainingData            loader, batch size, this rank's shard
///     step          TrainingStep            forward/backward, optimizer, hyperparameters, allreduce
///     evaluation    TrainingLoop+Evaluate   test-set passes and their series
///     knobs         TrainingLoop+Knobs      what the user changed, applied at step boundaries
///     publishing    TrainingLoop+Snapshot   series, snapshots, markers, weights for the replica
///
/// Knobs (batch size, threads, backend, learning rate, optimizer, pause) are read at step
/// boundaries only. After each step the loss and accuracy go into series; a
/// `TrainingSnapshot` is published at most every `snapshotIntervalNanos` (and at every epoch
/// end and state change), never per step otherwise, since building one computes percentiles.
/// The test set is evaluated `evalsPerEpoch` times per epoch and on `requestEvaluation()`;
/// evaluation time is kept out of the training clock, as MLPerf's time-to-train does.
///
/// Lifecycle: `init` builds everything (and throws on a bad config), `start()` launches the
/// thread, `stop()` asks it to finish at the next step boundary and joins it, `wait()` joins
/// and returns the report. While paused the thread sleeps on a condition (20 ms timeouts), it
/// burns no CPU.
public final class TrainingLoop: @unchecked Sendable {
    public let config: TrainingConfig
    /// The model being trained. Its weights change under the loop's feet while it runs: read
    /// them through `copyLatestWeights(into:)`.
    public let model: Model
    /// The model distilled from (nil: hard labels only).
    public var teacher: Model? { stepper.teacher }
    public let train: ImageDataset
    public let test: ImageDataset
    public let knobs: Knobs
    public let snapshots: SnapshotSlot<TrainingSnapshot>
    /// Called on the loop's thread at each epoch end (and when the target stops an epoch early)
    /// with the epoch's summary. Set it before `start()`.
    public var onEpoch: (@Sendable (EpochSummary) -> Void)?
    /// Called on the loop's thread after every test evaluation (before `onEpoch` when it ends an
    /// epoch) with the epoch number (1-based) and the evaluation. Set it before `start()`.
    public var onEvaluation: (@Sendable (Int, Evaluation) -> Void)?
    /// Called on the loop's thread after every step with the step number (1-based) and its
    /// batch's mean loss. Set it before `start()`.
    public var onStep: (@Sendable (Int, Float) -> Void)?
    /// With a teacher that trains meanwhile (the dashboard's `d`): called on the loop's thread at
    /// each step boundary with the teacher and the weights version it holds; copies newer
    /// weights into it and returns their version (nil: none published yet). Set it before `start()`.
    public var teacherSource: (@Sendable (Model, Int) -> Int?)?

    let profiler: StepProfiler
    let dataSite: Int32
    let stepper: TrainingStep
    var evaluator: TrainingEvaluator
    var publisher = TrainingPublisher()
    /// The data-parallel run this loop is one rank of (nil: one process).
    let distributed: DataParallel?
    let weights = WeightsMailbox()
    let monitor = Monitor()
    /// Where the loop reads the time (spans inside a step use the profiler's own clock).
    let clock: any NanoClock

    // Cross-thread flags.
    let stopRequested = Atomic<Bool>(false)
    let evaluationRequested = Atomic<Bool>(false)
    let weightsWanted = Atomic<Bool>(false)
    private var thread: JoinableThread?
    private var report: TrainingReport?

    // Loop-thread state (read by the snapshot builder on the same thread).
    var state: WorkloadState = .starting
    var compute = Compute()
    /// The training batch size in force (the data side's while it runs).
    var batchSize = 64
    var paused = false
    var knobsSeen = -1
    var step = 0
    var epoch = 0
    var samplesInEpoch = 0
    var totalSamples = 0
    var lastLoss: Double?
    var lastAccuracy: Double?
    var startNanos: UInt64 = 0
    /// When `p` / `P` pruned the model (seconds since start), for the charts' markers.
    var pruneMarkers: [Double] = []
    /// The teacher weights' version (`teacherSource`), 0 = its initial weights.
    var teacherVersion = 0
    /// Training time before the current segment began (evaluations and pauses end segments).
    var trainingNanosBefore: UInt64 = 0
    var segmentStart: UInt64 = 0

    /// Builds the model, optimizer and profiler for `config` on `train`/`test`; with
    /// `distributed`, this process is one rank of a data-parallel run; with `teacher` (and
    /// `config.distillation`), the model learns from the teacher's soft targets as well as the
    /// labels. The loop only runs the teacher's forward: its weights are the caller's.
    /// - Throws: `EngineError.invalid` for a bad config or data that does not fit the model.
    public init(config: TrainingConfig, train: ImageDataset, test: ImageDataset, knobs: Knobs,
                snapshots: SnapshotSlot<TrainingSnapshot> = SnapshotSlot(), clock: any NanoClock = SystemClock(),
                distributed: DataParallel? = nil, teacher: Model? = nil) throws {
        try config.validate()
        try Self.checkDistillation(config, teacher: teacher)
        let model = try ModelZoo.make(name: config.model, seed: config.seed)
        guard model.isTrainable, let sampleShape = model.descriptor.sampleShape else {
            throw EngineError.invalid(what: "model '\(config.model)'", reason: "does not train on images")
        }
        for ds in [train, test] where ds.sampleSize != sampleShape.reduce(1, *) {
            throw EngineError.invalid(what: ds.name, reason: "\(ds.rows)×\(ds.cols) images do not fit model '\(config.model)' (input \(sampleShape))")
        }
        if model.outputShape(batch: 1).last! < train.classes {
            throw EngineError.invalid(what: train.name, reason: "\(train.classes) classes, model '\(config.model)' has \(model.outputShape(batch: 1).last!) outputs")
        }
        if let lr = knobs.values.learningRate, !(lr > 0 && lr.isFinite) {
            throw EngineError.invalid(what: "learning rate \(lr)", reason: "must be a finite number > 0")
        }
        self.config = config
        self.clock = clock
        self.model = model
        self.train = train
        self.test = test
        self.knobs = knobs
        self.snapshots = snapshots
        self.distributed = distributed
        profiler = StepProfiler(enabled: config.telemetry, track: "training")
        dataSite = profiler.site("data")
        stepper = TrainingStep(model: model, profiler: profiler, config: config, sync: distributed?.sync, teacher: teacher)
        evaluator = TrainingEvaluator(test: test, batchSize: config.evalBatchSize ?? model.descriptor.evalBatchSize, sampleShape: sampleShape)
        snapshots.publish(makeSnapshot())
    }

    deinit {
        stopRequested.store(true, ordering: .releasing)
        monitor.broadcast()
        thread?.join()
    }

    /// Starts the loop on its own thread (once).
    public func start() {
        precondition(thread == nil, "TrainingLoop: start() called twice")
        thread = JoinableThread(name: "inftop-train") { [unowned(unsafe) self] in
            self.report = self.run()
        }
    }

    /// Asks the loop to stop at the next step boundary and waits for it; returns the report.
    @discardableResult
    public func stop() -> TrainingReport? {
        requestStop()
        return wait()
    }

    /// Asks the loop to stop at the next step boundary (a checkpoint being written is finished
    /// first) without waiting; safe from any thread.
    public func requestStop() {
        stopRequested.store(true, ordering: .releasing)
        monitor.broadcast()
    }

    /// Waits until the loop ends (all epochs, target, stop, or error); returns its report.
    @discardableResult
    public func wait() -> TrainingReport? {
        thread?.join()
        return report
    }

    /// Asks for a test-set evaluation at the next step boundary.
    public func requestEvaluation() { evaluationRequested.store(true, ordering: .releasing) }

    /// Copies the newest published weights into `replica` (same architecture) when they are
    /// newer than `version`; returns the version now in `replica`, nil before the first
    /// publication. The first call turns publication on (every `weightsIntervalNanos` and at
    /// epoch ends); the training thread never waits for a reader.
    public func copyLatestWeights(into replica: Model, ifNewerThan version: Int = 0) -> Int? {
        weightsWanted.store(true, ordering: .relaxed)
        return weights.copyLatest(into: replica, ifNewerThan: version)
    }

    /// Version of the newest published weights (0 before the first).
    public var weightsVersion: Int { weights.version }

    /// The hyperparameters in force (read on the loop's thread, or after it ended).
    public var hyperparameters: Hyperparameters { stepper.hyper }

    /// How a run ends early (nil: keep going).
    enum Ending { case stopped, targetReached, stepLimit, failed(EngineError) }

    /// Runs the whole training on the calling thread (what `start()` runs on its own thread).
    public func run() -> TrainingReport {
        startNanos = clock.now()
        segmentStart = startNanos
        applyKnobs(force: true)
        let data = TrainingData(dataset: train, sampleShape: model.descriptor.sampleShape!, batchSize: batchSize, config: config,
                                rank: distributed?.rank ?? 0, ranks: distributed?.ranks ?? 1)
        defer { data.close() }
        var summaries: [EpochSummary] = []
        var ending: Ending? = nil
        var timeToTarget: Double? = nil
        state = .running

        epochs: for e in 0..<config.epochs {
            epoch = e
            samplesInEpoch = 0
            var tally = EpochTally(start: clock.now(), trainingBefore: trainingNanos(at: clock.now()))
            var nextEval = 1
            while true {
                if stopRequested.load(ordering: .acquiring) { ending = .stopped; break epochs }
                applyKnobs(force: false)
                refreshTeacher()
                data.batchSize = batchSize
                if paused && !pauseUntilResumed() { ending = .stopped; break epochs }

                let result: (loss: Float, correct: Int, n: Int, endsEpoch: Bool)
                do { guard let r = try trainStep(data) else { ending = .stopped; break epochs }; result = r } catch {
                    ending = .failed((error as? EngineError) ?? .invalid(what: "training step", reason: "\(error)")); break epochs
                }
                tally.add(loss: result.loss, correct: result.correct, n: result.n)
                samplesInEpoch += result.n
                totalSamples += result.n
                lastLoss = Double(result.loss)
                profiler.tap.counter(.loss, lastLoss!)  // exports only; a load and a branch when off
                lastAccuracy = Double(result.correct) / Double(result.n)
                afterStep()
                onStep?(step, result.loss)
                if let err = distributed?.checkWeights(model.parameters, step: step) { ending = .failed(err); break epochs }
                let limited = (config.maxSteps.map { step >= $0 } ?? false)
                    || (config.maxTrainingSeconds.map { Double(trainingNanos(at: clock.now())) / 1e9 >= $0 } ?? false)

                // Evaluations: `evalsPerEpoch` evenly spaced by samples (the last at the epoch's
                // end), plus any asked for, plus one when the step limit ends the run.
                let due = result.endsEpoch || limited || samplesInEpoch * config.evalsPerEpoch >= nextEval * train.count
                let asked = evaluationRequested.exchange(false, ordering: .acquiring)
                guard due || asked else { continue }
                if due { nextEval = samplesInEpoch * config.evalsPerEpoch / train.count + 1 }
                let point = evaluationPoint(epoch: e, tally: &tally, timeToTarget: &timeToTarget)
                // Evaluation and what follows it here (checkpoint, callback, snapshot) is not
                // training time: the clock restarts when the next step begins.
                defer {
                    trainingNanosBefore = point.trainedSoFar
                    segmentStart = clock.now()
                }
                if result.endsEpoch || point.reached || limited {
                    if let failure = endEpoch(e, summary: point.summary) {
                        summaries.append(point.summary)
                        ending = .failed(failure)
                        break epochs
                    }
                    summaries.append(point.summary)
                    if point.reached { ending = .targetReached; break epochs }
                    if limited { ending = .stepLimit; break epochs }
                    break
                }
                publishSnapshot(now: point.evalEnd)
            }
        }
        var failure: EngineError? = nil
        if case .failed(let f) = ending { failure = f }
        // Every rank ends on the same step: the weights are checked equal once more there.
        if failure == nil, let d = distributed, let err = d.checkWeights(model.parameters, step: step, force: true) {
            failure = err
            ending = .failed(err)
        }
        state = failure.map { .failed("\($0)") } ?? .finished
        publishSnapshot(now: clock.now())
        let endedBecause: String? = switch ending {
        case nil: nil
        case .stopped: "stopped"
        case .targetReached: "target reached"
        case .stepLimit: config.maxSteps.map { step >= $0 } ?? false ? "step limit" : "time limit"
        case .failed(let f): "\(f)"
        }
        return TrainingReport(
            model: config.model, epochs: summaries, layers: config.telemetry ? profiler.layerStats(fresh: true) : [],
            stepStat: profiler.stepStat(fresh: true), profilerOverhead: profiler.overheadFraction, timeToTarget: timeToTarget,
            totalSteps: step, endedBecause: endedBecause, error: failure)
    }

    /// Training nanoseconds up to `now` (evaluations and pauses excluded).
    func trainingNanos(at now: UInt64) -> UInt64 { trainingNanosBefore + (now - segmentStart) }

    /// One step on the next batch. Returns the batch's mean loss, correct predictions, size
    /// (the global batch's under data parallelism) and whether it ended the epoch; nil when
    /// the loader stopped. Throws when the allreduce fails (a rank died).
    @inline(__always)
    func trainStep(_ data: TrainingData) throws -> (loss: Float, correct: Int, n: Int, endsEpoch: Bool)? {
        // The step's wall time is on the profiler's clock (the spans' own), whatever `clock` is.
        let t0: UInt64 = config.telemetry ? monotonicNanos() : 0
        profiler.beginStep()
        stepper.schedule(progress: Double(totalSamples) / (Double(config.epochs) * Double(train.count)))
        guard let batch = data.next() else { return nil }
        profiler.buffer.lap(site: dataSite, phase: .data)
        let (loss, correct) = try stepper.run(batch)
        if config.telemetry { profiler.endStep(wallNanos: monotonicNanos() - t0) }
        step += 1
        return (loss, correct, batch.globalCount, batch.endsEpoch)
    }

    /// Running sums of one epoch.
    struct EpochTally {
        let start: UInt64
        let trainingBefore: UInt64
        var loss = 0.0, correct = 0, steps = 0, samples = 0
        var evaluations: [Evaluation] = []

        init(start: UInt64, trainingBefore: UInt64) { self.start = start; self.trainingBefore = trainingBefore }

        mutating func add(loss l: Float, correct c: Int, n: Int) {
            loss += Double(l) * Double(n); correct += c; steps += 1; samples += n
        }
    }

    /// Evaluates the test set and builds the summary of the epoch so far; sets the time to
    /// target the first time an evaluation reaches it.
    func evaluationPoint(epoch e: Int, tally: inout EpochTally, timeToTarget: inout Double?)
        -> (summary: EpochSummary, trainedSoFar: UInt64, evalEnd: UInt64, reached: Bool) {
        let evalStart = clock.now()
        let trainedSoFar = trainingNanos(at: evalStart)
        evaluate()
        let evalEnd = clock.now()
        let epochTrainingNanos = trainedSoFar - tally.trainingBefore
        var summary = EpochSummary(
            epoch: e + 1, epochFraction: Double(samplesInEpoch) / Double(train.count),
            trainLoss: tally.loss / Double(tally.samples), trainAccuracy: Double(tally.correct) / Double(tally.samples),
            testLoss: evaluator.testLoss ?? .nan, testAccuracy: evaluator.testAccuracy ?? .nan,
            samplesPerSecond: epochTrainingNanos > 0 ? Double(samplesInEpoch) / (Double(epochTrainingNanos) / 1e9) : 0,
            seconds: Double(evalEnd - tally.start) / 1e9, trainingSeconds: Double(trainedSoFar) / 1e9,
            steps: tally.steps, timeToTarget: nil)
        tally.evaluations.append(Evaluation(epochFraction: summary.epochFraction, trainingSeconds: summary.trainingSeconds,
                                            testLoss: summary.testLoss, testAccuracy: summary.testAccuracy))
        summary.evaluations = tally.evaluations
        onEvaluation?(e + 1, tally.evaluations[tally.evaluations.count - 1])
        let reached = config.target.map { (evaluator.testAccuracy ?? 0) >= $0 } ?? false
        if reached && timeToTarget == nil {
            timeToTarget = summary.trainingSeconds
            summary.timeToTarget = timeToTarget
        }
        return (summary, trainedSoFar, evalEnd, reached)
    }

    /// The end of an epoch (or of the run): checkpoint, weights for the replica, the callback,
    /// a snapshot. Returns the failure when the checkpoint could not be written.
    func endEpoch(_ e: Int, summary: EpochSummary) -> EngineError? {
        if let path = config.checkpointPath, distributed?.rank ?? 0 == 0 {
            do { try writeCheckpoint(path: path, epoch: e + 1) } catch {
                onEpoch?(summary)
                return (error as? EngineError) ?? .io(path: path, reason: "\(error)")
            }
        }
        if weightsWanted.load(ordering: .relaxed) { weights.publish(model.parameters) }
        onEpoch?(summary)
        publishSnapshot(now: clock.now())
        return nil
    }

    /// Writes the parameters to `path` (safetensors, atomically) with the run's metadata.
    func writeCheckpoint(path: String, epoch: Int) throws {
        var meta = ["format": "pt", "producer": "inftop", "model": config.model, "epoch": String(epoch),
                    "optimizer": stepper.hyper.optimizer.rawValue, "seed": String(config.seed)]
        if let acc = evaluator.testAccuracy { meta["test_accuracy"] = String(acc) }
        try SafeTensorsWriter.write(path: path, tensors: model.checkpointTensors, metadata: meta)  // masks too, when pruned
    }
}
