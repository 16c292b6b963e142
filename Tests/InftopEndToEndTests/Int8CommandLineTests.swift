import Foundation
import XCTest

/// The int8 commands on bad input: `--precision int4`, `--weights` of another model, a corrupt
/// or missing checkpoint, `--model mlp` without weights — one line naming it, status 2; and an
/// int8 GEMM row in `bench --gemm --json`.
final class Int8CommandLineTests: XCTestCase {
    func testBadInt8InputGetsOneLineAndStatus2() throws {
        guard let bin = inftopBinary() else { throw XCTSkip("no release binary (scripts/test.sh builds it first)") }
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("inftop-int8-\(getpid())")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let mlp = dir.appendingPathComponent("mlp.safetensors").path
        let (st, _, terr) = try runProcess(bin, ["train", "--model", "mlp", "--epochs", "1", "--train-limit", "256",
                                                  "--test-limit", "100", "--checkpoint", mlp, "--json"])
        XCTAssertEqual(st, 0, terr)
        let bytes = try Data(contentsOf: URL(fileURLWithPath: mlp))
        let corrupt = dir.appendingPathComponent("corrupt.safetensors").path
        try bytes.prefix(2000).write(to: URL(fileURLWithPath: corrupt))
        let cases: [([String], String)] = [
            (["bench", "--model", "mlp", "--weights", mlp, "--precision", "int4"], "inftop bench: --precision: unknown precision 'int4'"),
            (["bench", "--model", "cnn", "--weights", mlp, "--precision", "int8"], "inftop bench: \(mlp): a checkpoint of model 'mlp', not 'cnn'"),
            (["bench", "--model", "mlp", "--weights", corrupt, "--precision", "int8"], "inftop bench: \(corrupt):"),
            (["bench", "--model", "mlp", "--weights", "/nonexistent.safetensors"], "inftop bench: /nonexistent.safetensors: not found"),
            (["bench", "--model", "mlp"], "inftop bench: --model mlp needs --weights"),
            (["embed", "--precision", "int4", "hello"], "inftop embed: --precision: unknown precision 'int4'"),
        ]
        for (args, start) in cases {
            let (status, out, err) = try runProcess(bin, args)
            XCTAssertEqual(status, 2, "\(args): status")
            XCTAssertEqual(out, "", "\(args): stdout")
            XCTAssertEqual(err.split(separator: "\n").count, 1, "\(args): stderr is \(err.debugDescription)")
            XCTAssertTrue(err.hasPrefix(start), "\(args): stderr is \(err.debugDescription)")
        }
        // The good path: int8 beside fp32 for the same checkpoint, on 1 image per batch.
        let (status, out, err) = try runProcess(bin, ["bench", "--model", "mlp", "--weights", mlp, "--precision", "fp32,int8",
                                                      "--batch", "1", "--json"])
        XCTAssertEqual(status, 0, err)
        let lines = out.split(separator: "\n").compactMap { try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any] }
        XCTAssertEqual(lines.map { $0["precision"] as? String }, ["fp32", "int8"])
        let acc = lines.compactMap { $0["test_accuracy"] as? Double }
        XCTAssertEqual(acc.count, 2)
        XCTAssertLessThan(abs(acc[0] - acc[1]), 0.02, "\(acc)")
    }

    func testGemmBenchHasAnInt8Row() throws {
        guard let bin = inftopBinary() else { throw XCTSkip("no release binary (scripts/test.sh builds it first)") }
        let (status, out, err) = try runProcess(bin, ["bench", "--gemm", "13x37x29", "--backend", "simd,int8", "--json"])
        XCTAssertEqual(status, 0, err)
        // GEMM rows (the FMA peak probe's line before each row has no shape).
        let rows = out.split(separator: "\n").compactMap { try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any] }
            .filter { $0["m"] != nil }
        XCTAssertEqual(rows.map { $0["backend"] as? String }, ["simd", "int8"])
        XCTAssertEqual(rows.map { $0["precision"] as? String }, ["fp32", "int8"])
        XCTAssertGreaterThan(rows[1]["gflops"] as? Double ?? 0, 0)
    }
}
