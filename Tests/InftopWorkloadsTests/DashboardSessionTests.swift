import XCTest
import InftopEngine
import InftopTelemetry
import InftopWorkloads

/// The dashboard's default workload must train exactly as `inftop train` does: same loop, same
/// recipe, same seed, while the inference service reads weights beside it.
final class DashboardSessionTests: XCTestCase {
    private func data() throws -> (ImageDataset, ImageDataset) {
        let dir = FashionMNIST.defaultDirectory
        guard FileManager.default.fileExists(atPath: dir) else {
            throw XCTSkip("Fashion-MNIST not installed at \(dir) (bash scripts/setup.sh installs it)")
        }
        let (train, test) = try FashionMNIST.load(directory: dir)
        return (train.prefix(6000), test.prefix(2000))
    }

    func testDashboardTrainingMatchesHeadlessTraining() throws {
        let (train, test) = try data()
        let config = TrainingConfig(model: "mlp", epochs: 1, seed: 0)

        let headless = try TrainingLoop(config: config, train: train, test: test, knobs: Knobs(KnobValues(batchSize: 64)))
        let alone = headless.run()
        let aloneAcc = try XCTUnwrap(alone.epochs.last?.testAccuracy)

        let knobs = Knobs(KnobValues(batchSize: 64))
        let session = try DashboardSession(train: train, test: test, knobs: knobs, baseConfig: config)
        session.start()
        defer { session.stop() }
        var snap = session.snapshot()
        let deadline = Date().addingTimeInterval(60)
        while snap.training?.state != .finished && Date() < deadline {
            usleep(50_000)
            snap = session.snapshot()
        }
        XCTAssertEqual(snap.training?.state, .finished)
        let acc = try XCTUnwrap(snap.training?.testAccuracy)
        XCTAssertEqual(acc, aloneAcc, accuracy: 1e-9, "same recipe and seed must give the same accuracy")
        XCTAssertGreaterThan(acc, 0.6, "one epoch on 6 000 images learns something")

        // The inference service served requests from trained weights, with measured latency. On a
        // quiet, fast machine the epoch can end before the first served batch: the service keeps
        // serving after training finishes, so wait (bounded) for it to take the trained weights.
        while ((snap.inference?.requests ?? 0) == 0 || (snap.inference?.weightsVersion ?? 0) == 0)
                && Date() < deadline {
            usleep(50_000)
            snap = session.snapshot()
        }
        let inf = try XCTUnwrap(snap.inference)
        XCTAssertGreaterThan(inf.requests, 0)
        XCTAssertGreaterThan(inf.weightsVersion, 0, "the replica took trained weights")
        XCTAssertFalse(inf.layers.isEmpty)
        XCTAssertGreaterThan(snap.memory.residentBytes, 0)
        XCTAssertGreaterThan(snap.memory.bytes(.weightsFP32), 0)
    }

    func testModelSwitchRestartsWorkloads() throws {
        let (train, test) = try data()
        let knobs = Knobs(KnobValues(batchSize: 32))
        let session = try DashboardSession(train: train, test: test, knobs: knobs,
                                           baseConfig: TrainingConfig(model: "mlp", epochs: 100))
        session.start()
        defer { session.stop() }
        knobs.update { $0.model = "cnn" }
        var snap = session.snapshot()
        let deadline = Date().addingTimeInterval(30)
        while (snap.training?.model != "cnn" || (snap.training?.step ?? 0) < 2) && Date() < deadline {
            usleep(50_000)
            snap = session.snapshot()
        }
        XCTAssertEqual(snap.training?.model, "cnn")
        XCTAssertGreaterThanOrEqual(snap.training?.step ?? 0, 2)
        XCTAssertTrue(snap.training?.layers.contains { $0.name.hasPrefix("conv") } ?? false)
    }

    /// `d` starts a student beside the teacher (its snapshot in the dashboard's), `D` serves it,
    /// `d` off serves the teacher again and stops the student.
    func testDistillationStartsAStudentAndDServesIt() throws {
        let (train, test) = try data()
        let knobs = Knobs(KnobValues(batchSize: 32))
        let session = try DashboardSession(train: train, test: test, knobs: knobs, baseConfig: TrainingConfig(model: "mlp", epochs: 100))
        session.start()
        defer { session.stop() }
        func wait(_ what: String, until ok: (DashboardSnapshot) -> Bool) {
            let deadline = Date().addingTimeInterval(30)
            var snap = session.snapshot()
            while !ok(snap) && Date() < deadline { usleep(50_000); snap = session.snapshot() }
            XCTAssertTrue(ok(snap), what)
        }
        XCTAssertNil(session.snapshot().student)
        knobs.update { $0.distillation = true; $0.distillAlpha = 0.5 }
        wait("the student trains") { ($0.student?.step ?? 0) >= 2 }
        XCTAssertEqual(session.snapshot().student?.model, "mlp-small")
        XCTAssertEqual(session.snapshot().training?.model, "mlp", "the teacher goes on")
        XCTAssertEqual(session.studentLoop?.distillationInForce?.alpha, 0.5)
        XCTAssertTrue(session.snapshot().student?.layers.contains { $0.name == "teacher.fc1" } ?? false, "the teacher's forward is timed")
        knobs.update { $0.servesStudent = true }
        wait("the student is served") { $0.inference?.model == "mlp-small" && ($0.inference?.requests ?? 0) > 0 }
        knobs.update { $0.distillation = false }
        wait("the teacher is served again and the student gone") { $0.inference?.model == "mlp" && $0.student == nil }
        XCTAssertNil(session.studentLoop)
    }
}
