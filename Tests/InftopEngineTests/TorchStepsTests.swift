import InftopTelemetry
import Foundation
import InftopEngine
import XCTest

/// inftop's MLP and CNN against PyTorch's, step by step (Fixtures/torch_steps.json, written by
/// Fixtures/make_torch_steps.py with the peers' own `mlp()` and `cnn(2)`): the same weights and
/// batches (made by the same formulas on both sides), three SGD steps with the peers' recipe
/// (lr 0.05, momentum 0.9, mean cross-entropy). Every step's loss and, after the last step, what
/// the steps changed in every parameter must match, on every backend and at 1 and 2 threads.
/// This is the check that a CNN trained by inftop follows the same path PyTorch's would from
/// the same start: layouts (NCHW flatten order into fc1), padding, pooling, loss and momentum.
final class TorchStepsTests: XCTestCase {
    struct Fixture: Decodable {
        struct Parameter: Decodable { let shape: [Int]; let sum: Double; let abs_sum: Double; let samples: [[Double]] }
        struct Run: Decodable { let losses: [Double]; let parameters: [Parameter] }
        let steps: Int, batch: Int, lr: Float, momentum: Float
        let mlp: Run, cnn: Run
    }

    static func fixture() throws -> Fixture {
        let url = try XCTUnwrap(Bundle.module.url(forResource: "Fixtures/torch_steps.json", withExtension: nil))
        return try JSONDecoder().decode(Fixture.self, from: Data(contentsOf: url))
    }

    /// Parameter j, flat element i: float32(bound · sin(0.37·i + 1.3·j + 0.5)), bound = 1/√fanIn
    /// of the parameter's layer (a bias shares its weight's), as make_torch_steps.py sets them.
    static func initialValues(_ params: [InftopEngine.Parameter]) -> [[Float]] {
        params.enumerated().map { j, p in
            let weightShape = p.name.hasSuffix(".bias") ? params[j - 1].value.shape : p.value.shape
            let fanIn = weightShape.dropFirst().reduce(1, *)
            let bound = 1 / Double(fanIn).squareRoot()
            return (0..<p.value.count).map { i in Float(bound * sin(0.37 * Double(i) + 1.3 * Double(j) + 0.5)) }
        }
    }

    /// Step s's batch: `[batch, 784]` pixels and labels, as make_torch_steps.py makes them.
    static func batch(step: Int, size: Int) -> (pixels: [Float], labels: [Int32]) {
        var pixels: [Float] = []
        var labels: [Int32] = []
        for b in 0..<size {
            let index = step * size + b
            for p in 0..<784 { pixels.append(Float((index * 131 + p * 29 + (p / 28) * 7) % 256) / Float(255)) }
            labels.append(Int32(index * 7 % 10))
        }
        return (pixels, labels)
    }

    func check(_ name: String, _ expected: Fixture.Run, _ f: Fixture, _ compute: Compute) throws {
        let what = "\(name) \(compute.backend) ×\(compute.threads)"
        let model = try ModelZoo.make(name: name)
        let initial = Self.initialValues(model.parameters)
        for (p, values) in zip(model.parameters, initial) {
            XCTAssertEqual(p.value.shape, expected.parameters[model.parameters.firstIndex { $0 === p }!].shape, "\(what) \(p.name) shape")
            p.value.data.update(from: values, count: values.count)
        }
        let sgd = SGD(learningRate: f.lr, momentum: f.momentum)
        let loss = SoftmaxCrossEntropy()
        for step in 0..<f.steps {
            let (pixels, labels) = Self.batch(step: step, size: f.batch)
            let x = Tensor([f.batch] + model.descriptor.sampleShape!, values: pixels)
            model.setPlan(compute)
            let logits = model.forward(x, training: true)
            let (l, _) = loss.forward(logits: logits, labels: labels)
            XCTAssertEqual(Double(l), expected.losses[step], accuracy: 2e-5 * max(1, expected.losses[step]), "\(what) step \(step) loss")
            model.backward(loss.backward())
            sgd.step(model.parameters)
            zeroGradients(model.parameters)
        }
        // What the steps changed, at PyTorch's sample points, against what they changed there in
        // PyTorch; and each parameter's sums (the whole tensor, to catch a wrong region).
        for (j, p) in model.parameters.enumerated() {
            let e = expected.parameters[j], values = p.value.toArray()
            var worst = 0.0, scale = 0.0
            for sample in e.samples {
                let i = Int(sample[0])
                let ours = Double(values[i]) - Double(initial[j][i]), theirs = sample[1] - Double(initial[j][i])
                worst = max(worst, abs(ours - theirs))
                scale = max(scale, abs(theirs))
            }
            XCTAssertLessThanOrEqual(worst, 1e-7 + 1e-4 * scale, "\(what) \(p.name): change at the sample points off by \(worst) (largest change \(scale))")
            let sum = values.reduce(0.0) { $0 + Double($1) }, absSum = values.reduce(0.0) { $0 + abs(Double($1)) }
            let initialSum = initial[j].reduce(0.0) { $0 + Double($1) }
            XCTAssertEqual(sum - initialSum, e.sum - initialSum, accuracy: 1e-4 + 1e-3 * abs(e.sum - initialSum), "\(what) \(p.name) sum")
            XCTAssertEqual(absSum, e.abs_sum, accuracy: 1e-5 * e.abs_sum, "\(what) \(p.name) sum of |values|")
        }
    }

    func testMLPStepsMatchPyTorch() throws {
        let f = try Self.fixture()
        for backend in KernelBackend.allCases {
            for threads in [1, 2] { try check("mlp", f.mlp, f, Compute(backend: backend, threads: threads)) }
        }
    }

    func testCNNStepsMatchPyTorch() throws {
        let f = try Self.fixture()
        for backend in KernelBackend.allCases {
            for threads in [1, 2] { try check("cnn", f.cnn, f, Compute(backend: backend, threads: threads)) }
        }
    }
}
