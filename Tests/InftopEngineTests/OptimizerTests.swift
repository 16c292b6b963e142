import XCTest
import InftopEngine

/// Three steps of each optimizer on a 10-element parameter (8 in SIMD, 2 in the tail) against
/// values computed by hand in double precision with PyTorch's update rules.
final class OptimizerTests: XCTestCase {
    let n = 10
    func initial() -> Parameter {
        let p = Parameter("p", shape: [n])
        for i in 0..<n { p.value[i] = 0.5 - 0.13 * Float(i) }
        return p
    }
    func setGrad(_ p: Parameter, step: Int) {
        for i in 0..<n {
            p.grad[i] = (0.1 * Float(i + 1) - 0.35) * (step % 2 == 0 ? 1 : -0.5) + 0.02 * Float(step)
        }
    }

    func testSGDWithMomentumAndWeightDecay() {
        let p = initial()
        let sgd = SGD(learningRate: 0.1, momentum: 0.9, weightDecay: 0.01)
        for s in 0..<3 { sgd.zeroGrad([p]); setGrad(p, step: s); sgd.step([p]) }
        let expected: [Float] = [0.5583169, 0.4014786, 0.2446403, 0.0878019, -0.0690364,
                                 -0.2258747, -0.3827131, -0.5395514, -0.6963897, -0.8532281]
        LayerCheck.assertClose(p.value.toArray(), expected, atol: 2e-6, "SGD momentum")
    }

    func testPlainSGD() {
        let p = initial()
        let sgd = SGD(learningRate: 0.1, momentum: 0)
        for s in 0..<3 { setGrad(p, step: s); sgd.step([p]) }
        let expected: [Float] = [0.5315, 0.3865, 0.2415, 0.0965, -0.0485, -0.1935, -0.3385, -0.4835, -0.6285, -0.7735]
        LayerCheck.assertClose(p.value.toArray(), expected, atol: 2e-6, "plain SGD")
    }

    func testAdamW() {
        let p = initial()
        let adam = AdamW(learningRate: 0.01)
        for s in 0..<3 { setGrad(p, step: s); adam.step([p]) }
        let expected: [Float] = [0.5169539, 0.3860320, 0.2508660, 0.0862325, -0.0404642,
                                 -0.1696539, -0.2992706, -0.4290367, -0.5588722, -0.6887457]
        LayerCheck.assertClose(p.value.toArray(), expected, atol: 2e-6, "AdamW")
    }

    /// A new parameter seen late gets its own first step (bias correction t = 1), and the
    /// learning rate may change between steps.
    func testStateIsPerParameterAndLearningRateChanges() {
        let adam = AdamW(learningRate: 0.01, weightDecay: 0)
        let a = Parameter("a", shape: [1]), b = Parameter("b", shape: [1])
        a.grad[0] = 0.5
        adam.step([a]); adam.step([a])
        b.grad[0] = 0.5
        adam.learningRate = 0.1
        adam.step([b])
        // First Adam step moves by lr·sign(g) (m̂ = g, v̂ = g², eps negligible).
        XCTAssertEqual(b.value[0], -0.1, accuracy: 1e-6)
        XCTAssertEqual(a.value[0], -0.02, accuracy: 1e-6)

        let sgd = SGD(learningRate: 1, momentum: 0.5)
        let c = Parameter("c", shape: [3])
        c.grad.fill(1)
        sgd.step([c])                         // buf = 1, p = −1
        sgd.learningRate = 0.5
        sgd.step([c])                         // buf = 1.5, p = −1.75
        XCTAssertEqual(c.value.toArray(), [-1.75, -1.75, -1.75])
        sgd.zeroGrad([c])
        XCTAssertEqual(c.grad.toArray(), [0, 0, 0])
    }
}
