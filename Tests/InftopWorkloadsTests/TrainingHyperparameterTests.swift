import XCTest
import Foundation
import InftopEngine
import InftopTelemetry
import InftopWorkloads

/// What each step ran with, recorded from the loop's thread.
final class StepLog: @unchecked Sendable {
    private let lock = NSLock()
    private var items: [(step: Int, lr: Float, optimizer: OptimizerKind)] = []
    func add(_ step: Int, _ h: Hyperparameters) { lock.lock(); items.append((step, h.learningRate, h.optimizer)); lock.unlock() }
    var all: [(step: Int, lr: Float, optimizer: OptimizerKind)] { lock.lock(); defer { lock.unlock() }; return items }
}

final class TrainingHyperparameterTests: XCTestCase {
    func config(epochs: Int = 1) -> TrainingConfig {
        var c = TrainingConfig(model: "mlp", epochs: epochs, optimizer: .sgd, learningRate: 0.05, momentum: 0.9, seed: 1)
        c.snapshotIntervalNanos = 0
        return c
    }

    /// A change written between steps k and k+1 (here from the step callback, the boundary)
    /// is what step k+1 runs with; step k ran with the old values.
    func testLearningRateAndOptimizerChangesTakeEffectOnTheNextStepOnly() throws {
        let train = try separableDataset(800, seed: 21, name: "sep-train")
        let test = try separableDataset(100, seed: 22, name: "sep-test")
        let knobs = Knobs(KnobValues(batchSize: 16))
        var c = config()
        c.maxSteps = 9
        let slot = SnapshotSlot<TrainingSnapshot>()
        let loop = try TrainingLoop(config: c, train: train, test: test, knobs: knobs, snapshots: slot)
        let log = StepLog()
        loop.onStep = { step, _ in
            log.add(step, loop.hyperparameters)
            if step == 3 { knobs.update { $0.learningRate = 0.02 } }
            if step == 6 { knobs.update { $0.optimizer = .adamw; $0.learningRate = 0.001 } }
        }
        let report = loop.run()
        XCTAssertEqual(report.endedBecause, "step limit")
        XCTAssertEqual(report.totalSteps, 9)
        let seen = log.all
        XCTAssertEqual(seen.map(\.step), Array(1...9))
        XCTAssertEqual(seen.map(\.lr), [0.05, 0.05, 0.05, 0.02, 0.02, 0.02, 0.001, 0.001, 0.001])
        XCTAssertEqual(seen.map(\.optimizer), [.sgd, .sgd, .sgd, .sgd, .sgd, .sgd, .adamw, .adamw, .adamw])
        // Each change is a marker on the charts, and the snapshot names what is in force.
        let snap = try XCTUnwrap(slot.latest())
        XCTAssertEqual(snap.markers?.map(\.label), ["lr 0.02", "adamw lr 0.001"])
        XCTAssertEqual(snap.hyperparameters?.optimizer, "adamw")
        XCTAssertEqual(try XCTUnwrap(snap.hyperparameters?.learningRate), 0.001, accuracy: 1e-9)
        XCTAssertEqual(snap.hyperparameters?.weightDecay, Double(Float(0.01)), "AdamW's default decay once switched")
    }

    /// The step schedule over a 2-epoch run of 100 steps: ×0.1 from the step that starts at half the run.
    func testTheScheduleMovesTheRateByTheRunsProgress() throws {
        let train = try separableDataset(800, seed: 23, name: "sep-train")
        let test = try separableDataset(100, seed: 24, name: "sep-test")
        var c = config(epochs: 2)
        c.schedule = .step
        c.learningRate = 0.1
        let loop = try TrainingLoop(config: c, train: train, test: test, knobs: Knobs(KnobValues(batchSize: 16)))
        let log = StepLog()
        loop.onStep = { step, _ in log.add(step, loop.hyperparameters) }
        _ = loop.run()
        let lr = Dictionary(uniqueKeysWithValues: log.all.map { ($0.step, $0.lr) })
        XCTAssertEqual(lr.count, 100)
        XCTAssertEqual(lr[1], 0.1); XCTAssertEqual(lr[50], 0.1)
        XCTAssertEqual(try XCTUnwrap(lr[51]), 0.01, accuracy: 1e-7, "800 of 1600 samples done")
        XCTAssertEqual(try XCTUnwrap(lr[76]), 0.001, accuracy: 1e-8)
        XCTAssertEqual(try XCTUnwrap(lr[100]), 0.001, accuracy: 1e-8)
    }

    func testABadLearningRateKnobIsAnError() throws {
        let train = try separableDataset(100, seed: 25, name: "sep-train")
        XCTAssertThrowsError(try TrainingLoop(config: config(), train: train, test: train, knobs: Knobs(KnobValues(learningRate: -0.1)))) { e in
            XCTAssertEqual("\(e)", "learning rate -0.1: must be a finite number > 0")
        }
        var c = config()
        c.learningRate = -1
        XCTAssertThrowsError(try TrainingLoop(config: c, train: train, test: train, knobs: Knobs())) { e in
            XCTAssertEqual("\(e)", "--lr -1.0: must be a finite number > 0")
        }
    }
}

/// The data-pipeline levers change what the steps see only where they should.
final class TrainingDataLeverTests: XCTestCase {
    func run(_ edit: (inout TrainingConfig) -> Void) throws -> [Float] {
        let train = try separableDataset(640, seed: 31, name: "sep-train")
        let test = try separableDataset(100, seed: 32, name: "sep-test")
        var c = TrainingConfig(model: "mlp", epochs: 1, optimizer: .sgd, learningRate: 0.05, momentum: 0.9, seed: 3)
        c.maxSteps = 20
        edit(&c)
        let loop = try TrainingLoop(config: c, train: train, test: test, knobs: Knobs(KnobValues(batchSize: 32)))
        let losses = LossLog()
        loop.onStep = { _, l in losses.add(l) }
        _ = loop.run()
        return losses.all
    }

    func testLoaderThreadsAndCachingGiveTheSameStepsAugmentationOtherReproducibleOnes() throws {
        let base = try run { _ in }
        XCTAssertEqual(base.count, 20)
        XCTAssertEqual(try run { $0.loaderThreads = 0 }, base, "no loader thread: the same batches")
        XCTAssertEqual(try run { $0.loaderThreads = 2 }, base, "two loader threads: the same batches")
        XCTAssertEqual(try run { $0.cachePreprocessed = true }, base, "cached fp32: the same batches")
        XCTAssertEqual(try run { $0.prefetchDepth = 1 }, base)
        let augmented = try run { $0.augmentation = Augmentation() }
        XCTAssertNotEqual(augmented, base)
        XCTAssertEqual(try run { $0.augmentation = Augmentation(); $0.loaderThreads = 0 }, augmented, "augmentation is seeded per sample")
    }
}

final class LossLog: @unchecked Sendable {
    private let lock = NSLock()
    private var items: [Float] = []
    func add(_ v: Float) { lock.lock(); items.append(v); lock.unlock() }
    var all: [Float] { lock.lock(); defer { lock.unlock() }; return items }
}
