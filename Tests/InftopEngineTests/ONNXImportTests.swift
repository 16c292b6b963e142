import Foundation
import InftopEngine
import InftopTelemetry
import XCTest

/// ONNX import on the committed fixtures (Fixtures/onnx, written by make_onnx_fixtures.py):
/// models exported from PyTorch and hand-built graphs give ONNX Runtime's outputs (recorded
/// beside each file) within 1e-4; folded shape arithmetic leaves no node behind; layer names are
/// the ONNX node names; every bad file is one `EngineError` naming the file and what is wrong.
final class ONNXImportTests: XCTestCase {
    struct Expected: Decodable {
        let input_shape: [Int], input: [Float], output_shape: [Int], output: [Float]
    }

    static func fixture(_ name: String) throws -> String {
        try XCTUnwrap(Bundle.module.url(forResource: "Fixtures/onnx/" + name, withExtension: nil), "fixture \(name)").path
    }

    /// Loads `name`.onnx, runs the recorded input through it on every backend and compares with ORT's output.
    @discardableResult
    func checkAgainstORT(_ name: String, file: StaticString = #filePath, line: UInt = #line) throws -> Model {
        let expected = try JSONDecoder().decode(Expected.self, from: Data(contentsOf: URL(fileURLWithPath: try Self.fixture(name + ".json"))))
        let model = try ONNXModel.load(path: try Self.fixture(name + ".onnx"))
        XCTAssertEqual(model.descriptor.sampleShape, Array(expected.input_shape.dropFirst()), "\(name) sample shape", file: file, line: line)
        for backend in KernelBackend.allCases {
            for threads in [1, 2] {
                model.setPlan(Compute(backend: backend, threads: threads))
                let y = model.forward(Tensor(expected.input_shape, values: expected.input))
                XCTAssertEqual(y.shape, expected.output_shape, "\(name) \(backend) output shape", file: file, line: line)
                let worst = zip(Array(UnsafeBufferPointer(start: y.data, count: y.count)), expected.output).map { abs($0 - $1) }.max() ?? .infinity
                XCTAssertLessThanOrEqual(worst, 1e-4, "\(name) \(backend) ×\(threads): largest difference to ORT", file: file, line: line)
            }
        }
        return model
    }

    func testMLPFromPyTorchMatchesORT() throws {
        let model = try checkAgainstORT("mlp")
        XCTAssertEqual(model.nodes.map(\.name), ["node_linear", "node_relu", "node_linear_1", "node_relu_1", "node_linear_2"])
        XCTAssertEqual(model.nodes.map(\.kind), [.linear, .activation, .linear, .activation, .linear])
        XCTAssertEqual(model.parameterCount, 12 * 16 + 16 + 16 * 8 + 8 + 8 * 4 + 4)
        try checkAgainstORT("mlp_legacy")
    }

    func testCNNFromPyTorchMatchesORT() throws {
        let model = try checkAgainstORT("cnn")
        XCTAssertEqual(model.nodes.map(\.kind), [.convolution, .activation, .pooling, .convolution, .activation, .pooling, .layout,
                                                 .linear, .activation, .linear])
        XCTAssertEqual(model.nodes[6].name, "node_Reshape_3", "the flattening Reshape keeps its ONNX name")
        XCTAssertEqual(model.outputShape(batch: 7), [7, 5], "a model folded at batch 1 runs any batch")
    }

    /// Shape, Gather, Unsqueeze, Concat, Constant, Range, Cast, Mul, Expand fold away: what is
    /// left is the flattening Reshape, MatMul + Add fused into one Linear, and the Relu.
    func testShapeArithmeticFoldsAtLoad() throws {
        let model = try checkAgainstORT("fold")
        XCTAssertEqual(model.nodes.map(\.name), ["reshape_flat", "matmul+add_bias", "relu_out"])
        let linear = try XCTUnwrap(model.nodes[1] as? Linear)
        XCTAssertEqual(Array(UnsafeBufferPointer(start: linear.bias.value.data, count: 4)), [1, 3, 5, 7].map { Float($0) * Float(0.1) },
                       "the bias is Range(1, 9, 2) cast to float times 0.1")
    }

    func testExternalDataLoads() throws {
        let model = try checkAgainstORT("external")
        XCTAssertEqual(model.nodes.map(\.name), ["gemm_ext"])
    }

    func assertBadFile(_ path: String, contains parts: [String], file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertThrowsError(try ONNXModel.load(path: path), file: file, line: line) { error in
            let text = "\(error)"
            XCTAssertFalse(text.contains("\n"), "one line: \(text)", file: file, line: line)
            for p in parts { XCTAssertTrue(text.contains(p), "'\(text)' names \(p)", file: file, line: line) }
        }
    }

    func testExternalDataProblemsNameTheFileAndTensor() throws {
        assertBadFile(try Self.fixture("external_bad_offset.onnx"), contains: ["external.onnx.data", "tensor 'W'", "outside the file"])
        assertBadFile(try Self.fixture("external_missing.onnx"), contains: ["no_such_weights.onnx.data", "not found", "tensor 'W'"])
    }

    func testUnsupportedOpNamesTheOpAndTheNode() throws {
        assertBadFile(try Self.fixture("unsupported.onnx"), contains: ["unsupported.onnx", "node 'odd_softsign'", "op Softsign is not supported"])
    }

    func testCorruptAndTruncatedFilesAreOneLine() throws {
        let bytes = try Data(contentsOf: URL(fileURLWithPath: try Self.fixture("mlp.onnx")))
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("onnx-bad-\(getpid())")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let truncated = dir.appendingPathComponent("truncated.onnx")
        try bytes.prefix(bytes.count / 2).write(to: truncated)
        assertBadFile(truncated.path, contains: ["truncated.onnx", "not a readable ONNX model", "truncated"])
        var garbage = Data(bytes)
        for i in stride(from: 0, to: garbage.count, by: 7) { garbage[i] = 0xff }
        let corrupt = dir.appendingPathComponent("corrupt.onnx")
        try garbage.write(to: corrupt)
        assertBadFile(corrupt.path, contains: ["corrupt.onnx", "ONNX model"])
        let empty = dir.appendingPathComponent("empty.onnx")
        try Data().write(to: empty)
        assertBadFile(empty.path, contains: ["empty.onnx", "no graph"])
        assertBadFile(dir.appendingPathComponent("absent.onnx").path, contains: ["absent.onnx", "not found"])
    }

    /// What `write` produces reads back as the same model: same node names, same outputs.
    func testExportedZooModelsReadBack() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("onnx-export-\(getpid())")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        for name in ModelZoo.names {
            let model = try ModelZoo.make(name: name, seed: 3)
            let path = dir.appendingPathComponent(name + ".onnx").path
            try ONNXModel.write(model, to: path)
            let back = try ONNXModel.load(path: path)
            XCTAssertEqual(back.nodes.map(\.name), model.nodes.map(\.name), name)
            XCTAssertEqual(back.parameterCount, model.parameterCount, name)
            let shape = [5] + model.descriptor.sampleShape!
            let x = Tensor(shape, values: (0..<shape.reduce(1, *)).map { Float(($0 * 37) % 101) / 101 })
            let a = Array(UnsafeBufferPointer(start: model.forward(x).data, count: 50))
            let b = Array(UnsafeBufferPointer(start: back.forward(x).data, count: 50))
            XCTAssertEqual(a, b, "\(name): the exported model computes what inftop's does")
        }
    }
}
