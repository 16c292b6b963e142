import XCTest
import InftopWorkloads

/// Successive halving on a fake objective whose accuracy is known for every trial and budget.
final class SuccessiveHalvingTests: XCTestCase {
    let grid = TrialConfig.grid(learningRates: [0.01, 0.05, 0.1], batchSizes: [64, 256], optimizers: [.sgd, .adamw])

    /// Accuracy grows with the budget; trials differ by a fixed "quality" (index 7 best, then 2,
    /// 9, 4, …), except that trial 5 starts fast and stalls (best at the first budget only).
    func fake(_ i: Int, _ budget: Double) -> Double {
        let quality = [0.50, 0.60, 0.90, 0.40, 0.80, 0.30, 0.55, 0.95, 0.45, 0.85, 0.35, 0.65][i]
        if i == 5 { return budget < 2 ? 0.99 : 0.2 }
        return quality * (1 - 1 / (1 + budget))
    }

    func testKeepsTheBetterHalfEachRungAndTheBestWins() {
        XCTAssertEqual(grid.count, 12)
        XCTAssertEqual(SuccessiveHalving.rungCount(12), 5, "12 → 6 → 3 → 2 → 1")
        let search = SuccessiveHalving(trials: grid, budgetSeconds: 60)
        XCTAssertEqual(search.firstBudget, 1, "60 s over 5 rungs of 12 trials")
        var calls: [(Int, Double, Int)] = []
        let rungs = search.run(objective: { i, _, budget, rung in
            calls.append((i, budget, rung))
            return TrialOutcome(testAccuracy: fake(i, budget), trainingSeconds: budget, wallSeconds: budget + 0.1, steps: 1)
        })
        XCTAssertEqual(rungs.map { $0.results.count }, [12, 6, 3, 2, 1])
        XCTAssertEqual(rungs.map(\.kept), [6, 3, 2, 1, 0])
        XCTAssertEqual(rungs.map(\.budgetSeconds), [1, 2, 4, 8, 16])
        // Rung 0 at budget 1: trial 5 (0.99) leads, then 7, 2, 9, 4, 11.
        XCTAssertEqual(rungs[0].results.prefix(6).map(\.trial), [5, 7, 2, 9, 4, 11])
        // Rung 1 at budget 2: trial 5 has stalled and drops out.
        XCTAssertEqual(rungs[1].results.map(\.trial), [7, 2, 9, 4, 11, 5])
        XCTAssertEqual(rungs[2].results.map(\.trial), [7, 2, 9])
        XCTAssertEqual(rungs[4].results.map(\.trial), [7])
        XCTAssertEqual(calls.count, 12 + 6 + 3 + 2 + 1)
        XCTAssertEqual(grid[7], TrialConfig(learningRate: 0.01, batchSize: 256, optimizer: .adamw))
        let ranking = SuccessiveHalving.ranking(rungs)
        XCTAssertEqual(ranking.map(\.trial).prefix(4), [7, 2, 9, 4])
        XCTAssertEqual(ranking.count, 12)
        XCTAssertEqual(ranking[0].totalWallSeconds, 1.1 + 2.1 + 4.1 + 8.1 + 16.1, accuracy: 1e-9, "every run of trial 7")
    }

    func testReachingTheTargetSoonerBeatsAccuracyAndIsNotRunAgain() {
        let search = SuccessiveHalving(trials: Array(grid.prefix(4)), budgetSeconds: 12)
        var calls = 0
        let rungs = search.run(objective: { i, _, budget, _ in
            calls += 1
            // Trial 3 reaches the target at 0.4 s; trial 1 at 0.7 s; the others never.
            let ttt: Double? = i == 3 ? 0.4 : (i == 1 ? 0.7 : nil)
            return TrialOutcome(testAccuracy: i == 0 ? 0.99 : 0.9, trainingSeconds: budget, wallSeconds: budget, steps: 1, timeToTarget: ttt)
        })
        XCTAssertEqual(rungs[0].results.map(\.trial), [3, 1, 0, 2])
        XCTAssertEqual(rungs[1].results.map(\.trial), [3, 1])
        XCTAssertEqual(calls, 4, "trials that reached the target are not trained again")
        XCTAssertEqual(SuccessiveHalving.ranking(rungs).map(\.trial), [3, 1, 0, 2])
        XCTAssertEqual(rungs[1].carried, [3, 1])
        XCTAssertEqual(SuccessiveHalving.ranking(rungs)[0].totalWallSeconds, 1, accuracy: 1e-9, "its one run (12 s over 3 rungs × 4 trials)")
    }
}
