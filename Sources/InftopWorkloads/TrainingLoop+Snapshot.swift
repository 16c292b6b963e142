import InftopEngine
import InftopTelemetry

extension TrainingLoop {
    /// Builds and publishes a snapshot (percentiles, series copies: not for every step).
    func publishSnapshot(now: UInt64) {
        // Rate over the training time since the last mark (pauses and evaluations excluded).
        let trainedNow = state == .running ? trainingNanos(at: now) : trainingNanosBefore
        if rateMark.nanos == 0 { rateMark = (trainedNow, totalSamples) }
        let dt = trainedNow > rateMark.nanos ? Double(trainedNow - rateMark.nanos) / 1e9 : 0
        if dt >= 0.2 {
            samplesPerSecond = Double(totalSamples - rateMark.samples) / dt
            series.rate.append(time: Double(now - startNanos) / 1e9, value: samplesPerSecond)
            rateMark = (trainedNow, totalSamples)
        }
        lastSnapshotNanos = now
        snapshots.publish(makeSnapshot())
    }

    /// The loop's state as the dashboard shows it.
    func makeSnapshot() -> TrainingSnapshot {
        let progress = Double(samplesInEpoch) / Double(train.count)
        let eta: Double? = samplesPerSecond > 0 ? Double(train.count - samplesInEpoch) / samplesPerSecond : nil
        // Running: percentiles at most a second old (computing them costs). Otherwise (paused,
        // finished) this snapshot may be on screen for long: current ones.
        let fresh = state != .running
        return TrainingSnapshot(
            model: config.model, state: state, step: step, epoch: epoch + 1, epochProgress: progress,
            epochETASeconds: eta, batchSize: batchSize, samplesPerSecond: samplesPerSecond,
            lastLoss: lastLoss, lastAccuracy: lastAccuracy, testLoss: testLoss, testAccuracy: testAccuracy,
            layers: config.telemetry ? profiler.layerStats(fresh: fresh) : [], stepStat: profiler.stepStat(fresh: fresh),
            profilerOverhead: profiler.overheadFraction,
            series: [series.trainLoss.snapshot(), series.trainAcc.snapshot(), series.testLoss.snapshot(),
                     series.testAcc.snapshot(), series.rate.snapshot()], pruneMarkers: pruneMarkers.isEmpty ? nil : pruneMarkers)
    }
}
