import InftopTelemetry
import InftopTUI
import XCTest

/// `inftop --tune`'s leaderboard in the Layers panel's place, from a fixed search state: rung 2
/// of 3 running, one trial training, one ran this rung, one kept from rung 1, two cut there.
extension ScreenSnapshotTests {
    static let tuning = TuningSnapshot(
        model: "mlp",
        rows: [
            .init(label: "sgd lr 0.1 batch 64", state: .ran, rung: 1, testAccuracy: 0.8412, timeToTarget: nil, seconds: 3.9),
            .init(label: "adamw lr 0.01 batch 64", state: .running, rung: 0, testAccuracy: 0.8023, timeToTarget: nil, seconds: 1.3),
            .init(label: "sgd lr 0.05 batch 256", state: .kept, rung: 0, testAccuracy: 0.7911, timeToTarget: nil, seconds: 1.2),
            .init(label: "sgd lr 0.01 batch 256", state: .cut, rung: 0, testAccuracy: 0.6603, timeToTarget: nil, seconds: 1.2),
            .init(label: "adamw lr 0.1 batch 256", state: .cut, rung: 0, testAccuracy: 0.1, timeToTarget: nil, seconds: 1.4),
        ],
        rung: 1, rungCount: 3, rungBudgetSeconds: 2.5, budgetSeconds: 30, elapsedSeconds: 12.4, target: nil, finished: false)

    func testTuningLeaderboardTakesTheLayersPlace120x40() {
        var snap = Fixtures.snapshot
        snap.tuning = Self.tuning
        let r = render(width: 120, height: 40, snapshot: snap)
        assertSnapshot(r.text, named: "screen-tuning-120x40")
        for piece in ["tune mlp · rung 2/3", "rung 2/3 · 2.5 s each · wall 0:12", "1 sgd lr 0.1 batch 64", "✓ ran",
                      "2 adamw lr 0.01 batch 64 ▶ run", "▲ kept", "✗ cut", "84.1%", "3.9 s"] {
            XCTAssertTrue(r.text.contains(piece), "the leaderboard lacks '\(piece)'")
        }
        XCTAssertFalse(r.text.contains("fwd ms"), "no layer table while the search is shown")
        // Finished with a target: the note says done and a time-to-target column appears.
        var done = Self.tuning
        done.finished = true; done.target = 0.8
        done.rows[0].timeToTarget = 1.5
        snap.tuning = done
        let d = render(width: 120, height: 40, snapshot: snap).text
        for piece in ["tune mlp · done", "to tgt", "1.5 s", "target 80.0%"] { XCTAssertTrue(d.contains(piece), "the finished leaderboard lacks '\(piece)'") }
        // A search that failed says why, in one line over the table.
        done.error = "--lr 5: training diverged (loss is NaN)"
        snap.tuning = done
        XCTAssertTrue(render(width: 120, height: 40, snapshot: snap).text.contains("training diverged (loss is NaN)"))
    }
}
