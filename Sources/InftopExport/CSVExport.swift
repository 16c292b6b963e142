import Foundation
import InftopEngine
import InftopTelemetry
import InftopWorkloads

/// `inftop export FILE.jsonl --csv DIR`: a record's series as CSV files, one row per tick
/// (`training.csv`, `serving.csv`, `memory.csv`, `layers.csv` with one row per tick and node,
/// `knobs.csv`), each written to a temporary name and renamed. Empty cells where a figure was
/// not known at that tick.
public enum CSVExport {
    /// - Returns: the files written, with their row counts.
    /// - Throws: `ExportError.io` when `directory` cannot be made or written.
    @discardableResult
    public static func write(_ record: Record, to directory: String) throws -> [(file: String, rows: Int)] {
        do { try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true) }
        catch { throw ExportError.io(path: directory, reason: "cannot create the folder (\(error.localizedDescription))") }
        var written: [(String, Int)] = []
        func emit(_ name: String, _ header: [String], _ rows: [[String]]) throws {
            let path = (directory as NSString).appendingPathComponent(name)
            var text = header.joined(separator: ",") + "\n"
            for r in rows { text += r.map(cell).joined(separator: ",") + "\n" }
            var bytes = Array(text.utf8)
            do {
                try bytes.withUnsafeMutableBytes { try FileBytes.writeAtomically(path: path, parts: [UnsafeRawBufferPointer($0)]) }
            } catch { throw ExportError.io(path: path, reason: "\(error)") }
            written.append((path, rows.count))
        }
        let f = record.frames
        func num(_ x: Double?) -> String { x.map { $0.isFinite ? "\($0)" : "" } ?? "" }

        try emit("training.csv", ["tick", "t", "model", "state", "step", "epoch", "batch", "samples_per_sec", "loss", "accuracy",
                                  "test_loss", "test_accuracy", "step_ms_last", "step_ms_p50", "step_ms_p99", "profiler_overhead"],
                 f.compactMap { fr in
                     guard let t = fr.snapshot.training else { return nil }
                     return [String(fr.tick), num(fr.time), t.model, t.state.label, String(t.step), String(t.epoch), String(t.batchSize),
                             num(t.samplesPerSecond), num(t.lastLoss), num(t.lastAccuracy), num(t.testLoss), num(t.testAccuracy),
                             num(t.stepTime?.lastMs), num(t.stepTime?.p50Ms), num(t.stepTime?.p99Ms), num(t.profilerOverhead)]
                 })
        try emit("serving.csv", ["tick", "t", "model", "state", "requests", "batches", "batch", "items_per_sec", "offered_per_sec",
                                 "latency_ms_p50", "latency_ms_p90", "latency_ms_p99", "served_accuracy", "cache_hit_rate", "dropped"],
                 f.compactMap { fr in
                     guard let i = fr.snapshot.inference else { return nil }
                     return [String(fr.tick), num(fr.time), i.model, i.state.label, String(i.requests), String(i.batches), String(i.batchSize),
                             num(i.itemsPerSecond), num(i.offeredPerSecond), num(i.latency?.p50Ms), num(i.latency?.p90Ms),
                             num(i.latency?.p99Ms), num(i.servedAccuracy), num(i.cacheHitRate), String(i.dropped)]
                 })
        try emit("memory.csv", ["tick", "t", "rss_bytes", "peak_rss_bytes"] + MemoryOwner.allCases.map { $0.description.replacingOccurrences(of: " ", with: "_") + "_bytes" },
                 f.map { fr in
                     let m = fr.snapshot.memory
                     return [String(fr.tick), num(fr.time), String(m.residentBytes), String(m.peakResidentBytes)]
                         + MemoryOwner.allCases.map { String(m.bytes($0)) }
                 })
        var layerRows: [[String]] = []
        for fr in f {
            for (w, layers) in [("training", fr.snapshot.training?.layers ?? []), ("serving", fr.snapshot.inference?.layers ?? [])] {
                for l in layers {
                    layerRows.append([String(fr.tick), num(fr.time), w, l.name, num(l.forward?.lastMs), num(l.forward?.meanMs),
                                      num(l.forward?.p99Ms), num(l.backward?.lastMs), num(l.backward?.meanMs), num(l.backward?.p99Ms),
                                      num(l.share)])
                }
            }
        }
        try emit("layers.csv", ["tick", "t", "workload", "node", "fwd_ms_last", "fwd_ms_mean", "fwd_ms_p99", "bwd_ms_last",
                                "bwd_ms_mean", "bwd_ms_p99", "share"], layerRows)
        try emit("knobs.csv", ["tick", "t", "model", "batch", "inference_batch", "threads", "backend", "precision", "pruning",
                               "cache", "distillation", "training_paused", "inference_paused"],
                 f.map { fr in
                     let k = fr.knobs
                     return [String(fr.tick), num(fr.time), k.model, String(k.batchSize), String(k.inferenceBatchSize), String(k.threads),
                             k.backend.rawValue, k.precision.rawValue, num(k.pruning), String(k.responseCache), String(k.distillation),
                             String(k.trainingPaused), String(k.inferencePaused)]
                 })
        return written
    }

    /// A CSV cell: quoted when it holds a comma, a quote or a line break (RFC 4180).
    static func cell(_ s: String) -> String {
        guard s.contains(where: { $0 == "," || $0 == "\"" || $0 == "\n" || $0 == "\r" }) else { return s }
        return "\"" + s.replacingOccurrences(of: "\"", with: "\"\"") + "\""
    }
}
