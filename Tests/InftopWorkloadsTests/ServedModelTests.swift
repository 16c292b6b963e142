import Foundation
import XCTest
import InftopEngine
import InftopTelemetry
import InftopWorkloads

/// The batcher's decision, on an injected clock: no sleeps, exact boundaries.
final class BatcherTests: XCTestCase {
    func testClosesWhenFullOrWhenTheOldestHasWaitedMaxDelay() {
        let clock = ManualClock()
        let b = Batcher(maxBatch: 4, maxDelayNanos: 2_000_000)
        let first = clock.now()
        XCTAssertNil(b.decide(queued: 0, oldestArrival: nil, now: clock.now()), "an empty queue never closes a batch")
        XCTAssertNil(b.decide(queued: 3, oldestArrival: first, now: clock.now()))
        XCTAssertEqual(b.decide(queued: 4, oldestArrival: first, now: clock.now()), .full)
        XCTAssertEqual(b.decide(queued: 9, oldestArrival: first, now: clock.now()), .full)
        clock.advance(1_999_999)
        XCTAssertNil(b.decide(queued: 1, oldestArrival: first, now: clock.now()), "1 ns before the delay")
        XCTAssertEqual(b.remainingNanos(oldestArrival: first, now: clock.now()), 1)
        clock.advance(1)
        XCTAssertEqual(b.decide(queued: 1, oldestArrival: first, now: clock.now()), .timeout)
        XCTAssertEqual(b.remainingNanos(oldestArrival: first, now: clock.now()), 0)
        let zero = Batcher(maxBatch: 8, maxDelayNanos: 0)
        XCTAssertEqual(zero.decide(queued: 1, oldestArrival: clock.now(), now: clock.now()), .timeout, "delay 0: serve at once")
    }
}

/// The serving side serves any model of the graph, driven by its descriptor.
final class ServedModelTests: XCTestCase {
    private func tinyEncoder() throws -> SentenceEncoder { try TinyBert.encoder(for: self) }

    func testDescriptorDrivesRateAndInputKind() throws {
        let (_, test) = try imageData()
        for name in ["mlp", "cnn"] {
            let model = try ModelZoo.make(name: name)
            let service = InferenceService(task: try ImageServingTask(model: model, dataset: test), knobs: Knobs())
            XCTAssertEqual(service.generator.ratePerSecond, model.descriptor.servingRate, name)
            XCTAssertThrowsError(try TextServingTask(model: model, corpus: TokenizedCorpus(texts: ["a"], tokenizer: try tinyEncoder().tokenizer)))
        }
        let enc = try tinyEncoder()
        XCTAssertThrowsError(try ImageServingTask(model: enc.model, dataset: test)) { XCTAssertTrue("\($0)".contains("does not take 28×28 images")) }
        let service = InferenceService(task: try TextServingTask(model: enc.model, corpus: TokenizedCorpus(texts: ["a cat"], tokenizer: enc.tokenizer)),
                                       knobs: Knobs())
        XCTAssertEqual(service.generator.ratePerSecond, enc.model.descriptor.servingRate)
    }

    func testTextServingScoresCosineToTheFP32ReferenceOfEachSentence() throws {
        let enc = try tinyEncoder()
        let corpus = TokenizedCorpus(texts: ["the cat sat on the mat", "a dog", "cats and dogs sat"], tokenizer: enc.tokenizer)
        let task = try TextServingTask(model: enc.model, corpus: corpus)
        enc.model.setPlan(Compute(backend: .blas))
        task.serve([0, 2, 1, 0], spans: nil, inputSite: 0, sites: [])
        XCTAssertEqual(task.referencesCached, 0, "references are made after the response, in scores(into:)")
        var scores: [Double] = []
        task.scores(into: &scores)
        XCTAssertEqual(scores.count, 4)
        for s in scores { XCTAssertEqual(s, 1, accuracy: 1e-5, "fp32 served against fp32 references, padded against alone") }
        XCTAssertEqual(task.referencesCached, 3)
        // A different plan moves the figure away from 1 only by its rounding.
        enc.model.setPlan(Compute(backend: .reference))
        task.serve([1, 2], spans: nil, inputSite: 0, sites: [])
        task.scores(into: &scores)
        XCTAssertEqual(scores.count, 2)
        for s in scores { XCTAssertEqual(s, 1, accuracy: 1e-5) }
    }

    func testBundledCorpusHasTwoThousandSentences() throws {
        let sentences = try SentenceCorpus.bundled()
        XCTAssertGreaterThanOrEqual(sentences.count, 2000)
        XCTAssertEqual(Set(sentences).count, sentences.count, "each sentence once")
        XCTAssertTrue(sentences.allSatisfy { $0.split(separator: " ").count >= 5 })
    }

    func testSessionServesTheEncoderWhileTrainingGoesOn() throws {
        let (train, test) = try imageData()
        let enc = try tinyEncoder()
        let knobs = Knobs(KnobValues(batchSize: 64))
        let session = try DashboardSession(train: train, test: test, knobs: knobs,
                                           baseConfig: TrainingConfig(model: "mlp", epochs: 1000, seed: 0),
                                           encoder: enc, sentences: ["the cat sat", "a dog ran", "cats sat on mats"])
        session.start()
        defer { session.stop() }
        let loop = try XCTUnwrap(session.trainingLoop)
        knobs.update { $0.served = .encoder }
        let deadline = Date().addingTimeInterval(30)
        var snap = session.snapshot()
        while !(snap.inference?.model == enc.model.name && (snap.inference?.requests ?? 0) > 20) && Date() < deadline {
            usleep(20_000)
            snap = session.snapshot()
        }
        XCTAssertEqual(snap.inference?.model, enc.model.name)
        XCTAssertEqual(snap.inference?.accuracyLabel, "cosine to fp32")
        XCTAssertEqual(snap.inference?.servedAccuracy ?? 0, 1, accuracy: 1e-4)
        XCTAssertEqual(snap.inference?.layers.map(\.name).filter { $0.hasPrefix("L0.") }, BertModel.layerStages.map { "L0." + $0 })
        XCTAssertTrue(session.trainingLoop === loop, "training went on: the same loop")
        knobs.update { $0.served = .trained }
        while snap.inference?.model != "mlp" && Date() < deadline { usleep(20_000); snap = session.snapshot() }
        XCTAssertEqual(snap.inference?.model, "mlp")
        XCTAssertTrue(session.trainingLoop === loop)
    }

    /// No model-name checks outside the model zoo: per-model facts live in descriptors.
    func testNoModelNameStringChecksOutsideTheZoo() throws {
        let sources = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("Sources")
        let pattern = try NSRegularExpression(pattern: #"(==|!=)\s*"(mlp|cnn)"|"(mlp|cnn)"\s*(==|!=|\?)|case\s+"(mlp|cnn)""#)
        var offenders: [String] = []
        let files = FileManager.default.enumerator(atPath: sources.path)?.compactMap { $0 as? String }.filter { $0.hasSuffix(".swift") } ?? []
        XCTAssertGreaterThan(files.count, 50)
        for f in files where !f.hasSuffix("Models/ModelZoo.swift") {
            let text = try String(contentsOfFile: sources.appendingPathComponent(f).path, encoding: .utf8)
            for (n, line) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
                let s = String(line)
                if pattern.firstMatch(in: s, range: NSRange(s.startIndex..., in: s)) != nil { offenders.append("\(f):\(n + 1): \(s)") }
            }
        }
        XCTAssertEqual(offenders, [], "model-name checks belong in ModelZoo's descriptors")
    }

    private func imageData() throws -> (ImageDataset, ImageDataset) {
        let dir = FashionMNIST.defaultDirectory
        guard FileManager.default.fileExists(atPath: dir) else {
            throw XCTSkip("Fashion-MNIST not installed at \(dir) (bash scripts/setup.sh installs it)")
        }
        let (train, test) = try FashionMNIST.load(directory: dir)
        return (train.prefix(6000), test.prefix(1000))
    }
}
