import ArgumentParser
import Foundation
import InftopEngine
import InftopExport
import InftopTUI
import InftopTelemetry
import InftopWorkloads

/// `inftop` with no subcommand: trains a model on Fashion-MNIST and, in the same process, serves
/// it to the built-in load generator, live in the ncurses dashboard. With a stdout that is not a
/// terminal it prints one text snapshot (after `--snapshot-after` seconds) instead.
struct DashboardCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "dashboard",
        abstract: "The live dashboard (the default): train and serve a model, watch every layer.")

    @Option(help: "Model to train and serve: mlp or cnn (m switches live).") var model = "mlp"
    @Option(help: "What serving runs: a BERT-family Hugging Face folder (the text encoder v serves; default: the installed all-MiniLM-L6-v2), or an image classifier's FILE.onnx (served on the test images in place of the trained model).") var serve: String?
    @Option(help: "Generative model v serves: a llama-family GGUF file (default: the installed SmolLM2-135M-Instruct Q4_1).") var llm: String?
    @Option(help: "Folder with the Fashion-MNIST IDX files (gzip or plain).") var data = FashionMNIST.defaultDirectory
    @Option(help: "Theme: a name from themes/ or $XDG_CONFIG_HOME/inftop/themes/, or a path (btop format).") var theme: String?
    @Flag(name: .customLong("no-color"), help: "Monochrome (also when NO_COLOR is set).") var noColor = false
    @Option(parsing: .unconditional, help: "Milliseconds between frames (10…10000).") var interval = "100"
    @Option(parsing: .unconditional, help: "Training batch size (1…1024); + and - change it live.") var batch = "64"
    @Option(parsing: .unconditional, help: "Compute threads for training (1…cores); t changes it live.") var threads = "1"
    @Option(help: "GEMM backend: blas, simd or reference; k changes it live.") var backend = "blas"
    @Option(parsing: .unconditional, help: "Training learning rate (> 0; default 0.05 for sgd, 0.001 for adamw); < > halve/double it live, l types one.") var lr: String?
    @Option(help: "Training optimizer: sgd (momentum 0.9) or adamw; o switches it live.") var optimizer = "sgd"
    @Option(help: "Learning-rate schedule over the run: constant, step, cosine or one-cycle.") var schedule = "constant"
    @Option(parsing: .unconditional, help: "SGD momentum (0…<1).") var momentum = "0.9"
    @Option(name: .customLong("weight-decay"), parsing: .unconditional, help: "Weight decay (default 0 for sgd, 0.01 for adamw).") var weightDecay: String?
    @Option(parsing: .unconditional, help: "Epochs to train before training stops (serving goes on).") var epochs = "1000"
    @Option(parsing: .unconditional, help: "Random seed (weights and shuffling).") var seed = "0"
    @Option(name: .customLong("snapshot-after"), parsing: .unconditional,
            help: "Without a terminal: seconds to run before printing the one text snapshot.") var snapshotAfter = "3"
    /// `--isa`; `I` switches between the tiers the CPU has live.
    @OptionGroup var isaOption: ISAOption
    @Option(name: .customShort("n"), parsing: .unconditional, help: "Draw this many frames to stdout (one per --interval) and exit.") var frameCount: String?
    @Option(parsing: .unconditional, help: ArgumentHelp("Run inftop tune's search beside the dashboard, its leaderboard in the Layers panel's place: lr=…;batch=…;optimizer=…;budget=…;target=… (any part; bare --tune: inftop tune's defaults). The dashboard's own training starts paused (space resumes it).", valueName: "spec")) var tune: String?
    @Flag(name: .customLong("once"), help: "Draw one frame to stdout and exit (-n 1).") var once = false
    @Flag(name: .customLong("write-config"), help: "Write these settings to $XDG_CONFIG_HOME/inftop/inftop.conf (atomically) and exit.") var writeConfig = false
    @OptionGroup var exports: ExportFlags

    func run() throws {
        let cores = ProcessInfo.processInfo.activeProcessorCount
        guard let intervalMs = Int(interval), (10...10_000).contains(intervalMs) else { fail("--interval \(interval): must be 10…10000 ms") }
        guard let b = Int(batch), KnobValues.batchRange.contains(b) else { fail("--batch \(batch): must be an integer 1…1024") }
        guard let t = Int(threads), (1...max(cores, 1)).contains(t) else { fail("--threads \(threads): must be 1…\(cores) (cores here)") }
        guard let kb = KernelBackend(rawValue: backend) else { fail("--backend \(backend): unknown; use blas, simd or reference") }
        guard let e = Int(epochs), e >= 1 else { fail("--epochs \(epochs): must be an integer ≥ 1") }
        let isa = isaOption.resolved("")
        guard let s = UInt64(seed) else { fail("--seed \(seed): must be a non-negative integer") }
        guard let after = Double(snapshotAfter), after >= 0, after <= 3600 else { fail("--snapshot-after \(snapshotAfter): must be 0…3600 s") }
        guard DashboardSession.modelNames.contains(model) else {
            fail("--model \(model): unknown; known models: \(DashboardSession.modelNames.joined(separator: ", "))")
        }
        // A --theme that cannot be used is not silent: one line on stderr now (the dashboard then
        // runs with the default theme and says so in its footer too).
        if let theme, let warning = ThemeLibrary(directories: ThemeLibrary.defaultDirectories()).load(theme).warning {
            Notices.shared.post("--theme \(warning)")
        }
        let opt: OptimizerKind, sched: LRSchedule
        do { opt = try OptimizerKind.parse(optimizer); sched = try LRSchedule.parse(schedule) } catch { fail("\(error)") }
        let rate = lr.map { Float($0) } ?? opt.defaultLearningRate
        guard let rate, rate > 0, rate.isFinite, rate <= 10 else { fail("--lr \(lr ?? ""): must be a number > 0 and ≤ 10") }
        guard let mu = Float(momentum), mu >= 0, mu < 1 else { fail("--momentum \(momentum): must be in 0…<1") }
        let wd: Float? = weightDecay.map { s in
            guard let v = Float(s), v >= 0, v.isFinite else { fail("--weight-decay \(s): must be a finite number ≥ 0") }
            return v
        }
        let frames = try frameCountOption()
        if writeConfig { try writeConfigFile(); return }
        let search: (grid: [TrialConfig], budget: Double, target: Double?)?
        do { search = try tune.map { try TuneCommand.spec($0) } } catch { fail("\(error)") }
        if search != nil && !ModelZoo.names.contains(model) {
            fail("--tune: the search trains \(ModelZoo.names.joined(separator: " or ")), not --model \(model)")
        }

        let (train, test): (ImageDataset, ImageDataset)
        do { (train, test) = try FashionMNIST.load(directory: data) } catch { fail("\(error)") }
        // The encoder v serves: the folder named (it must load, or nothing starts), else the
        // installed MiniLM when there is one (without it, v says how to get one).
        var encoder: SentenceEncoder?
        var unavailable: String?
        var imageModel: (@Sendable () throws -> Model)?
        func installedMiniLM() {
            guard let dir = ModelLocator.defaultMiniLM() else { unavailable = "no text encoder: pass --serve DIR or " + ModelLocator.installHint; return }
            do { encoder = try SentenceEncoder.load(directory: dir) } catch { unavailable = "the installed MiniLM does not load: \(error)" }
        }
        if let file = serve, file.hasSuffix(".onnx") {
            let text: Bool
            do { text = try ONNXBert.isTextEncoder(path: file) } catch { fail("--serve \(file): \(error)") }
            if text {
                // A text encoder exported to ONNX: v serves it, with the installed MiniLM's tokenizer.
                do {
                    encoder = try SentenceEncoder.load(onnx: file, tokenizer: try ModelLocator.resolve(nil, option: "--serve FILE.onnx (its tokenizer)"))
                } catch { fail("--serve \(file): \(error)") }
            } else {
                // An image classifier: checked now (one line if it does not load or does not take
                // the test images), then loaded once per serving worker; v keeps the installed MiniLM.
                do { _ = try ImageServingTask(model: try ONNXModel.load(path: file), dataset: test) } catch { fail("--serve \(file): \(error)") }
                imageModel = { try ONNXModel.load(path: file) }
                installedMiniLM()
            }
        } else if let dir = serve {
            do { encoder = try SentenceEncoder.load(directory: try ModelLocator.resolve(dir, option: "--serve")) } catch { fail("--serve \(dir): \(error)") }
        } else {
            installedMiniLM()
        }
        // The generator v serves: the file named (it must open, or nothing starts), else the
        // installed SmolLM2 when there is one. Opened here only to check it (header and
        // tensors); the session loads it when v chooses it.
        var generatorPath: String?
        var generatorUnavailable: String?
        if let f = llm {
            do { generatorPath = try LLMLocator.resolve(f); try LanguageModel.check(path: generatorPath!) } catch { fail("--llm \(f): \(error)") }
        } else if let f = LLMLocator.defaultModel() {
            do { try LanguageModel.check(path: f); generatorPath = f } catch { generatorUnavailable = "the installed SmolLM2 does not load: \(error)" }
        } else {
            generatorUnavailable = "no generative model: pass --llm FILE or " + LLMLocator.installHint
        }
        // A dynamic-int8 ONNX encoder (--serve FILE.onnx) comes up served, on the int8 plan that runs
        // its own weights; i and v switch as ever.
        let int8File = serve?.hasSuffix(".onnx") == true && encoder?.nativePrecision == .int8
        let knobs = Knobs(KnobValues(batchSize: b, precision: int8File ? .int8 : .fp32, threads: t, backend: kb, model: model,
                                     served: int8File ? .encoder : .trained, isa: isa, learningRate: rate, optimizer: opt))
        if search != nil {
            knobs.update { $0.trainingPaused = true }
            Notices.shared.post("--tune: the dashboard's own training is paused while the search runs (space resumes it; the trials then share the cores)")
        }
        let session: DashboardSession
        do {
            session = try DashboardSession(train: train, test: test, knobs: knobs,
                                           baseConfig: {
                                               var c = TrainingConfig(model: model, epochs: e, optimizer: opt, learningRate: rate,
                                                                      momentum: mu, weightDecay: wd, seed: s)
                                               c.schedule = sched
                                               return c
                                           }(),
                                           encoder: encoder, encoderUnavailable: unavailable,
                                           generatorPath: generatorPath, generatorUnavailable: generatorUnavailable,
                                           imageModel: imageModel)
        } catch { fail("\(error)") }
        if let search {
            session.tuning = TuningService(settings: .init(model: model, grid: search.grid, budgetSeconds: search.budget, target: search.target,
                                                           seed: s, threads: t, backend: kb, isa: isa), train: train, test: test)
        }
        let exporting = exports.session(command: "", knobs: knobs, snapshot: { session.snapshot() }, onFailure: { session.stop() })
        session.start()
        do { try exporting.armStartupTrace() } catch { session.stop(); fail("--trace \(error)") }
        defer { for note in exporting.finish() { printNote(note) } }
        if let frames {
            runFrames(frames, intervalMs: intervalMs, session: session, exports: exporting, knobs: knobs)
            session.stop()
            return
        }

        guard DashboardApp.isInteractive else {
            // Not a terminal: one text snapshot after the workloads have run a while.
            usleep(UInt32(after * 1_000_000))
            let snap = session.snapshot()
            exporting.frame(snap, knobs: knobs.values)
            print(renderTextSnapshot(snap, width: 120, height: 40, knobs: knobs.values), terminator: "")
            session.stop()
            return
        }
        let app = DashboardApp(
            options: {
                var o = DashboardOptions(intervalMs: intervalMs, theme: theme, noColor: noColor, maxThreads: cores)
                // i: the served model's precision (training stays fp32; Int8Gemm in every weight-bearing node).
                o.builtFeatures.insert(.int8)
                // c: the serving workers' LRU response cache (ResponseCache).
                o.builtFeatures.insert(.responseCache)
                // p / P: the served model's sparsity (CSR where measured faster) and, for mlp/cnn, the trained one's masks.
                o.builtFeatures.insert(.pruning)
                // d / D: a distillation student trained beside the trained model (DashboardSession.startStudent), served by D.
                o.builtFeatures.insert(.distillation)
                o.encoderName = encoder?.model.name
                o.encoderUnavailable = unavailable
                o.generatorName = generatorPath.map { GenerationService.displayName(path: $0) }
                o.generatorUnavailable = generatorUnavailable
                return o
            }(),
            knobs: knobs, modelNames: DashboardSession.modelNames, snapshot: { session.snapshot() })
        app.hooks = exportHooks(exporting)
        do {
            try app.run()
        } catch {
            session.stop()
            fail("\(error)")
        }
        session.stop()
        if let sig = app.quitSignal { throw ExitCode(128 + sig) }
    }

    private func fail(_ message: String) -> Never { exitWithErrorLine("", message) }
}
