import InftopEngine
import InftopTelemetry

extension TrainingLoop {
    /// Reads the knobs when they changed (or `force`): batch size, threads, backend, learning
    /// rate, optimizer, pause. A change of batch size, threads or backend resets the profiler's
    /// statistics (the shapes or kernels changed); a change of learning rate or optimizer is a
    /// marker on the charts. Everything takes effect from the next step on. The model knob is
    /// not the loop's business: its owner (DashboardSession) stops this loop and starts one for
    /// the new model.
    func applyKnobs(force: Bool) {
        let seen = knobs.changeCount
        guard force || seen != knobsSeen else { return }
        knobsSeen = seen
        let v = knobs.values
        let r = KnobValues.batchRange, newBatch = min(max(v.batchSize, r.lowerBound), r.upperBound)
        if newBatch != v.batchSize {
            Notices.shared.post("training batch \(v.batchSize) is outside \(r.lowerBound)…\(r.upperBound); clamped to \(newBatch)")
        }
        let newCompute = Compute(backend: v.backend, threads: max(1, v.threads), isa: HostCPU.current.runnable(v.isa))
        if !force && (newBatch != batchSize || newCompute != compute) { profiler.resetStatistics() }
        batchSize = newBatch
        compute = newCompute
        model.setPlan(newCompute)
        stepper.teacher?.setPlan(newCompute)
        if model.followPruning(sparsity: v.pruning, mode: v.effectivePruneMode) { pruneMarkers.append(Double(clock.now() - startNanos) / 1e9) }  // p / P
        paused = v.trainingPaused
        if config.distillation != nil { applyDistillationKnobs(v) }
        applyHyperparameters(v, force: force)
    }

    /// The optimizer and base learning rate from the knobs (nil fields: the config's). A value
    /// that is not a finite rate > 0 is ignored (the controller never writes one).
    func applyHyperparameters(_ v: KnobValues, force: Bool) {
        var changes: [String] = []
        if let kind = v.optimizer, stepper.setOptimizer(kind) { changes.append(kind.rawValue) }
        if let lr = v.learningRate, lr > 0, lr.isFinite, lr != stepper.hyper.baseLearningRate {
            stepper.setBaseLearningRate(lr)
            changes.append("lr \(lr)")
        }
        if !force && !changes.isEmpty {
            publisher.mark(time: Double(clock.now() - startNanos) / 1e9, label: changes.joined(separator: " "))
        }
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
}
