import Foundation
import InftopEngine
import InftopTelemetry
import InftopWorkloads

extension BenchCommand {
    /// `bench --model mlp|cnn --weights CKPT --prune 0,0.5,0.9 [--prune-mode …] --batch 1,64`:
    /// latency, per-layer times (with each node's sparsity and format) and test accuracy per
    /// (sparsity, batch) (`PruneBenchmark`); `--crossover` adds each Linear's measured crossover.
    /// Bad sparsities, a missing, corrupt or foreign checkpoint get one line and status 2.
    func runPruneBench(model name: String, weights: String?, sparsitiesText: String, modeText: String, batches: [Int],
                       threads: Int, backend: String, json: Bool) throws {
        let onnx = name.hasSuffix(".onnx")
        if onnx, let weights { try Self.fail("--weights \(weights): an ONNX file holds its own weights") }
        if !onnx && weights == nil {
            try Self.fail("--model \(name) needs --weights CKPT (a checkpoint written by inftop train --model \(name) --checkpoint CKPT)")
        }
        guard let gemm = KernelBackend(rawValue: backend) else {
            try Self.fail("--backend for a model must be one of \(KernelBackend.allCases.map(\.rawValue).joined(separator: ", ")), got '\(backend)'")
        }
        guard let mode = PruneMode(rawValue: modeText) else {
            try Self.fail("--prune-mode \(modeText): unknown; known: \(PruneMode.allCases.map(\.rawValue).joined(separator: ", "))")
        }
        guard batches.allSatisfy({ $0 >= 1 && $0 <= 4096 }) else { try Self.fail("--batch needs sizes in 1...4096, e.g. 1,64") }
        if onnx && mode == .structured {
            try Self.fail("--prune-mode structured rebuilds a zoo model with fewer units; for an ONNX file use unstructured")
        }
        let sparsities: [Double]
        do { sparsities = try BenchInput.sparsities(sparsitiesText) } catch let e as BenchInputError { try Self.fail(e.description) }
        let test: ImageDataset
        do {
            _ = try loadClassifier(name, weights: weights)  // fail now on a bad file
            test = try FashionMNIST.load(directory: data).test
        } catch let e as EngineError {
            try Self.fail("\(e)")
        }
        let compute = Compute(backend: gemm, threads: threads, isa: isaOption.resolved("bench"))
        let bench = PruneBenchmark(test: test) { try loadClassifier(name, weights: weights) }
        if !json {
            print("model \(name)\(weights.map { " from \($0)" } ?? ""); \(mode.rawValue) pruning; \(threads) thread(s), \(backend), isa \(compute.isa.rawValue)")
            print("sparsity batch     p50 ms     p90 ms     p99 ms     items/s  test acc   params  layers (p50 ms, format)")
        }
        _ = try bench.run(sparsities: sparsities, mode: mode, batches: batches, compute: compute) { r in
            if json {
                print(r.jsonLine)
            } else {
                let layers = r.layers.filter { $0.format != nil }.map { l in
                    String(format: "%@ %.4f %@", l.name, l.p50Ms, l.format!.rawValue) + (l.sparsity.map { String(format: " %.0f%%", $0 * 100) } ?? "")
                }
                print(String(format: "%8.2f %5d %10.4f %10.4f %10.4f %11.1f %9.4f %8d  ", r.sparsity, r.batch, r.p50Ms, r.p90Ms, r.p99Ms,
                             r.itemsPerSec, r.testAccuracy, r.parameters) + layers.joined(separator: ", "))
            }
            fflush(nil)
        }
        if crossover && mode == .unstructured {
            let dense = try bench.makeModel()
            for b in batches { for line in PruneBenchmark.crossoverLines(model: dense, batch: b, compute: compute) { print(line); fflush(nil) } }
        }
    }

    /// `bench --model DIR --prune 0,0.5 --prune-mode structured|unstructured --batch 1,8`: a BERT
    /// encoder with that fraction of every layer's heads and FFN channels removed at load
    /// (BertPruning), or of every projection's weights pruned by its plan (CSR where faster):
    /// latency per batch and the mean cosine of its embeddings of the first 256 bundled sentences
    /// to the unpruned model's (no fine-tuning).
    func runEncoderPruneBench(model: String?, sparsitiesText: String, modeText: String, batches: [Int], seq: Int, threads: Int,
                              backend: String, json: Bool) throws {
        guard let mode = PruneMode(rawValue: modeText) else {
            try Self.fail("--prune-mode \(modeText): unknown; known: \(PruneMode.allCases.map(\.rawValue).joined(separator: ", "))")
        }
        guard let gemm = KernelBackend(rawValue: backend) else {
            try Self.fail("--backend for a model must be one of \(KernelBackend.allCases.map(\.rawValue).joined(separator: ", ")), got '\(backend)'")
        }
        let sparsities: [Double]
        do { sparsities = try BenchInput.sparsities(sparsitiesText) } catch let e as BenchInputError { try Self.fail(e.description) }
        let compute = Compute(backend: gemm, threads: threads, isa: isaOption.resolved("bench"))
        let directory: String, reference: [[Float]], texts: [String]
        do {
            directory = try ModelLocator.resolve(model)
            texts = Array(try SentenceCorpus.bundled().prefix(256))
            reference = try SentenceEncoder.load(directory: directory).embed(texts, compute: compute)
        } catch let e as EngineError {
            try Self.fail("\(e)")
        }
        if !json {
            print("encoder \(directory): " + (mode == .structured ? "structured pruning of heads and FFN channels"
                                                                   : "unstructured pruning of every projection (CSR where measured faster)")
                  + "; seq \(seq), \(threads) thread(s), \(backend)")
        }
        for s in sparsities {
            let encoder: SentenceEncoder
            do { encoder = try SentenceEncoder.load(directory: directory, pruneUnits: mode == .structured ? s : 0) } catch let e as EngineError { try Self.fail("\(e)") }
            var compute = compute
            if mode == .unstructured { compute.sparsity = s }  // the projections prune a copy of their weights
            let got = encoder.embed(texts, compute: compute)
            let projections = encoder.model.nodes.compactMap { $0 as? ProjectionNode }
            let cosine = zip(reference, got).reduce(0.0) { sum, pair in sum + Double(zip(pair.0, pair.1).reduce(Float(0)) { $0 + $1.0 * $1.1 }) }
                / Double(texts.count)
            let weightBytes = encoder.model.weightBytes
            _ = try ModelBenchmark(encoder: encoder).run(batches: batches, seq: seq, compute: compute) { r in
                // Projections that run CSR at this batch's token count (measured at plan preparation).
                let csrNodes = mode == .structured ? 0 : projections.filter { $0.sparseChoice?.sparseFaster(batch: r.batch * seq) ?? false }.count
                let line = String(format: "{\"model\":%@,\"prune_mode\":\"%@\",\"sparsity\":%.4f,\"batch\":%d,\"seq\":%d,\"threads\":%d,"
                                  + "\"backend\":\"%@\",\"isa\":\"%@\",\"p50_ms\":%.3f,\"p90_ms\":%.3f,\"p99_ms\":%.3f,\"sentences_per_sec\":%.1f,"
                                  + "\"cosine_to_fp32\":%.5f,\"weight_bytes\":%d,\"csr_projections\":%d,\"projections\":%d,\"runs\":%d}",
                                  JSONText.quote(r.model), mode.rawValue, s, r.batch, seq, threads, backend, compute.isa.rawValue, r.p50Ms, r.p90Ms, r.p99Ms,
                                  r.sentencesPerSec, cosine, weightBytes, csrNodes, projections.count, r.runs)
                print(json ? line : String(format: "%@ %3.0f%%  batch %3d  p50 %8.2f ms  p90 %8.2f ms  %7.1f sent/s  cosine to fp32 %.4f  weights %.1f MB  csr %d/%d",
                                           mode == .structured ? "removed" : "pruned", s * 100, r.batch, r.p50Ms, r.p90Ms, r.sentencesPerSec, cosine,
                                           Double(weightBytes) / 1e6, csrNodes, projections.count))
                fflush(nil)
            }
        }
    }
}
