import XCTest
import InftopEngine
import InftopTelemetry
import InftopWorkloads

/// Distillation in the training loop: the teacher's forward per batch, the loss's α, the
/// teacher weights a live teacher hands over, and the pairs the loop refuses.
final class DistillationLoopTests: XCTestCase {
    func config(alpha: Float?, temperature: Float = 4, epochs: Int = 1) -> TrainingConfig {
        var c = TrainingConfig(model: "mlp-small", epochs: epochs, optimizer: .sgd, learningRate: 0.05, momentum: 0.9, seed: 3)
        c.snapshotIntervalNanos = 0
        c.telemetry = false
        c.distillation = alpha.map { DistillationSettings(temperature: temperature, alpha: $0) }
        return c
    }

    /// α = 0 through the loop (teacher forward and all) ends with the same weights, bit for
    /// bit, as the hard-label run: the control of `train --distill` is that run.
    func testAlphaZeroTrainsExactlyAsHardLabels() throws {
        let train = try separableDataset(600, seed: 1, name: "sep-train"), test = try separableDataset(200, seed: 2, name: "sep-test")
        let teacher = try ModelZoo.make(name: "mlp", seed: 9)
        let kd = try TrainingLoop(config: config(alpha: 0), train: train, test: test, knobs: Knobs(KnobValues(batchSize: 32)), teacher: teacher)
        let plain = try TrainingLoop(config: config(alpha: nil), train: train, test: test, knobs: Knobs(KnobValues(batchSize: 32)))
        let a = kd.run(), b = plain.run()
        XCTAssertNil(a.error)
        XCTAssertEqual(a.totalSteps, b.totalSteps)
        for (p, q) in zip(kd.model.parameters, plain.model.parameters) {
            XCTAssertEqual(p.value.toArray(), q.value.toArray(), p.name)
        }
        XCTAssertEqual(kd.distillationInForce, DistillationSettings(temperature: 4, alpha: 0))
        XCTAssertNil(plain.distillationInForce)
    }

    /// α = 1 learns the teacher, not the labels: a teacher trained on shifted labels (c → c+1)
    /// gets a distilled student that predicts c+1, where the hard-label student predicts c.
    func testAlphaOneImitatesTheTeacher() throws {
        let train = try separableDataset(1500, seed: 4, name: "sep-train"), test = try separableDataset(300, seed: 5, name: "sep-test")
        let shifted = try ImageDataset(name: "shifted", rows: 28, cols: 28, classes: 10,
                                       pixels: Array(UnsafeBufferPointer(start: train.pixels, count: train.count * 784)),
                                       labels: (0..<train.count).map { UInt8((train.label($0) + 1) % 10) })
        var tc = TrainingConfig(model: "mlp", epochs: 2, seed: 1)
        tc.telemetry = false
        let teacherLoop = try TrainingLoop(config: tc, train: shifted, test: test, knobs: Knobs(KnobValues(batchSize: 32)))
        _ = teacherLoop.run()
        let teacher = teacherLoop.model
        let kd = try TrainingLoop(config: config(alpha: 1, temperature: 2, epochs: 2), train: train, test: test, knobs: Knobs(KnobValues(batchSize: 32)), teacher: teacher)
        let plain = try TrainingLoop(config: config(alpha: nil, epochs: 2), train: train, test: test, knobs: Knobs(KnobValues(batchSize: 32)))
        let kdAcc = try XCTUnwrap(kd.run().epochs.last?.testAccuracy), plainAcc = try XCTUnwrap(plain.run().epochs.last?.testAccuracy)
        func agreement(_ m: Model) -> Double {
            let batches = SequentialBatches(dataset: test, batchSize: 100, sampleShape: [784])
            var same = 0, n = 0
            while let b = batches.next() {
                let s = Array(m.forward(b.x).toArray()), t = Array(teacher.forward(b.x).toArray())
                for r in 0..<b.count {
                    let sr = s[(r * 10)..<(r * 10 + 10)], tr = t[(r * 10)..<(r * 10 + 10)]
                    if sr.firstIndex(of: sr.max()!) == tr.firstIndex(of: tr.max()!) { same += 1 }
                    n += 1
                }
            }
            return Double(same) / Double(n)
        }
        XCTAssertGreaterThan(agreement(kd.model), 0.8, "the distilled student follows its teacher")
        XCTAssertLessThan(agreement(plain.model), 0.2, "the hard-label student does not")
        XCTAssertLessThan(kdAcc, 0.2, "…so it misses the true labels")
        XCTAssertGreaterThan(plainAcc, 0.8)
    }

    /// `teacherSource` is asked at every step boundary with the version the teacher holds.
    func testTeacherSourceIsAskedEveryStep() throws {
        let train = try separableDataset(320, seed: 6, name: "sep"), test = try separableDataset(100, seed: 7, name: "sep-test")
        let loop = try TrainingLoop(config: config(alpha: 0.9), train: train, test: test, knobs: Knobs(KnobValues(batchSize: 32)),
                                    teacher: try ModelZoo.make(name: "mlp", seed: 1))
        let asked = Versions()
        loop.teacherSource = { _, held in asked.add(held) }
        let r = loop.run()
        XCTAssertEqual(r.totalSteps, 10)
        XCTAssertEqual(asked.values, Array(0..<10), "each step sees the version the previous one returned")
    }

    func testBadPairsAreErrors() throws {
        let train = try separableDataset(64, seed: 8, name: "sep")
        let knobs = Knobs()
        XCTAssertThrowsError(try TrainingLoop(config: config(alpha: 0.9), train: train, test: train, knobs: knobs)) { e in
            XCTAssertEqual("\(e)", "--distill: needs a teacher (--teacher CKPT)")
        }
        XCTAssertThrowsError(try TrainingLoop(config: config(alpha: 1.5), train: train, test: train, knobs: knobs,
                                              teacher: try ModelZoo.make(name: "mlp"))) { e in
            XCTAssertEqual("\(e)", "--alpha 1.5: must be in [0, 1]")
        }
        XCTAssertThrowsError(try TrainingLoop(config: config(alpha: 0.9, temperature: 0), train: train, test: train, knobs: knobs,
                                              teacher: try ModelZoo.make(name: "mlp"))) { e in
            XCTAssertEqual("\(e)", "--temperature 0.0: must be a finite number > 0")
        }
        var big = config(alpha: 0.9)
        big.model = "mlp"
        XCTAssertThrowsError(try TrainingLoop(config: big, train: train, test: train, knobs: knobs, teacher: try ModelZoo.make(name: "mlp-small"))) { e in
            XCTAssertEqual("\(e)", "student 'mlp': has 235146 parameters, not fewer than teacher 'mlp-small' (50890)")
        }
    }
}

/// The versions a `teacherSource` was asked with (the loop's thread writes, the test reads after).
private final class Versions: @unchecked Sendable {
    private(set) var values: [Int] = []
    func add(_ held: Int) -> Int? { values.append(held); return held + 1 }
}
