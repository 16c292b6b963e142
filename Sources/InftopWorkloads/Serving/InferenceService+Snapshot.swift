import InftopEngine
import InftopTelemetry

extension InferenceService {
    /// Worker 0's per-node sparsity and format, recomputed only when the weights, the plan or
    /// the batch changed (control thread).
    func nodePlans(batch: Int, plan: Compute) -> [NodePlan] {
        let model = task.model, served = workers[0].servedNow
        let key = NodePlansKey(weights: cacheVersion.load(ordering: .acquiring), plan: served.currentPlan, batch: batch,
                               preparing: served.isPreparingPlan, served: ObjectIdentifier(served))
        if let c = nodePlansCache, c.key == key { return c.plans }
        let plans = served === model ? model.nodePlans(batch: batch) : served.shrunkNodePlans(cutFrom: model)
        nodePlansCache = (key, plans)
        return plans
    }

    /// The served model's figures as of now (control thread, and once in `init`): the rolling
    /// window for the panels, the since-change figures and verdict for the serving floor.
    func makeSnapshot() -> InferenceSnapshot {
        let model = task.model
        let v = knobs.values
        let now = clock.now()
        let dropped = queue.dropped
        let bound = v.p99BoundMs ?? model.descriptor.latencyBoundMs
        let c = config.withLock { $0 }
        let counts = cache.counts
        // A copy under the lock (the histograms are copy-on-write: the copy shares their
        // storage, a worker's next record copies it), percentiles outside it: walking the
        // histograms under the lock would stall every worker's next batch.
        let s = stats.withLock { $0 }
        let floor: ServingFloorSnapshot
        do {
            let st = s
            let seconds = st.seconds(now: now)
            let total = st.window.cumulativeStat
            let verdict = rules.verdict(scenario: v.scenario, queries: st.answered, seconds: seconds, stat: total,
                                        dropped: dropped - st.droppedAtStart, boundMs: bound)
            let cacheStat = c.cacheOn
                ? CacheStat(entries: counts.entries, bytes: counts.bytes, capacityBytes: cache.capacityBytes, lookups: counts.lookups,
                            hits: counts.hits, hitMeanMs: st.hitMeanMs, missMeanMs: st.missMeanMs)
                : nil
            floor = ServingFloorSnapshot(
                scenario: v.scenario, verdict: verdict, workers: workers.count, threadsPerWorker: c.compute.threads,
                maxQueueDelayMs: Double(c.delayNanos) / 1e6, repeatFraction: Double(v.repeatPercent) / 100, p99BoundMs: bound,
                total: total, queueWait: st.queueStat, compute: st.computeStat,
                itemsPerSecond: seconds > 0 ? Double(st.answered) / seconds : 0, cache: cacheStat)
        }
        let front = workers[0].layers.withLock { $0 }
        return InferenceSnapshot(
            model: model.name, state: state, requests: s.requests, batches: s.batches, batchSize: c.batch,
            latency: s.window.recent, itemsPerSecond: s.window.recentItemsPerSecond, cacheHitRate: floor.cache?.hitRate,
            // Worker 0's figures; when it stops it publishes fresh percentiles, so the last
            // snapshot on screen holds current ones.
            layers: front.stats, profilerOverhead: front.overhead,
            series: [s.window.p50Series.snapshot(), s.window.p99Series.snapshot(), s.window.throughputSeries.snapshot()],
            servedAccuracy: s.scored > 0 ? s.scoreSum / Double(s.scored) : nil, accuracyLabel: task.accuracyLabel,
            offeredPerSecond: generator.ratePerSecond, dropped: dropped, weightsVersion: cacheVersion.load(ordering: .acquiring),
            summary: model.descriptor.summary,
            plan: PlanLabel(backend: c.compute.backend, isa: c.compute.isa, precision: c.compute.precision, threads: c.compute.threads),
            nodeMemory: workers[0].servedNow.nodeMemory().map { NodeMemory(name: $0.name, weights: $0.weights, activations: $0.activations) },
            nodePlans: nodePlans(batch: c.batch, plan: c.compute), floor: floor, tradeoff: history.snapshot(current: currentPoint(current: true, stats: s, total: floor.total)),
            markers: markers, baseline: workers[0].baseline.withLock { $0 })
    }
}
