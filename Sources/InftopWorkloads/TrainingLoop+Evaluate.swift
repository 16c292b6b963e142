import InftopEngine
import InftopTelemetry

/// The training loop's evaluation side: the test set in order, and the last evaluation.
struct TrainingEvaluator {
    let batches: SequentialBatches
    let loss = SoftmaxCrossEntropy()
    var testLoss: Double?
    var testAccuracy: Double?

    init(test: ImageDataset, batchSize: Int, sampleShape: [Int]) {
        batches = SequentialBatches(dataset: test, batchSize: batchSize, sampleShape: sampleShape)
    }
}

extension TrainingLoop {
    /// Loss and accuracy of the current weights on the whole test set (no dropout, no spans in
    /// the training profiler); updates the evaluator and the test series.
    func evaluate() {
        let (loss, accuracy) = Self.evaluate(model: model, batches: evaluator.batches, loss: evaluator.loss, compute: compute)
        evaluator.testLoss = loss
        evaluator.testAccuracy = accuracy
        let t = Double(clock.now() - startNanos) / 1e9
        publisher.testLoss.append(time: t, value: loss)
        publisher.testAcc.append(time: t, value: accuracy)
    }

    /// Mean loss and accuracy of `model` over every batch of `batches` (from its start).
    public static func evaluate(model: Model, batches: SequentialBatches, loss: SoftmaxCrossEntropy = SoftmaxCrossEntropy(),
                                compute: Compute) -> (loss: Double, accuracy: Double) {
        model.setPlan(compute)
        batches.reset()
        var lossSum = 0.0, correct = 0, seen = 0
        while let batch = batches.next() {
            let logits = model.forward(batch.x)
            let (l, c) = loss.forward(logits: logits, labels: batch.labels, count: batch.count)
            lossSum += Double(l) * Double(batch.count)
            correct += c
            seen += batch.count
        }
        return seen > 0 ? (lossSum / Double(seen), Double(correct) / Double(seen)) : (.nan, .nan)
    }
}
