import Foundation
import XCTest

/// One rank of `mpirun -np 2 inftop train --distributed` killed (SIGKILL: the OOM killer, a
/// node lost) while training: the job must end, not hang in a collective waiting for the dead
/// rank; mpirun's status is not 0, stderr names the rank that died, every rank is gone, and rank
/// 0's checkpoint is whole (written to a temporary and renamed, so never half of one).
final class KilledRankTests: XCTestCase {
    func testAKilledRankEndsTheJobAndLeavesTheCheckpointWhole() throws {
        let bin = try inftopWithFashionMNIST()
        let mpi = try DistributedTrainingTests.mpirun()
        let dir = try freshTestDirectory("killrank")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let ckpt = dir + "/mlp.safetensors"
        // Rank 1 is the inftop whose environment says OMPI_COMM_WORLD_RANK=1 and whose job is
        // this mpirun (its OMPI_MCA_orte_hnp_uri / PMIX server names differ per job; the
        // checkpoint path in its command line is unique to this test run).
        let script = """
            "$0" --oversubscribe -np 2 "$1" train --model mlp --distributed --epochs 1000 --train-limit 2000 --test-limit 200 --checkpoint "$2" --json >"$3/out" 2>"$3/err" &
            m=$!; i=0
            while [ ! -s "$2" ] && [ $i -lt 1200 ]; do sleep 0.05; i=$((i+1)); done
            victim=""
            for p in /proc/[0-9]*; do
                [ "$(cat $p/comm 2>/dev/null)" = inftop ] || continue
                tr '\\0' '\\n' < $p/cmdline 2>/dev/null | grep -qxF "$2" || continue
                tr '\\0' '\\n' < $p/environ 2>/dev/null | grep -qx OMPI_COMM_WORLD_RANK=1 && victim=${p#/proc/}
            done
            echo "victim=$victim"
            [ -n "$victim" ] && kill -KILL "$victim"
            ( sleep 90; echo fired > "$3/guard"; kill -KILL $m 2>/dev/null ) & guard=$!
            wait $m; echo "status=$?"
            kill $guard 2>/dev/null
            for p in /proc/[0-9]*; do
                [ "$(cat $p/comm 2>/dev/null)" = inftop ] || continue
                tr '\\0' '\\n' < $p/cmdline 2>/dev/null | grep -qxF "$2" && echo "left=${p#/proc/}"
            done
            true
            """
        let started = Date()
        let (_, out, _) = try runProcess("/bin/sh", ["-c", script, mpi, bin, ckpt, dir],
                                         environment: DistributedTrainingTests.mpiEnvironment)
        let seconds = Date().timeIntervalSince(started)
        let err = (try? String(contentsOfFile: dir + "/err", encoding: .utf8)) ?? ""
        let victim = firstInt("victim=(\\d+)", in: out)
        XCTAssertNotNil(victim, "rank 1 was found and killed: \(out)")
        let status = firstInt("status=(\\d+)", in: out) ?? -1
        XCTAssertNotEqual(status, 0, "mpirun says the job failed: \(out) \(err)")
        XCTAssertFalse(FileManager.default.fileExists(atPath: dir + "/guard"), "ended by the job itself, not by the test's 90 s guard: \(out) \(err)")
        XCTAssertLessThan(seconds, 90, "no hang waiting for the dead rank")
        XCTAssertFalse(out.contains("left="), "every rank is gone: \(out)")
        XCTAssertTrue(err.contains("rank 1") && err.contains("signal 9"), "stderr names the rank that died: \(err)")
        // mpirun ends rank 0 with SIGTERM (the default action under MPI): if that came while it
        // wrote a checkpoint, its temporary is left, named for a process now gone; the next
        // write of that checkpoint removes it (SafeTensorsWriterTests).
        for name in try FileManager.default.contentsOfDirectory(atPath: dir) where name.contains(".tmp-") {
            let pid = Int32(name.split(separator: "-").last.map(String.init) ?? "") ?? 0
            XCTAssertTrue(pid > 0 && kill(pid, 0) != 0, "a temporary only of a rank that is gone: \(name)")
        }
        let (loads, _, loadErr) = try runProcess(bin, ["bench", "--model", "mlp", "--weights", ckpt, "--batch", "1", "--json"])
        XCTAssertEqual(loads, 0, "rank 0's checkpoint loads: \(loadErr)")
    }
}
