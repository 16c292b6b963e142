import InftopEngine
import InftopTelemetry
import Synchronization

/// Trains a `ModelZoo` model on an image dataset on its own thread, step by step:
///
///     data wait ("data") → forward (a span per layer) → loss ("loss") → backward (a span per
///     layer, reverse order) → optimizer step + zero grad ("optimizer")
///
/// Each span is a lap of the loop's `StepProfiler`, so the spans of a step add up to its wall
/// time. Knobs (batch size, threads, backend, pause) are read at step boundaries only. After
/// each step the loss and accuracy go into series; a `TrainingSnapshot` is published at most
/// every `snapshotIntervalNanos` (and at every epoch end and state change), never per step
/// otherwise, since building one computes percentiles. The test set is evaluated
/// `evalsPerEpoch` times per epoch and on `requestEvaluation()`; evaluation time is kept out of
/// the training clock, as MLPerf's time-to-train does.
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

    let profiler: StepProfiler
    let optimizer: any Optimizer
    let lossFunction = SoftmaxCrossEntropy()
    let evalLoss = SoftmaxCrossEntropy()
    let evalBatches: SequentialBatches
    let weights = WeightsMailbox()
    let monitor = Monitor()
    /// Where the loop reads the time (spans inside a step use the profiler's own clock).
    let clock: any NanoClock

    // Profiler sites.
    let dataSite: Int32, lossSite: Int32, optimizerSite: Int32
    let layerSites: [Int32]

    // Cross-thread flags.
    let stopRequested = Atomic<Bool>(false)
    let evaluationRequested = Atomic<Bool>(false)
    let weightsWanted = Atomic<Bool>(false)
    private var thread: JoinableThread?
    private var report: TrainingReport?

    // Loop-thread state (read by the snapshot builder on the same thread).
    var state: WorkloadState = .starting
    var compute = Compute()
    var batchSize = 64
    var paused = false
    /// The batch of the last step, given back to the loader at the next one.
    var heldBatch: Batch?
    var knobsSeen = -1
    var step = 0
    var epoch = 0
    var samplesInEpoch = 0
    var lastLoss: Double?
    var lastAccuracy: Double?
    var testLoss: Double?
    var testAccuracy: Double?
    var startNanos: UInt64 = 0
    /// When `p` / `P` pruned the model (seconds since start), for the charts' markers.
    var pruneMarkers: [Double] = []
    /// Training time before the current segment began (evaluations and pauses end segments).
    var trainingNanosBefore: UInt64 = 0
    var segmentStart: UInt64 = 0
    var lastSnapshotNanos: UInt64 = 0
    var lastWeightsNanos: UInt64 = 0
    var rateMark: (nanos: UInt64, samples: Int) = (0, 0)
    var totalSamples = 0
    var samplesPerSecond = 0.0
    var series: (trainLoss: SeriesRing, trainAcc: SeriesRing, testLoss: SeriesRing, testAcc: SeriesRing, rate: SeriesRing) = (
        SeriesRing(name: "train_loss"), SeriesRing(name: "train_acc"), SeriesRing(name: "test_loss", capacity: 1024),
        SeriesRing(name: "test_acc", capacity: 1024), SeriesRing(name: "samples_per_sec", unit: "samples/s"))

    /// Builds the model, optimizer and profiler for `config` on `train`/`test`.
    /// - Throws: `EngineError.invalid` for a bad config or data that does not fit the model.
    public init(config: TrainingConfig, train: ImageDataset, test: ImageDataset, knobs: Knobs,
                snapshots: SnapshotSlot<TrainingSnapshot> = SnapshotSlot(), clock: any NanoClock = SystemClock()) throws {
        try config.validate()
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
        self.config = config
        self.clock = clock
        self.model = model
        self.train = train
        self.test = test
        self.knobs = knobs
        self.snapshots = snapshots
        switch config.optimizer {
        case .sgd: optimizer = SGD(learningRate: config.learningRate, momentum: config.momentum, weightDecay: config.effectiveWeightDecay)
        case .adamw: optimizer = AdamW(learningRate: config.learningRate, weightDecay: config.effectiveWeightDecay)
        }
        profiler = StepProfiler(enabled: config.telemetry, track: "training")
        dataSite = profiler.site("data")
        layerSites = model.registerSites(in: profiler)
        lossSite = profiler.site("loss")
        optimizerSite = profiler.site("optimizer")
        evalBatches = SequentialBatches(dataset: test, batchSize: config.evalBatchSize ?? model.descriptor.evalBatchSize,
                                        sampleShape: sampleShape)
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
        stopRequested.store(true, ordering: .releasing)
        monitor.broadcast()
        return wait()
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

    /// Runs the whole training on the calling thread (what `start()` runs on its own thread).
    public func run() -> TrainingReport {
        startNanos = clock.now()
        segmentStart = startNanos
        applyKnobs(force: true)
        let loader = BatchLoader(dataset: train, sampleShape: model.descriptor.sampleShape!, batchSize: batchSize, seed: config.seed, prefetch: config.prefetch)
        defer {
            if let b = heldBatch { loader.recycle(b); heldBatch = nil }
            loader.stop()
        }
        var summaries: [EpochSummary] = []
        var endedBecause: String? = nil
        var failure: EngineError? = nil
        var timeToTarget: Double? = nil
        state = .running

        epochs: for e in 0..<config.epochs {
            epoch = e
            samplesInEpoch = 0
            var epochLoss = 0.0, epochCorrect = 0, epochSteps = 0
            var epochEvaluations: [Evaluation] = []
            let epochStart = clock.now()
            let epochTrainingBefore = trainingNanos(at: epochStart)
            var nextEval = 1
            while true {
                if stopRequested.load(ordering: .acquiring) { endedBecause = "stopped"; break epochs }
                applyKnobs(force: false)
                if paused && !pauseUntilResumed() { endedBecause = "stopped"; break epochs }

                let (loss, correct, n, endsEpoch) = trainStep(loader)
                if n == 0 { endedBecause = "stopped"; break epochs }
                epochLoss += Double(loss) * Double(n)
                epochCorrect += correct
                epochSteps += 1
                samplesInEpoch += n
                totalSamples += n
                lastLoss = Double(loss)
                profiler.tap.counter(.loss, lastLoss!)  // exports only; a load and a branch when off
                lastAccuracy = Double(correct) / Double(n)
                afterStep()

                // Evaluations: `evalsPerEpoch` evenly spaced by samples (the last at the epoch's
                // end), plus any asked for.
                let due = endsEpoch || samplesInEpoch * config.evalsPerEpoch >= nextEval * train.count
                let asked = evaluationRequested.exchange(false, ordering: .acquiring)
                guard due || asked else { continue }
                if due { nextEval = samplesInEpoch * config.evalsPerEpoch / train.count + 1 }
                let evalStart = clock.now()
                let trainedSoFar = trainingNanos(at: evalStart)
                evaluate()
                let evalEnd = clock.now()
                // Evaluation and what follows it here (checkpoint, callback, snapshot) is not
                // training time: the clock restarts when the next step begins.
                defer {
                    trainingNanosBefore = trainedSoFar
                    segmentStart = clock.now()
                }

                let epochTrainingNanos = trainedSoFar - epochTrainingBefore
                var summary = EpochSummary(
                    epoch: e + 1, epochFraction: Double(samplesInEpoch) / Double(train.count),
                    trainLoss: epochLoss / Double(samplesInEpoch), trainAccuracy: Double(epochCorrect) / Double(samplesInEpoch),
                    testLoss: testLoss ?? .nan, testAccuracy: testAccuracy ?? .nan,
                    samplesPerSecond: epochTrainingNanos > 0 ? Double(samplesInEpoch) / (Double(epochTrainingNanos) / 1e9) : 0,
                    seconds: Double(evalEnd - epochStart) / 1e9, trainingSeconds: Double(trainedSoFar) / 1e9,
                    steps: epochSteps, timeToTarget: nil)
                epochEvaluations.append(Evaluation(epochFraction: summary.epochFraction, trainingSeconds: summary.trainingSeconds,
                                                   testLoss: summary.testLoss, testAccuracy: summary.testAccuracy))
                summary.evaluations = epochEvaluations
                onEvaluation?(e + 1, epochEvaluations[epochEvaluations.count - 1])
                let reached = config.target.map { (testAccuracy ?? 0) >= $0 } ?? false
                if reached && timeToTarget == nil {
                    timeToTarget = summary.trainingSeconds
                    summary.timeToTarget = timeToTarget
                }
                if endsEpoch || reached {
                    if let path = config.checkpointPath {
                        do { try writeCheckpoint(path: path, epoch: e + 1) } catch {
                            failure = (error as? EngineError) ?? .io(path: path, reason: "\(error)")
                            endedBecause = "\(failure!)"
                            summaries.append(summary)
                            onEpoch?(summary)
                            break epochs
                        }
                    }
                    if weightsWanted.load(ordering: .relaxed) { weights.publish(model.parameters) }
                    summaries.append(summary)
                    onEpoch?(summary)
                    publishSnapshot(now: clock.now())
                    if reached { endedBecause = "target reached"; break epochs }
                    break
                }
                publishSnapshot(now: evalEnd)
            }
        }
        state = failure.map { .failed("\($0)") } ?? .finished
        publishSnapshot(now: clock.now())
        return TrainingReport(
            model: config.model, epochs: summaries, layers: config.telemetry ? profiler.layerStats(fresh: true) : [],
            stepStat: profiler.stepStat(fresh: true), profilerOverhead: profiler.overheadFraction, timeToTarget: timeToTarget,
            totalSteps: step, endedBecause: endedBecause, error: failure)
    }

    /// Training nanoseconds up to `now` (evaluations and pauses excluded).
    func trainingNanos(at now: UInt64) -> UInt64 { trainingNanosBefore + (now - segmentStart) }

    /// One step on the next batch. Returns the batch's mean loss, correct predictions, size
    /// (0 when the loader stopped) and whether it ended the epoch.
    @inline(__always)
    func trainStep(_ loader: BatchLoader) -> (Float, Int, Int, Bool) {
        let spans: SpanBuffer? = config.telemetry ? profiler.buffer : nil
        // The step's wall time is on the profiler's clock (the spans' own), whatever `clock` is.
        let t0: UInt64 = config.telemetry ? monotonicNanos() : 0
        profiler.beginStep()
        // The previous step's batch goes back here, inside the data span: waking the loader
        // thread can cost this thread its CPU on a busy machine, and that belongs to "data".
        guard let batch = loader.next(batchSize: batchSize, recycling: heldBatch) else { heldBatch = nil; return (0, 0, 0, false) }
        heldBatch = batch
        profiler.buffer.lap(site: dataSite, phase: .data)
        let logits = model.forward(batch.x, training: true, spans: spans, sites: layerSites)
        let (loss, correct) = lossFunction.forward(logits: logits, labels: batch.labels, count: batch.count)
        profiler.buffer.lap(site: lossSite, phase: .forward)
        let dLogits = lossFunction.backward()
        profiler.buffer.lap(site: lossSite, phase: .backward)
        model.backward(dLogits, spans: spans, sites: layerSites)
        optimizer.step(model.parameters)
        model.applyMasks()  // pruned weights stay exactly zero while fine-tuning (no-op unpruned)
        zeroGradients(model.parameters)
        profiler.buffer.lap(site: optimizerSite, phase: .optimizer)
        let n = batch.count, ends = batch.endsEpoch
        if config.telemetry { profiler.endStep(wallNanos: monotonicNanos() - t0) }
        step += 1
        return (loss, correct, n, ends)
    }

    /// Per-step bookkeeping after the step: series, and the rate-limited snapshot and weights.
    /// With telemetry off this reads the clock only every 32 steps and keeps no per-step series.
    @inline(__always)
    func afterStep() {
        if config.telemetry {
            let now = clock.now()
            let t = Double(now - startNanos) / 1e9
            series.trainLoss.append(time: t, value: lastLoss!)
            series.trainAcc.append(time: t, value: lastAccuracy!)
            boundaryTick(now: now)
        } else if step % 32 == 0 {
            boundaryTick(now: clock.now())
        }
    }

    /// Publishes a snapshot and the weights when their intervals have passed.
    func boundaryTick(now: UInt64) {
        if now - lastSnapshotNanos >= config.snapshotIntervalNanos { publishSnapshot(now: now) }
        if weightsWanted.load(ordering: .relaxed) && now - lastWeightsNanos >= config.weightsIntervalNanos {
            if weights.publish(model.parameters) { lastWeightsNanos = now }
        }
    }

    /// Reads the knobs when they changed (or `force`): batch size, threads, backend, pause. A
    /// change of batch size, threads or backend resets the profiler's statistics (the shapes or
    /// kernels changed). The model knob is not the loop's business: its owner (DashboardSession)
    /// stops this loop and starts one for the new model.
    func applyKnobs(force: Bool) {
        let seen = knobs.changeCount
        guard force || seen != knobsSeen else { return }
        knobsSeen = seen
        let v = knobs.values
        let newBatch = min(max(v.batchSize, KnobValues.batchRange.lowerBound), KnobValues.batchRange.upperBound)
        let newCompute = Compute(backend: v.backend, threads: max(1, v.threads), isa: HostCPU.current.runnable(v.isa))
        if !force && (newBatch != batchSize || newCompute != compute) { profiler.resetStatistics() }
        batchSize = newBatch
        compute = newCompute
        model.setPlan(newCompute)
        if model.followPruning(sparsity: v.pruning, mode: v.effectivePruneMode) { pruneMarkers.append(Double(clock.now() - startNanos) / 1e9) }  // p / P
        paused = v.trainingPaused
    }

    /// Sleeps while the knobs say paused (no CPU: a condition wait with 20 ms timeouts). Returns
    /// false when a stop was asked for meanwhile. Paused time is not training time.
    func pauseUntilResumed() -> Bool {
        let pauseStart = clock.now()
        trainingNanosBefore = trainingNanos(at: pauseStart)
        state = .paused
        publishSnapshot(now: pauseStart)
        var stopped = false
        while true {
            if stopRequested.load(ordering: .acquiring) { stopped = true; break }
            applyKnobs(force: false)
            if !paused { break }
            monitor.locked { _ = monitor.wait(nanos: 20_000_000) }
        }
        state = .running
        let now = clock.now()
        segmentStart = now
        publishSnapshot(now: now)
        return !stopped
    }

    /// Writes the parameters to `path` (safetensors, atomically) with the run's metadata.
    func writeCheckpoint(path: String, epoch: Int) throws {
        var meta = ["format": "pt", "producer": "inftop", "model": config.model, "epoch": String(epoch),
                    "optimizer": config.optimizer.rawValue, "seed": String(config.seed)]
        if let acc = testAccuracy { meta["test_accuracy"] = String(acc) }
        try SafeTensorsWriter.write(path: path, tensors: model.checkpointTensors, metadata: meta)  // masks too, when pruned
    }
}
