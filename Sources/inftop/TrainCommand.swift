import ArgumentParser
import Foundation
import InftopEngine
import InftopExport
import InftopTelemetry
import InftopWorkloads
#if canImport(Glibc)
import Glibc
#endif

/// `inftop train`: trains the MLP or CNN on Fashion-MNIST and prints a line per epoch (text or
/// JSON) and the per-layer time table at the end.
///
/// Numbers are taken as strings and checked here so that every bad value gives one line on
/// stderr and exit status 2 (ArgumentParser's own errors print usage and exit 64).
struct TrainCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "train",
        abstract: "Train the MLP or CNN on Fashion-MNIST and report per-epoch accuracy, speed and per-layer times.")

    @Option(help: "Model: mlp (784-256-128-10) or cnn (2 conv + 2 fc).") var model = "mlp"
    @Option(parsing: .unconditional, help: "Epochs to run (≥ 1).") var epochs = "5"
    @Option(parsing: .unconditional, help: "Mini-batch size (1…1024).") var batch = "64"
    @Option(parsing: .unconditional, help: "Learning rate (> 0).") var lr = "0.05"
    @Option(help: "Optimizer: sgd or adamw.") var optimizer = "sgd"
    @Option(parsing: .unconditional, help: "SGD momentum (0…<1).") var momentum = "0.9"
    @Option(help: "Learning-rate schedule: constant, step, cosine or one-cycle (over the whole run).") var schedule = "constant"
    @Option(name: .customLong("max-steps"), parsing: .unconditional, help: "Stop after this many steps (then evaluate once).") var maxSteps: String?
    @Flag(help: "Data-parallel over MPI: launch as `mpirun -np R inftop train --distributed …`; each rank trains its shard of every global batch.") var distributed = false
    @Option(name: .customLong("weight-decay"), parsing: .unconditional, help: "Weight decay (default 0 for sgd, 0.01 for adamw).") var weightDecay: String?
    @Option(parsing: .unconditional, help: "Compute threads (1…256).") var threads = "1"
    @Option(help: "GEMM backend: blas, simd or reference.") var backend = "blas"
    @Option(parsing: .unconditional, help: "Stop when test accuracy reaches this (0…1); reports time_to_target.") var target: String?
    @Option(name: .customLong("evals-per-epoch"), parsing: .unconditional, help: "Test evaluations per epoch (finer time to target; with --json the epoch's line lists them under 'evaluations').") var evalsPerEpoch = "1"
    @Option(help: "Folder with the Fashion-MNIST IDX files (gzip or plain).") var data = FashionMNIST.defaultDirectory
    @Option(parsing: .unconditional, help: "Random seed (weights and shuffling).") var seed = "0"
    @Option(help: "Write the parameters here (safetensors) at each epoch end.") var checkpoint: String?
    @Option(help: "Start from this checkpoint (inftop train --checkpoint) instead of fresh weights.") var weights: String?
    @Option(parsing: .unconditional, help: "Prune the --weights model to this sparsity in [0, 1) (unstructured: of each layer's weights; structured: of each hidden layer's units), then fine-tune with the masks.") var prune: String?
    @Option(name: .customLong("prune-mode"), help: "unstructured (smallest-magnitude weights) or structured (whole units by L2 norm).") var pruneMode = "unstructured"
    @Option(name: .customLong("finetune-epochs"), parsing: .unconditional, help: "With --prune: fine-tuning epochs after pruning (0 = none; replaces --epochs).") var finetuneEpochs: String?
    @Option(name: .customLong("train-limit"), parsing: .unconditional, help: "Train on the first N training images only.") var trainLimit: String?
    @Option(name: .customLong("test-limit"), parsing: .unconditional, help: "Evaluate on the first N test images only.") var testLimit: String?
    @Flag(name: .customLong("no-telemetry"), help: "Take no per-step timings (no layer table).") var noTelemetry = false
    @Flag(name: .customLong("no-prefetch"), help: "Convert batches on the training thread (no loader thread; --loader-threads 0).") var noPrefetch = false
    @Option(name: .customLong("loader-threads"), parsing: .unconditional, help: "Loader threads: 0 (the training thread converts each batch), 1 or 2.") var loaderThreads = "1"
    @Option(name: .customLong("prefetch-depth"), parsing: .unconditional, help: "Batches the loader prepares ahead (1…7).") var prefetchDepth = "2"
    @Flag(name: .customLong("cache-preprocessed"), help: "Convert the training set to fp32 once at start (188 MB) instead of per batch.") var cachePreprocessed = false
    @Flag(help: "Training-time augmentation: random crop with 2 px zero padding + horizontal flip.") var augment = false
    @Flag(help: "Knowledge distillation: train --student on the --teacher checkpoint's soft targets beside a hard-label control (same seed, init and data order); per epoch both test accuracies, then both models' parameters and batch-64 latency.") var distill = false
    @Option(help: "With --distill: the teacher's checkpoint (inftop train --model M --checkpoint CKPT); --model names the teacher.") var teacher: String?
    @Option(help: "With --distill: the student, mlp-small (784-64-10) or cnn-small (conv8-conv16-fc32); default the --model's.") var student: String?
    @Option(parsing: .unconditional, help: "With --distill: temperature T > 0 of the soft targets.") var temperature = "4"
    @Option(parsing: .unconditional, help: "With --distill: weight α in [0, 1] of the soft term (1 − α: the labels').") var alpha = "0.9"
    @Flag(help: "One JSON object per line: one per epoch, then the layer table.") var json = false
    @OptionGroup var isaOption: ISAOption
    @OptionGroup var exports: ExportFlags

    func run() throws {
        var config: TrainingConfig
        let knobValues: KnobValues
        do {
            (config, knobValues) = try parse()
            try config.validate()
        } catch {
            fail("\(error)")
        }
        // --distributed: this process is one rank; only rank 0 prints.
        var parallel: DataParallel? = nil
        if distributed {
            guard DataParallel.launchedByMPI(environment: ProcessInfo.processInfo.environment) else { fail(DataParallel.launchHint) }
            do { parallel = try DataParallel.join() } catch { fail("\(error)") }
        }
        let quiet = (parallel?.rank ?? 0) != 0
        var (train, test): (ImageDataset, ImageDataset)
        do { (train, test) = try FashionMNIST.load(directory: data) } catch { fail("\(error)") }
        if let limit = trainLimit {
            guard let n = Int(limit), n >= 1 else { fail("--train-limit \(limit): must be an integer ≥ 1") }
            train = train.prefix(n)
        }
        if let limit = testLimit {
            guard let n = Int(limit), n >= 1 else { fail("--test-limit \(limit): must be an integer ≥ 1") }
            test = test.prefix(n)
        }
        if distill || teacher != nil || student != nil {
            runDistillation(config: config, knobs: knobValues, train: train, test: test)
            return
        }
        let pruning = try parsePruning()
        if let pruning { config.epochs = max(1, pruning.epochs) }
        let loop: TrainingLoop
        do { loop = try TrainingLoop(config: config, train: train, test: test, knobs: Knobs(knobValues), distributed: parallel) } catch { fail("\(error)") }
        if let path = weights {
            do { try Checkpoint.load(path: path, into: loop.model) } catch { fail("--weights \(error)") }
        }
        if let pruning {
            // Accuracy before pruning, right after, then (the epoch lines) after each fine-tune epoch.
            let plan = Compute(backend: knobValues.backend, threads: knobValues.threads, isa: knobValues.isa)
            let eval = SequentialBatches(dataset: test, batchSize: loop.model.descriptor.evalBatchSize, sampleShape: loop.model.descriptor.sampleShape!)
            let before = TrainingLoop.evaluate(model: loop.model, batches: eval, compute: plan).accuracy
            switch pruning.mode {
            case .unstructured: loop.model.pruneMagnitude(sparsity: pruning.sparsity)
            case .structured: loop.model.pruneStructured(fraction: pruning.sparsity)
            }
            let after = TrainingLoop.evaluate(model: loop.model, batches: eval, compute: plan).accuracy
            let zeros = loop.model.prunableWeights.reduce(0) { n, p in n + p.value.toArray().filter { $0 == 0 }.count }
            let total = loop.model.prunableWeights.reduce(0) { $0 + $1.value.count }
            let fields: [(String, String)] = [
                ("pruned", Self.string(pruning.mode.rawValue)), ("sparsity", Self.num(pruning.sparsity, 4)),
                ("accuracy_before", Self.num(before, 5)), ("accuracy_after", Self.num(after, 5)),
                ("zero_weights", "\(zeros)"), ("weights", "\(total)"),
                ("live_units", "[" + loop.model.liveUnits().map { "\($0.kept.count)" }.joined(separator: ",") + "]"),
                ("finetune_epochs", "\(pruning.epochs)"),
            ]
            if json {
                emit(Self.object(fields))
            } else {
                emit("pruned \(pruning.mode.rawValue) to \(Self.fixed(pruning.sparsity * 100, 1))%: test accuracy \(Self.fixed(before, 4)) → \(Self.fixed(after, 4)) "
                     + "(\(zeros) of \(total) weights zero); fine-tuning \(pruning.epochs) epoch(s) with the masks")
            }
            if pruning.epochs == 0 {
                if let path = checkpoint {
                    do {
                        try SafeTensorsWriter.write(path: path, tensors: loop.model.checkpointTensors,
                                                    metadata: ["format": "pt", "producer": "inftop", "model": config.model, "test_accuracy": String(after)])
                    } catch { fail("--checkpoint \(error)") }
                }
                return
            }
        }
        // --trace / --metrics (issue 16): what the loop does, exported while it runs.
        if exports.record != nil { fail("--record is for the dashboard and inftop serve (they have ticks to record)") }
        let slot = loop.snapshots
        let exporting = exports.session(command: "train", knobs: nil, snapshot: {
            DashboardSnapshot(uptimeSeconds: 0, training: slot.latest(), inference: nil, memory: .now(), memorySeries: nil)
        })
        do { try exporting.armStartupTrace() } catch { fail("--trace \(error)") }
        // exit() skips defers: the error and signal exits below close the exports first.
        var exportsOpen = true
        func closeExports() {
            guard exportsOpen else { return }
            exportsOpen = false
            for note in exporting.finish() { printNote(note, command: "train") }
        }
        defer { closeExports() }

        let asJSON = json, total = config.epochs
        let ranks = parallel?.ranks ?? 1
        if !asJSON && !quiet {
            emit("training \(config.model) (\(loop.model.parameterCount) parameters) on \(train.count) images, batch \(knobValues.batchSize), "
                 + "\(config.optimizer.rawValue) lr \(config.learningRate), \(knobValues.threads) thread(s), \(knobValues.backend.rawValue), "
                 + "isa \(knobValues.isa.rawValue), schedule \(config.schedule.rawValue), loader threads \(config.loaderThreads)"
                 + (config.loaderThreads > 0 ? " depth \(config.prefetchDepth)" : "") + (config.cachePreprocessed ? ", cached preprocessing" : "")
                 + (config.augmentation != nil ? ", augmentation" : "") + (ranks > 1 ? ", \(ranks) MPI ranks (global batch)" : ""))
        }
        let isa = knobValues.isa
        loop.onEpoch = { s in if !quiet { emit(asJSON ? Self.jsonLine(s, isa: isa) : Self.textLine(s, of: total)) } }
        let lastLoss = LastValue()
        loop.onStep = { _, loss in lastLoss.value = Double(loss) }
        if !asJSON && config.evalsPerEpoch > 1 && !quiet {
            // The epoch's line reports its last evaluation; the ones before it get a line each.
            loop.onEvaluation = { epoch, e in if e.epochFraction < 1 { emit(Self.evaluationLine(epoch: epoch, e)) } }
        }
        // SIGINT/SIGTERM/SIGHUP stop the run at the next step boundary (never inside a
        // checkpoint write), then the command says so and exits with 128 + the signal.
        // Not under MPI: mpirun forwards the signal to every rank, whose steps would then end at
        // different collectives; there the default action ends them all.
        if parallel == nil { QuitSignals.install() }
        let trainingDone = StopFlag()
        let watcher = JoinableThread(name: "inftop-signals") {
            while !trainingDone.isSet {
                if QuitSignals.received.load(ordering: .relaxed) != 0 { loop.requestStop(); return }
                usleep(20_000)
            }
        }
        loop.start()
        let ended = loop.wait()
        trainingDone.set()
        watcher.join()
        guard let report = ended else { fail("training ended without a report") }
        let signal = QuitSignals.received.load(ordering: .relaxed)
        if signal != 0 {
            let kept = config.checkpointPath.map { path in
                !report.epochs.isEmpty ? "; checkpoint \(path) holds the last finished epoch"
                    : access(path, F_OK) == 0 ? "; no epoch finished, \(path) is as it was" : "; no epoch finished, no checkpoint written"
            } ?? ""
            closeExports()
            exitWithErrorLine("train", "stopped by \(QuitSignals.name(signal)) after \(report.totalSteps) steps\(kept)",
                              status: 128 + signal)
        }
        if let error = report.error, let parallel {
            // One rank failed (a peer died, weights diverged): say so here and end every rank.
            exitWithErrorLine("train", "rank \(parallel.rank) of \(parallel.ranks): \(error)", status: 1, then: { parallel.abort(code: 1) })
        }
        let mpiStats = parallel?.stats()
        parallel?.finish()
        if quiet { return }
        if asJSON {
            emit(Self.jsonTable(report, isa: isa, lastLoss: lastLoss.value, ranks: ranks, hyper: loop.hyperparameters, mpi: mpiStats, data: config))
        } else {
            if let ttt = report.timeToTarget { emit("reached the target in \(Self.fixed(ttt, 2)) s of training") }
            if let m = mpiStats {
                emit("\(m.ranks) ranks: ms per step by rank " + m.rankStepMs.map { Self.fixed($0, 2) }.joined(separator: " / ")
                     + " (between the last two weight checks); allreduce \(Self.fixed(m.allreduceMs, 3)) ms per step on rank 0")
            }
            for line in Self.textTable(report) { emit(line) }
        }
        if let error = report.error {
            closeExports()
            // A checkpoint that could not be written (disk full): the file still holds the last
            // one that was (the write goes to a temporary, removed on failure).
            var kept = ""
            if case .io(let path, _) = error, path == config.checkpointPath {
                let written = report.epochs.count - 1
                kept = written > 0 ? "; \(path) still holds epoch \(written)"
                    : access(path, F_OK) == 0 ? "; \(path) is as it was" : "; no checkpoint was written"
            }
            exitWithErrorLine("train", "\(error)\(kept)", status: 1)
        }
    }

    /// `--prune`, `--prune-mode`, `--finetune-epochs` (nil without `--prune`).
    private func parsePruning() throws -> (sparsity: Double, mode: PruneMode, epochs: Int)? {
        guard let text = prune else {
            if finetuneEpochs != nil { fail("--finetune-epochs needs --prune") }
            return nil
        }
        guard let s = Double(text), s >= 0, s < 1 else { fail("--prune \(text): sparsity must be a number in [0, 1)") }
        guard let mode = PruneMode(rawValue: pruneMode) else {
            fail("--prune-mode \(pruneMode): unknown; known: \(PruneMode.allCases.map(\.rawValue).joined(separator: ", "))")
        }
        guard weights != nil else { fail("--prune needs --weights CKPT (the trained model to prune)") }
        let epochs = finetuneEpochs.map { Int($0) } ?? Int(self.epochs)
        guard let e = epochs, e >= 0 else { fail("--finetune-epochs \(finetuneEpochs ?? ""): must be an integer ≥ 0") }
        return (s, mode, e)
    }

    /// Parses and range-checks the flags into a config and the initial knob values.
    private func parse() throws -> (TrainingConfig, KnobValues) {
        func int(_ flag: String, _ s: String) throws -> Int {
            guard let v = Int(s) else { throw EngineError.invalid(what: "--\(flag) \(s)", reason: "not an integer") }
            return v
        }
        func float(_ flag: String, _ s: String) throws -> Float {
            guard let v = Float(s) else { throw EngineError.invalid(what: "--\(flag) \(s)", reason: "not a number") }
            return v
        }
        var c = TrainingConfig()
        c.model = model
        guard ModelZoo.names.contains(model) else {
            throw EngineError.invalid(what: "--model \(model)", reason: "unknown; known models: \(ModelZoo.names.joined(separator: ", "))")
        }
        c.epochs = try int("epochs", epochs)
        let b = try int("batch", batch)
        guard KnobValues.batchRange.contains(b) else { throw EngineError.invalid(what: "--batch \(b)", reason: "must be 1…1024") }
        c.learningRate = try float("lr", lr)
        guard c.learningRate > 0, c.learningRate.isFinite else { throw EngineError.invalid(what: "--lr \(lr)", reason: "must be a finite number > 0") }
        let opt = try OptimizerKind.parse(optimizer)
        c.optimizer = opt
        c.schedule = try LRSchedule.parse(schedule)
        c.maxSteps = try maxSteps.map { try int("max-steps", $0) }
        c.momentum = try float("momentum", momentum)
        c.weightDecay = try weightDecay.map { try float("weight-decay", $0) }
        let t = try int("threads", threads)
        guard (1...256).contains(t) else { throw EngineError.invalid(what: "--threads \(t)", reason: "must be 1…256") }
        guard let kb = KernelBackend(rawValue: backend) else {
            throw EngineError.invalid(what: "--backend \(backend)", reason: "unknown; known: \(KernelBackend.allCases.map(\.rawValue).joined(separator: ", "))")
        }
        c.target = try target.map { s in
            guard let v = Double(s) else { throw EngineError.invalid(what: "--target \(s)", reason: "not a number") }
            return v
        }
        c.evalsPerEpoch = try int("evals-per-epoch", evalsPerEpoch)
        guard let sd = UInt64(seed) else { throw EngineError.invalid(what: "--seed \(seed)", reason: "not a non-negative integer") }
        c.seed = sd
        if let path = checkpoint {
            // Fail now, not after the first epoch: the folder must exist and be writable.
            let dir = path.contains("/") ? String(path[..<path.lastIndex(of: "/")!]) : "."
            guard access(dir.isEmpty ? "/" : dir, W_OK) == 0 else {
                throw EngineError.invalid(what: "--checkpoint \(path)", reason: "folder '\(dir.isEmpty ? "/" : dir)' does not exist or is not writable")
            }
        }
        c.checkpointPath = checkpoint
        c.telemetry = !noTelemetry
        c.loaderThreads = noPrefetch ? 0 : try int("loader-threads", loaderThreads)  // 0…2: TrainingConfig.validate
        c.prefetchDepth = try int("prefetch-depth", prefetchDepth)
        c.cachePreprocessed = cachePreprocessed
        c.augmentation = augment ? Augmentation() : nil
        return (c, KnobValues(batchSize: b, threads: t, backend: kb, model: model, isa: isaOption.resolved("train")))
    }

    // MARK: output

    static func textLine(_ s: EpochSummary, of total: Int) -> String {
        var line = "epoch \(s.epoch)/\(total)"
        if s.epochFraction < 1 { line += " (\(fixed(s.epochFraction * 100, 0))%)" }
        line += "  train loss \(fixed(s.trainLoss, 4)) acc \(fixed(s.trainAccuracy, 4))"
        line += "  test loss \(fixed(s.testLoss, 4)) acc \(fixed(s.testAccuracy, 4))"
        line += "  \(fixed(s.samplesPerSecond, 0)) samples/s  \(fixed(s.seconds, 2)) s (training \(fixed(s.trainingSeconds, 2)) s total)"
        if let t = s.timeToTarget { line += "  target reached at \(fixed(t, 2)) s" }
        return line
    }

    static func evaluationLine(epoch: Int, _ e: Evaluation) -> String {
        "  epoch \(epoch) at \(fixed(e.epochFraction * 100, 0))%  test loss \(fixed(e.testLoss, 4)) acc \(fixed(e.testAccuracy, 4))"
            + "  (training \(fixed(e.trainingSeconds, 2)) s total)"
    }

    static func jsonLine(_ s: EpochSummary, isa: KernelISA) -> String {
        var f: [(String, String)] = [
            ("epoch", "\(s.epoch)"), ("epoch_fraction", num(s.epochFraction, 4)),
            ("train_loss", num(s.trainLoss, 5)), ("train_accuracy", num(s.trainAccuracy, 5)),
            ("test_loss", num(s.testLoss, 5)), ("test_accuracy", num(s.testAccuracy, 5)),
            ("samples_per_sec", num(s.samplesPerSecond, 1)), ("seconds", num(s.seconds, 3)),
            ("training_seconds", num(s.trainingSeconds, 3)), ("steps", "\(s.steps)"), ("isa", string(isa.rawValue)),
        ]
        if let t = s.timeToTarget { f.append(("time_to_target", num(t, 3))) }
        if s.evaluations.count > 1 {
            let list = s.evaluations.map { e in
                object([("epoch_fraction", num(e.epochFraction, 4)), ("training_seconds", num(e.trainingSeconds, 3)),
                        ("test_loss", num(e.testLoss, 5)), ("test_accuracy", num(e.testAccuracy, 5))])
            }
            f.append(("evaluations", "[" + list.joined(separator: ",") + "]"))
        }
        return object(f)
    }

    static func jsonTable(_ r: TrainingReport, isa: KernelISA, lastLoss: Double? = nil, ranks: Int = 1, hyper: Hyperparameters? = nil,
                          mpi: DistributedStats? = nil, data: TrainingConfig? = nil) -> String {
        let rows = r.layers.map { l in
            object([("name", string(l.name)),
                    ("forward_ms", l.forward.map { num($0.meanMs, 4) } ?? "null"),
                    ("backward_ms", l.backward.map { num($0.meanMs, 4) } ?? "null"),
                    ("other_ms", l.other.map { num($0.meanMs, 4) } ?? "null"),
                    ("forward_p99_ms", l.forward.map { num($0.p99Ms, 4) } ?? "null"),
                    ("backward_p99_ms", l.backward.map { num($0.p99Ms, 4) } ?? "null"),
                    ("share", num(l.share, 4))])
        }
        var f: [(String, String)] = [("layers", "[" + rows.joined(separator: ",") + "]"),
                                     ("step_ms", r.stepStat.map { num($0.meanMs, 4) } ?? "null"),
                                     ("step_p50_ms", r.stepStat.map { num($0.p50Ms, 4) } ?? "null"),
                                     ("step_p99_ms", r.stepStat.map { num($0.p99Ms, 4) } ?? "null"),
                                     ("profiler_overhead", num(r.profilerOverhead, 5)),
                                     ("steps", "\(r.totalSteps)"), ("isa", string(isa.rawValue))]
        f.append(("time_to_target", r.timeToTarget.map { num($0, 3) } ?? "null"))
        if let l = lastLoss { f.append(("last_loss", num(l, 7))) }
        if let h = hyper {
            f.append(("optimizer", string(h.optimizer.rawValue)))
            f.append(("lr", num(Double(h.learningRate), 7)))
            f.append(("schedule", string(h.schedule.rawValue)))
        }
        if ranks > 1 { f.append(("ranks", "\(ranks)")) }
        if let c = data {
            f.append(("loader_threads", "\(c.loaderThreads)"))
            f.append(("prefetch_depth", "\(c.prefetchDepth)"))
            f.append(("cache_preprocessed", c.cachePreprocessed ? "true" : "false"))
            f.append(("augment", c.augmentation != nil ? "true" : "false"))
        }
        if let m = mpi {
            f.append(("rank_step_ms", "[" + m.rankStepMs.map { num($0, 3) }.joined(separator: ",") + "]"))
            f.append(("allreduce_ms", num(m.allreduceMs, 4)))
        }
        if let why = r.endedBecause { f.append(("ended", string(why))) }
        return object(f)
    }

    static func textTable(_ r: TrainingReport) -> [String] {
        guard !r.layers.isEmpty else { return ["(telemetry off: no per-layer times)"] }
        func ms(_ p: PhaseStat?) -> String { p.map { fixed($0.meanMs, 3) } ?? "-" }
        func pad(_ s: String, _ w: Int, left: Bool = false) -> String {
            let n = max(0, w - s.count)
            return left ? s + String(repeating: " ", count: n) : String(repeating: " ", count: n) + s
        }
        var lines = [pad("site", 12, left: true) + pad("forward ms", 12) + pad("backward ms", 13) + pad("other ms", 10) + pad("share", 8)]
        for l in r.layers {
            lines.append(pad(l.name, 12, left: true) + pad(ms(l.forward), 12) + pad(ms(l.backward), 13) + pad(ms(l.other), 10)
                         + pad(fixed(l.share * 100, 1) + "%", 8))
        }
        if let s = r.stepStat {
            lines.append("step \(fixed(s.meanMs, 3)) ms mean (p50 \(fixed(s.p50Ms, 3)), p99 \(fixed(s.p99Ms, 3))) over \(s.calls) steps; "
                         + "profiler overhead \(fixed(r.profilerOverhead * 100, 2))%")
        }
        return lines
    }

    /// `v` with `digits` decimals (no Foundation formatting needed).
    static func fixed(_ v: Double, _ digits: Int) -> String {
        guard v.isFinite else { return "nan" }
        var p = 1.0
        for _ in 0..<digits { p *= 10 }
        let r = (abs(v) * p).rounded()
        let whole = Int(r / p), frac = Int(r - Double(whole) * p)
        var s = (v < 0 && r > 0 ? "-" : "") + String(whole)
        if digits > 0 {
            let f = String(frac)
            s += "." + String(repeating: "0", count: digits - f.count) + f
        }
        return s
    }

    /// A JSON number rounded to `digits` decimals, `null` for NaN/infinity.
    static func num(_ v: Double, _ digits: Int) -> String { v.isFinite ? fixed(v, digits) : "null" }

    static func string(_ s: String) -> String { JSONText.quote(s) }

    static func object(_ fields: [(String, String)]) -> String {
        "{" + fields.map { "\(string($0.0)):\($0.1)" }.joined(separator: ",") + "}"
    }
}

/// Prints a line to stdout and flushes (lines must appear as epochs end, also through a pipe).
func emit(_ line: String) {
    print(line)
    fflush(nil)  // all streams: Swift 6 rejects the `stdout` global as shared mutable state
}

/// The last value a callback saw (the loop's thread writes, the main thread reads after join).
final class LastValue: @unchecked Sendable {
    var value: Double?
}

/// One clear line on stderr, exit status 2.
private func fail(_ message: String) -> Never { exitWithErrorLine("train", message) }
