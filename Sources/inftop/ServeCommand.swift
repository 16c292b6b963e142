import ArgumentParser
import Foundation
import InftopEngine
import InftopExport
import InftopTelemetry
import InftopWorkloads
import Synchronization
#if canImport(Glibc)
import Glibc
#endif

/// `inftop serve`: the serving workload without the screen, for a machine where nobody
/// watches: the built-in load generator against a model, exposed through `--metrics` (and
/// `--record`, `--trace`). Prints one status line every `--status-every` seconds; ends on
/// SIGINT/SIGTERM/SIGHUP (status 0) or after `--seconds`.
struct ServeCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "serve",
        abstract: "Serve a model to the load generator without the screen (scrape it with --metrics).",
        discussion: """
            Example: inftop serve --model mlp --checkpoint mlp.safetensors --metrics 127.0.0.1:9464
            Without --checkpoint the model's seeded initial weights are served (latency and
            throughput are those of the trained model; served accuracy is chance level).
            """)

    @Option(help: "Model: mlp or cnn.") var model = "mlp"
    @Option(help: "Weights to serve: a safetensors checkpoint written by 'inftop train --checkpoint'.") var checkpoint: String?
    @Option(help: "Folder with the Fashion-MNIST IDX files (requests ask about its test images).") var data = FashionMNIST.defaultDirectory
    @Option(parsing: .unconditional, help: "Requests per second offered (default: the dashboard's rate for the model).") var rate: String?
    @Option(parsing: .unconditional, help: "Inference batch size (1…1024).") var batch = "8"
    @Option(help: "GEMM backend: blas, simd or reference.") var backend = "blas"
    @Option(parsing: .unconditional, help: "Stop after this many seconds (default: run until SIGINT/SIGTERM/SIGHUP).") var seconds: String?
    @Option(name: .customLong("status-every"), parsing: .unconditional, help: "Seconds between status lines on stdout (0 = none).") var statusEvery = "10"
    @Option(parsing: .unconditional, help: "Random seed (initial weights, load).") var seed = "0"
    @OptionGroup var exports: ExportFlags

    func run() throws {
        guard ModelZoo.names.contains(model) else { fail("--model \(model): unknown; known models: \(ModelZoo.names.joined(separator: ", "))") }
        guard let b = Int(batch), KnobValues.batchRange.contains(b) else { fail("--batch \(batch): must be an integer 1…1024") }
        guard let kb = KernelBackend(rawValue: backend) else { fail("--backend \(backend): unknown; use blas, simd or reference") }
        let defaultRate = (try? ModelZoo.descriptor(model))?.servingRate ?? 100
        var r = defaultRate
        if let text = rate {
            guard let v = Double(text), v > 0, v <= 1_000_000 else { fail("--rate \(text): must be a number in (0, 1000000]") }
            r = v
        }
        let limit = try seconds.map { text -> Double in
            guard let s = Double(text), s > 0 else { fail("--seconds \(text): must be a number > 0") }
            return s
        }
        guard let every = Double(statusEvery), every >= 0 else { fail("--status-every \(statusEvery): must be a number ≥ 0") }
        guard let s = UInt64(seed) else { fail("--seed \(seed): must be a non-negative integer") }
        let test: ImageDataset
        do { (_, test) = try FashionMNIST.load(directory: data) } catch { fail("\(error)") }
        let weights = try checkpoint.map { try Self.checkpointWeights(path: $0, model: model) }

        let knobs = Knobs(KnobValues(inferenceBatchSize: b, backend: kb, model: model))
        let slot = SnapshotSlot<InferenceSnapshot>()
        let origin = monotonicNanos()
        let snapshot: @Sendable () -> DashboardSnapshot = {
            DashboardSnapshot(uptimeSeconds: Double(monotonicNanos() &- origin) / 1e9, training: nil, inference: slot.latest(),
                              memory: .now(), memorySeries: nil)
        }
        let exporting = exports.session(command: "serve", knobs: knobs, snapshot: snapshot)
        let service: InferenceService
        do {
            let task = try ImageServingTask(model: try ModelZoo.make(name: model, seed: s), dataset: test)
            service = InferenceService(task: task, knobs: knobs, ratePerSecond: r, seed: s, weights: weights, snapshots: slot)
        } catch { fail("\(error)") }
        service.start()
        do { try exporting.armStartupTrace() } catch { service.stop(); fail("--trace \(error)") }
        if let m = exporting.settings.metrics { print("inftop serve: \(model), metrics at http://\(m)/metrics") }
        fflush(nil)

        QuitSignals.install()
        var nextStatus = every > 0 ? every : .infinity, nextTick = 0.1
        while QuitSignals.received.load(ordering: .relaxed) == 0 {
            usleep(20_000)
            let t = Double(monotonicNanos() &- origin) / 1e9
            if let limit, t >= limit { break }
            if exporting.recorder != nil && t >= nextTick { exporting.frame(snapshot(), knobs: knobs.values); nextTick += 0.1 }
            if t >= nextStatus {
                nextStatus += every
                if let i = slot.latest() {
                    let p = i.latency.map { String(format: "p50 %.2f ms p99 %.2f ms", $0.p50Ms, $0.p99Ms) } ?? "no latency yet"
                    print(String(format: "t=%.0fs requests %d, %.0f/s, %@", t, i.requests, i.itemsPerSecond, p))
                    fflush(nil)
                }
            }
        }
        service.stop()
        for note in exporting.finish() { printNote(note, command: "serve") }
    }

    /// A `weights` closure that copies the checkpoint's tensors into the replica once.
    /// - Throws: via `fail` when the file cannot be read or does not fit the model.
    static func checkpointWeights(path: String, model: String) throws -> @Sendable (Model, Int) -> Int? {
        let file: SafeTensorsFile
        do { file = try SafeTensorsFile(path: path) } catch { exitWithErrorLine("serve", "--checkpoint \(error)") }
        let probe = try ModelZoo.make(name: model)
        var values: [String: [Float]] = [:]
        for (name, t) in probe.namedParameters {
            guard let info = file.info(name) else { exitWithErrorLine("serve", "--checkpoint \(path): no tensor '\(name)' (not a \(model) checkpoint?)") }
            guard info.elementCount == t.count else {
                exitWithErrorLine("serve", "--checkpoint \(path): tensor '\(name)' has \(info.elementCount) values, model '\(model)' needs \(t.count)")
            }
            do { values[name] = try file.floats(name) } catch { exitWithErrorLine("serve", "--checkpoint \(error)") }
        }
        let loaded = values
        return { replica, held in
            guard held == 0 else { return nil }
            for (name, t) in replica.namedParameters {
                if let v = loaded[name] { v.withUnsafeBufferPointer { t.data.update(from: $0.baseAddress!, count: t.count) }; t.markChanged() }
            }
            replica.weightsDidChange()
            return 1
        }
    }

    private func fail(_ message: String) -> Never { exitWithErrorLine("serve", message) }
}
