import Foundation
import InftopEngine
import InftopTelemetry
import InftopWorkloads
import XCTest

/// `v` in a live session: the serving side switches to the generator (the tiny llama fixture)
/// while training goes on, publishes generator snapshots, and switches back.
final class GeneratorSessionTests: XCTestCase {
    func testServedSwitchesToTheGeneratorAndBack() throws {
        let dir = FashionMNIST.defaultDirectory
        guard FileManager.default.fileExists(atPath: dir) else { throw XCTSkip("Fashion-MNIST not installed at \(dir)") }
        let (train, test) = try FashionMNIST.load(directory: dir)
        let knobs = Knobs(KnobValues(batchSize: 64))
        var settings = GenerationServiceTests.settings()
        settings.temperature = 0.7
        let session = try DashboardSession(train: train.prefix(2000), test: test.prefix(500), knobs: knobs,
                                           baseConfig: TrainingConfig(model: "mlp", epochs: 50, seed: 0),
                                           generatorPath: GenerationServiceTests.tinyPath, generatorSettings: settings)
        XCTAssertEqual(session.availableServed, [.trained, .generator])
        session.start()
        defer { session.stop() }
        func wait(_ what: String, _ ok: (DashboardSnapshot) -> Bool) {
            let deadline = Date().addingTimeInterval(30)
            var s = session.snapshot()
            while !ok(s), Date() < deadline { usleep(20_000); s = session.snapshot() }
            XCTAssertTrue(ok(s), what)
        }
        wait("serving the trained mlp") { $0.inference?.model == "mlp" && $0.inference?.generation == nil }
        knobs.update { $0.served = .generator }
        wait("the generator finished an answer") { ($0.inference?.generation?.completed ?? 0) >= 1 }
        let snap = session.snapshot()
        XCTAssertEqual(snap.inference?.model, "tiny_llama")
        XCTAssertNotNil(session.generationService)
        XCTAssertNil(session.inferenceService)
        XCTAssertGreaterThan(snap.memory.bytes(.weightsQuantized), 0, "the GGUF weights are in the memory ledger")
        XCTAssertEqual(snap.training?.state, .running, "training goes on")
        knobs.update { $0.served = .trained }
        wait("back to the trained mlp") { $0.inference?.model == "mlp" && $0.inference?.generation == nil }
        XCTAssertNil(session.generationService)
    }

    func testNoGeneratorMeansVSaysWhy() throws {
        let dir = FashionMNIST.defaultDirectory
        guard FileManager.default.fileExists(atPath: dir) else { throw XCTSkip("Fashion-MNIST not installed at \(dir)") }
        let (train, test) = try FashionMNIST.load(directory: dir)
        let knobs = Knobs(KnobValues(served: .generator))
        let session = try DashboardSession(train: train.prefix(500), test: test.prefix(200), knobs: knobs,
                                           baseConfig: TrainingConfig(model: "mlp", epochs: 1, seed: 0))
        defer { session.stop() }
        XCTAssertEqual(knobs.values.served, .trained, "a served generator without a file falls back to the trained model")
        XCTAssertEqual(session.generatorUnavailable, "no generative model (pass --llm FILE)")
    }
}
