/// Knowledge distillation's loss on a student's logits (Hinton, Vinyals & Dean 2015), averaged
/// over the batch: the teacher's temperature-softened outputs are soft targets, mixed with the
/// hard labels' cross-entropy. Not a `Layer`, like `SoftmaxCrossEntropy` (which it uses for the
/// hard part): it ends the graph and returns a scalar.
///
///     q_t[b, :] = softmax(t[b, :] / T)     q_s[b, :] = softmax(s[b, :] / T)     p = softmax(s)
///     KL_b      = Σ_c q_t[b,c] (log q_t[b,c] − log q_s[b,c])
///     loss      = α · T² · (1/B) Σ_b KL_b + (1 − α) · (1/B) Σ_b −log p[b, y_b]
///     dLogits   = α · T · (q_s − q_t) / B + (1 − α) · (p − onehot(y)) / B
///
/// (∂KL/∂s = (q_s − q_t)/T; the T² keeps the soft term's gradient on the scale of the hard one
/// whatever T is.) The logs are taken as (z − max)/T − logΣexp, never of a probability, so a
/// teacher certain enough to underflow a class to 0 gives a finite loss. α = 0 is plain
/// cross-entropy, bit for bit (the soft term is multiplied by an exact 0).
///
/// The teacher's logits carry no gradient (it is not trained by this loss). `correct` counts the
/// student's arg-max hits on the labels.
public final class DistillationLoss {
    /// T > 0: higher spreads the teacher's probability over the wrong classes ("dark knowledge").
    public var temperature: Float
    /// α in [0, 1]: the soft term's weight (1 − α is the hard labels').
    public var alpha: Float
    /// `[B, C]` softened teacher probabilities q_t of the last forward; owned.
    public let teacherSoft: Tensor
    /// `[B, C]` softened student probabilities q_s of the last forward; owned.
    public let studentSoft: Tensor
    /// `[B, C]` gradient of the mean loss w.r.t. the student's logits; owned.
    private let dLogits: Tensor
    /// The hard-label half (its probabilities p and its dLogits).
    private let hard = SoftmaxCrossEntropy()
    /// The last forward's two terms: mean KL (before α·T²) and mean cross-entropy.
    public private(set) var lastKL: Float = 0
    public private(set) var lastCrossEntropy: Float = 0

    /// Defaults T = 4, α = 0.9 (issue 12's). `temperature` > 0 and `alpha` in [0, 1] (callers
    /// validate user values; a bad one here is a programmer error).
    public init(temperature: Float = 4, alpha: Float = 0.9) {
        precondition(temperature > 0 && temperature.isFinite, "DistillationLoss: temperature \(temperature) must be > 0")
        precondition(alpha >= 0 && alpha <= 1, "DistillationLoss: alpha \(alpha) must be in [0, 1]")
        self.temperature = temperature
        self.alpha = alpha
        teacherSoft = Tensor([0, 0], name: "distill.qTeacher")
        studentSoft = Tensor([0, 0], name: "distill.qStudent")
        dLogits = Tensor([0, 0], name: "distill.dLogits")
    }

    /// Loss (mean over the batch, natural log) and the student's correct arg-max predictions for
    /// `student` and `teacher` logits `[B, C]` (same shape) and `count` (= B) labels at `labels`.
    public func forward(student: Tensor, teacher: Tensor, labels: UnsafePointer<Int32>, count: Int) -> (loss: Float, correct: Int) {
        precondition(student.shape.count == 2 && student.shape == teacher.shape && count == student.shape[0],
                     "DistillationLoss: student \(student.shape), teacher \(teacher.shape), \(count) labels")
        let batch = student.shape[0], classes = student.shape[1]
        let (ce, correct) = hard.forward(logits: student, labels: labels, count: count)
        teacherSoft.resize([batch, classes])
        studentSoft.resize([batch, classes])
        let invT = 1 / temperature
        let s = student.data, t = teacher.data, qt = teacherSoft.data, qs = studentSoft.data
        var klSum = 0.0
        for b in 0..<batch {
            let o = b * classes
            let rt = SoftmaxCrossEntropy.softmaxRow(t + o, into: qt + o, count: classes, scale: invT)
            let rs = SoftmaxCrossEntropy.softmaxRow(s + o, into: qs + o, count: classes, scale: invT)
            // log q_t − log q_s = (t − m_t)/T − L_t − ((s − m_s)/T − L_s)
            var kl: Float = 0
            for c in 0..<classes {
                let logQt = (t[o + c] - rt.max) * invT - rt.logSum
                let logQs = (s[o + c] - rs.max) * invT - rs.logSum
                kl += qt[o + c] * (logQt - logQs)
            }
            klSum += Double(kl)
        }
        lastKL = batch == 0 ? 0 : Float(klSum / Double(batch))
        lastCrossEntropy = ce
        return (alpha * temperature * temperature * lastKL + (1 - alpha) * ce, correct)
    }

    /// Same, for `labels.count` == the batch.
    public func forward(student: Tensor, teacher: Tensor, labels: [Int32]) -> (loss: Float, correct: Int) {
        precondition(!labels.isEmpty, "DistillationLoss: an empty batch")
        return labels.withUnsafeBufferPointer { forward(student: student, teacher: teacher, labels: $0.baseAddress!, count: labels.count) }
    }

    /// dLogits `[B, C]` = α·T·(q_s − q_t)/B + (1 − α)·(p − onehot)/B for the last forward.
    public func backward() -> Tensor {
        let dHard = hard.backward()
        let batch = studentSoft.shape[0], classes = studentSoft.shape[1]
        dLogits.resize([batch, classes])
        let soft = alpha * temperature / Float(max(batch, 1)), keep = 1 - alpha
        let qs = studentSoft.data, qt = teacherSoft.data, h = dHard.data, d = dLogits.data
        for i in 0..<(batch * classes) { d[i] = soft * (qs[i] - qt[i]) + keep * h[i] }
        return dLogits
    }
}
