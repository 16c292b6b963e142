import XCTest
import Foundation
import InftopEngine
import InftopTelemetry
import InftopWorkloads

/// The `p` / `P` knobs on the trained model: the loop prunes at a step boundary and keeps the
/// pruned weights (or units) exactly zero while it trains on; checkpoints carry the masks.
final class PruningLoopTests: XCTestCase {
    func train(_ knobs: KnobValues) throws -> (TrainingLoop, TrainingReport) {
        var c = TrainingConfig(model: "mlp", epochs: 3, optimizer: .sgd, learningRate: 0.05, momentum: 0.9, seed: 1)
        c.snapshotIntervalNanos = 0
        let loop = try TrainingLoop(config: c, train: try separableDataset(2000, seed: 1, name: "sep-train"),
                                    test: try separableDataset(200, seed: 2, name: "sep-test"), knobs: Knobs(knobs))
        loop.start()
        return (loop, try XCTUnwrap(loop.wait()))
    }

    func testUnstructuredKnobPrunesAndTrainingKeepsTheZeros() throws {
        let (loop, report) = try train(KnobValues(batchSize: 32, pruning: 0.75))
        XCTAssertEqual(loop.model.masks.count, 3)
        for m in loop.model.masks {
            let w = m.parameter.value
            let pruned = (0..<w.count).filter { m.mask[$0] == 0 }
            XCTAssertEqual(pruned.count, Int((0.75 * Double(w.count)).rounded()), m.parameter.name)
            XCTAssertTrue(pruned.allSatisfy { w[$0] == 0 }, "\(m.parameter.name): a pruned weight moved in training")
        }
        XCTAssertGreaterThan(report.epochs.last?.testAccuracy ?? 0, 0.5, "training with 25% of the weights still learns (chance 0.1)")
    }

    func testStructuredKnobZeroesWholeUnits() throws {
        let (loop, _) = try train(KnobValues(batchSize: 32, pruning: 0.5, pruneMode: .structured))
        XCTAssertEqual(loop.model.liveUnits().map { $0.kept.count }, [128, 64])
        let small = try loop.model.shrunk()
        XCTAssertEqual(small.parameterCount, 784 * 128 + 128 + 128 * 64 + 64 + 64 * 10 + 10)
    }

    func testCheckpointCarriesTheMasks() throws {
        let model = try ModelZoo.make(name: "mlp", seed: 3)
        model.pruneMagnitude(sparsity: 0.9)
        let path = NSTemporaryDirectory() + "inftop-prune-\(getpid()).safetensors"
        defer { try? FileManager.default.removeItem(atPath: path) }
        try SafeTensorsWriter.write(path: path, tensors: model.checkpointTensors, metadata: ["model": "mlp"])
        let back = try ModelZoo.make(name: "mlp", seed: 8)
        try Checkpoint.load(path: path, into: back)
        XCTAssertEqual(back.masks.map { $0.parameter.name }, ["fc1.weight", "fc2.weight", "fc3.weight"])
        for (a, b) in zip(model.masks, back.masks) { XCTAssertEqual(a.mask.toArray(), b.mask.toArray()) }
        for (a, b) in zip(model.parameters, back.parameters) { XCTAssertEqual(a.value.toArray(), b.value.toArray(), a.name) }
    }
}
