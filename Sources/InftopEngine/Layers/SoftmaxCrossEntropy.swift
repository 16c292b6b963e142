#if canImport(Glibc)
import Glibc
#endif

/// Softmax followed by the negative log-likelihood of the true class, averaged over the batch —
/// PyTorch's `nn.CrossEntropyLoss()` (reduction "mean") on logits. Not a `Layer`: it ends the
/// graph, takes labels, and returns a scalar.
///
///     p[b, :] = softmax(z[b, :])          (max subtracted first: no overflow for any finite z)
///     loss    = −(1/B) Σ_b log p[b, y_b]  = (1/B) Σ_b (logΣexp(z[b,:] − m_b) − (z[b,y_b] − m_b))
///     dz      = (p − onehot(y)) / B
///
/// `correct` counts rows whose arg-max (first maximum on ties) is the label. Labels must be in
/// 0..<C (a data loader validates user files; a bad label here is a programmer error).
public final class SoftmaxCrossEntropy {
    /// `[B, C]` probabilities of the last forward; owned (distillation may read it).
    public let probabilities: Tensor
    /// `[B, C]` gradient of the mean loss w.r.t. the logits; owned.
    private let dLogits: Tensor
    /// `[B]` labels of the last forward.
    private var labels: [Int32] = []

    public init() {
        probabilities = Tensor([0, 0], name: "softmax.p")
        dLogits = Tensor([0, 0], name: "softmax.dLogits")
    }

    /// Loss (mean over the batch, natural log) and the number of correct arg-max predictions for
    /// `logits` `[B, C]` and `B` labels at `labels`.
    public func forward(logits: Tensor, labels: UnsafePointer<Int32>) -> (loss: Float, correct: Int) {
        logits.expectShape([-1, -1], "SoftmaxCrossEntropy forward logits")
        let batch = logits.shape[0], classes = logits.shape[1]
        precondition(classes >= 1, "SoftmaxCrossEntropy: logits have no classes")
        probabilities.resize([batch, classes])
        self.labels.removeAll(keepingCapacity: true)
        self.labels.append(contentsOf: UnsafeBufferPointer(start: labels, count: batch))
        let z = logits.data, p = probabilities.data
        var lossSum = 0.0
        var correct = 0
        for b in 0..<batch {
            let label = Int(labels[b])
            precondition(label >= 0 && label < classes, "SoftmaxCrossEntropy: label \(label) of row \(b) outside 0..<\(classes)")
            let zr = z + b * classes
            let row = Self.softmaxRow(zr, into: p + b * classes, count: classes)
            if row.argmax == label { correct += 1 }
            lossSum += Double(row.logSum - (zr[label] - row.max))
        }
        return (batch == 0 ? 0 : Float(lossSum / Double(batch)), correct)
    }

    /// The one row softmax of the losses (this one and `DistillationLoss`):
    /// p[c] = e^((z[c] − m)·scale) / Σ e^(…), m = max z, for `count` ≥ 1 logits at `z`
    /// (`scale` = 1/T softens it by a temperature T > 0). Returns m, the first arg-max, and
    /// logSum = log Σ e^((z − m)·scale), so log p[c] = (z[c] − m)·scale − logSum exactly
    /// (no log of a probability that underflowed to 0).
    @inline(__always)
    public static func softmaxRow(_ z: UnsafePointer<Float>, into p: UnsafeMutablePointer<Float>, count: Int,
                                  scale: Float = 1) -> (max: Float, argmax: Int, logSum: Float) {
        var m = z[0], arg = 0
        for c in 1..<count where z[c] > m { m = z[c]; arg = c }
        // e^((z − m)·scale) ≤ 1, so the sum is in [1, C]: no overflow, and log(sum) is well defined.
        var sum: Float = 0
        for c in 0..<count { let e = expf((z[c] - m) * scale); p[c] = e; sum += e }
        let inv = 1 / sum
        for c in 0..<count { p[c] *= inv }
        return (m, arg, logf(sum))
    }

    /// Same, with the label count spelled out; `count` must equal the batch (logits' rows).
    public func forward(logits: Tensor, labels: UnsafePointer<Int32>, count: Int) -> (loss: Float, correct: Int) {
        precondition(logits.shape.count == 2 && count == logits.shape[0],
                     "SoftmaxCrossEntropy: \(count) labels for logits of shape \(logits.shape)")
        return forward(logits: logits, labels: labels)
    }

    /// Same as the pointer form, for `labels.count` == the batch.
    public func forward(logits: Tensor, labels: [Int32]) -> (loss: Float, correct: Int) {
        precondition(logits.shape.count == 2 && labels.count == logits.shape[0],
                     "SoftmaxCrossEntropy: \(labels.count) labels for logits of shape \(logits.shape)")
        var padded = labels
        if padded.isEmpty { padded = [0] }  // an empty array has no base address
        return padded.withUnsafeBufferPointer { forward(logits: logits, labels: $0.baseAddress!) }
    }

    /// dLogits `[B, C]` = (softmax − onehot)/B for the last forward.
    public func backward() -> Tensor {
        let batch = probabilities.shape[0], classes = probabilities.shape[1]
        dLogits.resize([batch, classes])
        let scale = 1 / Float(max(batch, 1))
        let p = probabilities.data, d = dLogits.data
        for b in 0..<batch {
            for c in 0..<classes { d[b * classes + c] = p[b * classes + c] * scale }
            d[b * classes + Int(labels[b])] -= scale
        }
        return dLogits
    }
}
