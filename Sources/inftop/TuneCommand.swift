import ArgumentParser
import Foundation
import InftopEngine
import InftopTelemetry
import InftopWorkloads

/// `inftop tune`: hyperparameter search by successive halving over a grid of learning rates,
/// batch sizes and optimizers; every trial a real training run. Prints a leaderboard per rung
/// and the final ranking with the time each trial took (text, or one JSON object per line).
struct TuneCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "tune",
        abstract: "Hyperparameter search (successive halving): many short training runs, the better half go on.")

    /// The grid and budget when none is given (here and for the dashboard's `--tune`).
    static let defaults = (lr: "0.01,0.05,0.1", batch: "64,256", optimizer: "sgd,adamw", budget: "120s")

    @Option(help: "Model: mlp or cnn.") var model = "mlp"
    @Option(parsing: .unconditional, help: "Learning rates to try, comma-separated (each > 0).") var lr = TuneCommand.defaults.lr
    @Option(parsing: .unconditional, help: "Batch sizes to try, comma-separated (1…1024).") var batch = TuneCommand.defaults.batch
    @Option(help: "Optimizers to try, comma-separated: sgd, adamw.") var optimizer = TuneCommand.defaults.optimizer
    @Option(parsing: .unconditional, help: "Training time for the whole search: 120s, 2m or seconds.") var budget = TuneCommand.defaults.budget
    @Option(parsing: .unconditional, help: "Rank by time to this test accuracy (0…1) where reached.") var target: String?
    @Option(parsing: .unconditional, help: "Compute threads per trial (1…256).") var threads = "1"
    @Option(help: "GEMM backend: blas, simd or reference.") var backend = "blas"
    @Option(parsing: .unconditional, help: "Random seed (the same for every trial).") var seed = "0"
    @Option(help: "Folder with the Fashion-MNIST IDX files (gzip or plain).") var data = FashionMNIST.defaultDirectory
    @Option(name: .customLong("test-limit"), parsing: .unconditional, help: "Evaluate on the first N test images only.") var testLimit: String?
    @Flag(help: "One JSON object per line: one per rung, then the ranking.") var json = false
    @OptionGroup var isaOption: ISAOption

    func run() throws {
        let grid: [TrialConfig], seconds: Double, goal: Double?, t: Int, kb: KernelBackend, sd: UInt64
        do {
            guard ModelZoo.names.contains(model) else {
                throw EngineError.invalid(what: "--model \(model)", reason: "unknown; known models: \(ModelZoo.names.joined(separator: ", "))")
            }
            grid = try Self.grid(lr: lr, batch: batch, optimizer: optimizer)
            seconds = try Self.seconds(budget)
            goal = try target.map { try Self.target($0) }
            guard let tv = Int(threads), (1...256).contains(tv) else { throw EngineError.invalid(what: "--threads \(threads)", reason: "must be 1…256") }
            t = tv
            guard let b = KernelBackend(rawValue: backend) else {
                throw EngineError.invalid(what: "--backend \(backend)", reason: "unknown; known: \(KernelBackend.allCases.map(\.rawValue).joined(separator: ", "))")
            }
            kb = b
            guard let s = UInt64(seed) else { throw EngineError.invalid(what: "--seed \(seed)", reason: "not a non-negative integer") }
            sd = s
        } catch { fail("\(error)") }
        let isa = isaOption.resolved("tune")
        var (train, test): (ImageDataset, ImageDataset)
        do { (train, test) = try FashionMNIST.load(directory: data) } catch { fail("\(error)") }
        if let limit = testLimit {
            guard let n = Int(limit), n >= 1 else { fail("--test-limit \(limit): must be an integer ≥ 1") }
            test = test.prefix(n)
        }

        let search = SuccessiveHalving(trials: grid, budgetSeconds: seconds)
        let asJSON = json
        if !asJSON {
            say("tuning \(model): \(grid.count) trials, \(SuccessiveHalving.rungCount(grid.count)) rungs, "
                + "\(TrainCommand.fixed(search.firstBudget, 2)) s of training each at rung 0, doubling; budget \(TrainCommand.fixed(seconds, 0)) s")
        }
        let started = Date()
        let rungs: [Rung]
        do {
            rungs = try search.run(objective: { _, config, budgetSeconds, _ in
                try TuneTrial.run(model: model, config: config, budgetSeconds: budgetSeconds, seed: sd, target: goal,
                                  threads: t, backend: kb, isa: isa, train: train, test: test)
            }, onRung: { rung in
                if asJSON { say(Self.rungJSON(rung)) } else { for line in Self.rungText(rung) { say(line) } }
            })
        } catch { exitWithErrorLine("tune", "\(error)", status: 1) }
        let ranking = SuccessiveHalving.ranking(rungs)
        let wall = Date().timeIntervalSince(started)
        if asJSON {
            let rows = ranking.enumerated().map { i, r in
                TrainCommand.object([("place", "\(i + 1)")] + Self.fields(r.config, r.outcome) + [("last_rung", "\(r.rung)"),
                                     ("trial_seconds", TrainCommand.num(r.totalWallSeconds, 3))])
            }
            say(TrainCommand.object([("ranking", "[" + rows.joined(separator: ",") + "]"), ("wall_seconds", TrainCommand.num(wall, 2)),
                                     ("budget_seconds", TrainCommand.num(seconds, 1)), ("model", TrainCommand.string(model)),
                                     ("isa", TrainCommand.string(isa.rawValue))]))
        } else {
            say("ranking (\(TrainCommand.fixed(wall, 1)) s wall in all):")
            for (i, r) in ranking.enumerated() {
                say("  \(i + 1). \(r.config.label)  acc \(TrainCommand.fixed(r.outcome.testAccuracy, 4))"
                    + (r.outcome.timeToTarget.map { "  target at \(TrainCommand.fixed($0, 2)) s" } ?? "")
                    + "  rung \(r.rung)  \(TrainCommand.fixed(r.totalWallSeconds, 2)) s in all its runs")
            }
        }
    }

    static func fields(_ c: TrialConfig, _ o: TrialOutcome) -> [(String, String)] {
        [("optimizer", TrainCommand.string(c.optimizer.rawValue)), ("lr", "\(c.learningRate)"), ("batch", "\(c.batchSize)"),
         ("test_accuracy", TrainCommand.num(o.testAccuracy, 5)), ("training_seconds", TrainCommand.num(o.trainingSeconds, 3)),
         ("seconds", TrainCommand.num(o.wallSeconds, 3)), ("steps", "\(o.steps)"),
         ("time_to_target", o.timeToTarget.map { TrainCommand.num($0, 3) } ?? "null")]
    }

    static func rungJSON(_ rung: Rung) -> String {
        let rows = rung.results.enumerated().map { i, r in
            TrainCommand.object(Self.fields(r.config, r.outcome) + [("kept", i < rung.kept ? "true" : "false"),
                                                                    ("carried", rung.carried.contains(r.trial) ? "true" : "false")])
        }
        return TrainCommand.object([("rung", "\(rung.index)"), ("budget_seconds", TrainCommand.num(rung.budgetSeconds, 3)),
                                    ("trials", "[" + rows.joined(separator: ",") + "]"), ("kept", "\(rung.kept)")])
    }

    static func rungText(_ rung: Rung) -> [String] {
        ["rung \(rung.index) (\(TrainCommand.fixed(rung.budgetSeconds, 2)) s each): \(rung.results.count) trial\(rung.results.count == 1 ? "" : "s"), \(rung.kept) go on"]
            + rung.results.enumerated().map { i, r in
                "  \(i < rung.kept ? "▲" : " ") \(r.config.label)  acc \(TrainCommand.fixed(r.outcome.testAccuracy, 4))"
                    + (r.outcome.timeToTarget.map { "  target at \(TrainCommand.fixed($0, 2)) s" } ?? "")
                    + "  \(r.outcome.steps) steps  \(TrainCommand.fixed(r.outcome.wallSeconds, 2)) s"
                    + (rung.carried.contains(r.trial) ? " (reached the target before: not run again)" : "")
            }
    }

    /// "120s", "2m", "90" → seconds (> 0).
    static func seconds(_ s: String) throws -> Double {
        var body = Substring(s), unit = 1.0
        if body.hasSuffix("s") { body = body.dropLast() } else if body.hasSuffix("m") { body = body.dropLast(); unit = 60 }
        guard let v = Double(body), v > 0, v.isFinite else { throw EngineError.invalid(what: "--budget \(s)", reason: "must be a time > 0 such as 120s or 2m") }
        return v * unit
    }

    /// The trials of the lists given (`--lr`, `--batch`, `--optimizer`, comma-separated).
    static func grid(lr: String, batch: String, optimizer: String) throws -> [TrialConfig] {
        let lrs = try list("lr", lr) { s -> Float in
            guard let v = Float(s), v > 0, v.isFinite else { throw EngineError.invalid(what: "--lr \(s)", reason: "must be a finite number > 0") }
            return v
        }
        let batches = try list("batch", batch) { s -> Int in
            guard let v = Int(s), KnobValues.batchRange.contains(v) else { throw EngineError.invalid(what: "--batch \(s)", reason: "must be an integer 1…1024") }
            return v
        }
        let opts = try list("optimizer", optimizer) { try OptimizerKind.parse($0) }
        return TrialConfig.grid(learningRates: lrs, batchSizes: batches, optimizers: opts)
    }

    static func target(_ s: String) throws -> Double {
        guard let v = Double(s), v > 0, v <= 1 else { throw EngineError.invalid(what: "--target \(s)", reason: "must be an accuracy in (0, 1]") }
        return v
    }

    /// The dashboard's `--tune SPEC`: `lr=…;batch=…;optimizer=…;budget=…;target=…`, each part
    /// optional (this command's defaults); a bare `--tune` is the defaults.
    static func spec(_ text: String) throws -> (grid: [TrialConfig], budget: Double, target: Double?) {
        var parts: [String: String] = [:]
        let known = ["lr", "batch", "optimizer", "budget", "target"]
        for item in text.split(separator: ";").map({ $0.trimmingCharacters(in: .whitespaces) }) where !item.isEmpty {
            let kv = item.split(separator: "=", maxSplits: 1).map(String.init)
            guard kv.count == 2, known.contains(kv[0]) else {
                throw EngineError.invalid(what: "--tune \(item)", reason: "give key=value with a key of \(known.joined(separator: ", ")) (e.g. lr=0.01,0.05;batch=64;budget=60s)")
            }
            parts[kv[0]] = kv[1]
        }
        return (try grid(lr: parts["lr"] ?? defaults.lr, batch: parts["batch"] ?? defaults.batch, optimizer: parts["optimizer"] ?? defaults.optimizer),
                try seconds(parts["budget"] ?? defaults.budget), try parts["target"].map { try target($0) })
    }

    private static func list<T>(_ flag: String, _ s: String, _ parse: (String) throws -> T) throws -> [T] {
        let items = s.split(separator: ",", omittingEmptySubsequences: false).map { String($0).trimmingCharacters(in: .whitespaces) }
        guard !items.isEmpty, !items.contains("") else { throw EngineError.invalid(what: "--\(flag) \(s)", reason: "an empty item in the list") }
        return try items.map(parse)
    }

    private func fail(_ message: String) -> Never { exitWithErrorLine("tune", message) }
}

/// A line to stdout, flushed (rungs appear as they end, also through a pipe).
private func say(_ line: String) {
    print(line)
    fflush(nil)
}
