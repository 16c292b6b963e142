import Foundation
import InftopEngine
import InftopTelemetry

/// Serves the generative model (`v` → generator): answers the bundled prompts
/// (`LLMPromptSet`) one after another on `streams` concurrent generations, the way a chat
/// server with several users does, and publishes what its users watch: time to first token,
/// prefill and decode tokens/s, the KV cache's positions and bytes, the text as it streams and
/// a per-stage table (attention vs MLP vs head, the layers summed per stage kind).
///
///     prompt taken (tokenized, chat template) → prefill GEMMs → first token (TTFT)
///     → decode steps (GEMVs over the KV cache, or the whole prefix with `K` off) → end
///
/// The streams share one mapping of the weights and one set of kernel threads; one generator
/// thread gives each active stream one action per round (a prefill or a decode step), so a new
/// prompt's TTFT includes the other streams' steps, as on a server that interleaves them. Knobs
/// are read between rounds: `a` the kernel threads, `+`/`-` (Latency panel) the concurrent
/// generations, `K` the KV cache, `k` reference ↔ simd kernels, `I` the ISA, space pauses.
/// A change restarts the since-change figures. Reads time from `clock`.
public final class GenerationService: ServedWorkload, @unchecked Sendable {
    public struct Settings: Sendable {
        public var prompts: [String] = LLMPromptSet.prompts
        /// Tokens at most per answer.
        public var maxNewTokens = 128
        /// Positions per stream's KV cache (prompt + answer).
        public var contextCapacity = 512
        /// Sampling; temperature 0 is greedy.
        public var temperature: Float = 0.7
        public var topK = 40
        public var topP: Float = 0.95
        public var seed: UInt64 = 0
        /// Concurrent generations at most.
        public var maxStreams = 8
        public init() {}
    }

    public let model: LanguageModel
    /// The file's name without `.gguf` ("SmolLM2-135M-Instruct.Q4_1"): what users call it.
    public var displayName: String { Self.displayName(path: model.file.path) }
    public let settings: Settings
    public let snapshots: SnapshotSlot<InferenceSnapshot>
    private let knobs: Knobs
    private let clock: any NanoClock
    private let profiler = StepProfiler(track: "generator")
    private let stopFlag = StopFlag()
    private var thread: JoinableThread?

    // Generator-thread state.
    private var streams: [GenerationStream] = []
    private var nextPrompt = 0
    private var begun = 0
    private var applied: Applied?
    private var state: WorkloadState = .starting
    private var failure: String?
    private var figures: GenerationFigures
    private var lastPublish: UInt64 = 0
    /// Knob changes on the series' time axis (at most 32), for the charts' dotted lines.
    private var markers: [ChartMarker] = []
    /// The last answers finished (at most 16, oldest first), on the generator thread.
    public private(set) var finished: [(prompt: String, tokens: [Int32], stop: String)] = []

    /// The knobs as the generator runs them.
    struct Applied: Equatable {
        var compute: Compute
        var kvCache: Bool
        var streams: Int
    }

    /// - Throws: `EngineError.invalid` when the settings cannot run (no prompts, no room to answer).
    public init(model: LanguageModel, knobs: Knobs, settings: Settings = Settings(), clock: any NanoClock = SystemClock(),
                snapshots: SnapshotSlot<InferenceSnapshot> = SnapshotSlot()) throws {
        guard !settings.prompts.isEmpty else { throw EngineError.invalid(what: "prompts", reason: "none to answer") }
        guard settings.maxNewTokens >= 1 else { throw EngineError.invalid(what: "max new tokens", reason: "\(settings.maxNewTokens): must be ≥ 1") }
        guard settings.maxStreams >= 1 else { throw EngineError.invalid(what: "streams", reason: "\(settings.maxStreams): must be ≥ 1") }
        _ = try Sampler(temperature: settings.temperature, topK: settings.topK, topP: settings.topP, seed: settings.seed)
        self.model = model
        self.settings = settings
        self.knobs = knobs
        self.clock = clock
        self.snapshots = snapshots
        figures = GenerationFigures(origin: clock.now())
        model.registerSites(in: profiler, grouped: true)
        streams = [GenerationStream(model: model, sampler: try sampler(for: 0))]
        applyKnobs()
        snapshots.publish(makeSnapshot())
    }

    public func start() {
        precondition(thread == nil, "GenerationService: start() called twice")
        state = .running
        thread = JoinableThread(name: "inftop-gen") { [unowned(unsafe) self] in
            while !self.stopFlag.isSet { self.step() }
            self.publish(force: true)
        }
    }

    /// Stops after the current action (a prefill or one decode step) and joins.
    public func stop() {
        stopFlag.set()
        thread?.join()
        thread = nil
    }

    /// One round: applies the knobs, then every active stream takes one action (a stream with
    /// no prompt takes the next one first). Publishes at most every 100 ms. The generator
    /// thread's loop body; tests call it directly on a `ManualClock`.
    public func step() {
        applyKnobs()
        if state == .paused || failure != nil {
            publish(force: false)
            usleep(20_000)
            return
        }
        if state == .starting { state = .running }
        let limit = settings.maxNewTokens
        do {
            for s in streams {
                if s.phase == .idle || s.phase == .done {
                    try s.begin(prompt: takePrompt(), sampler: try sampler(for: begun), now: clock.now())
                    begun += 1
                }
                let timed = s.phase == .decode
                if timed { s.model.spans = profiler.buffer; profiler.beginStep() } else { s.model.spans = nil }
                let outcome = try s.advance(maxNewTokens: limit, clock: clock)
                switch outcome {
                case let .prefilled(promptTokens, nanos, ttft):
                    figures.prefilled(tokens: promptTokens, nanos: nanos, ttft: ttft, now: clock.now())
                case let .decoded(nanos):
                    profiler.endStep(wallNanos: nanos)
                    figures.decoded(nanos: nanos, now: clock.now())
                case .nothing:
                    if timed { profiler.endStep(wallNanos: 0) }
                }
                if s.phase == .done {
                    figures.finished(tokens: s.tokens.count)
                    if finished.count == 16 { finished.removeFirst() }
                    finished.append((s.prompt, s.tokens, s.stop ?? "done"))
                }
            }
        } catch {
            failure = "\(error)"
            state = .failed(failure!)
        }
        figures.closeWindowIfDue(now: clock.now())
        publish(force: false)
    }

    public static func displayName(path: String) -> String {
        let base = (path as NSString).lastPathComponent
        return base.hasSuffix(".gguf") ? String(base.dropLast(5)) : base
    }

    private func takePrompt() -> String {
        let p = settings.prompts[nextPrompt % settings.prompts.count]
        nextPrompt += 1
        return p
    }

    /// Generation `n`'s sampler: the settings' with seed + n, so a run is reproducible.
    private func sampler(for n: Int) throws -> Sampler {
        try Sampler(temperature: settings.temperature, topK: settings.topK, topP: settings.topP, seed: settings.seed &+ UInt64(n))
    }

    private func applyKnobs() {
        let v = knobs.values
        let paused = v.inferencePaused
        if paused, state != .paused, failure == nil { state = .paused }
        if !paused, state == .paused { state = .running }
        // Quantized GGUF matrices have no BLAS path: blas runs our simd kernels (the plan label says simd).
        let backend: KernelBackend = v.backend == .reference ? .reference : .simd
        let wanted = Applied(compute: Compute(backend: backend, threads: max(1, v.servingWorkers), isa: HostCPU.current.runnable(v.isa)),
                             kvCache: v.kvCache ?? true, streams: max(1, min(v.generationStreams ?? 1, settings.maxStreams)))
        guard wanted != applied else { return }
        model.compute = wanted.compute
        model.prepareThreads()
        while streams.count > wanted.streams { streams.removeLast() }
        while streams.count < wanted.streams {
            guard let m = try? LanguageModel(sharing: model, contextCapacity: settings.contextCapacity),
                  let s = try? sampler(for: begun) else { break }
            streams.append(GenerationStream(model: m, sampler: s))
        }
        for s in streams {
            if s.model !== model { s.model.runOnThreads(of: model) }
            s.model.kvCacheEnabled = wanted.kvCache
        }
        profiler.resetStatistics()
        let now = clock.now()
        if applied != nil {
            if markers.count == 32 { markers.removeFirst() }
            markers.append(ChartMarker(time: figures.seconds(at: now), label: Self.label(wanted)))
        }
        applied = wanted
        figures.restart(now: now)
    }

    /// "2 streams · KV off · t2 · avx2 · simd": a configuration as a marker names it.
    static func label(_ a: Applied) -> String {
        "\(a.streams) stream\(a.streams == 1 ? "" : "s") · KV \(a.kvCache ? "on" : "off") · t\(a.compute.threads) · \(a.compute.isa.rawValue) · \(a.compute.backend.rawValue)"
    }

    private func publish(force: Bool) {
        let now = clock.now()
        guard force || now &- lastPublish >= 100_000_000 else { return }
        lastPublish = now
        snapshots.publish(makeSnapshot())
    }

    /// The snapshot as of now (what `publish` puts in the slot).
    public func makeSnapshot() -> InferenceSnapshot {
        let a = applied ?? Applied(compute: model.compute, kvCache: true, streams: 1)
        let f = figures
        let kvBytes = streams.reduce(0) { $0 + $1.model.kvCacheBytes }
        let generation = GenerationSnapshot(
            ttft: f.ttft.cumulativeStat, prefillTokensPerSecond: f.recentPrefillTokensPerSecond,
            decodeTokensPerSecond: f.recentTokensPerSecond, timePerTokenMs: f.recentTimePerTokenMs,
            kvCacheEnabled: a.kvCache, kvPositions: streams.reduce(0) { $0 + $1.model.positions },
            kvCapacity: streams.reduce(0) { $0 + $1.model.cache.capacity }, kvBytes: kvBytes, threads: a.compute.threads,
            completed: f.completed, generatedTokens: f.generatedTokens + streams.reduce(0) { $0 + ($1.phase == .done ? 0 : $1.tokens.count) },
            maxNewTokens: settings.maxNewTokens,
            sampling: settings.temperature == 0 ? "greedy"
                : "T \(Format.compact(Double(settings.temperature))) · top-k \(settings.topK) · top-p \(Format.compact(Double(settings.topP))) · seed \(settings.seed)",
            streams: streams.map { $0.snapshot() })
        let weights = model.weightBytesByStage.map { NodeMemory(name: $0.stage, weights: $0.bytes, activations: $0.stage == "attention" ? kvBytes : 0) }
        return InferenceSnapshot(
            model: displayName, state: state, requests: f.completed, batches: f.decodeSteps, batchSize: a.streams,
            latency: f.ttft.recent, itemsPerSecond: f.recentTokensPerSecond, cacheHitRate: nil,
            layers: profiler.layerStats(), profilerOverhead: profiler.overheadFraction,
            series: [f.ttft.p50Series.snapshot(), f.ttft.p99Series.snapshot(), f.tokenSeries.snapshot(), f.prefillSeries.snapshot()],
            servedAccuracy: nil, accuracyLabel: "",
            summary: "\(model.config.layers)×\(model.config.hidden), \(Format.compact(Double(model.parameterCount) / 1e6))M params, \(model.weightTypes)",
            plan: PlanLabel(backend: a.compute.backend, isa: a.compute.isa, precision: .fp32, threads: a.compute.threads),
            nodeMemory: weights,
            generation: generation, markers: markers)
    }
}
