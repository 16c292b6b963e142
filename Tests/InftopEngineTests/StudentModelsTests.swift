import XCTest
import InftopEngine

/// The distillation students of the zoo: the one graph, their shapes, and the checks on a
/// student/teacher pair.
final class StudentModelsTests: XCTestCase {
    func testStudentsAreTheOneGraphWithTheirShapes() throws {
        for (name, params, nodes) in [("mlp-small", 50_890, ["fc1", "fc2"]), ("cnn-small", 28_874, ["conv1", "conv2", "fc1", "fc2"])] {
            let model = try ModelZoo.make(name: name, seed: 3)
            XCTAssertEqual(model.name, name)
            XCTAssertEqual(model.parameterCount, params, name)
            XCTAssertTrue(model.isTrainable)
            XCTAssertEqual(model.nodes.filter { $0.kind.isWeightBearing }.map(\.name), nodes)
            let shape = try XCTUnwrap(model.descriptor.sampleShape)
            let x = LayerCheck.tensor([3] + shape, seed: 9)
            let y = model.forward(x)
            XCTAssertEqual(y.shape, [3, 10], name)
            XCTAssertEqual(ModelGraphTests.runNodesByHand(model, input: x, context: ForwardContext()).toArray(), y.toArray(), name)
        }
        XCTAssertEqual(ModelZoo.student(for: "mlp"), "mlp-small")
        XCTAssertEqual(ModelZoo.student(for: "cnn"), "cnn-small")
        XCTAssertNil(ModelZoo.student(for: "all-MiniLM-L6-v2"))
        XCTAssertFalse(ModelZoo.names.contains("mlp-small"), "m cycles the teachers only")
    }

    func testStudentPairsAreChecked() throws {
        XCTAssertNoThrow(try ModelZoo.checkStudent("mlp-small", teacher: "mlp"))
        XCTAssertNoThrow(try ModelZoo.checkStudent("cnn-small", teacher: "cnn"))
        XCTAssertThrowsError(try ModelZoo.checkStudent("cnn", teacher: "mlp")) { e in
            XCTAssertEqual("\(e)", "student 'cnn': has 454922 parameters, not fewer than teacher 'mlp' (235146)")
        }
        XCTAssertThrowsError(try ModelZoo.checkStudent("mlp", teacher: "mlp-small")) { e in
            XCTAssertEqual("\(e)", "student 'mlp': has 235146 parameters, not fewer than teacher 'mlp-small' (50890)")
        }
        XCTAssertThrowsError(try ModelZoo.checkStudent("cnn-small", teacher: "mlp")) { e in
            XCTAssertTrue("\(e)".hasPrefix("student 'cnn-small': takes input [1, 28, 28], teacher 'mlp' [784]"), "\(e)")
        }
        XCTAssertThrowsError(try ModelZoo.checkStudent("tiny", teacher: "mlp")) { e in
            XCTAssertEqual("\(e)", "model 'tiny': unknown; known models: mlp, cnn, mlp-small, cnn-small")
        }
    }
}
