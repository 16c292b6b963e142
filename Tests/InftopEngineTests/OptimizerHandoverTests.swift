import XCTest
import InftopEngine

/// Switching optimizers mid-run carries the first moment over (OptimizerHandover's rules).
final class OptimizerHandoverTests: XCTestCase {
    func param(_ n: Int = 11) -> Parameter {
        let p = Parameter("p", shape: [n])
        for i in 0..<n { p.value[i] = 0.3 - 0.05 * Float(i); p.grad[i] = 0.1 * Float(i) - 0.4 }
        return p
    }

    func testSGDToAdamWCarriesTheScaledBufferAndAdamWToSGDTheBiasCorrectedMoment() throws {
        let p = param()
        let sgd = SGD(learningRate: 0.1, momentum: 0.9)
        sgd.step([p]); sgd.step([p])   // buf = g + 0.9 g = 1.9 g (same grad twice)
        let buf = try XCTUnwrap(OptimizerHandover.firstMoment(of: sgd, for: p))
        for i in 0..<p.value.count { XCTAssertEqual(buf[i], 1.9 * p.grad[i], accuracy: 1e-6) }

        let adam = AdamW(learningRate: 0.001, weightDecay: 0)
        OptimizerHandover.carry(from: sgd, to: adam)
        let m = try XCTUnwrap(OptimizerHandover.firstMoment(of: adam, for: p))
        for i in 0..<p.value.count { XCTAssertEqual(m[i], 0.1 * buf[i], accuracy: 1e-6, "m = (1 − μ)·buf") }
        // Its first step continues from t = 2 with v = m²: after the moment update with the
        // same gradient, the step is lr·m̂/(√v̂ + eps), in the gradient's direction.
        let before = p.value.toArray()
        adam.step([p])
        for i in 0..<p.value.count where abs(p.grad[i]) > 1e-3 {
            XCTAssertEqual((p.value[i] - before[i]).sign, (-p.grad[i]).sign, "index \(i) moves against its gradient")
            XCTAssertLessThanOrEqual(abs(p.value[i] - before[i]), 0.001 * 3, "index \(i): an Adam-sized step")
        }

        // Back to SGD: buf = m / (1 − β1ᵗ) / (1 − μ), t = 3 now.
        let m3 = try XCTUnwrap(OptimizerHandover.firstMoment(of: adam, for: p))
        let sgd2 = SGD(learningRate: 0.1, momentum: 0.9)
        OptimizerHandover.carry(from: adam, to: sgd2)
        let buf2 = try XCTUnwrap(OptimizerHandover.firstMoment(of: sgd2, for: p))
        let scale = Float(1 / ((1 - pow(0.9, 3.0)) * 0.1))
        for i in 0..<p.value.count { XCTAssertEqual(buf2[i], scale * m3[i], accuracy: 1e-4 * max(1, abs(buf2[i]))) }
        // The next SGD step uses the carried buffer (momentum·buf + g), not a first-step buf = g.
        let v0 = p.value.toArray()
        sgd2.step([p])
        for i in 0..<p.value.count {
            XCTAssertEqual(p.value[i], v0[i] - 0.1 * (0.9 * buf2[i] + p.grad[i]), accuracy: 1e-5)
        }
    }

    func testWithoutMomentumThereIsNothingToCarry() {
        let p = param()
        let plain = SGD(learningRate: 0.1, momentum: 0)
        plain.step([p])
        let adam = AdamW(learningRate: 0.001)
        OptimizerHandover.carry(from: plain, to: adam)
        XCTAssertNil(OptimizerHandover.firstMoment(of: adam, for: p), "AdamW starts fresh")
        adam.step([p])
        let plain2 = SGD(learningRate: 0.1, momentum: 0)
        OptimizerHandover.carry(from: adam, to: plain2)
        XCTAssertNil(OptimizerHandover.firstMoment(of: plain2, for: p), "plain SGD keeps no buffer")
    }
}
