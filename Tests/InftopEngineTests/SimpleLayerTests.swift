import XCTest
import InftopEngine

/// ReLU, GELU, Flatten, Dropout and LayerNorm layers.
final class SimpleLayerTests: XCTestCase {
    /// Values uniform in ±[0.1, 2): at least 0.1 from ReLU's kink so h = 0.01 never crosses it.
    func awayFromZero(_ shape: [Int], seed: UInt64) -> Tensor {
        let t = LayerCheck.tensor(shape, seed: seed, lo: 0.1, hi: 2)
        var r = SeededRandom(seed: seed + 1)
        for i in 0..<t.count where r.nextInt(below: 2) == 0 { t.data[i] = -t.data[i] }
        return t
    }

    func testReLUGradients() {
        for compute in LayerCheck.backends {
            for shape in [[1, 1], [3, 7], [2, 3, 5, 5]] {
                LayerCheck.checkGradients(ReLU(name: "relu"), awayFromZero(shape, seed: UInt64(shape.count)), compute)
            }
        }
        // Large enough to split across threads.
        let x = awayFromZero([4, 70_000], seed: 3)
        let relu = ReLU(name: "relu")
        let y = relu.forward(x, Compute(backend: .blas, threads: 2), training: true)
        XCTAssertEqual(y.toArray(), x.toArray().map { max($0, 0) })
    }

    func testGELUGradients() {
        for compute in LayerCheck.backends {
            for shape in [[1, 1], [3, 7], [2, 9, 5]] {
                LayerCheck.checkGradients(GELU(name: "gelu"), LayerCheck.tensor(shape, seed: 5, lo: -4, hi: 4), compute)
            }
        }
    }

    func testFlatten() {
        let compute = Compute(backend: .reference, threads: 1)
        let f = Flatten(name: "flat")
        let x = LayerCheck.tensor([2, 3, 4, 5], seed: 1)
        let y = f.forward(x, compute, training: true)
        XCTAssertEqual(y.shape, [2, 60])
        XCTAssertEqual(y.toArray(), x.toArray())
        XCTAssertEqual(f.outputShape([7, 2, 2]), [7, 4])
        let dY = LayerCheck.tensor([2, 60], seed: 2)
        let dX = f.backward(dY, compute)
        XCTAssertEqual(dX.shape, [2, 3, 4, 5])
        XCTAssertEqual(dX.toArray(), dY.toArray())
    }

    func testLayerNormGradients() {
        for compute in LayerCheck.backends {
            for (shape, features) in [([1, 1], 1), ([1, 7], 7), ([3, 9], 9), ([2, 3, 8], 8)] {
                let ln = LayerNorm(name: "ln", features: features)
                // Non-trivial γ and β so their gradients and the γ path of dX are exercised.
                var r = SeededRandom(seed: 4)
                r.fillUniform(ln.weight.value, 0.5, 1.5)
                r.fillUniform(ln.bias.value, -0.5, 0.5)
                // features == 1 has a zero-variance row: x̂ = 0 and dX = 0 exactly (eps keeps rstd finite).
                LayerCheck.checkGradients(ln, LayerCheck.tensor(shape, seed: 6, lo: -2, hi: 2), compute, h: 5e-3, atol: 3e-3)
            }
        }
    }

    func testLayerNormForwardDefaults() {
        let ln = LayerNorm(name: "ln", features: 4)
        XCTAssertEqual(ln.weight.value.toArray(), [1, 1, 1, 1])
        XCTAssertEqual(ln.bias.value.toArray(), [0, 0, 0, 0])
        let y = ln.forward(Tensor([1, 4], values: [1, 2, 3, 4]), Compute(backend: .reference), training: false)
        // mean 2.5, biased var 1.25: (x − 2.5)/√(1.25 + 1e-5)
        let s = (1.25 + 1e-5 as Float).squareRoot()
        LayerCheck.assertClose(y.toArray(), [-1.5 / s, -0.5 / s, 0.5 / s, 1.5 / s], atol: 1e-6, "layer norm values")
    }

    func testDropoutStatisticsAndBackward() {
        let compute = Compute(backend: .reference, threads: 1)
        let p: Float = 0.3
        let d = Dropout(name: "drop", p: p, seed: 1)
        let n = 100_001   // odd: exercises the single-draw tail
        let x = Tensor([1, n])
        x.fill(1)
        let y = d.forward(x, compute, training: true).toArray()
        let zeros = y.filter { $0 == 0 }.count
        let scale = 1 / (1 - p)
        XCTAssertTrue(y.allSatisfy { $0 == 0 || abs($0 - scale) < 1e-6 })
        // Binomial(n, 0.3): σ ≈ 145 zeros; ±6σ.
        XCTAssertEqual(Double(zeros), 0.3 * Double(n), accuracy: 870)
        XCTAssertEqual(Double(y.reduce(0, +)) / Double(n), 1, accuracy: 0.015)
        // Backward routes dY through the same mask.
        let dY = LayerCheck.tensor([1, n], seed: 3)
        let dX = d.backward(dY, compute).toArray()
        for i in stride(from: 0, to: n, by: 97) { XCTAssertEqual(dX[i], dY[i] * y[i], accuracy: 1e-6) }
        // A new forward draws a new mask.
        let y2 = d.forward(x, compute, training: true).toArray()
        XCTAssertNotEqual(y, y2)
        // Same seed ⇒ same first mask.
        XCTAssertEqual(Dropout(name: "again", p: p, seed: 1).forward(x, compute, training: true).toArray(), y)
    }

    func testDropoutIsIdentityInEvaluationAndAtZero() {
        let compute = Compute(backend: .reference, threads: 1)
        let x = LayerCheck.tensor([3, 17], seed: 1)
        let d = Dropout(name: "drop", p: 0.5, seed: 2)
        XCTAssertEqual(d.forward(x, compute, training: false).toArray(), x.toArray())
        let dY = LayerCheck.tensor([3, 17], seed: 2)
        XCTAssertEqual(d.backward(dY, compute).toArray(), dY.toArray())
        let zero = Dropout(name: "zero", p: 0, seed: 2)
        XCTAssertEqual(zero.forward(x, compute, training: true).toArray(), x.toArray())
        d.p = 0.9
        let y = d.forward(x, compute, training: true).toArray()
        XCTAssertTrue(y.enumerated().allSatisfy { $0.element == 0 || abs($0.element - x[$0.offset] * 10) < 1e-5 })
    }
}
