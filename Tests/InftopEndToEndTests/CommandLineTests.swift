import Foundation
import XCTest

/// The release binary on bad command lines: one line on stderr that names the command and what
/// is wrong, exit status 2, nothing on stdout.
final class CommandLineTests: XCTestCase {
    func testBadCommandLinesGetOneLineAndStatus2() throws {
        guard let bin = inftopBinary() else { throw XCTSkip("no release binary (scripts/test.sh builds it first)") }
        let cases: [([String], String)] = [
            (["bench", "--bogus"], "inftop bench: Unknown option '--bogus'"),
            (["train", "--epochs"], "inftop train: Missing value for '--epochs <epochs>'"),
            (["train", "--batch", "lots"], "inftop train:"),
            (["train", "--batch", "0"], "inftop train: --batch 0: must be 1…1024"),
            (["bench", "--gemm", "0x5x5"], "inftop bench: --gemm: '0x5x5': '0' is not a size"),
            (["embed", "--model", "/nonexistent"], "inftop embed: /nonexistent: not found"),
            (["--batch", "0"], "inftop: --batch 0: must be"),
            (["--serve", "/nonexistent"], "inftop: --serve /nonexistent: /nonexistent: not found"),
            (["bench", "--model", "mlp", "--scenario", "server", "--rate", "-5"], "inftop bench: --rate: '-5' is not a number in (0, 1,000,000]"),
            (["bench", "--model", "mlp", "--scenario", "server", "--p99", "0"], "inftop bench: --p99: '0' is not a number in (0, 1,000,000]"),
            (["bench", "--model", "mlp", "--scenario", "server", "--duration", "0"], "inftop bench: --duration: '0' is not a number in (0, 86,400]"),
            (["bench", "--model", "mlp", "--scenario", "burst"], "inftop bench: --scenario: unknown scenario 'burst' (known: single, server, offline)"),
            (["bench", "--model", "mlp", "--scenario", "offline", "--find-peak"], "inftop bench: --find-peak searches the Server scenario"),
            (["--serve", badModelFolder()], "inftop: --serve \(badModelFolder()): \(badModelFolder())/config.json"),
        ]
        for (args, start) in cases {
            let (status, out, err) = try runProcess(bin, args)
            XCTAssertEqual(status, 2, "\(args): status")
            XCTAssertEqual(out, "", "\(args): stdout")
            let lines = err.split(separator: "\n", omittingEmptySubsequences: true)
            XCTAssertEqual(lines.count, 1, "\(args): stderr is \(err.debugDescription)")
            XCTAssertTrue(err.hasPrefix(start), "\(args): stderr is \(err.debugDescription)")
        }
        // Help is still help: the usage text and status 0.
        let (status, out, _) = try runProcess(bin, ["bench", "--help"])
        XCTAssertEqual(status, 0)
        XCTAssertTrue(out.contains("USAGE: inftop bench"), out)
    }

    /// A `--theme` that cannot be used is said once on stderr (naming the theme or file and what
    /// is wrong), and the dashboard runs on with the default theme: never silently replaced.
    func testUnusableThemeIsSaidOnStderr() throws {
        guard let bin = inftopBinary() else { throw XCTSkip("no release binary (scripts/test.sh builds it first)") }
        guard FileManager.default.fileExists(atPath: "/usr/share/datasets/fashion-mnist") else { throw XCTSkip("no Fashion-MNIST") }
        let binary = NSTemporaryDirectory() + "inftop-binary-\(getpid()).theme"
        XCTAssertTrue(FileManager.default.createFile(atPath: binary, contents: Data([0xff, 0xfe, 0x00, 0x01])))
        defer { unlink(binary) }
        let cases: [(String, String)] = [
            ("no-such-theme", "inftop: --theme theme \"no-such-theme\" not found"),
            (binary, "inftop: --theme \(binary): not UTF-8 text; using the default theme"),
        ]
        for (theme, start) in cases {
            let (status, out, err) = try runProcess(bin, ["--theme", theme, "--snapshot-after", "0"])
            XCTAssertEqual(status, 0, err)
            XCTAssertTrue(out.contains("inftop"), "a snapshot is still printed")
            XCTAssertEqual(err.split(separator: "\n").count, 1, "stderr is \(err.debugDescription)")
            XCTAssertTrue(err.hasPrefix(start), "stderr is \(err.debugDescription)")
        }
    }

    /// `--isa avx512` where the CPU lacks it (INFTOP_HIDE_ISA=avx512 makes this machine an AVX2 one):
    /// one line naming the missing features, status 2, on every command; an unknown ISA likewise.
    func testMissingISAGetsOneLineNamingTheFeature() throws {
        guard let bin = inftopBinary() else { throw XCTSkip("no release binary (scripts/test.sh builds it first)") }
        let hidden = ["INFTOP_HIDE_ISA": "avx512"]
        let cases: [([String], String)] = [
            (["bench", "--gemm", "8x8x8", "--isa", "avx512"], "inftop bench: --isa avx512: this CPU lacks avx512f, avx512bw, avx512dq, avx512vl"),
            (["train", "--isa", "avx512"], "inftop train: --isa avx512: this CPU lacks avx512f"),
            (["embed", "--isa", "avx512", "hello"], "inftop embed: --isa avx512: this CPU lacks avx512f"),
            (["--isa", "avx512"], "inftop: --isa avx512: this CPU lacks avx512f"),
            (["train", "--isa", "avx1024"], "inftop train: --isa 'avx1024': unknown ISA; known: auto, avx2, avx512"),
        ]
        for (args, start) in cases {
            let (status, out, err) = try runProcess(bin, args, environment: hidden)
            XCTAssertEqual(status, 2, "\(args): status")
            XCTAssertEqual(out, "", "\(args): stdout")
            XCTAssertEqual(err.split(separator: "\n").count, 1, "\(args): stderr is \(err.debugDescription)")
            XCTAssertTrue(err.hasPrefix(start), "\(args): stderr is \(err.debugDescription)")
        }
        // `auto` on the same (AVX2-only) machine runs, and the JSON line names the tier it ran.
        let (status, out, err) = try runProcess(bin, ["bench", "--gemm", "16x16x16", "--backend", "simd", "--json"], environment: hidden)
        XCTAssertEqual(status, 0, err)
        XCTAssertTrue(out.contains("\"isa\":\"avx2\""), out)
        XCTAssertFalse(out.contains("avx512"), out)
    }

    /// `--isa avx2` on this machine trains exactly as the same binary does on an AVX2-only machine
    /// (INFTOP_HIDE_ISA=avx512 with `auto`): the same kernels, so the same numbers bit for bit; and
    /// the avx512 tier (where the CPU has it) agrees with them within rounding.
    func testForcedAVX2TrainsLikeAnAVX2Machine() throws {
        guard let bin = inftopBinary() else { throw XCTSkip("no release binary (scripts/test.sh builds it first)") }
        let args = ["train", "--model", "mlp", "--epochs", "1", "--train-limit", "1200", "--test-limit", "300",
                    "--backend", "simd", "--threads", "1", "--json"]
        func losses(_ extra: [String], _ env: [String: String] = [:]) throws -> (Double, Double, String) {
            let (status, out, err) = try runProcess(bin, args + extra, environment: env)
            XCTAssertEqual(status, 0, err)
            let first = try XCTUnwrap(out.split(separator: "\n").first)
            let line = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(first.utf8)) as? [String: Any])
            return (try XCTUnwrap(line["train_loss"] as? Double), try XCTUnwrap(line["test_loss"] as? Double),
                    try XCTUnwrap(line["isa"] as? String))
        }
        let forced = try losses(["--isa", "avx2"])
        let avx2Machine = try losses([], ["INFTOP_HIDE_ISA": "avx512"])
        XCTAssertEqual(forced.2, "avx2"); XCTAssertEqual(avx2Machine.2, "avx2")
        XCTAssertEqual(forced.0, avx2Machine.0, "train loss"); XCTAssertEqual(forced.1, avx2Machine.1, "test loss")
        let (_, cpuinfo, _) = try runProcess("/bin/cat", ["/proc/cpuinfo"])
        let hidden = (ProcessInfo.processInfo.environment["INFTOP_HIDE_ISA"] ?? "").contains("avx512")
        guard !hidden, cpuinfo.contains(" avx512f") && cpuinfo.contains(" avx512bw") && cpuinfo.contains(" avx512dq") && cpuinfo.contains(" avx512vl") else {
            throw XCTSkip("this CPU lacks AVX-512 (or INFTOP_HIDE_ISA hides it): the avx512 tier is not compared here")
        }
        let wide = try losses(["--isa", "avx512"])
        XCTAssertEqual(wide.2, "avx512")
        XCTAssertEqual(wide.0, forced.0, accuracy: 1e-4 * abs(forced.0)); XCTAssertEqual(wide.1, forced.1, accuracy: 1e-4 * abs(forced.1))
    }

    /// `--evals-per-epoch 3 --json`: the epoch's line lists its three evaluations, the last being
    /// the line's own test accuracy.
    func testTrainJSONListsTheEpochsEvaluations() throws {
        guard let bin = inftopBinary() else { throw XCTSkip("no release binary (scripts/test.sh builds it first)") }
        let args = ["train", "--model", "mlp", "--epochs", "1", "--evals-per-epoch", "3", "--train-limit", "600",
                    "--test-limit", "200", "--json"]
        let (status, out, err) = try runProcess(bin, args)
        XCTAssertEqual(status, 0, err)
        let first = try XCTUnwrap(out.split(separator: "\n").first)
        let line = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(first.utf8)) as? [String: Any])
        let evals = try XCTUnwrap(line["evaluations"] as? [[String: Any]])
        XCTAssertEqual(evals.count, 3)
        let fractions = evals.compactMap { $0["epoch_fraction"] as? Double }
        XCTAssertEqual(fractions.count, 3)
        XCTAssertEqual(fractions, fractions.sorted())
        XCTAssertEqual(fractions.last, 1)
        XCTAssertEqual(evals.last?["test_accuracy"] as? Double, line["test_accuracy"] as? Double)
    }

    /// A folder with config.json, model.safetensors and vocab.txt whose config.json is not JSON.
    private func badModelFolder() -> String {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("inftop-bad-model-\(getpid())").path
        try? FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        for (name, text) in [("config.json", "{not json"), ("model.safetensors", "garbage"), ("vocab.txt", "[PAD]\n")] {
            try? text.write(toFile: dir + "/" + name, atomically: true, encoding: .utf8)
        }
        return dir
    }
}
