import Foundation
import InftopEngine
import InftopTelemetry
import XCTest

/// A BERT sentence encoder exported by PyTorch (Fixtures/onnx/tiny_bert.onnx: a random 2-layer
/// BERT with the peers' mean pooling and normalisation inside, torch.onnx.export dynamo, opset
/// 18) is recognised and mapped onto the fused BERT nodes, and its embeddings are ONNX Runtime's
/// (tiny_bert.json) within 1e-4, padded batches included.
final class ONNXBertTests: XCTestCase {
    struct Fixture: Decodable {
        struct Case: Decodable { let sequences: [[Int]]; let embeddings: [[Float]] }
        let hidden: Int, layers: Int, heads: Int
        let cases: [Case]
    }

    func testTinyBertMatchesORT() throws {
        let json = try ONNXImportTests.fixture("tiny_bert.json")
        let f = try JSONDecoder().decode(Fixture.self, from: Data(contentsOf: URL(fileURLWithPath: json)))
        let path = try ONNXImportTests.fixture("tiny_bert.onnx")
        XCTAssertTrue(try ONNXBert.isTextEncoder(path: path))
        let (model, config) = try ONNXBert.load(path: path)
        XCTAssertEqual([config.hiddenSize, config.layers, config.heads, config.intermediateSize, config.vocabSize, config.maxPositions],
                       [f.hidden, f.layers, f.heads, 32, 64, 32])
        XCTAssertEqual(config.activation, .gelu)
        XCTAssertEqual(model.nodes.filter { $0.kind == .attention }.count, f.layers, "one fused attention node per layer")
        for backend in KernelBackend.allCases {
            model.setPlan(Compute(backend: backend, threads: 1))
            for c in f.cases {
                let y = model.forward(tokens: TokenBatch(sequences: c.sequences, padId: 0))
                XCTAssertEqual(y.shape, [c.sequences.count, f.hidden])
                for (b, expected) in c.embeddings.enumerated() {
                    let row = Array(UnsafeBufferPointer(start: y.data + b * f.hidden, count: f.hidden))
                    let norm = row.reduce(0) { $0 + $1 * $1 }.squareRoot()
                    let worst = zip(row.map { $0 / norm }, expected).map { abs($0 - $1) }.max()!
                    XCTAssertLessThanOrEqual(worst, 1e-4, "\(backend) sequence \(b) of \(c.sequences.count): largest difference to ORT")
                }
            }
        }
    }

    func testImageModelIsNotATextEncoder() throws {
        let path = try ONNXImportTests.fixture("mlp.onnx")
        XCTAssertFalse(try ONNXBert.isTextEncoder(path: path))
        XCTAssertThrowsError(try ONNXBert.load(path: path)) { error in
            XCTAssertTrue("\(error)".contains("are not a text encoder's"), "\(error)")
        }
    }
}
