import Foundation
import XCTest
import InftopEngine
import InftopTelemetry
import InftopWorkloads

/// Structured pruning on the serving side: the workers serve a physically smaller model (the
/// zoo model cut to the kept units, the encoder loaded without the removed heads and FFN
/// channels), whose answers equal the masked full model's.
final class StructuredServingTests: XCTestCase {
    /// 40 synthetic 28×28 images (no dataset needed).
    private func images() throws -> ImageDataset {
        let n = 40
        var rng = SeededRandom(seed: 9)
        let px = (0..<(n * 784)).map { _ in UInt8(truncatingIfNeeded: rng.next()) }
        return try ImageDataset(name: "synthetic", rows: 28, cols: 28, classes: 10, pixels: px, labels: (0..<n).map { UInt8($0 % 10) })
    }

    private func logits(_ task: ImageServingTask, _ samples: [Int32]) -> [Float] {
        task.serve(samples, spans: nil, inputSite: 0, sites: [])
        var out = [Float](repeating: 0, count: samples.count * 10)
        out.withUnsafeMutableBufferPointer { p in for b in samples.indices { task.copyAnswer(row: b, into: p.baseAddress! + b * 10) } }
        return out
    }

    private func maskedLogits(_ name: String, seed: UInt64, fraction: Double, _ ds: ImageDataset, _ samples: [Int32]) throws -> [Float] {
        let m = try ModelZoo.make(name: name, seed: seed)
        m.pruneStructured(fraction: fraction)
        m.setPlan(Compute(backend: .reference))
        return logits(try ImageServingTask(model: m, dataset: ds), samples)
    }

    func testImageTaskServesTheShrunkModelWithTheMaskedModelsAnswers() throws {
        let ds = try images()
        let samples: [Int32] = [0, 3, 7, 11, 19, 23, 38]
        for name in ["mlp", "cnn"] {
            let model = try ModelZoo.make(name: name, seed: 4)
            let task = try ImageServingTask(model: model, dataset: ds)
            let plan = Compute(backend: .reference)
            task.followStructured(0.5, plan: plan, weightsVersion: 1)
            let small = task.servedModel
            XCTAssertFalse(small === model, name)
            XCTAssertLessThan(small.parameterCount, model.parameterCount / 2, "\(name): half the units of every hidden layer gone")
            let got = logits(task, samples), want = try maskedLogits(name, seed: 4, fraction: 0.5, ds, samples)
            for i in got.indices { XCTAssertEqual(got[i], want[i], accuracy: 1e-4 * max(1, abs(want[i])), "\(name) logit \(i)") }

            // Newer weights (the replica took a training step's): cut again into the same buffers.
            for p in model.parameters { for i in 0..<p.value.count { p.value.data[i] *= 0.5 } }
            task.followStructured(0.5, plan: plan, weightsVersion: 2)
            XCTAssertTrue(task.servedModel === small, "\(name): same kept widths, same model reused")
            let halved = logits(task, samples)
            XCTAssertNotEqual(halved, got, "\(name): the new weights serve")
            task.followStructured(0, plan: plan, weightsVersion: 2)
            XCTAssertTrue(task.servedModel === model, "\(name): unpruned, the replica serves")
        }
    }

    func testAReplicaOfAStructurallyPrunedModelKeepsExactlyItsLiveUnits() throws {
        let ds = try images()
        let model = try ModelZoo.make(name: "mlp", seed: 2)
        model.pruneStructured(fraction: 0.75)  // what the training loop did before publishing
        let task = try ImageServingTask(model: model, dataset: ds)
        task.followStructured(0.75, plan: Compute(backend: .reference), weightsVersion: 1)
        XCTAssertEqual(task.servedModel.parameterCount, try model.shrunk().parameterCount)
        model.setPlan(Compute(backend: .reference))
        let full = logits(try ImageServingTask(model: model, dataset: ds), [5, 6])  // the whole (masked) model
        let got = logits(task, [5, 6])
        for i in got.indices { XCTAssertEqual(got[i], full[i], accuracy: 1e-4 * max(1, abs(full[i]))) }
    }

    func testServiceShowsShrunkNodesAndTheirRemovedShare() throws {
        let ds = try images()
        let knobs = Knobs(KnobValues(inferenceBatchSize: 4, pruning: 0.5, backend: .reference, pruneMode: .structured))
        let service = InferenceService(task: try ImageServingTask(model: try ModelZoo.make(name: "mlp"), dataset: ds), knobs: knobs,
                                       ratePerSecond: 2000)
        service.start()
        defer { service.stop() }
        let deadline = Date().addingTimeInterval(30)
        var plans: [NodePlan] = []
        while Date() < deadline {
            plans = service.snapshots.latest()?.nodePlans ?? []
            if plans.contains(where: { $0.format == .shrunk }) { break }
            usleep(10_000)
        }
        let byName = Dictionary(plans.map { ($0.name, $0) }, uniquingKeysWith: { a, _ in a })
        // 784-256-128-10 → 784-128-64-10: fc1 loses half its rows, fc2 half its rows and half its
        // inputs (75 %), fc3 half its inputs (its 10 biases stay: 640 of 1 290 values).
        XCTAssertEqual(byName["fc1"]?.format, .shrunk)
        XCTAssertEqual(byName["fc1"]?.sparsity ?? 0, 0.5, accuracy: 1e-9)
        XCTAssertEqual(byName["fc2"]?.sparsity ?? 0, 24_640.0 / 32_896, accuracy: 1e-9)
        XCTAssertEqual(byName["fc3"]?.sparsity ?? 0, 640.0 / 1_290, accuracy: 1e-9)
        XCTAssertNil(byName["relu1"]?.format)
        let weights = service.snapshots.latest()?.nodeMemory.first { $0.name == "fc1" }?.weights ?? 0
        XCTAssertLessThan(weights, 784 * 256 * 4, "the memory panel counts the shrunk matrix")
    }

    private func tinyEncoder() throws -> SentenceEncoder { try TinyBert.encoder(for: self) }

    /// Calls `followStructured` at "batch boundaries" until the background load is swapped in.
    private func follow(_ task: TextServingTask, _ fraction: Double, until done: (TextServingTask) -> Bool) {
        let deadline = Date().addingTimeInterval(30)
        repeat {
            task.followStructured(fraction, plan: Compute(backend: .reference), weightsVersion: 0)
            if done(task) { return }
            usleep(2_000)
        } while Date() < deadline
    }

    func testTextTaskLoadsThePrunedEncoderInTheBackgroundAndSwapsItIn() throws {
        let enc = try tinyEncoder()
        let corpus = TokenizedCorpus(texts: ["the cat sat on the mat", "a dog ran", "cats and dogs sat"], tokenizer: enc.tokenizer)
        let task = try TextServingTask(model: enc.model, corpus: corpus, loadPruned: { try enc.replica(pruneUnits: $0).model })
        enc.model.setPlan(Compute(backend: .reference))
        task.followStructured(0.34, plan: Compute(backend: .reference), weightsVersion: 0)
        follow(task, 0.34) { $0.servedModel !== enc.model }
        let small = task.servedModel
        XCTAssertFalse(small === enc.model, "the pruned encoder was swapped in")
        XCTAssertNil(task.structuredError)
        XCTAssertEqual(small.nodes.map(\.name), enc.model.nodes.map(\.name), "same graph, smaller matrices")
        func weightBytes(_ m: Model) -> Int { m.nodeMemory().reduce(0) { $0 + $1.weights } }
        XCTAssertLessThan(weightBytes(small), weightBytes(enc.model))
        // Its answers are the pruned encoder's, and its score is the cosine to the unpruned fp32.
        let want = try enc.replica(pruneUnits: 0.34)
        want.model.setPlan(Compute(backend: .reference))
        let e = want.model.forward(tokens: TokenBatch(sequences: [corpus.ids[1]], padId: corpus.padId))
        task.serve([1], spans: nil, inputSite: 0, sites: [])
        var got = [Float](repeating: 0, count: task.answerWidth)
        got.withUnsafeMutableBufferPointer { task.copyAnswer(row: 0, into: $0.baseAddress!) }
        for c in got.indices { XCTAssertEqual(got[c], e.data[c], accuracy: 1e-5) }
        var scores: [Double] = []
        task.scores(into: &scores)
        XCTAssertLessThan(scores[0], 0.9999, "a third of the heads gone moves the embedding")
        XCTAssertGreaterThan(scores[0], -1)
        let plans = small.shrunkNodePlans(cutFrom: enc.model)
        XCTAssertEqual(plans.first { $0.name == "L0.qkv" }?.format, .shrunk)
        XCTAssertEqual(plans.first { $0.name == "L0.qkv" }?.sparsity ?? 0, 1.0 / 3, accuracy: 1e-6, "one head of three")
        XCTAssertEqual(plans.first { $0.name == "L0.ffn_up" }?.sparsity ?? 0, 14.0 / 40, accuracy: 1e-6, "14 of 40 channels")
        task.followStructured(0, plan: Compute(backend: .reference), weightsVersion: 0)
        XCTAssertTrue(task.servedModel === enc.model)
    }

    func testAFailedPrunedLoadIsSaidAndTheEncoderKeepsServing() throws {
        let enc = try tinyEncoder()
        let corpus = TokenizedCorpus(texts: ["a dog"], tokenizer: enc.tokenizer)
        let task = try TextServingTask(model: enc.model, corpus: corpus, loadPruned: { _ in
            throw EngineError.badFile(path: "/gone/model.safetensors", reason: "no such file")
        })
        follow(task, 0.5) { $0.structuredError != nil }
        XCTAssertEqual(task.structuredError?.contains("/gone/model.safetensors"), true)
        XCTAssertTrue(task.servedModel === enc.model)
    }
}
