import Foundation
import XCTest

/// `inftop train --distill` as a user runs it: both students per epoch, both models' facts at
/// the end, and one line with status 2 for each bad input.
final class DistillCommandTests: XCTestCase {
    private let quick = ["--epochs", "1", "--train-limit", "600", "--test-limit", "200"]

    /// A small mlp teacher checkpoint (one epoch on 600 images).
    private func teacher(_ bin: String) throws -> String {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("inftop-distill-teacher-\(getpid()).ckpt").path
        let (status, _, err) = try runProcess(bin, ["train", "--model", "mlp", "--checkpoint", path, "--no-telemetry"] + quick)
        XCTAssertEqual(status, 0, err)
        return path
    }

    func testDistillPrintsBothStudentsAndBothModels() throws {
        guard let bin = inftopBinary() else { throw XCTSkip("no release binary (scripts/test.sh builds it first)") }
        let ckpt = try teacher(bin)
        defer { try? FileManager.default.removeItem(atPath: ckpt) }
        let (status, out, err) = try runProcess(bin, ["train", "--distill", "--teacher", ckpt, "--student", "mlp-small", "--seed", "1", "--json"] + quick)
        XCTAssertEqual(status, 0, err)
        let lines = try out.split(separator: "\n").map { try XCTUnwrap(JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any]) }
        XCTAssertEqual(lines.count, 2, out)
        XCTAssertEqual(lines[0]["epoch"] as? Int, 1)
        XCTAssertNotNil(lines[0]["distilled_test_accuracy"] as? Double)
        XCTAssertNotNil(lines[0]["control_test_accuracy"] as? Double)
        let end = lines[1]
        let t = try XCTUnwrap(end["teacher"] as? [String: Any]), s = try XCTUnwrap(end["student"] as? [String: Any])
        XCTAssertEqual(t["parameters"] as? Int, 235_146)
        XCTAssertEqual(s["parameters"] as? Int, 50_890)
        XCTAssertEqual(s["batch"] as? Int, 64)
        XCTAssertGreaterThan(try XCTUnwrap(t["p50_ms"] as? Double), 0)
        XCTAssertGreaterThan(try XCTUnwrap(s["p50_ms"] as? Double), 0)
        XCTAssertEqual(end["temperature"] as? Double, 4)
        XCTAssertEqual(end["alpha"] as? Double, 0.9)
        XCTAssertEqual(end["distilled_test_accuracy"] as? Double, lines[0]["distilled_test_accuracy"] as? Double)
    }

    func testBadDistillInputsGetOneLineAndStatus2() throws {
        guard let bin = inftopBinary() else { throw XCTSkip("no release binary (scripts/test.sh builds it first)") }
        let ckpt = try teacher(bin)
        let corrupt = ckpt + ".corrupt"
        try Data("{\"not\": \"safetensors\"}".utf8).write(to: URL(fileURLWithPath: corrupt))
        defer { for p in [ckpt, corrupt] { try? FileManager.default.removeItem(atPath: p) } }
        let cases: [([String], String)] = [
            (["--teacher", ckpt, "--alpha", "1.5"], "inftop train: --alpha 1.5: must be a number in [0, 1]"),
            (["--teacher", ckpt, "--alpha", "-0.1"], "inftop train: --alpha -0.1: must be a number in [0, 1]"),
            (["--teacher", ckpt, "--temperature", "0"], "inftop train: --temperature 0: must be a finite number > 0"),
            (["--teacher", ckpt, "--student", "resnet"], "inftop train: --student resnet: unknown; students: mlp-small, cnn-small"),
            (["--teacher", ckpt, "--student", "cnn"], "inftop train: --student cnn: has 454922 parameters, not fewer than teacher 'mlp' (235146)"),
            (["--teacher", ckpt, "--model", "cnn"], "inftop train: --teacher \(ckpt): a checkpoint of model 'mlp', not 'cnn'"),
            (["--teacher", corrupt], "inftop train: --teacher \(corrupt):"),
            ([], "inftop train: --distill needs --teacher CKPT"),
        ]
        for (extra, start) in cases {
            let args = ["train", "--distill"] + extra + quick
            let (status, out, err) = try runProcess(bin, args)
            XCTAssertEqual(status, 2, "\(args): status")
            XCTAssertEqual(out, "", "\(args): stdout")
            XCTAssertEqual(err.split(separator: "\n").count, 1, "\(args): stderr is \(err.debugDescription)")
            XCTAssertTrue(err.hasPrefix(start), "\(args): stderr is \(err.debugDescription)")
        }
    }
}
