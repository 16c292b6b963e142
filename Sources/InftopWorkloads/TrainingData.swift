import InftopEngine

/// The samples one training step trains on: `x` `[count, sampleShape…]` and `count` labels at
/// `labels`. Under data parallelism they are this rank's shard of a global batch of
/// `globalCount` samples; otherwise `count == globalCount`.
struct StepBatch {
    let x: Tensor
    let labels: UnsafePointer<Int32>
    let count: Int
    let globalCount: Int
    let endsEpoch: Bool
}

/// The training loop's data side: the shuffled loader (its loader threads, prefetch depth, cached or
/// on-the-fly preprocessing, augmentation), the batch size in force, the batch handed out last
/// (given back at the next call), and this rank's shard of each global batch.
///
/// Every rank runs the same loader with the same seed, so all see the same global batch at the
/// same step; rank r of R trains on rows ⌊r·n/R⌋ ..< ⌊(r+1)·n/R⌋ of it (copied into `shard`,
/// `[n/R rounded up, sampleShape…]`; a few µs for 32 images).
final class TrainingData {
    let loader: BatchLoader
    var batchSize: Int
    let rank: Int, ranks: Int
    /// The batch of the last step, given back to the loader at the next one.
    private var held: Batch?
    /// This rank's rows, `[shard count, sampleShape…]`; nil with one rank.
    private let shard: Tensor?
    private let sampleSize: Int

    /// The data side of `config` (its loader threads, prefetch depth, cached preprocessing and
    /// augmentation) on `dataset`.
    init(dataset: ImageDataset, sampleShape: [Int], batchSize: Int, config: TrainingConfig, rank: Int = 0, ranks: Int = 1) {
        loader = BatchLoader(dataset: dataset, sampleShape: sampleShape, batchSize: batchSize, seed: config.seed,
                             buffers: config.prefetchDepth + 1, loaderThreads: config.loaderThreads,
                             augmentation: config.augmentation, cachePreprocessed: config.cachePreprocessed)
        self.batchSize = batchSize
        self.rank = rank; self.ranks = ranks
        sampleSize = sampleShape.reduce(1, *)
        shard = ranks > 1 ? Tensor([(KnobValues.batchRange.upperBound + ranks - 1) / ranks] + sampleShape, name: "shard.x", owner: .data) : nil
    }

    /// The next step's samples; nil when the loader stopped.
    func next() -> StepBatch? {
        // The previous step's batch goes back here, inside the data span: waking the loader
        // thread can cost this thread its CPU on a busy machine, and that belongs to "data".
        guard let batch = loader.next(batchSize: batchSize, recycling: held) else { held = nil; return nil }
        held = batch
        guard let shard else {
            return StepBatch(x: batch.x, labels: UnsafePointer(batch.labels), count: batch.count, globalCount: batch.count, endsEpoch: batch.endsEpoch)
        }
        let n = batch.count
        let lo = rank * n / ranks, hi = (rank + 1) * n / ranks
        shard.resize([hi - lo] + batch.sampleShape)
        shard.data.update(from: batch.x.data + lo * sampleSize, count: (hi - lo) * sampleSize)
        return StepBatch(x: shard, labels: UnsafePointer(batch.labels + lo), count: hi - lo, globalCount: n, endsEpoch: batch.endsEpoch)
    }

    /// Gives back the held batch and stops the loader thread.
    func close() {
        if let b = held { loader.recycle(b); held = nil }
        loader.stop()
    }
}
