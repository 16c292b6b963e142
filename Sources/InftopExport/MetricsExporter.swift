import InftopTelemetry
import InftopWorkloads
import Prometheus
import Synchronization

/// `/metrics` in Prometheus' text exposition format, through swift-prometheus' registry.
///
/// Histograms are fed from the taps by the pump (every step, every request: nothing sampled):
/// `inftop_node_duration_seconds{workload,node,phase}` per node forward/backward (a node hit
/// several times in a step counts once, with its sum, as the Layers table does),
/// `inftop_step_duration_seconds{workload}`, and `inftop_request_latency_seconds{part}` with
/// part = total (queue + compute, what a client sees), queue, compute. Gauges come from the
/// latest dashboard snapshot and the knobs, read at each scrape (`refresh`).
public final class MetricsExporter: TapSink, @unchecked Sendable {
    public let registry = PrometheusCollectorRegistry()
    private let snapshot: @Sendable () -> DashboardSnapshot
    private let knobs: Knobs?

    /// Latency buckets, seconds: 10 µs … 10 s.
    public static let buckets: [Double] = [1e-5, 2.5e-5, 5e-5, 1e-4, 2.5e-4, 5e-4, 1e-3, 2.5e-3, 5e-3, 1e-2,
                                           2.5e-2, 5e-2, 0.1, 0.25, 0.5, 1, 2.5, 5, 10]

    /// Per tap (pump thread only): its histograms by `site * phases + phase`, and this step's
    /// sums in raw buffers (class-property arrays pay an exclusivity and a uniqueness check per
    /// access: most of this sink's cost per step before).
    private final class TapCache {
        weak var tap: SpanTap?
        let step: ValueHistogram
        var nodes: [ValueHistogram?] = []
        var cells = 0
        var sums = UnsafeMutablePointer<UInt64>.allocate(capacity: 0)
        var hit = UnsafeMutablePointer<Int32>.allocate(capacity: 0)
        init(tap: SpanTap, step: ValueHistogram) { self.tap = tap; self.step = step }
        deinit { sums.deallocate(); hit.deallocate() }

        /// Room for cell `i` (a site seen for the first time).
        func grow(to i: Int) {
            let n = max(i + 1, cells * 2, 64)
            let s = UnsafeMutablePointer<UInt64>.allocate(capacity: n), h = UnsafeMutablePointer<Int32>.allocate(capacity: n)
            s.initialize(repeating: 0, count: n)
            s.update(from: sums, count: cells)
            h.initialize(from: hit, count: cells)
            sums.deallocate(); hit.deallocate()
            sums = s; hit = h
            nodes += Array(repeating: nil, count: n - cells)
            cells = n
        }
    }
    private var caches: [ObjectIdentifier: TapCache] = [:]
    /// The tap of the previous call and its cache: a drain hands over one tap's steps in a row
    /// (forgotten after each drain, while the pump holds the taps: an id is not reused meanwhile).
    private var last: (id: ObjectIdentifier, cache: TapCache)?
    private static let phases = Phase.allCases.count
    private let requestTotal: ValueHistogram, requestQueue: ValueHistogram, requestCompute: ValueHistogram
    private let queueDepth: Gauge
    // Scrape state.
    private let scrape = Locked<(info: Gauge?, labels: [String], bytes: Int)>((nil, [], 0))

    public init(knobs: Knobs?, snapshot: @escaping @Sendable () -> DashboardSnapshot) {
        self.knobs = knobs
        self.snapshot = snapshot
        let d = Self.descriptor("request_latency", unit: "seconds",
                                help: "Served request latency: total = queue + compute, as a client sees it.")
        requestTotal = registry.makeValueHistogram(descriptor: d, labels: [("part", "total")], buckets: Self.buckets)
        requestQueue = registry.makeValueHistogram(descriptor: d, labels: [("part", "queue")], buckets: Self.buckets)
        requestCompute = registry.makeValueHistogram(descriptor: d, labels: [("part", "compute")], buckets: Self.buckets)
        queueDepth = registry.makeGauge(descriptor: Self.descriptor("queue_depth", help: "Requests waiting when the last batch was taken."))
    }

    static func descriptor(_ name: String, unit: String = "", help: String) -> MetricNameDescriptor {
        MetricNameDescriptor(namespace: "inftop", metricName: name, unitName: unit, helpText: help)
    }

    // MARK: TapSink (pump thread)

    public func step(_ tap: SpanTap, _ step: TapRecord, _ spans: ArraySlice<TapRecord>) {
        let cache = self.cache(tap)
        cache.step.record(Double(step.value) / 1e9)
        // A node hit several times in a step counts once, with its sum (as the Layers table).
        var hits = 0
        spans.withUnsafeBufferPointer { spans in
            for s in spans {
                let i = Int(s.site) * Self.phases + Int(s.phase.rawValue)
                if i >= cache.cells { cache.grow(to: i) }
                let sums = cache.sums
                if sums[i] == 0 { cache.hit[hits] = Int32(i); hits += 1 }
                sums[i] &+= max(s.value, 1)
            }
        }
        let sums = cache.sums, hit = cache.hit
        for k in 0..<hits {
            let i = Int(hit[k])
            let h = cache.nodes[i] ?? makeNodeHistogram(tap, cache, cell: i)
            h.record(Double(sums[i]) / 1e9)
            sums[i] = 0
        }
    }

    /// The cache of `tap` (a dictionary lookup only when the tap changes from the last call).
    private func cache(_ tap: SpanTap) -> TapCache {
        let id = ObjectIdentifier(tap)
        if let l = last, l.id == id { return l.cache }
        let cache: TapCache
        if let c = caches[id], c.tap === tap { cache = c } else {
            cache = TapCache(tap: tap, step: registry.makeValueHistogram(
                descriptor: Self.descriptor("step_duration", unit: "seconds", help: "Wall time of a training step or a served batch."),
                labels: [("workload", tap.track)], buckets: Self.buckets))
            caches = caches.filter { $0.value.tap != nil }
            caches[id] = cache
        }
        last = (id, cache)
        return cache
    }

    /// The histogram of a (node, phase) cell seen for the first time.
    private func makeNodeHistogram(_ tap: SpanTap, _ cache: TapCache, cell i: Int) -> ValueHistogram {
        let names = tap.siteNames
        let site = i / Self.phases, phase = Phase(rawValue: UInt8(i % Self.phases)) ?? .other
        let name = site < names.count ? names[site] : "site\(site)"
        let h = registry.makeValueHistogram(
            descriptor: Self.descriptor("node_duration", unit: "seconds", help: "Time in one node (layer) per step, by workload and phase."),
            labels: [("workload", tap.track), ("node", name), ("phase", "\(phase)")], buckets: Self.buckets)
        cache.nodes[i] = h
        return h
    }

    public func event(_ tap: SpanTap, _ record: TapRecord) {
        switch record.kind {
        case .request:
            requestTotal.record(Double(record.value) / 1e9)
            requestQueue.record(Double(record.extra) / 1e9)
            requestCompute.record(Double(record.value &- min(record.value, record.extra)) / 1e9)
        case .counter where record.site == TapCounter.queueDepth.rawValue:
            queueDepth.set(to: Double(bitPattern: record.value))
        default:
            break
        }
    }

    public func drained(now: UInt64) { last = nil }

    // MARK: Scrape

    /// Sets the gauges from the latest snapshot and knobs, then returns the exposition text.
    public func render() -> String { String(decoding: renderBytes(), as: UTF8.self) }

    /// `render()`'s bytes, as the server sends them (no String in between).
    public func renderBytes() -> [UInt8] {
        refresh(snapshot())
        var out: [UInt8] = []
        out.reserveCapacity(scrape.withLock { $0.bytes } + 4096)
        registry.emit(into: &out)
        scrape.withLock { $0.bytes = out.count }
        return out
    }

    private func gauge(_ name: String, _ unit: String = "", _ help: String, _ labels: [(String, String)] = []) -> Gauge {
        registry.makeGauge(descriptor: Self.descriptor(name, unit: unit, help: help), labels: labels)
    }

    /// Sets every gauge from `s` (and the knobs' info metric).
    public func refresh(_ s: DashboardSnapshot) {
        gauge("uptime", "seconds", "Seconds since the dashboard session started.").set(to: s.uptimeSeconds)
        gauge("resident_memory", "bytes", "Resident set size of the process.").set(to: Double(s.memory.residentBytes))
        gauge("peak_resident_memory", "bytes", "Peak resident set size of the process.").set(to: Double(s.memory.peakResidentBytes))
        for owner in MemoryOwner.allCases {
            gauge("memory", "bytes", "Bytes held, by owner (weights, gradients, activations, …).", [("owner", owner.description)])
                .set(to: Double(s.memory.bytes(owner)))
        }
        if let t = s.training {
            gauge("training_samples_per_second", "", "Training throughput.").set(to: t.samplesPerSecond)
            gauge("training_steps", "", "Training steps taken by the current training loop.").set(to: Double(t.step))
            gauge("training_batch_size", "", "Training mini-batch size.").set(to: Double(t.batchSize))
            let sets: [(String, Double?, Double?)] = [("train", t.lastLoss, t.lastAccuracy), ("test", t.testLoss, t.testAccuracy)]
            for (set, loss, acc) in sets {
                if let loss, loss.isFinite { gauge("loss", "", "Loss: last training step (train) or last test evaluation (test).", [("set", set)]).set(to: loss) }
                if let acc { gauge("accuracy", "", "Accuracy (0…1): last training step or last test evaluation.", [("set", set)]).set(to: acc) }
            }
        }
        if let i = s.inference {
            gauge("items_per_second", "", "Served requests answered per second (recent window).").set(to: i.itemsPerSecond)
            gauge("offered_per_second", "", "Requests per second offered by the load generator.").set(to: i.offeredPerSecond)
            gauge("requests", "", "Requests answered by the current serving workload.").set(to: Double(i.requests))
            gauge("requests_dropped", "", "Requests dropped because the queue was full.").set(to: Double(i.dropped))
            gauge("inference_batch_size", "", "Inference batch size.").set(to: Double(i.batchSize))
            if let a = i.servedAccuracy { gauge("served_accuracy", "", "Fraction of served answers that were right.").set(to: a) }
            if let c = i.cacheHitRate { gauge("cache_hit_ratio", "", "Response cache hits over lookups.").set(to: c) }
            if let c = i.floor?.cache {
                gauge("cache_lookups", "", "Response cache lookups since the configuration last changed.").set(to: Double(c.lookups))
                gauge("cache_hits", "", "Response cache hits since the configuration last changed.").set(to: Double(c.hits))
                gauge("cache_misses", "", "Response cache misses since the configuration last changed.").set(to: Double(c.lookups - c.hits))
                gauge("cache_entries", "", "Answers held by the response cache.").set(to: Double(c.entries))
                gauge("cache", "bytes", "Bytes held by the response cache (keys, answers, bookkeeping).").set(to: Double(c.bytes))
            }
            if let g = i.generation { refreshGeneration(g) }
            if let l = i.latency {
                for (q, v) in [("0.5", l.p50Ms), ("0.9", l.p90Ms), ("0.99", l.p99Ms)] {
                    gauge("request_latency_window", "seconds", "Request latency percentiles over the dashboard's recent window.", [("quantile", q)])
                        .set(to: v / 1000)
                }
            }
        }
        if let k = knobs?.values { setInfo(k, model: s.training?.model ?? s.inference?.model ?? k.model) }
    }

    /// The generator's gauges: tokens/s (decode, prefill), TTFT quantiles since the last knob
    /// change, time per output token, the KV cache.
    private func refreshGeneration(_ g: GenerationSnapshot) {
        gauge("tokens_per_second", "", "Generator tokens per second: decode = generated per second of wall time (all streams), prefill = prompt tokens per second of prefill.",
              [("phase", "decode")]).set(to: g.decodeTokensPerSecond)
        gauge("tokens_per_second", "", "Generator tokens per second: decode = generated per second of wall time (all streams), prefill = prompt tokens per second of prefill.",
              [("phase", "prefill")]).set(to: g.prefillTokensPerSecond)
        if let t = g.ttft {
            for (q, v) in [("0.5", t.p50Ms), ("0.9", t.p90Ms), ("0.99", t.p99Ms)] {
                gauge("ttft", "seconds", "Time to first token (prompt taken to first token sampled), since the last knob change.", [("quantile", q)])
                    .set(to: v / 1000)
            }
        }
        if let tpot = g.timePerTokenMs { gauge("time_per_output_token", "seconds", "Mean decode step of one stream (recent window).").set(to: tpot / 1000) }
        gauge("generated_tokens", "", "Tokens generated since the generator started.").set(to: Double(g.generatedTokens))
        gauge("generations", "", "Answers finished since the generator started.").set(to: Double(g.completed))
        gauge("kv_cache_positions", "", "Positions held in the KV caches of all streams.").set(to: Double(g.kvPositions))
        gauge("kv_cache_capacity", "", "Positions the KV caches of all streams hold at most.").set(to: Double(g.kvCapacity))
        gauge("kv_cache", "bytes", "Bytes of the preallocated KV caches.").set(to: Double(g.kvBytes))
        gauge("kv_cache_enabled", "", "1 when the KV cache is on (K), 0 when every step recomputes the prefix.").set(to: g.kvCacheEnabled ? 1 : 0)
    }

    private func setInfo(_ k: KnobValues, model: String) {
        let labels = [("model", model), ("batch", String(k.batchSize)), ("inference_batch", String(k.inferenceBatchSize)),
                      ("threads", String(k.threads)), ("backend", k.backend.rawValue), ("precision", k.precision.rawValue),
                      ("pruning", "\(k.pruning)"), ("cache", String(k.responseCache)), ("distillation", String(k.distillation)),
                      ("served", k.served.rawValue), ("kv_cache", String(k.kvCache ?? true)), ("streams", String(k.generationStreams ?? 1))]
        let flat = labels.map { "\($0.0)=\($0.1)" }
        scrape.withLock { st in
            guard st.labels != flat else { return }
            if let old = st.info { registry.unregisterGauge(old) }
            let g = registry.makeGauge(descriptor: Self.descriptor("knobs_info", help: "The current knob settings as labels (value 1)."), labels: labels)
            g.set(to: 1)
            st.info = g; st.labels = flat
        }
    }
}
