import XCTest
import InftopEngine

final class DistillationLossTests: XCTestCase {
    /// One row, three classes, T = 2, α = 0.5, values computed by hand (double precision):
    /// q_s = softmax([0.5, 1, 0]) = [0.3072, 0.5065, 0.1863], q_t = softmax([1, 0, 0.5]) =
    /// [0.5065, 0.1863, 0.3072], p = softmax([1, 2, 0]); KL(q_t ‖ q_s) = 0.22051442,
    /// −log p[1] = 0.40760596; loss = 0.5·4·KL + 0.5·CE; dLogits = 0.5·2·(q_s − q_t) + 0.5·(p − e₁).
    func testHandComputedLossAndGradient() {
        let loss = DistillationLoss(temperature: 2, alpha: 0.5)
        let student = Tensor([1, 3], values: [1, 2, 0]), teacher = Tensor([1, 3], values: [2, 0, 1])
        let (l, correct) = loss.forward(student: student, teacher: teacher, labels: [1])
        XCTAssertEqual(loss.lastKL, 0.22051442, accuracy: 1e-6)
        XCTAssertEqual(loss.lastCrossEntropy, 0.40760596, accuracy: 1e-6)
        XCTAssertEqual(l, 0.64483181, accuracy: 1e-6)
        XCTAssertEqual(correct, 1)
        LayerCheck.assertClose(loss.backward().toArray(), [-0.07692027, 0.15277715, -0.07585688], atol: 2e-7, "dLogits")
    }

    /// Central differences of the loss w.r.t. every student logit, over temperatures and mixes
    /// (a batch of 5, 7 classes: a prime, and no row where the teacher and student agree).
    func testGradientByFiniteDifferences() {
        let student = LayerCheck.tensor([5, 7], seed: 3, lo: -3, hi: 3)
        let teacher = LayerCheck.tensor([5, 7], seed: 4, lo: -4, hi: 4)
        let labels: [Int32] = [0, 6, 2, 2, 5]
        for (t, a) in [(Float(1), Float(0.5)), (4, 0.9), (8, 1), (0.5, 0.3)] {
            let loss = DistillationLoss(temperature: t, alpha: a)
            _ = loss.forward(student: student, teacher: teacher, labels: labels)
            let d = loss.backward().toArray()
            let h: Float = 1e-2
            for i in 0..<student.count {
                let old = student[i]
                student[i] = old + h
                let lp = Double(loss.forward(student: student, teacher: teacher, labels: labels).loss)
                student[i] = old - h
                let lm = Double(loss.forward(student: student, teacher: teacher, labels: labels).loss)
                student[i] = old
                XCTAssertEqual(Double(d[i]), (lp - lm) / Double(2 * h), accuracy: 3e-4, "T \(t) α \(a): dLogits[\(i)]")
            }
        }
    }

    /// α = 0 is plain cross-entropy: the same loss and gradient, bit for bit, whatever the teacher.
    func testAlphaZeroIsCrossEntropy() {
        let student = LayerCheck.tensor([6, 10], seed: 7, lo: -5, hi: 5)
        let teacher = LayerCheck.tensor([6, 10], seed: 8, lo: -20, hi: 20)
        let labels: [Int32] = [9, 0, 4, 4, 1, 7]
        let ce = SoftmaxCrossEntropy(), kd = DistillationLoss(temperature: 4, alpha: 0)
        let a = ce.forward(logits: student, labels: labels), b = kd.forward(student: student, teacher: teacher, labels: labels)
        XCTAssertEqual(a.loss, b.loss)
        XCTAssertEqual(a.correct, b.correct)
        XCTAssertGreaterThan(kd.lastKL, 0, "the soft term was computed, and weighted by 0")
        XCTAssertEqual(ce.backward().toArray(), kd.backward().toArray())
    }

    /// A student that matches the teacher has KL 0 and, at α = 1, a zero gradient; huge logits
    /// (a teacher certain to the point of underflow) stay finite.
    func testMatchingStudentAndSaturatedTeacher() {
        let z = LayerCheck.tensor([3, 4], seed: 11, lo: -2, hi: 2)
        let same = DistillationLoss(temperature: 3, alpha: 1)
        let (l, _) = same.forward(student: z, teacher: Tensor([3, 4], values: z.toArray()), labels: [0, 1, 2])
        XCTAssertEqual(l, 0, accuracy: 1e-6)
        XCTAssertTrue(same.backward().toArray().allSatisfy { abs($0) < 1e-7 })

        let huge = DistillationLoss(temperature: 1, alpha: 0.9)
        let (lh, _) = huge.forward(student: Tensor([1, 3], values: [0, 0, 0]), teacher: Tensor([1, 3], values: [1000, -1000, 0]), labels: [0])
        XCTAssertTrue(lh.isFinite)
        // KL = log 3 (q_t is one-hot on class 0, q_s uniform); CE = log 3.
        XCTAssertEqual(lh, Float(0.9 * log(3.0) + 0.1 * log(3.0)), accuracy: 1e-5)
        XCTAssertTrue(huge.backward().toArray().allSatisfy { $0.isFinite })
    }
}
