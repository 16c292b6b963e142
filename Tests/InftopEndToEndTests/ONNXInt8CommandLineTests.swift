import Foundation
import XCTest

/// `embed` and `bench` on a dynamic-int8 ONNX encoder (InftopEngineTests' Fixtures/onnx/tiny_bert_int8.onnx,
/// quantize_dynamic of a random 2-layer BERT) run at int8 when no --precision is given, fp32 when
/// asked; a quantized op inftop does not map gets one line naming the node and op, status 2.
final class ONNXInt8CommandLineTests: XCTestCase {
    func fixture(_ name: String) -> String {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("InftopEngineTests/Fixtures/onnx/" + name).path
    }

    func testInt8FileDefaultsToInt8AndBadQuantizedOpsGetOneLine() throws {
        guard let bin = inftopBinary() else { throw XCTSkip("no release binary (scripts/test.sh builds it first)") }
        let tokenizer = FileManager.default.temporaryDirectory.appendingPathComponent("inftop-onnx-int8-\(getpid())")
        try FileManager.default.createDirectory(at: tokenizer, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: tokenizer) }
        let vocab = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"] + (5..<64).map { "w\($0)" }
        try vocab.joined(separator: "\n").write(to: tokenizer.appendingPathComponent("vocab.txt"), atomically: true, encoding: .utf8)
        let model = fixture("tiny_bert_int8.onnx")

        var (status, out, err) = try runProcess(bin, ["embed", "--model", model, "--tokenizer", tokenizer.path, "--threads", "1", "w5 w6", "w7"])
        XCTAssertEqual(status, 0, err)
        XCTAssertTrue(out.contains("(blas, int8, 1 thread(s)"), out)
        (status, out, err) = try runProcess(bin, ["embed", "--model", model, "--tokenizer", tokenizer.path, "--precision", "fp32", "w5"])
        XCTAssertEqual(status, 0, err)
        XCTAssertTrue(out.contains(", fp32, "), out)
        (status, out, err) = try runProcess(bin, ["bench", "--model", model, "--tokenizer", tokenizer.path, "--batch", "2", "--seq", "8",
                                                  "--threads", "1", "--json"])
        XCTAssertEqual(status, 0, err)
        let rows = out.split(separator: "\n").compactMap { try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any] }
        XCTAssertEqual(rows.map { $0["precision"] as? String }, ["int8"], out)

        for (name, line) in [("tiny_bert_int8_unsupported.onnx", "node 'odd_qlinear' (QLinearMatMul): quantized op QLinearMatMul is not supported"),
                             ("tiny_bert_int8_bad_weight.onnx", "node 'node_MatMul_61_quant' (MatMulInteger): weight 'layer_norm_quantized' is not a constant")] {
            for args in [["embed", "--model", fixture(name), "--tokenizer", tokenizer.path, "w5"],
                         ["bench", "--model", fixture(name), "--tokenizer", tokenizer.path, "--batch", "1", "--seq", "8"]] {
                let (status, out, err) = try runProcess(bin, args)
                XCTAssertEqual(status, 2, "\(args): status")
                XCTAssertEqual(out, "", "\(args): stdout")
                XCTAssertEqual(err.split(separator: "\n").count, 1, "\(args): stderr is \(err.debugDescription)")
                XCTAssertTrue(err.contains(line), "\(args): stderr is \(err.debugDescription)")
            }
        }
    }
}
