import Foundation
import XCTest

/// `inftop train --checkpoint` ended by SIGTERM, SIGINT or SIGHUP: it stops at the next step
/// boundary (a checkpoint being written is finished and renamed first), says so in one line,
/// exits with 128 + the signal, and leaves a checkpoint that loads and no temporary file.
final class TrainSignalTests: XCTestCase {
    func testQuitSignalsStopTrainingCleanlyAndKeepTheCheckpoint() throws {
        guard let bin = inftopBinary() else { throw XCTSkip("no release binary (scripts/test.sh builds it first)") }
        guard FileManager.default.fileExists(atPath: "/usr/share/datasets/fashion-mnist") else {
            throw XCTSkip("no Fashion-MNIST (scripts/setup.sh installs it)")
        }
        for (sig, number) in [("TERM", 15), ("INT", 2), ("HUP", 1)] {
            let dir = NSTemporaryDirectory() + "inftop-signal-\(getpid())-\(sig)"
            try? FileManager.default.removeItem(atPath: dir)
            try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
            defer { try? FileManager.default.removeItem(atPath: dir) }
            let ckpt = dir + "/mlp.safetensors"
            // The signal goes in as soon as the first epoch's checkpoint exists: training is then
            // in its next epochs, writing a checkpoint after each (2 000 images an epoch).
            let script = """
                "$0" train --model mlp --epochs 1000 --train-limit 2000 --test-limit 200 --checkpoint "$1" --json >"$2/out" 2>"$2/err" &
                p=$!; i=0
                while [ ! -s "$1" ] && [ $i -lt 1200 ]; do sleep 0.05; i=$((i+1)); done
                kill -$3 $p; wait $p; echo $?
                """
            let (_, status, _) = try runProcess("/bin/sh", ["-c", script, bin, ckpt, dir, sig])
            let err = (try? String(contentsOfFile: dir + "/err", encoding: .utf8)) ?? ""
            let out = (try? String(contentsOfFile: dir + "/out", encoding: .utf8)) ?? ""
            XCTAssertEqual(status.trimmingCharacters(in: .whitespacesAndNewlines), "\(128 + number)", "SIG\(sig): \(err)")
            let lines = err.split(separator: "\n")
            XCTAssertEqual(lines.count, 1, "SIG\(sig): one line on stderr: \(err)")
            XCTAssertTrue(err.hasPrefix("inftop train: stopped by SIG\(sig) after "), err)
            XCTAssertTrue(err.contains("; checkpoint \(ckpt) holds the last finished epoch"), err)
            XCTAssertTrue(out.contains("\"epoch\""), "at least one epoch line before the signal: \(out)")
            let left = try FileManager.default.contentsOfDirectory(atPath: dir).filter { $0.contains(".tmp") }
            XCTAssertEqual(left, [], "SIG\(sig): no temporary file left behind")
            let (loads, _, loadErr) = try runProcess(bin, ["bench", "--model", "mlp", "--weights", ckpt, "--batch", "1", "--json"])
            XCTAssertEqual(loads, 0, "SIG\(sig): the checkpoint loads: \(loadErr)")
        }
    }
}
