import XCTest
import Foundation
import InftopEngine
import InftopTelemetry
import InftopWorkloads

/// Collects epoch summaries from the loop's thread.
final class SummaryLog: @unchecked Sendable {
    private let lock = NSLock()
    private var items: [EpochSummary] = []
    func add(_ s: EpochSummary) { lock.lock(); items.append(s); lock.unlock() }
    var all: [EpochSummary] { lock.lock(); defer { lock.unlock() }; return items }
}

/// 28×28 images where class c lights a 7×7 block at one of 10 positions, plus noise: a model
/// that learns anything gets it right quickly.
func separableDataset(_ n: Int, seed: UInt64, name: String) throws -> ImageDataset {
    var rng = SeededRandom(seed: seed)
    var px = [UInt8](repeating: 0, count: n * 784)
    var labels = [UInt8](repeating: 0, count: n)
    for i in 0..<n {
        let c = rng.nextInt(below: 10)
        labels[i] = UInt8(c)
        let r0 = (c / 5) * 10 + 3, c0 = (c % 5) * 5
        for j in 0..<784 { px[i * 784 + j] = UInt8(rng.nextInt(below: 60)) }
        for r in r0..<(r0 + 7) { for k in c0..<min(c0 + 7, 28) { px[i * 784 + r * 28 + k] = UInt8(180 + rng.nextInt(below: 76)) } }
    }
    return try ImageDataset(name: name, rows: 28, cols: 28, classes: 10, pixels: px, labels: labels)
}

final class TrainingLoopTests: XCTestCase {
    func config(_ model: String = "mlp", epochs: Int = 2) -> TrainingConfig {
        var c = TrainingConfig(model: model, epochs: epochs, optimizer: .sgd, learningRate: 0.05, momentum: 0.9, seed: 1)
        c.snapshotIntervalNanos = 0
        return c
    }

    func testMLPLearnsASeparableSetAndLossFalls() throws {
        let train = try separableDataset(2000, seed: 1, name: "sep-train")
        let test = try separableDataset(500, seed: 2, name: "sep-test")
        let slot = SnapshotSlot<TrainingSnapshot>()
        let loop = try TrainingLoop(config: config(epochs: 3), train: train, test: test, knobs: Knobs(KnobValues(batchSize: 32)), snapshots: slot)
        let log = SummaryLog()
        loop.onEpoch = { log.add($0) }
        loop.start()
        let report = try XCTUnwrap(loop.wait())
        let epochs = log.all
        XCTAssertEqual(epochs.map(\.epoch), [1, 2, 3])
        XCTAssertEqual(report.epochs, epochs)
        XCTAssertEqual(epochs.map(\.steps), [63, 63, 63], "2000 samples at batch 32, last batch short")
        XCTAssertLessThan(epochs[2].trainLoss, epochs[0].trainLoss)
        XCTAssertLessThan(epochs[0].trainLoss, 2.302, "below chance-level loss ln 10 after one epoch")
        XCTAssertGreaterThan(epochs[2].testAccuracy, 0.95)
        XCTAssertNil(report.endedBecause)
        XCTAssertEqual(report.totalSteps, 189)
        // Training time excludes evaluation and grows.
        XCTAssertLessThanOrEqual(epochs[0].trainingSeconds, epochs[0].seconds)
        XCTAssertGreaterThan(epochs[1].trainingSeconds, epochs[0].trainingSeconds)
        // The last snapshot says finished and carries the series and the layer table.
        let snap = try XCTUnwrap(slot.latest())
        XCTAssertEqual(snap.state, .finished)
        XCTAssertEqual(snap.step, 189)
        XCTAssertEqual(snap.series("train_loss")?.values.count, 189)
        XCTAssertEqual(snap.series("test_acc")?.values.count, 3)
        XCTAssertEqual(snap.testAccuracy, epochs[2].testAccuracy)
        XCTAssertEqual(snap.layers.map(\.name), ["data", "fc1", "relu1", "fc2", "relu2", "fc3", "loss", "optimizer"])
        XCTAssertEqual(report.layers.map(\.name), snap.layers.map(\.name))
        for l in report.layers where l.name.hasPrefix("fc") {
            XCTAssertEqual(l.forward?.calls, 189); XCTAssertEqual(l.backward?.calls, 189)
        }
        // Laps tile the step: the per-site means add up to the step mean (never more).
        let spanSum = report.layers.reduce(0.0) { $0 + ($1.forward?.meanMs ?? 0) + ($1.backward?.meanMs ?? 0) + ($1.other?.meanMs ?? 0) }
        let stepMean = try XCTUnwrap(report.stepStat?.meanMs)
        XCTAssertLessThanOrEqual(spanSum, stepMean * 1.0001)
        XCTAssertGreaterThan(spanSum, stepMean * 0.5)
        XCTAssertEqual(report.layers.reduce(0.0) { $0 + $1.share }, 1, accuracy: 1e-9)
    }

    func testRealFashionMNISTSubsetLossFalls() throws {
        let dir = FashionMNIST.defaultDirectory
        guard let (full, test) = try? FashionMNIST.load(directory: dir) else {
            throw XCTSkip("Fashion-MNIST not installed at \(dir) (apt-get install dataset-fashion-mnist)")
        }
        XCTAssertEqual(full.count, 60_000)
        XCTAssertEqual(test.count, 10_000)
        var c = config(epochs: 3)
        c.evalBatchSize = 1000
        let loop = try TrainingLoop(config: c, train: full.prefix(2000), test: test.prefix(2000), knobs: Knobs(KnobValues(batchSize: 64)))
        let report = try XCTUnwrap(loop.run())
        XCTAssertEqual(report.epochs.count, 3)
        XCTAssertLessThan(report.epochs[2].trainLoss, report.epochs[0].trainLoss)
        XCTAssertLessThan(report.epochs[2].testLoss, 1.0)
        XCTAssertGreaterThan(report.epochs[2].testAccuracy, 0.65)
    }

    func testTargetStopsEarlyWithTimeToTargetAndCheckpointIsWritten() throws {
        let train = try separableDataset(1500, seed: 3, name: "sep-train")
        let test = try separableDataset(300, seed: 4, name: "sep-test")
        let dir = NSTemporaryDirectory() + "inftop-ckpt-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        var c = config(epochs: 20)
        c.target = 0.9
        c.evalsPerEpoch = 4
        c.checkpointPath = dir + "/mlp.safetensors"
        let loop = try TrainingLoop(config: c, train: train, test: test, knobs: Knobs(KnobValues(batchSize: 16)))
        let report = loop.run()
        XCTAssertEqual(report.endedBecause, "target reached")
        let last = try XCTUnwrap(report.epochs.last)
        XCTAssertLessThan(report.epochs.count, 20)
        XCTAssertGreaterThanOrEqual(last.testAccuracy, 0.9)
        XCTAssertEqual(last.timeToTarget, report.timeToTarget)
        XCTAssertEqual(try XCTUnwrap(report.timeToTarget), last.trainingSeconds)
        XCTAssertTrue(report.epochs.dropLast().allSatisfy { $0.timeToTarget == nil })
        // Each summary lists its epoch's evaluations, 4 in a whole epoch, the last its own (the
        // target may stop the last epoch after any of them).
        for e in report.epochs {
            let evals = e.evaluations, lastEval = try XCTUnwrap(evals.last)
            if e.epoch < last.epoch { XCTAssertEqual(evals.count, 4, "epoch \(e.epoch)") }
            XCTAssertEqual([lastEval.epochFraction, lastEval.testAccuracy, lastEval.trainingSeconds], [e.epochFraction, e.testAccuracy, e.trainingSeconds])
            XCTAssertEqual(evals.map(\.epochFraction), evals.map(\.epochFraction).sorted())
            XCTAssertEqual(Set(evals.map(\.epochFraction)).count, evals.count)
        }

        // The checkpoint: header JSON with every parameter at the right size, nothing else in the folder.
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: dir), ["mlp.safetensors"])
        let bytes = try FileBytes.read(path: c.checkpointPath!)
        var n = 0
        for i in 0..<8 { n |= Int(bytes[i]) << (8 * i) }
        let header = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(bytes[8..<(8 + n)])) as? [String: Any])
        let meta = try XCTUnwrap(header["__metadata__"] as? [String: String])
        XCTAssertEqual(meta["model"], "mlp")
        XCTAssertEqual(meta["epoch"], String(last.epoch))
        let shapes: [String: [Int]] = ["fc1.weight": [256, 784], "fc1.bias": [256], "fc2.weight": [128, 256],
                                       "fc2.bias": [128], "fc3.weight": [10, 128], "fc3.bias": [10]]
        var end = 0
        for (name, shape) in shapes {
            let entry = try XCTUnwrap(header[name] as? [String: Any], name)
            XCTAssertEqual(entry["shape"] as? [Int], shape)
            let offsets = try XCTUnwrap(entry["data_offsets"] as? [Int])
            XCTAssertEqual(offsets[1] - offsets[0], shape.reduce(1, *) * 4)
            end = max(end, offsets[1])
        }
        XCTAssertEqual(header.count, shapes.count + 1)
        XCTAssertEqual(bytes.count, 8 + n + end)
        XCTAssertEqual(end, 235_146 * 4)
    }

    func testPauseResumeBatchKnobAndStop() throws {
        let train = try separableDataset(4000, seed: 5, name: "sep-train")
        let test = try separableDataset(100, seed: 6, name: "sep-test")
        let knobs = Knobs(KnobValues(batchSize: 8))
        let slot = SnapshotSlot<TrainingSnapshot>()
        var c = config(epochs: 1000)
        c.snapshotIntervalNanos = 1_000_000
        let loop = try TrainingLoop(config: c, train: train, test: test, knobs: knobs, snapshots: slot)
        loop.start()
        func waitFor(_ what: String, _ cond: (TrainingSnapshot) -> Bool) {
            let deadline = Date().addingTimeInterval(30)
            while Date() < deadline {
                if let s = slot.latest(), cond(s) { return }
                usleep(2000)
            }
            XCTFail("timed out waiting for \(what)")
        }
        waitFor("steps") { $0.step > 20 && $0.state == .running }
        knobs.update { $0.trainingPaused = true }
        waitFor("pause") { $0.state == .paused }
        let pausedAt = try XCTUnwrap(slot.latest()).step
        let cpu0 = processCPUNanos()
        usleep(200_000)
        let cpuWhilePaused = processCPUNanos() - cpu0
        XCTAssertEqual(slot.latest()?.step, pausedAt, "no steps while paused")
        XCTAssertLessThan(cpuWhilePaused, 100_000_000, "paused loop sleeps instead of spinning")
        knobs.update { $0.trainingPaused = false; $0.batchSize = 100 }
        waitFor("resume at batch 100") { $0.state == .running && $0.batchSize == 100 && $0.step > pausedAt + 5 }
        let report = try XCTUnwrap(loop.stop())
        XCTAssertEqual(report.endedBecause, "stopped")
        XCTAssertGreaterThan(report.totalSteps, pausedAt + 5)
        XCTAssertEqual(slot.latest()?.state, .finished)
    }

    /// The model knob is watched in one place, the session's supervisor (which stops this loop
    /// and starts one for the new model): the loop itself neither ends nor resumes on it.
    func testTheModelKnobIsNotTheLoopsBusiness() throws {
        let train = try separableDataset(3000, seed: 11, name: "sep-train")
        let test = try separableDataset(100, seed: 12, name: "sep-test")
        let knobs = Knobs(KnobValues(batchSize: 8, trainingPaused: true, model: "mlp"))
        let loop = try TrainingLoop(config: config(epochs: 1000), train: train, test: test, knobs: knobs)
        loop.start()
        knobs.update { $0.model = "cnn" }
        let report = try XCTUnwrap(loop.stop())
        XCTAssertEqual(report.endedBecause, "stopped")
        XCTAssertEqual(report.totalSteps, 0, "still paused: the model knob did not resume it")
    }

    func testWeightsReachAReplicaAndTelemetryOffTakesNoSpans() throws {
        let train = try separableDataset(600, seed: 7, name: "sep-train")
        let test = try separableDataset(100, seed: 8, name: "sep-test")
        var c = config(epochs: 2)
        c.telemetry = false
        let loop = try TrainingLoop(config: c, train: train, test: test, knobs: Knobs(KnobValues(batchSize: 50)))
        let replica = try ModelZoo.make(name: "mlp", seed: 99)
        XCTAssertNil(loop.copyLatestWeights(into: replica), "nothing published before training")
        loop.start()
        let report = try XCTUnwrap(loop.wait())
        XCTAssertTrue(report.layers.isEmpty)
        XCTAssertNil(report.stepStat)
        XCTAssertEqual(report.epochs.count, 2)
        let v = try XCTUnwrap(loop.copyLatestWeights(into: replica))
        XCTAssertGreaterThanOrEqual(v, 2, "published at least at each epoch end")
        XCTAssertEqual(loop.weightsVersion, v)
        for (a, b) in zip(replica.parameters, loop.model.parameters) { XCTAssertEqual(a.value.toArray(), b.value.toArray(), a.name) }
        // Same version again: nothing copied, same version returned.
        XCTAssertEqual(loop.copyLatestWeights(into: replica, ifNewerThan: v), v)
    }

    func testCNNTrainsAFewSteps() throws {
        let train = try separableDataset(256, seed: 9, name: "sep-train")
        let test = try separableDataset(100, seed: 10, name: "sep-test")
        let loop = try TrainingLoop(config: config("cnn", epochs: 2), train: train, test: test, knobs: Knobs(KnobValues(batchSize: 32)))
        XCTAssertEqual(loop.model.parameterCount, 454_922)
        let report = loop.run()
        XCTAssertEqual(report.epochs.count, 2)
        XCTAssertLessThan(report.epochs[1].trainLoss, report.epochs[0].trainLoss)
        XCTAssertEqual(report.layers.map(\.name), ["data", "conv1", "relu1", "pool1", "conv2", "relu2", "pool2", "flatten", "fc1", "relu3", "fc2", "loss", "optimizer"])
    }

    /// Two runs with the same seed and thread count end with bit-identical weights, on every
    /// backend the CNN's convolutions split by images (each worker sums a fixed run of images).
    func testCNNRunsAreBitReproducibleAtTwoThreads() throws {
        let train = try separableDataset(320, seed: 11, name: "sep-train")
        let test = try separableDataset(50, seed: 12, name: "sep-test")
        for backend in [KernelBackend.simd, .blas] {
            func run() throws -> [[Float]] {
                let knobs = Knobs(KnobValues(batchSize: 64, threads: 2, backend: backend))
                let loop = try TrainingLoop(config: config("cnn", epochs: 1), train: train, test: test, knobs: knobs)
                _ = loop.run()
                return loop.model.parameters.map { $0.value.toArray() }
            }
            let first = try run(), second = try run()
            for (i, (a, b)) in zip(first, second).enumerated() {
                let differing = zip(a, b).filter { $0.bitPattern != $1.bitPattern }.count
                XCTAssertEqual(differing, 0, "\(backend): parameter \(i) differs between two runs in \(differing) of \(a.count) values")
            }
        }
    }

    func testBadConfigAndDataAreErrors() throws {
        let train = try separableDataset(10, seed: 1, name: "sep")
        let knobs = Knobs()
        var c = config()
        c.model = "resnet"
        XCTAssertThrowsError(try TrainingLoop(config: c, train: train, test: train, knobs: knobs)) { e in
            XCTAssertEqual("\(e)", "--model resnet: unknown; known models: mlp, cnn, mlp-small, cnn-small")
        }
        c = config(); c.learningRate = 0
        XCTAssertThrowsError(try TrainingLoop(config: c, train: train, test: train, knobs: knobs))
        c = config(); c.epochs = 0
        XCTAssertThrowsError(try TrainingLoop(config: c, train: train, test: train, knobs: knobs))
        let small = try ImageDataset(name: "small", rows: 2, cols: 2, classes: 10, pixels: [1, 2, 3, 4], labels: [1])
        XCTAssertThrowsError(try TrainingLoop(config: config(), train: small, test: small, knobs: knobs)) { e in
            XCTAssertTrue("\(e)".contains("do not fit model 'mlp'"), "\(e)")
        }
        XCTAssertThrowsError(try ModelZoo.make(name: "vgg")) { e in
            XCTAssertEqual("\(e)", "model 'vgg': unknown; known models: mlp, cnn, mlp-small, cnn-small")
        }
    }
}
