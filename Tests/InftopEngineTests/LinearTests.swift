import XCTest
import InftopEngine

final class LinearTests: XCTestCase {
    func testForwardMatchesFormula() {
        for compute in LayerCheck.backends {
            let fc = Linear(name: "fc", inFeatures: 5, outFeatures: 3, seed: 1)
            let x = LayerCheck.tensor([4, 5], seed: 2)
            let y = fc.forward(x, compute, training: false)
            XCTAssertEqual(y.shape, [4, 3])
            let w = fc.weight.value, b = fc.bias.value
            for i in 0..<4 {
                for o in 0..<3 {
                    var s = b[o]
                    for k in 0..<5 { s += x[i * 5 + k] * w[o * 5 + k] }
                    XCTAssertEqual(y[i * 3 + o], s, accuracy: 1e-5)
                }
            }
        }
    }

    func testInitIsPyTorchDefaultRangeAndSeeded() {
        let a = Linear(name: "a", inFeatures: 100, outFeatures: 50, seed: 7)
        let b = Linear(name: "b", inFeatures: 100, outFeatures: 50, seed: 7)
        let c = Linear(name: "c", inFeatures: 100, outFeatures: 50, seed: 8)
        XCTAssertEqual(a.weight.value.shape, [50, 100])
        XCTAssertEqual(a.bias.value.shape, [50])
        XCTAssertEqual(a.weight.value.toArray(), b.weight.value.toArray())
        XCTAssertNotEqual(a.weight.value.toArray(), c.weight.value.toArray())
        let bound: Float = 0.1  // 1/√100
        let w = a.weight.value.toArray()
        XCTAssertTrue(w.allSatisfy { abs($0) <= bound })
        XCTAssertTrue(a.bias.value.toArray().allSatisfy { abs($0) <= bound })
        // U(−0.1, 0.1): mean 0, variance bound²/3, and it fills the range.
        let mean = w.reduce(0, +) / Float(w.count)
        let variance = w.map { ($0 - mean) * ($0 - mean) }.reduce(0, +) / Float(w.count)
        XCTAssertEqual(mean, 0, accuracy: 0.005)
        XCTAssertEqual(variance, bound * bound / 3, accuracy: 0.0003)
        XCTAssertGreaterThan(w.max()!, 0.099)
        XCTAssertLessThan(w.min()!, -0.099)
    }

    func testGradients() {
        for compute in LayerCheck.backends {
            for (batch, inF, outF) in [(1, 1, 1), (1, 7, 3), (3, 5, 2), (5, 13, 9)] {
                let fc = Linear(name: "fc\(batch)x\(inF)x\(outF)", inFeatures: inF, outFeatures: outF, seed: 3)
                LayerCheck.checkGradients(fc, LayerCheck.tensor([batch, inF], seed: 4), compute)
            }
        }
    }

    func testBackwardAccumulatesParameterGradients() {
        let compute = Compute(backend: .blas, threads: 1)
        let fc = Linear(name: "fc", inFeatures: 6, outFeatures: 4, seed: 5)
        let x = LayerCheck.tensor([3, 6], seed: 6), dY = LayerCheck.tensor([3, 4], seed: 7)
        _ = fc.forward(x, compute, training: true)
        _ = fc.backward(dY, compute)
        let once = fc.weight.grad.toArray(), onceB = fc.bias.grad.toArray()
        _ = fc.forward(x, compute, training: true)
        _ = fc.backward(dY, compute)
        LayerCheck.assertClose(fc.weight.grad.toArray(), once.map { 2 * $0 }, atol: 1e-5, "dW accumulates")
        LayerCheck.assertClose(fc.bias.grad.toArray(), onceB.map { 2 * $0 }, atol: 1e-5, "db accumulates")
    }

    func testSkippingInputGradientKeepsParameterGradients() {
        let compute = Compute(backend: .reference, threads: 1)
        let a = Linear(name: "a", inFeatures: 6, outFeatures: 4, seed: 5)
        let b = Linear(name: "b", inFeatures: 6, outFeatures: 4, seed: 5)
        b.computesInputGradient = false
        let x = LayerCheck.tensor([3, 6], seed: 6), dY = LayerCheck.tensor([3, 4], seed: 7)
        _ = a.forward(x, compute, training: true); _ = a.backward(dY, compute)
        _ = b.forward(x, compute, training: true)
        let dX = b.backward(dY, compute)
        XCTAssertEqual(a.weight.grad.toArray(), b.weight.grad.toArray())
        XCTAssertEqual(dX.shape, [3, 6])
        XCTAssertTrue(dX.toArray().allSatisfy { $0 == 0 })
    }

    func testBatchSizeChangesReuseBuffers() {
        let compute = Compute(backend: .blas, threads: 2)
        let fc = Linear(name: "fc", inFeatures: 8, outFeatures: 5, seed: 1)
        let big = fc.forward(LayerCheck.tensor([16, 8], seed: 1), compute, training: false)
        let x = LayerCheck.tensor([2, 8], seed: 2)
        let small = fc.forward(x, compute, training: false)
        XCTAssertTrue(big === small, "the output tensor is layer-owned and reused")
        XCTAssertEqual(small.shape, [2, 5])
        let fresh = Linear(name: "fc", inFeatures: 8, outFeatures: 5, seed: 1).forward(x, compute, training: false)
        XCTAssertEqual(small.toArray(), fresh.toArray())
    }
}
