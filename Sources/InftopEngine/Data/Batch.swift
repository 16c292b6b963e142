/// One mini-batch buffer: inputs as fp32 and labels, sized for the largest batch seen and reused.
///
/// A loader owns its batches; the consumer gets one from `next`, uses it for a whole step
/// (layers may keep `x` for backward), and hands it back with `recycle`.
public final class Batch: @unchecked Sendable {
    /// `[count, sampleShape…]`, x/255 in 0…1.
    public let x: Tensor
    /// `[count]` class labels; valid for `count` entries.
    public private(set) var labels: UnsafeMutablePointer<Int32>
    private var labelCapacity: Int
    /// Samples in this batch (the last batch of an epoch may be short).
    public private(set) var count = 0
    /// The epoch this batch belongs to (0-based).
    public internal(set) var epoch = 0
    /// Position of the batch's first sample within its epoch's order (0-based).
    public internal(set) var start = 0
    /// Whether this is the last batch of its epoch.
    public internal(set) var endsEpoch = false
    /// Samples per sample shape, for `x`'s trailing dimensions.
    public let sampleShape: [Int]

    /// An empty batch for samples of `sampleShape` (e.g. `[784]` or `[1, 28, 28]`), with room for `capacity` samples.
    public init(sampleShape: [Int], capacity: Int = 1, name: String = "batch.x") {
        self.sampleShape = sampleShape
        x = Tensor([max(capacity, 1)] + sampleShape, name: name, owner: .activations)
        labelCapacity = max(capacity, 1)
        labels = .allocate(capacity: labelCapacity)
        labels.initialize(repeating: 0, count: labelCapacity)
        x.resize([0] + sampleShape)
    }

    deinit { labels.deallocate() }

    /// The labels as an array (a copy; for tests and evaluation summaries).
    public var labelArray: [Int32] { Array(UnsafeBufferPointer(start: labels, count: count)) }

    /// Sets the batch to `n` samples, growing the storage only when `n` exceeds what it held.
    func resize(_ n: Int) {
        x.resize([n] + sampleShape)
        if n > labelCapacity {
            labels.deallocate()
            labels = .allocate(capacity: n)
            labels.initialize(repeating: 0, count: n)
            labelCapacity = n
        }
        count = n
    }

    /// Fills the batch with samples `indices[0..<n]` of `dataset`.
    func fill(_ dataset: ImageDataset, indices: UnsafePointer<Int32>, n: Int) {
        resize(n)
        dataset.gather(indices: indices, n: n, x: x.data, labels: labels)
    }

    /// Fills the batch with samples `indices[0..<n]` copied from `cache` (`[count, sampleSize]`
    /// fp32, already converted) and their labels from `dataset`.
    func fill(cache: UnsafePointer<Float>, labels dataset: ImageDataset, indices: UnsafePointer<Int32>, n: Int) {
        resize(n)
        let size = dataset.sampleSize
        for b in 0..<n {
            let i = Int(indices[b])
            (x.data + b * size).update(from: cache + i * size, count: size)
        }
        dataset.gatherLabels(indices: indices, n: n, labels: labels)
    }

    /// Fills the batch with samples `start..<start+n` of `dataset`, in order.
    func fill(_ dataset: ImageDataset, start: Int, n: Int) {
        resize(n)
        dataset.gather(start: start, n: n, x: x.data, labels: labels)
    }
}

/// Evaluation batches: the samples of a dataset in order, `batchSize` at a time, all in the
/// caller's thread through one reused buffer (no shuffling, no prefetch).
public final class SequentialBatches {
    public let dataset: ImageDataset
    public let batch: Batch
    public var batchSize: Int
    private var position = 0

    /// - Parameter sampleShape: shape of one sample; nil means `[rows·cols]`.
    public init(dataset: ImageDataset, batchSize: Int, sampleShape: [Int]? = nil) {
        precondition(batchSize >= 1, "SequentialBatches: batch size must be ≥ 1, got \(batchSize)")
        self.dataset = dataset
        self.batchSize = batchSize
        let shape = sampleShape ?? [dataset.sampleSize]
        precondition(shape.reduce(1, *) == dataset.sampleSize, "SequentialBatches: sample shape \(shape) does not hold \(dataset.rows)×\(dataset.cols) images")
        batch = Batch(sampleShape: shape, capacity: batchSize, name: "eval.x")
    }

    /// Starts again from the first sample.
    public func reset() { position = 0 }

    /// The next batch (the same buffer each time, refilled), or nil after the last sample.
    public func next() -> Batch? {
        guard position < dataset.count else { return nil }
        let n = min(batchSize, dataset.count - position)
        batch.fill(dataset, start: position, n: n)
        batch.start = position
        batch.epoch = 0
        position += n
        batch.endsEpoch = position == dataset.count
        return batch
    }
}
