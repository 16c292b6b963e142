import XCTest
import InftopWorkloads

/// Each schedule's rate at given steps of a 1000-step run, base 0.1.
final class LRScheduleTests: XCTestCase {
    func lr(_ s: LRSchedule, _ step: Int) -> Double { Double(s.learningRate(base: 0.1, step: step, totalSteps: 1000)) }

    func testConstant() {
        for step in [0, 1, 499, 999, 1000] { XCTAssertEqual(lr(.constant, step), 0.1, accuracy: 1e-7) }
    }

    func testStepDropsTenfoldAtHalfAndThreeQuarters() {
        XCTAssertEqual(lr(.step, 0), 0.1, accuracy: 1e-7)
        XCTAssertEqual(lr(.step, 499), 0.1, accuracy: 1e-7)
        XCTAssertEqual(lr(.step, 500), 0.01, accuracy: 1e-8)
        XCTAssertEqual(lr(.step, 749), 0.01, accuracy: 1e-8)
        XCTAssertEqual(lr(.step, 750), 0.001, accuracy: 1e-9)
        XCTAssertEqual(lr(.step, 1000), 0.001, accuracy: 1e-9)
    }

    func testCosineFromBaseToZero() {
        XCTAssertEqual(lr(.cosine, 0), 0.1, accuracy: 1e-7)
        XCTAssertEqual(lr(.cosine, 250), 0.1 * (1 + 0.5.squareRoot()) / 2, accuracy: 1e-7)
        XCTAssertEqual(lr(.cosine, 500), 0.05, accuracy: 1e-7)
        XCTAssertEqual(lr(.cosine, 750), 0.1 * (1 - 0.5.squareRoot()) / 2, accuracy: 1e-7)
        XCTAssertEqual(lr(.cosine, 1000), 0, accuracy: 1e-9)
    }

    func testOneCycleWarmsUpToThePeakAtThirtyPercentThenAnneals() {
        XCTAssertEqual(lr(.oneCycle, 0), 0.1 / 25, accuracy: 1e-7)
        XCTAssertEqual(lr(.oneCycle, 150), (0.1 / 25 + 0.1) / 2, accuracy: 1e-7, "half way up (cosine)")
        XCTAssertEqual(lr(.oneCycle, 300), 0.1, accuracy: 1e-7)
        XCTAssertEqual(lr(.oneCycle, 650), (0.1 + 0.1 / 25e4) / 2, accuracy: 1e-7, "half way down")
        XCTAssertEqual(lr(.oneCycle, 1000), 0.1 / 25e4, accuracy: 1e-9)
        XCTAssertLessThan(lr(.oneCycle, 299), lr(.oneCycle, 300))
        XCTAssertLessThan(lr(.oneCycle, 301), lr(.oneCycle, 300))
    }

    func testParseNamesTheFlagAndTheKnownSchedules() {
        XCTAssertEqual(try LRSchedule.parse("one-cycle"), .oneCycle)
        XCTAssertThrowsError(try LRSchedule.parse("linear")) { e in
            XCTAssertEqual("\(e)", "--schedule linear: unknown; known: constant, step, cosine, one-cycle")
        }
    }
}
