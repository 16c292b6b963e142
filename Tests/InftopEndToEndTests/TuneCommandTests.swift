import Foundation
import XCTest

/// `inftop tune` end to end: a small grid, a short budget, the rung lines and the ranking.
final class TuneCommandTests: XCTestCase {
    func testASmallSearchPrintsEachRungAndTheRanking() throws {
        guard let bin = inftopBinary() else { throw XCTSkip("no release binary (scripts/test.sh builds it first)") }
        let (status, out, err) = try runProcess(bin, ["tune", "--model", "mlp", "--lr", "0.05,0.1", "--batch", "64", "--optimizer", "sgd,adamw",
                                                      "--budget", "4s", "--test-limit", "500", "--json"])
        XCTAssertEqual(status, 0, err)
        let lines = out.split(separator: "\n").map { try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any] }
        XCTAssertEqual(lines.count, 4, "rungs 4 → 2 → 1, then the ranking: \(out)")
        let rungs = lines.prefix(3).compactMap { $0 }
        XCTAssertEqual(rungs.map { $0["rung"] as? Int }, [0, 1, 2])
        XCTAssertEqual(rungs.map { ($0["trials"] as? [Any])?.count }, [4, 2, 1])
        XCTAssertEqual(rungs.map { $0["kept"] as? Int }, [2, 1, 0])
        XCTAssertEqual(try XCTUnwrap(rungs[0]["budget_seconds"] as? Double), 4.0 / 12, accuracy: 1e-3)
        // Each trial is a real run: steps taken, accuracy above chance, training time about its budget.
        for t in try XCTUnwrap(rungs[0]["trials"] as? [[String: Any]]) {
            XCTAssertGreaterThan(try XCTUnwrap(t["steps"] as? Int), 0)
            XCTAssertGreaterThan(try XCTUnwrap(t["training_seconds"] as? Double), 0.3)
        }
        let ranking = try XCTUnwrap(try XCTUnwrap(lines[3])["ranking"] as? [[String: Any]])
        XCTAssertEqual(ranking.count, 4)
        XCTAssertEqual(ranking.map { $0["place"] as? Int }, [1, 2, 3, 4])
        XCTAssertEqual(ranking[0]["last_rung"] as? Int, 2)
        // The winner of the last rung is the first place.
        let last = try XCTUnwrap((rungs[2]["trials"] as? [[String: Any]])?.first)
        XCTAssertEqual(ranking[0]["lr"] as? Double, last["lr"] as? Double)
        XCTAssertEqual(ranking[0]["optimizer"] as? String, last["optimizer"] as? String)
    }

    func testBadValuesGetOneLineAndStatus2() throws {
        guard let bin = inftopBinary() else { throw XCTSkip("no release binary (scripts/test.sh builds it first)") }
        for (args, start) in [(["tune", "--optimizer", "sgd,adam"], "inftop tune: --optimizer adam: unknown; known: sgd, adamw"),
                              (["tune", "--lr", "0.1,-0.5"], "inftop tune: --lr -0.5: must be a finite number > 0"),
                              (["tune", "--budget", "soon"], "inftop tune: --budget soon: must be a time > 0"),
                              (["train", "--schedule", "linear"], "inftop train: --schedule linear: unknown; known: constant, step, cosine, one-cycle"),
                              (["train", "--lr", "-0.1"], "inftop train: --lr -0.1: must be a finite number > 0"),
                              (["--schedule", "warm"], "inftop: --schedule warm: unknown"),
                              (["--optimizer", "lion"], "inftop: --optimizer lion: unknown")] {
            let (status, out, err) = try runProcess(bin, args)
            XCTAssertEqual(status, 2, "\(args)")
            XCTAssertEqual(out, "", "\(args)")
            XCTAssertEqual(err.split(separator: "\n").count, 1, "\(args): \(err)")
            XCTAssertTrue(err.hasPrefix(start), "\(args): \(err)")
        }
    }

    /// `inftop --tune SPEC`: the search runs beside the dashboard and its leaderboard takes the
    /// Layers panel's place — rows for every trial, one running, then the finished ranking — while
    /// the dashboard's own training is paused (said once on stderr). A bad spec is one line.
    func testTheDashboardShowsTheRunningSearchAsALeaderboard() throws {
        let bin = try inftopWithFashionMNIST()
        let (status, out, err) = try runProcess(bin, ["--tune", "lr=0.05,0.1;batch=64;optimizer=sgd;budget=3s", "-n", "60", "--interval", "200"])
        XCTAssertEqual(status, 0, err)
        XCTAssertEqual(err.components(separatedBy: "--tune: the dashboard's own training is paused").count - 1, 1, err)
        let frames = out.components(separatedBy: "\u{0C}\n").filter { !$0.isEmpty }
        XCTAssertEqual(frames.count, 60)
        let running = try XCTUnwrap(frames.first { $0.contains("▶ run") }, "a frame shows a trial training")
        XCTAssertTrue(running.contains("tune mlp · rung 1/2") && running.contains("sgd lr 0.1 batch 64"), running)
        XCTAssertFalse(running.contains("fwd ms"), "the leaderboard, not the layer table")
        let last = try XCTUnwrap(frames.last)
        XCTAssertTrue(last.contains("tune mlp · done"), "the search ended within 12 s:\n\(last)")
        XCTAssertTrue(last.contains("▲ kept") && last.contains("✗ cut"), "the winner kept, the other cut:\n\(last)")
        XCTAssertTrue(last.contains("train PAUSED step 0"), "the dashboard's own training stayed paused:\n\(last)")

        let (bad, _, badErr) = try runProcess(bin, ["--tune", "lr=0.1;speed=fast"])
        XCTAssertEqual(bad, 2)
        XCTAssertTrue(badErr.hasPrefix("inftop: --tune speed=fast: give key=value with a key of lr, batch, optimizer, budget, target"), badErr)
        XCTAssertEqual(badErr.split(separator: "\n").count, 1, badErr)
    }
}
