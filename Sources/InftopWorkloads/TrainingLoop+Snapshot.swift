import InftopEngine
import InftopTelemetry

/// The training loop's publishing side: the series the charts draw, the markers of
/// hyperparameter changes, the samples/s rate and the rate limits of snapshots and weights.
struct TrainingPublisher {
    var trainLoss = SeriesRing(name: "train_loss")
    var trainAcc = SeriesRing(name: "train_acc")
    var testLoss = SeriesRing(name: "test_loss", capacity: 1024)
    var testAcc = SeriesRing(name: "test_acc", capacity: 1024)
    var rate = SeriesRing(name: "samples_per_sec", unit: "samples/s")
    /// The learning rate in force, one point per snapshot (the schedule's curve).
    var learningRate = SeriesRing(name: "lr")
    /// Hyperparameter changes, oldest first (the newest `markerCapacity`).
    var markers: [ChartMarker] = []
    static let markerCapacity = 64
    var lastSnapshotNanos: UInt64 = 0
    var lastWeightsNanos: UInt64 = 0
    var rateMark: (nanos: UInt64, samples: Int) = (0, 0)
    var samplesPerSecond = 0.0

    mutating func mark(time: Double, label: String) {
        if markers.count == Self.markerCapacity { markers.removeFirst() }
        markers.append(ChartMarker(time: time, label: label))
    }
}

extension TrainingLoop {
    /// Per-step bookkeeping after the step: series, and the rate-limited snapshot and weights.
    /// With telemetry off this reads the clock only every 32 steps and keeps no per-step series.
    @inline(__always)
    func afterStep() {
        if config.telemetry {
            let now = clock.now()
            let t = Double(now - startNanos) / 1e9
            publisher.trainLoss.append(time: t, value: lastLoss!)
            publisher.trainAcc.append(time: t, value: lastAccuracy!)
            boundaryTick(now: now)
        } else if step % 32 == 0 {
            boundaryTick(now: clock.now())
        }
    }

    /// Publishes a snapshot and the weights when their intervals have passed.
    func boundaryTick(now: UInt64) {
        if now - publisher.lastSnapshotNanos >= config.snapshotIntervalNanos { publishSnapshot(now: now) }
        if weightsWanted.load(ordering: .relaxed) && now - publisher.lastWeightsNanos >= config.weightsIntervalNanos {
            if weights.publish(model.parameters) { publisher.lastWeightsNanos = now }
        }
    }

    /// Builds and publishes a snapshot (percentiles, series copies: not for every step).
    func publishSnapshot(now: UInt64) {
        // Rate over the training time since the last mark (pauses and evaluations excluded).
        let trainedNow = state == .running ? trainingNanos(at: now) : trainingNanosBefore
        if publisher.rateMark.nanos == 0 { publisher.rateMark = (trainedNow, totalSamples) }
        let dt = trainedNow > publisher.rateMark.nanos ? Double(trainedNow - publisher.rateMark.nanos) / 1e9 : 0
        let t = Double(now - startNanos) / 1e9
        if dt >= 0.2 {
            publisher.samplesPerSecond = Double(totalSamples - publisher.rateMark.samples) / dt
            publisher.rate.append(time: t, value: publisher.samplesPerSecond)
            publisher.rateMark = (trainedNow, totalSamples)
        }
        if state == .running { publisher.learningRate.append(time: t, value: Double(stepper.hyper.learningRate)) }
        publisher.lastSnapshotNanos = now
        snapshots.publish(makeSnapshot())
    }

    /// The loop's state as the dashboard shows it.
    func makeSnapshot() -> TrainingSnapshot {
        let progress = Double(samplesInEpoch) / Double(train.count)
        let sps = publisher.samplesPerSecond
        let eta: Double? = sps > 0 ? Double(train.count - samplesInEpoch) / sps : nil
        // Running: percentiles at most a second old (computing them costs). Otherwise (paused,
        // finished) this snapshot may be on screen for long: current ones.
        let fresh = state != .running
        let h = stepper.hyper
        var snapshot = TrainingSnapshot(
            model: config.model, state: state, step: step, epoch: epoch + 1, epochProgress: progress,
            epochETASeconds: eta, batchSize: batchSize, samplesPerSecond: sps,
            lastLoss: lastLoss, lastAccuracy: lastAccuracy, testLoss: evaluator.testLoss, testAccuracy: evaluator.testAccuracy,
            layers: config.telemetry ? profiler.layerStats(fresh: fresh) : [], stepStat: profiler.stepStat(fresh: fresh),
            profilerOverhead: profiler.overheadFraction,
            series: [publisher.trainLoss.snapshot(), publisher.trainAcc.snapshot(), publisher.testLoss.snapshot(),
                     publisher.testAcc.snapshot(), publisher.rate.snapshot(), publisher.learningRate.snapshot()],
            hyperparameters: HyperparameterLabel(optimizer: h.optimizer.rawValue, learningRate: Double(h.learningRate),
                                                 baseLearningRate: Double(h.baseLearningRate), schedule: h.schedule.rawValue,
                                                 momentum: Double(h.momentum), weightDecay: Double(h.weightDecay)),
            markers: publisher.markers, distributed: distributed?.stats(),
            pruneMarkers: pruneMarkers.isEmpty ? nil : pruneMarkers)
        snapshot.parameters = model.parameterCount
        return snapshot
    }
}
