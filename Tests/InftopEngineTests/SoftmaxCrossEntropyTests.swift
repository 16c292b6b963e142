import XCTest
import InftopEngine

final class SoftmaxCrossEntropyTests: XCTestCase {
    /// Values computed by hand (double precision): loss_b = logΣexp(z_b) − z_b[y_b].
    func testHandComputedLossAndGradient() {
        let ce = SoftmaxCrossEntropy()
        let logits = Tensor([3, 3], values: [1, 2, 3,
                                             1, 1, 1,
                                             -1, 0.5, 2])
        let (loss, correct) = ce.forward(logits: logits, labels: [2, 0, 0])
        // (0.40760596 + 1.09861229 + 3.24131130) / 3
        XCTAssertEqual(loss, 1.58250985, accuracy: 1e-6)
        // Row 0: arg-max 2 = label. Row 1: all tied, first (0) = label. Row 2: arg-max 2 ≠ 0.
        XCTAssertEqual(correct, 2)
        let d = ce.backward()
        XCTAssertEqual(d.shape, [3, 3])
        let expected: [Float] = [0.03001019, 0.08157616, -0.11158635,
                                 -0.22222222, 0.11111111, 0.11111111,
                                 -0.32029581, 0.05843013, 0.26186568]
        LayerCheck.assertClose(d.toArray(), expected, atol: 2e-7, "dLogits")
        let p = ce.probabilities.toArray()
        for b in 0..<3 { XCTAssertEqual(p[b * 3] + p[b * 3 + 1] + p[b * 3 + 2], 1, accuracy: 1e-6) }
    }

    func testStableForHugeLogits() {
        let ce = SoftmaxCrossEntropy()
        let logits = Tensor([2, 2], values: [1000, 0,
                                             -1000, 1000])
        let (loss, correct) = ce.forward(logits: logits, labels: [0, 0])
        // Row 0 is certain and right (loss 0), row 1 is certain and wrong by 2000 nats.
        XCTAssertEqual(loss, 1000, accuracy: 1e-3)
        XCTAssertEqual(correct, 1)
        let d = ce.backward().toArray()
        XCTAssertTrue(d.allSatisfy { $0.isFinite })
        LayerCheck.assertClose(d, [0, 0, -0.5, 0.5], atol: 1e-7, "saturated gradient")
    }

    func testPointerLabelsAndGradientByFiniteDifferences() {
        let ce = SoftmaxCrossEntropy()
        let logits = LayerCheck.tensor([4, 7], seed: 1, lo: -3, hi: 3)
        let labels: [Int32] = [6, 0, 3, 3]
        _ = labels.withUnsafeBufferPointer { ce.forward(logits: logits, labels: $0.baseAddress!, count: 4) }
        let d = ce.backward().toArray()
        let h: Float = 1e-2
        for i in 0..<logits.count {
            let old = logits[i]
            logits[i] = old + h
            let lp = Double(ce.forward(logits: logits, labels: labels).loss)
            logits[i] = old - h
            let lm = Double(ce.forward(logits: logits, labels: labels).loss)
            logits[i] = old
            XCTAssertEqual(Double(d[i]), (lp - lm) / Double(2 * h), accuracy: 2e-4, "dLogits[\(i)]")
        }
    }

    func testBatchOfOneAndOneClass() {
        let ce = SoftmaxCrossEntropy()
        let (loss, correct) = ce.forward(logits: Tensor([1, 1], values: [5]), labels: [0])
        XCTAssertEqual(loss, 0, accuracy: 1e-7)
        XCTAssertEqual(correct, 1)
        XCTAssertEqual(ce.backward().toArray(), [0])
    }
}
