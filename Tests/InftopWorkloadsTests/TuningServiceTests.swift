import Foundation
import InftopEngine
import InftopTelemetry
import InftopWorkloads
import XCTest

/// The dashboard's search (`inftop --tune`) on its own thread: the leaderboard lists every trial
/// from the start, one trial runs, and `stop()` ends a trial whose budget is minutes long at its
/// next step rather than when the budget runs out.
final class TuningServiceTests: XCTestCase {
    func testTheLeaderboardListsEveryTrialAndStopEndsTheRunningOne() throws {
        var rng = SeededRandom(seed: 9)
        let images = try ImageDataset(name: "tiny", rows: 28, cols: 28, classes: 10,
                                      pixels: (0..<(256 * 784)).map { _ in UInt8(truncatingIfNeeded: rng.next()) },
                                      labels: (0..<256).map { UInt8($0 % 10) })
        let grid = TrialConfig.grid(learningRates: [0.05, 0.1], batchSizes: [32], optimizers: [.sgd])
        // 2 trials, 2 rungs: 600 s of training for the whole search, 150 s a trial at rung 0.
        let service = TuningService(settings: .init(model: "mlp", grid: grid, budgetSeconds: 600, target: nil, seed: 1,
                                                    threads: 1, backend: .simd, isa: .auto), train: images, test: images)
        let before = service.snapshot()
        XCTAssertEqual(before.rows.map(\.label), ["sgd lr 0.05 batch 32", "sgd lr 0.1 batch 32"])
        XCTAssertEqual(before.rows.map(\.state), [.waiting, .waiting])
        XCTAssertEqual(before.rungCount, 2)
        XCTAssertEqual(before.rungBudgetSeconds, 150, accuracy: 1e-9)
        service.start()
        let deadline = Date().addingTimeInterval(30)
        while !service.snapshot().rows.contains(where: { $0.state == .running }) && Date() < deadline { usleep(5_000) }
        XCTAssertEqual(service.snapshot().rows.first?.state, .running, "the first trial trains")
        let asked = Date()
        service.stop()
        XCTAssertLessThan(Date().timeIntervalSince(asked), 20, "stopped at a step boundary, not after 150 s")
        let after = service.snapshot()
        XCTAssertTrue(after.finished)
        XCTAssertEqual(after.error, "stopped")
        XCTAssertTrue(service.isFinished)
    }
}
