import Foundation
import InftopEngine
import InftopTelemetry

/// What `inftop` runs with no arguments: a training loop and, in the same process, a serving
/// workload: an inference service serving the latest trained weights or a pretrained text
/// encoder to the built-in load generator, or the generator answering the bundled prompts with
/// the generative model.
///
/// The UI thread calls `snapshot()` at its own pace; it only reads published snapshots and the
/// memory counters, never waits for a step. A supervisor thread watches the `model` and
/// `served` knobs: when the user switches the trained model (`m`) it stops both workloads at
/// their next step boundary and starts new ones for the new model (on the same loaded
/// dataset); when the user switches the served model (`v`) only the serving side restarts,
/// and training goes on. With `d` (`distillation`) a student trains beside the model being
/// trained, learning from its soft targets as it learns (`startStudent`); `D` serves the
/// student instead of the teacher.
public final class DashboardSession: @unchecked Sendable {
    public let knobs: Knobs
    public let train: ImageDataset
    public let test: ImageDataset
    /// The recipe; `model` comes from the knobs, everything else from here.
    public let baseConfig: TrainingConfig
    /// The pretrained encoder `v` serves (loaded once), nil when none is available.
    public let encoder: SentenceEncoder?
    /// The sentences the encoder is served, tokenized once.
    public let corpus: TokenizedCorpus?
    /// Why there is no encoder, for the footer when the user presses `v`.
    public let encoderUnavailable: String?
    /// Requests per second offered to the served model; nil = its descriptor's rate.
    public let servingRate: Double?
    /// The GGUF file `v` serves as the generator (loaded when it is chosen), nil when none is
    /// available, with `generatorUnavailable` saying why.
    public let generatorPath: String?
    public let generatorUnavailable: String?
    /// How the generator runs (prompts, answer length, context, sampling).
    public let generatorSettings: GenerationService.Settings
    /// A fixed image model served in place of the trained model's replica (`--serve FILE.onnx`):
    /// called once per serving worker (a model serves one batch at a time); nil = the replica.
    public let imageModel: (@Sendable () throws -> Model)?
    /// `inftop --tune`: the hyperparameter search the leaderboard panel shows (set before
    /// `start`; it starts and stops with the session).
    public var tuning: TuningService?

    private struct Running {
        var model: String
        var served: ServedModel
        var training: TrainingLoop
        var serving: any ServedWorkload
        /// The distillation student (`d`), nil when off.
        var student: TrainingLoop? = nil
        /// Whether `serving` serves the student (else the teacher, or the encoder).
        var servesStudent = false
    }
    private let running = Locked<Running?>(nil)
    private let trainingSlot = SnapshotSlot<TrainingSnapshot>()
    private let studentSlot = SnapshotSlot<TrainingSnapshot>()
    private let servingSlot = SnapshotSlot<InferenceSnapshot>()
    private let stopFlag = StopFlag()
    private let origin = monotonicNanos()
    private let memory = Locked<(series: SeriesRing, last: UInt64)>((SeriesRing(name: "rss_mb", unit: "MB"), 0))
    private var supervisor: JoinableThread?
    private let lastError = Locked<String?>(nil)
    /// Every serving configuration of the session, across served-model switches.
    public let servingHistory = ServingHistory()

    /// - Parameters:
    ///   - encoder: the text encoder `v` serves, with `sentences` (the corpus; by default the
    ///     bundled one, `SentenceCorpus.bundled()`); nil with `encoderUnavailable` saying why.
    ///   - imageModel: makes the image model the serving side runs on the test images instead of
    ///     the trained model (which still trains); its weights never change.
    /// - Throws: `EngineError` when the first workloads cannot be built (unknown model, data that
    ///   does not fit).
    public init(train: ImageDataset, test: ImageDataset, knobs: Knobs, baseConfig: TrainingConfig,
                encoder: SentenceEncoder? = nil, sentences: [String]? = nil, encoderUnavailable: String? = nil,
                servingRate: Double? = nil, generatorPath: String? = nil, generatorUnavailable: String? = nil,
                generatorSettings: GenerationService.Settings = GenerationService.Settings(),
                imageModel: (@Sendable () throws -> Model)? = nil) throws {
        self.imageModel = imageModel
        self.train = train
        self.test = test
        self.knobs = knobs
        self.baseConfig = baseConfig
        self.encoder = encoder
        self.servingRate = servingRate
        self.generatorPath = generatorPath
        self.generatorUnavailable = generatorPath == nil ? (generatorUnavailable ?? "no generative model (pass --llm FILE)") : nil
        self.generatorSettings = generatorSettings
        if generatorPath == nil, knobs.values.served == .generator { knobs.update { $0.served = .trained } }
        if let encoder {
            corpus = TokenizedCorpus(texts: try sentences ?? SentenceCorpus.bundled(), tokenizer: encoder.tokenizer)
            self.encoderUnavailable = nil
        } else {
            corpus = nil
            self.encoderUnavailable = encoderUnavailable ?? "no text encoder loaded (pass --serve DIR)"
            if knobs.values.served == .encoder { knobs.update { $0.served = .trained } }
        }
        let v = knobs.values
        try launch(model: v.model, served: v.served)
    }

    /// Starts the supervisor (the workloads are already running).
    public func start() {
        supervisor = JoinableThread(name: "inftop-switch") { [self] in supervise() }
        tuning?.start()
    }

    /// Stops the supervisor, then the workloads (each at its next step boundary, joined). The
    /// supervisor is joined first, so a switch in flight finishes before the workloads are
    /// stopped and none it launched outlives the session.
    public func stop() {
        stopFlag.set()
        tuning?.stop()
        supervisor?.join()
        let r = running.withLock { r -> Running? in let old = r; r = nil; return old }
        if let r {
            r.serving.stop()
            r.student?.stop()
            r.training.stop()
        }
    }

    /// The names `m` cycles through.
    public static var modelNames: [String] { ModelZoo.names }

    /// Everything the dashboard draws, as of the latest published step of each workload.
    public func snapshot() -> DashboardSnapshot {
        let now = monotonicNanos()
        let mem = MemorySnapshot.now()
        let rss = memory.withLock { m -> SeriesSnapshot in
            if now &- m.last >= 500_000_000 {
                m.series.append(time: Double(now &- origin) / 1e9, value: Double(mem.residentBytes) / 1_048_576)
                m.last = now
            }
            return m.series.snapshot()
        }
        var training = trainingSlot.latest()
        if let why = lastError.withLock({ $0 }) { training?.state = .failed(why) }
        let student = running.withLock { $0?.student != nil } ? studentSlot.latest() : nil
        return DashboardSnapshot(uptimeSeconds: Double(now &- origin) / 1e9, training: training,
                                 inference: servingSlot.latest(), memory: mem, memorySeries: rss, student: student,
                                 tuning: tuning?.snapshot())
    }

    /// The latest training loop (for tests and the headless paths).
    public var trainingLoop: TrainingLoop? { running.withLock { $0?.training } }

    /// The distillation student's loop while `d` is on (for tests and the headless paths).
    public var studentLoop: TrainingLoop? { running.withLock { $0?.student } }

    /// The latest serving workload when it is an `InferenceService` (for tests and the headless paths).
    public var inferenceService: InferenceService? { running.withLock { $0?.serving as? InferenceService } }

    /// The latest serving workload when it is the generator.
    public var generationService: GenerationService? { running.withLock { $0?.serving as? GenerationService } }

    /// What `v` can switch to in this session.
    public var availableServed: Set<ServedModel> {
        var s: Set<ServedModel> = [.trained]
        if encoder != nil { s.insert(.encoder) }
        if generatorPath != nil { s.insert(.generator) }
        return s
    }

    private func launch(model: String, served: ServedModel) throws {
        var config = baseConfig
        config.model = model
        let loop = try TrainingLoop(config: config, train: train, test: test, knobs: knobs, snapshots: trainingSlot)
        let serve = try makeServing(served: served, loop: loop, seed: config.seed)
        loop.start()
        serve.start()
        running.withLock { $0 = Running(model: model, served: served, training: loop, serving: serve) }
    }

    /// The serving workload for `served`: a replica of the trained model fed the loop's latest
    /// weights, or the encoder on the corpus.
    private func makeServing(served: ServedModel, loop: TrainingLoop, seed: UInt64) throws -> any ServedWorkload {
        switch served {
        case .trained:
            if let imageModel {
                let test = self.test
                return try InferenceService(makeTask: { _ in try ImageServingTask(model: try imageModel(), dataset: test) },
                                            knobs: knobs, ratePerSecond: servingRate, seed: seed, history: servingHistory,
                                            snapshots: servingSlot)
            }
            let test = self.test, name = loop.config.model
            return try InferenceService(
                makeTask: { i in try ImageServingTask(model: try ModelZoo.make(name: name, seed: seed &+ UInt64(i)), dataset: test) },
                knobs: knobs, ratePerSecond: servingRate, seed: seed, history: servingHistory,
                weights: { [weak loop] replica, held in loop?.copyLatestWeights(into: replica, ifNewerThan: held) },
                snapshots: servingSlot)
        case .encoder:
            guard let encoder, let corpus else { throw EngineError.invalid(what: "v", reason: encoderUnavailable ?? "no encoder") }
            // Worker 0 serves the loaded encoder; each further worker loads its own replica
            // from the same folder or ONNX file (a model's buffers serve one batch at a time).
            return try InferenceService(
                makeTask: { i in
                    try TextServingTask(model: i == 0 ? encoder.model : try encoder.replica().model,
                                        corpus: corpus, loadPruned: { try encoder.replica(pruneUnits: $0).model })
                },
                knobs: knobs, ratePerSecond: servingRate, seed: seed, history: servingHistory, snapshots: servingSlot)
        case .generator:
            guard let generatorPath else { throw EngineError.invalid(what: "v", reason: generatorUnavailable ?? "no generative model") }
            // Loaded when chosen and dropped when left: its mapping and KV caches are not held
            // while something else is served.
            let lm = try LanguageModel(path: generatorPath, contextCapacity: generatorSettings.contextCapacity,
                                       compute: Compute(backend: .simd, threads: 1))
            return try GenerationService(model: lm, knobs: knobs, settings: generatorSettings, snapshots: servingSlot)
        }
    }

    private func supervise() {
        while !stopFlag.isSet {
            usleep(50_000)
            let v = knobs.values
            guard let current = running.withLock({ $0.map { (model: $0.model, served: $0.served, student: $0.student != nil, servesStudent: $0.servesStudent) } }),
                  !stopFlag.isSet else { continue }
            let wantsStudent = v.distillation && ModelZoo.student(for: current.model) != nil
            if current.model != v.model {
                switchModel(from: current.model, to: v.model, served: v.served)
            } else if current.student != wantsStudent {
                if wantsStudent {
                    do { try startStudent() } catch { knobs.update { $0.distillation = false } }
                } else {
                    stopStudent()
                }
            } else if current.served != v.served || current.servesStudent != (v.served == .trained && v.servingStudent && current.student) {
                switchServed(to: v.served, from: current.served, student: v.servingStudent)
            }
        }
    }

    private func switchModel(from current: String, to wanted: String, served: ServedModel) {
        let old = running.withLock { r -> Running? in let o = r; r = nil; return o }
        old?.serving.stop()
        old?.student?.stop()  // the supervisor starts the new model's student next, if d is on
        old?.training.stop()
        do {
            try launch(model: wanted, served: served)
            lastError.withLock { $0 = nil }
        } catch {
            lastError.withLock { $0 = "\(error)" }
            knobs.update { $0.model = current }
            try? launch(model: current, served: served)
        }
    }

    /// Serves `wanted`; for the trained side, the student when `wantsStudent` and one is
    /// running, else the teacher. On failure the previous served model comes back.
    private func switchServed(to wanted: ServedModel, from current: ServedModel, student wantsStudent: Bool) {
        guard let r = running.withLock({ $0.map { (teacher: $0.training, student: $0.student, wasStudent: $0.servesStudent) } }) else { return }
        let useStudent = wanted == .trained && wantsStudent && r.student != nil
        let old = running.withLock { $0?.serving }
        old?.stop()
        do {
            let serve = try makeServing(served: wanted, loop: useStudent ? r.student! : r.teacher, seed: baseConfig.seed)
            serve.start()
            running.withLock { $0?.serving = serve; $0?.served = wanted; $0?.servesStudent = useStudent }
        } catch {
            knobs.update { $0.served = current }
            let back = r.wasStudent ? r.student ?? r.teacher : r.teacher
            if let serve = try? makeServing(served: current, loop: back, seed: baseConfig.seed) {
                serve.start()
                running.withLock { $0?.serving = serve; $0?.served = current; $0?.servesStudent = back !== r.teacher }
            }
        }
    }

    /// Starts the student `d` asks for beside the running teacher: `ModelZoo.student(for:)` of
    /// it, distilled (T and α from the knobs) from a replica of the teacher that takes the
    /// teacher loop's latest weights at each of the student's steps — the teacher keeps
    /// learning, the student follows. The student shares the knobs (batch, threads, backend,
    /// pause, learning rate) and the training set, and publishes to its own snapshot slot.
    private func startStudent() throws {
        guard let teacherLoop = running.withLock({ $0?.training }) else { return }
        let teacherName = teacherLoop.config.model
        guard let name = ModelZoo.student(for: teacherName) else {
            throw EngineError.invalid(what: "d", reason: "model '\(teacherName)' has no student")
        }
        var config = baseConfig
        config.model = name
        config.checkpointPath = nil
        config.distillation = knobs.values.distillationSettings
        let teacher = try ModelZoo.make(name: teacherName, seed: config.seed)
        let student = try TrainingLoop(config: config, train: train, test: test, knobs: knobs, snapshots: studentSlot, teacher: teacher)
        student.teacherSource = { [weak teacherLoop] replica, held in teacherLoop?.copyLatestWeights(into: replica, ifNewerThan: held) }
        student.start()
        running.withLock { $0?.student = student }
    }

    /// Stops the student (`d` off), serving the teacher first if the student was served.
    private func stopStudent() {
        if running.withLock({ $0?.servesStudent ?? false }) { switchServed(to: .trained, from: .trained, student: false) }
        let s = running.withLock { r -> TrainingLoop? in let o = r?.student; r?.student = nil; return o }
        s?.stop()
    }
}
