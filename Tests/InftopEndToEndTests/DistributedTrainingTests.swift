import Foundation
import XCTest

/// Data-parallel training over MPI (`mpirun -np 2 inftop train --distributed`) against one
/// process on the same global batch.
final class DistributedTrainingTests: XCTestCase {
    /// mpirun as root needs Open MPI's two confirmations; --oversubscribe lets two ranks start
    /// wherever fewer slots are configured.
    static let mpiEnvironment = ["OMPI_ALLOW_RUN_AS_ROOT": "1", "OMPI_ALLOW_RUN_AS_ROOT_CONFIRM": "1"]

    static func mpirun() throws -> String {
        for dir in (ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin").split(separator: ":") {
            let p = "\(dir)/mpirun"
            if FileManager.default.isExecutableFile(atPath: p) { return p }
        }
        throw XCTSkip("mpirun not found: Open MPI is not installed (scripts/setup.sh installs openmpi-bin and libopenmpi-dev)")
    }

    /// One step at global batch 64 on 2 ranks (32 samples each, gradients averaged by
    /// MPI_Allreduce) gives the weights one process gets from the whole batch, within float
    /// rounding (the two sums add the same 64 terms in another order): |Δw| ≤ 1e-6. After 50
    /// steps the loss agrees within 1e-4 relative.
    func testTwoRanksAverageToTheSingleProcessStep() throws {
        guard let bin = inftopBinary() else { throw XCTSkip("no release binary (scripts/test.sh builds it first)") }
        let mpi = try Self.mpirun()
        let dir = NSTemporaryDirectory() + "inftop-mpi-\(getpid())"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let common = ["train", "--model", "mlp", "--batch", "64", "--test-limit", "500", "--json"]

        let (s1, _, e1) = try runProcess(mpi, ["--oversubscribe", "-np", "2", bin] + common + ["--distributed", "--max-steps", "1", "--checkpoint", dir + "/two.safetensors"],
                                         environment: Self.mpiEnvironment)
        XCTAssertEqual(s1, 0, e1)
        let (s2, _, e2) = try runProcess(bin, common + ["--max-steps", "1", "--checkpoint", dir + "/one.safetensors"])
        XCTAssertEqual(s2, 0, e2)
        let two = try readSafeTensors(dir + "/two.safetensors"), one = try readSafeTensors(dir + "/one.safetensors")
        XCTAssertEqual(Set(two.keys), Set(one.keys))
        XCTAssertEqual(two.count, 6)
        var worst: Float = 0
        for (name, a) in one {
            let b = try XCTUnwrap(two[name])
            XCTAssertEqual(a.count, b.count, name)
            for i in 0..<a.count { worst = max(worst, abs(a[i] - b[i])) }
        }
        XCTAssertLessThanOrEqual(worst, 1e-6, "largest weight difference after one step")
        // The step moved the weights (the check would pass on an untrained pair too otherwise).
        let (_, _, _) = try runProcess(bin, common + ["--max-steps", "1", "--lr", "0.000001", "--checkpoint", dir + "/tiny.safetensors"])
        let tiny = try readSafeTensors(dir + "/tiny.safetensors")
        XCTAssertGreaterThan(zip(tiny["fc3.weight"]!, one["fc3.weight"]!).map { abs($0 - $1) }.max()!, 1e-4)

        // 50 steps: the same loss, and every rank's weights checked equal on the way (step 50).
        let (s3, out3, e3) = try runProcess(mpi, ["--oversubscribe", "-np", "2", bin] + common + ["--distributed", "--max-steps", "50"],
                                            environment: Self.mpiEnvironment)
        XCTAssertEqual(s3, 0, e3)
        let (s4, out4, e4) = try runProcess(bin, common + ["--max-steps", "50"])
        XCTAssertEqual(s4, 0, e4)
        let l2 = try lastLoss(out3), l1 = try lastLoss(out4)
        XCTAssertEqual(l2, l1, accuracy: 1e-4 * abs(l1), "loss after 50 steps, 2 ranks vs 1 process")
        XCTAssertTrue(out3.contains("\"ranks\":2"), out3)
        XCTAssertEqual(out3.split(separator: "\n").count, 2, "only rank 0 prints: one epoch line and the table")
    }

    func testDistributedWithoutMpirunSaysHowToLaunchIt() throws {
        guard let bin = inftopBinary() else { throw XCTSkip("no release binary (scripts/test.sh builds it first)") }
        let (status, out, err) = try runProcess(bin, ["train", "--distributed"])
        XCTAssertEqual(status, 2)
        XCTAssertEqual(out, "")
        XCTAssertEqual(err.split(separator: "\n").count, 1, err)
        XCTAssertTrue(err.hasPrefix("inftop train: --distributed: not started by mpirun; launch it as `mpirun -np 2 inftop train --distributed"), err)
    }

    /// A rank killed mid-run: mpirun ends the other and says which rank died; nothing hangs.
    func testADeadRankEndsTheRunWithAClearLine() throws {
        guard let bin = inftopBinary() else { throw XCTSkip("no release binary (scripts/test.sh builds it first)") }
        let mpi = try Self.mpirun()
        // Rank 1 is killed 2 s in (by a shell wrapper that execs inftop, so the pid is the rank's).
        let script = NSTemporaryDirectory() + "inftop-mpi-die-\(getpid()).sh"
        try """
        #!/bin/sh
        if [ "$OMPI_COMM_WORLD_RANK" = 1 ]; then ( sleep 2; kill -9 $$ ) & fi
        exec "$@"
        """.write(toFile: script, atomically: true, encoding: .utf8)
        chmod(script, 0o755)
        defer { unlink(script) }
        let start = Date()
        // exec keeps the pid, so the background kill hits the inftop rank itself.
        let (status, _, err) = try runProcess(mpi, ["--oversubscribe", "-np", "2", script, bin, "train", "--distributed", "--model", "mlp",
                                                    "--epochs", "50", "--json"], environment: Self.mpiEnvironment)
        XCTAssertNotEqual(status, 0)
        XCTAssertLessThan(Date().timeIntervalSince(start), 60, "ended, no hang")
        XCTAssertTrue(err.contains("rank 1") && (err.contains("signal 9") || err.contains("Killed")), err)
    }

    func lastLoss(_ out: String) throws -> Double {
        let line = try XCTUnwrap(out.split(separator: "\n").last)
        let obj = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])
        return try XCTUnwrap(obj["last_loss"] as? Double)
    }

    /// Name → fp32 values of a safetensors file.
    func readSafeTensors(_ path: String) throws -> [String: [Float]] {
        let bytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: path)))
        var n = 0
        for i in 0..<8 { n |= Int(bytes[i]) << (8 * i) }
        let header = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(bytes[8..<(8 + n)])) as? [String: Any])
        var out: [String: [Float]] = [:]
        for (name, entry) in header where name != "__metadata__" {
            let e = try XCTUnwrap(entry as? [String: Any]), off = try XCTUnwrap(e["data_offsets"] as? [Int])
            let start = 8 + n + off[0], count = (off[1] - off[0]) / 4
            out[name] = (0..<count).map { i in
                var bits: UInt32 = 0
                for k in 0..<4 { bits |= UInt32(bytes[start + 4 * i + k]) << (8 * k) }
                return Float(bitPattern: bits)
            }
        }
        return out
    }
}
