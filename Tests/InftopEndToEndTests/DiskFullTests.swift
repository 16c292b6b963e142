import Foundation
import XCTest

/// The disk fills while inftop writes: a checkpoint that no longer fits, a record that grows
/// past the space left. One line names the file and what went wrong, and nothing already
/// written is lost: the last checkpoint still loads, the record's complete lines replay.
///
/// The small disk is a 1.5 MiB tmpfs where this process may mount one (root in a container
/// that allows it: write fails with ENOSPC), else a file size limit (`ulimit -f`: EFBIG, the
/// same failed write(2); inftop ignores SIGXFSZ so that it gets the error, not a core dump).
final class DiskFullTests: XCTestCase {
    struct SmallDisk {
        let dir: String
        let mounted: Bool
        /// Beside the small disk, for inftop's stdout and stderr (they must not fill it too).
        let logs: String
        /// The errno text the failed write gives.
        var reason: String { mounted ? "No space left on device" : "File too large" }
    }

    func withSmallDisk(_ name: String, _ body: (SmallDisk) throws -> Void) throws {
        let dir = NSTemporaryDirectory() + "inftop-diskfull-\(getpid())-\(name)", logs = dir + "-logs"
        for d in [dir, logs] {
            try? FileManager.default.removeItem(atPath: d)
            try FileManager.default.createDirectory(atPath: d, withIntermediateDirectories: true)
        }
        // INFTOP_TEST_NO_MOUNT=1 tries the size-limit path where a mount would work.
        let noMount = ProcessInfo.processInfo.environment["INFTOP_TEST_NO_MOUNT"] == "1"
        let (rc, _, _) = noMount ? (1, "", "")
            : try runProcess("/bin/sh", ["-c", "mount -t tmpfs -o size=1500k inftop-test \"$0\" 2>/dev/null", dir])
        defer {
            if rc == 0 { _ = try? runProcess("/bin/sh", ["-c", "umount \"$0\"", dir]) }
            try? FileManager.default.removeItem(atPath: dir)
            try? FileManager.default.removeItem(atPath: logs)
        }
        try body(SmallDisk(dir: dir, mounted: rc == 0, logs: logs))
    }

    /// The MLP's checkpoint is 0.94 MB. On the 1.5 MiB tmpfs epoch 1's fits and epoch 2's
    /// temporary does not: training stops with one line naming the file and saying it still
    /// holds epoch 1. Under a file size limit (per file, not per disk) a first run writes the
    /// checkpoint and a second one, limited to 900 KiB, cannot: the file is as it was. It loads.
    func testCheckpointThatNoLongerFitsLeavesTheLastOneWhole() throws {
        let bin = try inftopWithFashionMNIST()
        try withSmallDisk("ckpt") { disk in
            let ckpt = disk.dir + "/mlp.safetensors"
            let train = " \"$0\" train --model mlp --train-limit 2000 --test-limit 200 --checkpoint \"$1\" >\"$2/out\" 2>\"$2/err\"; echo $?"
            if !disk.mounted {
                let (_, first, _) = try runProcess("/bin/bash", ["-c", train.replacingOccurrences(of: "train ", with: "train --epochs 1 "), bin, ckpt, disk.logs])
                XCTAssertEqual(first.trimmingCharacters(in: .whitespacesAndNewlines), "0", "the first run writes a checkpoint")
            }
            let (_, out, _) = try runProcess("/bin/bash", ["-c", (disk.mounted ? "" : "ulimit -f 900;") + train.replacingOccurrences(of: "train ", with: "train --epochs 3 "), bin, ckpt, disk.logs])
            let err = (try? String(contentsOfFile: disk.logs + "/err", encoding: .utf8)) ?? ""
            XCTAssertEqual(out.trimmingCharacters(in: .whitespacesAndNewlines), "1", "status: \(err)")
            XCTAssertEqual(err.split(separator: "\n").count, 1, "one line: \(err)")
            XCTAssertTrue(err.hasPrefix("inftop train: \(ckpt): write failed: \(disk.reason)"), err)
            XCTAssertTrue(err.hasSuffix(disk.mounted ? "; \(ckpt) still holds epoch 1\n" : "; \(ckpt) is as it was\n"), err)
            let left = try FileManager.default.contentsOfDirectory(atPath: disk.dir).filter { $0.contains(".tmp") }
            XCTAssertEqual(left, [], "the temporary is removed")
            let (loads, meta, loadErr) = try runProcess(bin, ["bench", "--model", "mlp", "--weights", ckpt, "--batch", "1", "--json"])
            XCTAssertEqual(loads, 0, "the checkpoint of epoch 1 loads: \(loadErr) \(meta)")
        }
    }

    /// A record outgrowing the disk: the run goes on, the exit notes say where recording stopped
    /// and how many ticks were kept, and `inftop replay --check` reads those ticks back.
    func testRecordThatOutgrowsTheDiskKeepsEveryFinishedLine() throws {
        let bin = try inftopWithFashionMNIST()
        try withSmallDisk("record") { disk in
            // Fill the disk to within 48 KiB, then record: a few ticks fit, the rest do not.
            let record = disk.dir + "/run.jsonl"
            let fill = disk.mounted ? "head -c $((1500*1024 - 48*1024)) /dev/zero > \"$1.fill\" 2>/dev/null;" : "ulimit -f 48;"
            let (_, out, _) = try runProcess("/bin/bash", ["-c", fill + " \"$0\" -n 60 --interval 20 --record \"$1\" >/dev/null 2>\"$2/err\"; echo $?", bin, record, disk.logs])
            let err = (try? String(contentsOfFile: disk.logs + "/err", encoding: .utf8)) ?? ""
            XCTAssertEqual(out.trimmingCharacters(in: .whitespacesAndNewlines), "0", "the dashboard run goes on: \(err)")
            let lines = err.split(separator: "\n").filter { $0.contains("record") }
            XCTAssertEqual(lines.count, 1, "one line about the record: \(err)")
            let line = String(lines.first ?? "")
            XCTAssertTrue(line.hasPrefix("inftop: record: \(record): \(disk.reason); recording stopped after "), line)
            let kept = firstInt("recording stopped after (\\d+) ticks", in: line) ?? -1
            XCTAssertGreaterThan(kept, 0, "some ticks fitted: \(line)")
            XCTAssertLessThan(kept, 60, "the disk filled before the run ended: \(line)")
            let (status, check, checkErr) = try runProcess(bin, ["replay", record, "--check"])
            XCTAssertEqual(status, 0, checkErr)
            XCTAssertTrue(check.contains("\(kept) ticks"), "replay reads back the \(kept) kept ticks: \(check)")
        }
    }
}
