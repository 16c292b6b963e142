import InftopEngine

/// The class an image model predicts for each sample of a dataset (the first of tied logits,
/// as numpy's argmax picks), for comparing inftop's predictions with another runtime's on the
/// same images (`inftop export --onnx … --predictions`).
public enum PredictedClasses {
    /// One class per sample of `dataset`, in order, with `compute` (default: blas, one thread).
    public static func of(_ model: Model, on dataset: ImageDataset, compute: Compute = Compute()) -> [Int32] {
        guard let shape = model.descriptor.sampleShape else { preconditionFailure("PredictedClasses: model '\(model.name)' has token inputs") }
        model.setPlan(compute)
        let batches = SequentialBatches(dataset: dataset, batchSize: model.descriptor.evalBatchSize, sampleShape: shape)
        var out: [Int32] = []
        out.reserveCapacity(dataset.count)
        while let batch = batches.next() {
            let logits = model.forward(batch.x)
            let classes = logits.shape[1]
            for b in 0..<batch.count { out.append(Sampler.argmax(UnsafeBufferPointer(start: logits.data + b * classes, count: classes))) }
        }
        return out
    }
}
