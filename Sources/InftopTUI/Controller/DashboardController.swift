import InftopTelemetry
import InftopWorkloads

/// What the controller is told about the world it runs in.
public struct DashboardConfig: Sendable {
    /// Models `m` cycles through (`knobs.model` takes these values).
    public var modelNames: [String]
    /// Themes `T` cycles through (`state.themeIndex` indexes this).
    public var themeNames: [String]
    /// `t` cycles threads 1 … maxThreads.
    public var maxThreads: Int
    /// Optional features whose knobs the workloads honour (see `DashboardFeature`).
    public var builtFeatures: Set<DashboardFeature>
    /// False under NO_COLOR / --no-color: `T` says why it does nothing.
    public var colorEnabled: Bool
    /// How long a status message stays, seconds.
    public var statusSeconds: Double
    /// The kernel ISA tiers this CPU runs, narrowest first: `I` cycles them (`HostCPU`).
    public var availableISAs: [KernelISA]
    /// The text encoder `v` serves, or nil with `encoderUnavailable` saying why.
    public var encoderName: String?
    public var encoderUnavailable: String?
    /// The generative model `v` serves, or nil with `generatorUnavailable` saying why.
    public var generatorName: String?
    public var generatorUnavailable: String?

    public init(modelNames: [String] = ["mlp"], themeNames: [String] = ["default"], maxThreads: Int = 1,
                builtFeatures: Set<DashboardFeature> = [], colorEnabled: Bool = true, statusSeconds: Double = 4,
                availableISAs: [KernelISA] = [.avx2], encoderName: String? = nil, encoderUnavailable: String? = nil,
                generatorName: String? = nil, generatorUnavailable: String? = nil) {
        self.modelNames = modelNames; self.themeNames = themeNames; self.maxThreads = max(1, maxThreads)
        self.builtFeatures = builtFeatures; self.colorEnabled = colorEnabled; self.statusSeconds = statusSeconds
        self.availableISAs = availableISAs.isEmpty ? [.avx2] : availableISAs
        self.encoderName = encoderName; self.encoderUnavailable = encoderUnavailable
        self.generatorName = generatorName; self.generatorUnavailable = generatorUnavailable
    }
}

/// The dashboard's key handling as a pure state machine: a key, the current knob values and
/// the time in; new state and knob values out. No terminal, no threads, no clock of its own.
///
/// Batch keys (`+`, `-`, `b`) act on the focused workload (`state.workload`): the training
/// batch (`knobs.batchSize`) while Training (the default) was focused last, the inference
/// batch (`knobs.inferenceBatchSize`) after the Latency panel was focused. `space` pauses and
/// resumes that same workload.
public struct DashboardController: Sendable {
    public private(set) var state: DashboardState
    public var config: DashboardConfig

    /// Chart windows `[`/`]` step through, seconds; nil = everything kept.
    public static let timeWindows: [Double?] = [10, 30, 60, 120, 300, 600, 1800, 3600, nil]
    public static let defaultWindowIndex = 2
    /// Pruning levels `p` steps through.
    public static let pruningLevels: [Double] = [0, 0.5, 0.75, 0.9]

    /// What `p` / `P` prune under `knobs`, for the status line.
    static func pruningTarget(_ knobs: KnobValues) -> String {
        let trained = "the trained model fine-tunes with the masks"
        switch (knobs.served == .encoder, knobs.effectivePruneMode) {
        case (true, .structured): return "the served encoder loses that share of heads and FFN channels, loaded in the background; \(trained)"
        case (true, .unstructured): return "the served encoder prunes a copy of its projections, CSR where it measured faster; \(trained)"
        case (false, .structured): return "next step; \(trained), serving runs the shrunk matrices"
        case (false, .unstructured): return "next step; \(trained), serving runs CSR where it measured faster"
        }
    }

    public init(config: DashboardConfig, state: DashboardState = DashboardState()) {
        self.config = config; self.state = state
    }

    // MARK: - Facts from the frame

    /// Tells the controller how many layer rows the table has and how many fit, so keys can
    /// keep the selection in range and visible.
    public mutating func noteLayers(rowCount: Int, viewportRows: Int) {
        state.layerRowCount = max(0, rowCount)
        state.layerViewportRows = max(1, viewportRows)
        clampLayerSelection()
    }

    /// Shows `text` on the footer for `seconds` (default `config.statusSeconds`).
    public mutating func setStatus(_ text: String, error: Bool = false, now: Double, seconds: Double? = nil) {
        state.status = StatusMessage(text: text, isError: error, expires: now + (seconds ?? config.statusSeconds))
    }

    /// The status message still showing at `now`, if any.
    public func status(at now: Double) -> StatusMessage? {
        guard let s = state.status, now < s.expires else { return nil }
        return s
    }

    /// Sets the current theme by index (e.g. the one `--theme` named).
    public mutating func selectTheme(_ index: Int) {
        if config.themeNames.indices.contains(index) { state.themeIndex = index }
    }

    // MARK: - Keys

    /// Applies one key. Knob changes are written to `knobs`; quitting sets `state.quitRequested`.
    /// `now` (seconds) times status messages.
    public mutating func handle(_ key: Key, knobs: inout KnobValues, now: Double) {
        if key == .resize { return }
        if key == .ctrlC || key == .function(10) { state.quitRequested = true; return }
        if state.prompt != nil { handlePrompt(key, knobs: &knobs, now: now); return }
        if state.helpVisible { handleHelp(key); return }
        guard let command = KeyMap.command(for: key) else {
            setStatus("\(key): not a key here — ? lists the keys", now: now)
            return
        }
        perform(command, key: key, knobs: &knobs, now: now)
    }

    mutating func perform(_ command: Command, key: Key, knobs: inout KnobValues, now: Double) {
        switch command {
        case .quit:
            state.quitRequested = true
        case .help:
            state.helpVisible = true; state.helpScroll = 0
        case .batchUp where servesGenerator(knobs), .batchDown where servesGenerator(knobs):
            let n = knobs.generationStreams ?? 1
            let target = command == .batchUp ? n + 1 : n - 1
            guard Self.generationStreamRange.contains(target) else {
                setStatus("concurrent generations already \(n) (range 1…\(Self.generationStreamRange.upperBound))", now: now); return
            }
            knobs.generationStreams = target
            setStatus("concurrent generations \(n) → \(target) (next round)", now: now)
        case .batchUp, .batchDown:
            let current = state.workload == .training ? knobs.batchSize : knobs.inferenceBatchSize
            let target = command == .batchUp ? DashboardController.nextPowerOfTwo(above: current)
                                             : DashboardController.previousPowerOfTwo(below: current)
            let r = KnobValues.batchRange
            if target > r.upperBound || target < r.lowerBound {
                setStatus("\(batchName) batch is already \(current) (range \(r.lowerBound)…\(r.upperBound))", now: now)
            } else {
                setBatch(target, knobs: &knobs, now: now)
            }
        case .batchPrompt:
            state.prompt = Prompt(kind: .batch, text: "")
        case .rateDown, .rateUp:
            // Panel-scoped: the workload whose panel was focused last.
            if state.workload == .training { scaleLearningRate(command == .rateUp ? 2 : 0.5, knobs: &knobs, now: now) }
            else { changeServingRate(up: command == .rateUp, knobs: &knobs, now: now) }
        case .distillationPrompt:
            guard built(.distillation, key: key, now: now) else { return }
            state.prompt = Prompt(kind: .distillation, text: "")
        case .learningRatePrompt:
            guard trainingFocused(key, now: now) else { return }
            state.prompt = Prompt(kind: .learningRate, text: "")
        case .cacheBoundPrompt:
            guard built(.responseCache, key: key, now: now) else { return }
            state.prompt = Prompt(kind: .cacheBound, text: "")
        case .latencyBoundPrompt:
            state.prompt = Prompt(kind: .latencyBound, text: "")
        case .optimizer:
            guard trainingFocused(key, now: now) else { return }
            let current = knobs.optimizer ?? .sgd
            let next = current.next
            state.learningRates[current.rawValue] = learningRate(knobs)
            let lr = state.learningRates[next.rawValue] ?? next.defaultLearningRate
            knobs.optimizer = next
            knobs.learningRate = lr
            setStatus("optimizer \(current.rawValue) → \(next.rawValue), lr \(Format.significant(Double(lr))) (next step; momentum carried over)", now: now)
        case .precision:
            guard built(.int8, key: key, now: now) else { return }
            knobs.precision = knobs.precision == .fp32 ? .int8 : .fp32
            setStatus("served precision → \(knobs.precision.rawValue) (next batch; training stays fp32)", now: now)
        case .pruning:
            guard built(.pruning, key: key, now: now) else { return }
            let levels = DashboardController.pruningLevels
            let i = levels.lastIndex { $0 <= knobs.pruning + 1e-9 } ?? 0
            knobs.pruning = levels[(i + 1) % levels.count]
            setStatus(knobs.pruning == 0 ? "pruning off" : "pruning → \(Format.percent(knobs.pruning)) \(knobs.effectivePruneMode.rawValue) (\(Self.pruningTarget(knobs)))", now: now)
        case .pruneMode:
            guard built(.pruning, key: key, now: now) else { return }
            knobs.pruneMode = knobs.effectivePruneMode == .unstructured ? .structured : .unstructured
            setStatus("pruning mode → \(knobs.effectivePruneMode.rawValue)" + (knobs.pruning > 0 ? " at \(Format.percent(knobs.pruning)) (\(Self.pruningTarget(knobs)))" : " (p sets the sparsity)"), now: now)
        case .threads:
            knobs.threads = knobs.threads >= config.maxThreads ? 1 : max(1, knobs.threads + 1)
            setStatus("threads → \(knobs.threads) of \(config.maxThreads) (next step)", now: now)
        case .backend:
            knobs.backend = knobs.backend.next
            setStatus("kernel backend → \(knobs.backend.rawValue) (next step)", now: now)
        case .isa:
            let tiers = config.availableISAs
            guard tiers.count > 1 else {
                setStatus("kernel ISA: this CPU runs only \(tiers[0].rawValue)", now: now)
                return
            }
            // auto means the widest tier, so the first press goes to the next one down the cycle.
            let current = knobs.isa == .auto ? tiers[tiers.count - 1] : knobs.isa
            knobs.isa = tiers[((tiers.firstIndex(of: current) ?? 0) + 1) % tiers.count]
            setStatus("kernel ISA → \(knobs.isa.rawValue) (next step; simd backend and its kernels)", now: now)
        case .cache:
            guard built(.responseCache, key: key, now: now) else { return }
            knobs.responseCache.toggle()
            setStatus("response cache \(knobs.responseCache ? "on" : "off")", now: now)
        case .distillation:
            guard built(.distillation, key: key, now: now) else { return }
            knobs.distillation.toggle()
            let d = knobs.distillationSettings
            setStatus(knobs.distillation ? "distillation on: a student trains beside \(knobs.model), T \(Format.significant(Double(d.temperature))) "
                      + "α \(Format.significant(Double(d.alpha))) (D serves it)" : "distillation off: the student stops", now: now)
        case .servedStudent:
            guard built(.distillation, key: key, now: now) else { return }
            guard knobs.distillation else { setStatus("D serves the distillation student: press d first to train one", now: now); return }
            knobs.servesStudent = !knobs.servingStudent
            state.workload = .inference
            setStatus(knobs.servingStudent ? "serving the student (its latest weights)" : "serving the teacher \(knobs.model) again", now: now)
        case .pause:
            let paused: Bool
            if state.workload == .training { knobs.trainingPaused.toggle(); paused = knobs.trainingPaused }
            else { knobs.inferencePaused.toggle(); paused = knobs.inferencePaused }
            setStatus("\(state.workload.label) \(paused ? "paused" : "resumed") — space toggles", now: now)
        case .freeze:
            state.frozen.toggle()
            setStatus(state.frozen ? "display frozen (sampling goes on) — Z resumes" : "display live", now: now)
        case .focusNext, .focusPrevious:
            let all = PanelID.allCases
            let i = all.firstIndex(of: state.focus)!
            state.focus = all[(i + (command == .focusNext ? 1 : all.count - 1)) % all.count]
            if state.focus == .training { state.workload = .training }
            if state.focus == .latency { state.workload = .inference }
            state.layerSelection = min(state.layerSelection, max(0, state.layerRowCount - 1))
        case .expand:
            state.expanded.toggle()
        case .sortNext:
            let all = LayerSortKey.allCases
            state.layerSort = all[(all.firstIndex(of: state.layerSort)! + 1) % all.count]
            state.layerSortDescending = state.layerSort.defaultDescending
            setStatus("layers sorted by \(state.layerSort.label) \(state.layerSortDescending ? "▼" : "▲") — r reverses", now: now)
        case .sortReverse:
            state.layerSortDescending.toggle()
            setStatus("layers sorted by \(state.layerSort.label) \(state.layerSortDescending ? "▼" : "▲")", now: now)
        case .filter:
            state.prompt = Prompt(kind: .filter, text: state.layerFilter)
        case .windowOut, .windowIn:
            let n = DashboardController.timeWindows.count
            let j = state.windowIndex + (command == .windowOut ? 1 : -1)
            if j < 0 || j >= n {
                setStatus("time window is already \(windowLabel) (\(command == .windowOut ? "widest" : "narrowest"))", now: now)
            } else {
                state.windowIndex = j
                setStatus("time window \(windowLabel) — = resets", now: now)
            }
        case .windowReset:
            state.windowIndex = DashboardController.defaultWindowIndex
            setStatus("time window \(windowLabel)", now: now)
        case .model:
            let names = config.modelNames
            guard names.count > 1 else {
                setStatus("only one model to switch to: \(names.first ?? knobs.model)", now: now); return
            }
            let i = names.firstIndex(of: knobs.model).map { ($0 + 1) % names.count } ?? 0
            knobs.model = names[i]
            setStatus("model → \(knobs.model) (the workloads restart with it)", now: now)
        case .servedModel:
            var available: Set<ServedModel> = [.trained]
            if config.encoderName != nil { available.insert(.encoder) }
            if config.generatorName != nil { available.insert(.generator) }
            guard available.count > 1 else {
                setStatus("v: \(config.encoderUnavailable ?? "no text encoder loaded (pass --serve DIR)"); "
                          + (config.generatorUnavailable ?? "no generative model (pass --llm FILE)"), now: now)
                return
            }
            knobs.served = knobs.served.next(among: available)
            // The layer table (and the batch keys) follow the workload that just changed.
            state.workload = .inference
            switch knobs.served {
            case .trained: setStatus("serving the trained \(knobs.model) again", now: now)
            case .encoder: setStatus("serving \(config.encoderName ?? "the encoder") (training goes on)", now: now)
            case .generator:
                setStatus("generating with \(config.generatorName ?? "the generative model") (training goes on; K: KV cache, +/-: streams)", now: now)
            }
        case .kvCache:
            guard knobs.served == .generator else {
                setStatus("K: the KV cache belongs to the generative model; press v until it is served", now: now); return
            }
            knobs.kvCache = !(knobs.kvCache ?? true)
            setStatus(knobs.kvCache == true ? "KV cache on (each step reuses every earlier position)"
                                            : "KV cache off (each step recomputes the whole prefix)", now: now)
        case .loadScenario:
            knobs.scenario = knobs.scenario.next
            setStatus("load scenario → \(knobs.scenario.title) (figures restart)", now: now)
        case .queueDelay:
            let steps = KnobValues.queueDelaySteps
            let i = steps.lastIndex { $0 <= knobs.maxQueueDelayMs + 1e-9 } ?? 0
            knobs.maxQueueDelayMs = steps[(i + 1) % steps.count]
            setStatus("max queue delay → \(Format.compact(knobs.maxQueueDelayMs)) ms (dynamic batching)", now: now)
        case .workers:
            knobs.servingWorkers = knobs.servingWorkers >= config.maxThreads ? 1 : knobs.servingWorkers + 1
            setStatus("serving workers → \(knobs.servingWorkers) of \(config.maxThreads) cores (one thread each)", now: now)
        case .repeats:
            let steps = KnobValues.repeatSteps
            let i = steps.lastIndex { $0 <= knobs.repeatPercent } ?? 0
            knobs.repeatPercent = steps[(i + 1) % steps.count]
            setStatus("load repeats → \(knobs.repeatPercent)% from a hot set\(knobs.responseCache ? "" : " (c turns the cache on)")", now: now)
        case .trace:
            state.traceRequest = state.workload
        case .abCompare:
            if state.abBaseline != nil {
                state.abBaseline = nil
                setStatus("A/B compare cleared", now: now)
            } else {
                state.abRequest = true
            }
        case .theme:
            guard config.colorEnabled else {
                setStatus("T: themes need colour (NO_COLOR or --no-color is set)", now: now); return
            }
            guard config.themeNames.count > 1 else { setStatus("only one theme found", now: now); return }
            state.themeIndex = (state.themeIndex + 1) % config.themeNames.count
            setStatus("theme → \(config.themeNames[state.themeIndex])", now: now)
        case .scrollUp, .scrollDown, .pageUp, .pageDown, .scrollHome, .scrollEnd:
            guard state.focus == .layers else {
                setStatus("\(key) moves in the Layers table — Tab to focus it", now: now); return
            }
            let page = max(1, state.layerViewportRows)
            var sel = state.layerSelection
            switch command {
            case .scrollUp: sel -= 1
            case .scrollDown: sel += 1
            case .pageUp: sel -= page
            case .pageDown: sel += page
            case .scrollHome: sel = 0
            default: sel = state.layerRowCount - 1
            }
            state.layerSelection = sel
            clampLayerSelection()
        }
    }

    /// Whether `x` asked for an A side since the last call.
    public mutating func takeABRequest() -> Bool {
        defer { state.abRequest = false }
        return state.abRequest
    }

    /// Takes the A side of the A/B compare from `snapshot`.
    public mutating func captureAB(_ snapshot: DashboardSnapshot, now: Double) {
        guard let a = ABBaseline.capture(snapshot) else { setStatus("x: nothing is serving", now: now); return }
        state.abBaseline = a
        setStatus("A = \(a.label) (\(a.p50.count) windows) — change a knob, the panel compares; x clears", now: now)
    }

    /// Notes the rate the serving side offers now (the snapshot's), so `<`/`>` start from it.
    public mutating func noteOfferedRate(_ rate: Double?) { state.offeredRate = rate }

    /// The workload whose trace `X` asked for since the last call (the app starts the capture).
    public mutating func takeTraceRequest() -> WorkloadKind? {
        defer { state.traceRequest = nil }
        return state.traceRequest
    }

    // MARK: - Prompt and help

    mutating func handlePrompt(_ key: Key, knobs: inout KnobValues, now: Double) {
        guard var p = state.prompt else { return }
        switch key {
        case .escape:
            state.prompt = nil
        case .enter:
            state.prompt = nil
            switch p.kind {
            case .batch:
                let r = KnobValues.batchRange
                if let n = Int(p.text.strippingSpaces()), r.contains(n) {
                    setBatch(n, knobs: &knobs, now: now)
                } else {
                    setStatus("batch must be \(r.lowerBound)…\(r.upperBound)", error: true, now: now)
                }
            case .learningRate:
                let r = DashboardController.learningRateRange
                if let v = Float(p.text.strippingSpaces()), v.isFinite, r.contains(v) {
                    setLearningRate(v, knobs: &knobs, now: now)
                } else {
                    setStatus("learning rate must be a number > 0 and ≤ \(r.upperBound) (e.g. 0.01)", error: true, now: now)
                }
            case .distillation:
                let parts = p.text.split(whereSeparator: { $0 == " " || $0 == "," }).map { Float($0) }
                if parts.count == 2, let t = parts[0], let a = parts[1], t > 0, t.isFinite, t <= 100, a >= 0, a <= 1 {
                    knobs.distillTemperature = t
                    knobs.distillAlpha = a
                    setStatus("distillation T \(Format.significant(Double(t))) α \(Format.significant(Double(a)))"
                              + (knobs.distillation ? " from the student's next step" : " (d starts the student)"), now: now)
                } else {
                    setStatus("distillation: type T and α, e.g. 4 0.9 (T > 0 and ≤ 100, α in [0, 1])", error: true, now: now)
                }
            case .cacheBound:
                let r = Self.cacheBoundRange
                if let n = Self.parseBytes(p.text), r.contains(n) {
                    let old = knobs.cacheBytes
                    knobs.cacheBytes = n
                    setStatus("response cache bound \(Format.bytes(old)) → \(Format.bytes(n))" + (knobs.responseCache ? "" : " (c turns the cache on)"), now: now)
                } else {
                    setStatus("cache bound must be \(Format.bytes(r.lowerBound))…\(Format.bytes(r.upperBound)): bytes, or a number with K, M or G (e.g. 4M)", error: true, now: now)
                }
            case .latencyBound:
                let r = Self.latencyBoundRange
                if let v = Double(p.text.strippingSpaces()), v.isFinite, v > 0, v <= r.upperBound {
                    knobs.p99BoundMs = v
                    setStatus("Server p99 bound → \(Format.compact(v)) ms" + (knobs.scenario == .server ? "" : " (L: the Server scenario judges it)"), now: now)
                } else {
                    setStatus("p99 bound must be a number of ms > 0 and ≤ \(Format.compact(r.upperBound)) (e.g. 50)", error: true, now: now)
                }
            case .filter:
                state.layerFilter = p.text.strippingSpaces()
                state.layerSelection = 0; state.layerScroll = 0
                setStatus(state.layerFilter.isEmpty ? "layer filter cleared" : "layers matching \"\(state.layerFilter)\" — / then Enter on empty clears", now: now)
            }
        case .backspace, .delete, .char("\u{7F}"), .char("\u{8}"):
            if !p.text.isEmpty { p.text.removeLast() }
            state.prompt = p
        case .char(let c):
            guard let a = c.unicodeScalars.first, a.value >= 0x20 else { return }
            if p.kind == .batch && !c.isNumber {
                setStatus("batch size: digits only", error: true, now: now); return
            }
            if p.kind == .learningRate && !(c.isNumber || c == "." || c == "e" || c == "E" || c == "-" || c == "+") {
                setStatus("learning rate: a number such as 0.01 or 1e-3", error: true, now: now); return
            }
            if p.kind == .cacheBound && !(c.isNumber || c == "." || c == " " || "kKmMgGiIbB".contains(c)) {
                setStatus("cache bound: a size such as 4M, 512K or 65536", error: true, now: now); return
            }
            if p.kind == .latencyBound && !(c.isNumber || c == ".") {
                setStatus("p99 bound: a number of ms such as 50", error: true, now: now); return
            }
            if p.kind == .distillation && !(c.isNumber || c == "." || c == " " || c == "," || c == "e" || c == "E" || c == "-" || c == "+") {
                setStatus("distillation: two numbers, T and α, such as 4 0.9", error: true, now: now); return
            }
            if p.text.count < 32 { p.text.append(c) }
            state.prompt = p
        default:
            break
        }
    }

    mutating func handleHelp(_ key: Key) {
        switch key {
        case .char("q"): state.quitRequested = true
        case .up: state.helpScroll = max(0, state.helpScroll - 1)
        case .down: state.helpScroll = min(KeyMap.help.count - 1, state.helpScroll + 1)
        case .pageUp: state.helpScroll = max(0, state.helpScroll - 10)
        case .pageDown: state.helpScroll = min(KeyMap.help.count - 1, state.helpScroll + 10)
        default: state.helpVisible = false   // Esc, ?, F1, h, Enter and any other key close it
        }
    }

    // MARK: - Helpers

    var batchName: String { state.workload == .training ? "training" : "inference" }

    var windowLabel: String {
        state.timeWindow.map { BrailleChart.formatSpan($0) } ?? "all"
    }

    /// Whether the batch keys act on the generator's streams: the serving side is focused and
    /// the generative model is what it serves.
    func servesGenerator(_ knobs: KnobValues) -> Bool { state.workload == .inference && knobs.served == .generator }

    /// Concurrent generations the batch keys keep the generator within.
    public static let generationStreamRange = 1...8

    mutating func setBatch(_ n: Int, knobs: inout KnobValues, now: Double) {
        if servesGenerator(knobs) {
            let old = knobs.generationStreams ?? 1, r = Self.generationStreamRange
            knobs.generationStreams = min(max(n, r.lowerBound), r.upperBound)
            if !r.contains(n) { Notices.shared.post("concurrent generations \(n) is outside \(r.lowerBound)…\(r.upperBound); clamped to \(knobs.generationStreams!)") }
            setStatus("concurrent generations \(old) → \(knobs.generationStreams!)"
                      + (r.contains(n) ? "" : " (clamped to \(r.lowerBound)…\(r.upperBound))") + " (next round)", now: now)
            return
        }
        let old: Int
        if state.workload == .training { old = knobs.batchSize; knobs.batchSize = n }
        else { old = knobs.inferenceBatchSize; knobs.inferenceBatchSize = n }
        // Smaller: the activations keep their room (the Memory panel's "act. in use" line).
        setStatus("\(batchName) batch \(old) → \(n) (next step" + (n < old ? "; activation memory kept for regrowth)" : ")"), now: now)
    }

    /// Learning rates `<`/`>`/`l` may set.
    public static let learningRateRange: ClosedRange<Float> = 1e-6...10
    /// `C`: the response cache's byte bound, 4 KiB … 1 GiB.
    public static let cacheBoundRange: ClosedRange<Int> = (4 << 10)...(1 << 30)
    /// `B`: the Server scenario's p99 bound, ms.
    public static let latencyBoundRange: ClosedRange<Double> = 0.001...600_000

    /// "4M", "512K", "1.5G", "65536", "4 MiB" → bytes (K/M/G are powers of 1 024); nil if not that.
    public static func parseBytes(_ text: String) -> Int? {
        var t = text.strippingSpaces().uppercased()
        for suffix in ["IB", "B"] where t.hasSuffix(suffix) { t.removeLast(suffix.count); break }
        var scale = 1.0
        if let last = t.last, let i = ["K", "M", "G"].firstIndex(of: String(last)) {
            scale = Double(1 << (10 * (i + 1))); t.removeLast()
        }
        guard let v = Double(t.strippingSpaces()), v.isFinite, v >= 0, v * scale < Double(Int.max) else { return nil }
        return Int((v * scale).rounded())
    }

    /// The base learning rate the knobs ask for (nil there: the optimizer's default, which is
    /// what the dashboard starts with unless `--lr` says otherwise — it then sets the knob).
    func learningRate(_ knobs: KnobValues) -> Float { knobs.learningRate ?? (knobs.optimizer ?? .sgd).defaultLearningRate }

    mutating func scaleLearningRate(_ factor: Float, knobs: inout KnobValues, now: Double) {
        let current = learningRate(knobs), target = current * factor
        let r = DashboardController.learningRateRange
        guard r.contains(target) else {
            setStatus("learning rate is already \(Format.significant(Double(current))) (range \(Format.significant(Double(r.lowerBound)))…\(Format.significant(Double(r.upperBound))))", now: now)
            return
        }
        setLearningRate(target, knobs: &knobs, now: now)
    }

    mutating func setLearningRate(_ lr: Float, knobs: inout KnobValues, now: Double) {
        let old = learningRate(knobs)
        knobs.learningRate = lr
        setStatus("learning rate \(Format.significant(Double(old))) → \(Format.significant(Double(lr))) (next step)", now: now)
    }

    /// `<`/`>` on the serving panel: the load generator's Poisson rate (the serving side's).
    mutating func changeServingRate(up: Bool, knobs: inout KnobValues, now: Double) {
        guard let rate = state.offeredRate ?? knobs.offeredRate else {
            setStatus("\(up ? ">" : "<"): no serving rate known yet", now: now); return
        }
        let r = KnobValues.rateRange
        let next = min(max(up ? rate * 2 : rate / 2, r.lowerBound), r.upperBound)
        knobs.offeredRate = next
        state.offeredRate = next
        if next == rate {
            setStatus("Poisson rate stays \(Format.compact(next))/s: the \(up ? "highest" : "lowest") rate (\(Format.compact(r.lowerBound))…\(Format.compact(r.upperBound))/s)", now: now)
            return
        }
        setStatus("Poisson rate → \(Format.compact(next))/s (Server scenario)", now: now)
    }

    /// Training-only keys say so when another workload's panel has the focus.
    mutating func trainingFocused(_ key: Key, now: Double) -> Bool {
        if state.workload == .training { return true }
        setStatus("\(key) acts on training — Tab to the Training panel", now: now)
        return false
    }

    mutating func built(_ f: DashboardFeature, key: Key, now: Double) -> Bool {
        if config.builtFeatures.contains(f) { return true }
        setStatus("\(key): \(f.title) — coming in a later release", now: now)
        return false
    }

    mutating func clampLayerSelection() {
        state.layerSelection = min(max(0, state.layerSelection), max(0, state.layerRowCount - 1))
        state.layerScroll = TableView.clampedScroll(scroll: state.layerScroll, selected: state.layerSelection,
                                                    rowCount: state.layerRowCount, visible: state.layerViewportRows)
    }

    /// The smallest power of two above `n` (48 → 64, 64 → 128).
    public static func nextPowerOfTwo(above n: Int) -> Int {
        var p = 1
        while p <= n { p <<= 1 }
        return p
    }

    /// The largest power of two below `n` (48 → 32, 64 → 32); 0 when n ≤ 1.
    public static func previousPowerOfTwo(below n: Int) -> Int {
        guard n > 1 else { return 0 }
        var p = 1
        while p * 2 < n { p <<= 1 }
        return p
    }
}

extension String {
    /// Without leading and trailing spaces and tabs.
    func strippingSpaces() -> String {
        var s = Substring(self)
        while s.first == " " || s.first == "\t" { s.removeFirst() }
        while s.last == " " || s.last == "\t" { s.removeLast() }
        return String(s)
    }
}
