/// Shuffled training mini-batches made ahead of time on a loader thread.
///
/// The loader thread converts bytes to fp32 (x/255) into a small pool of preallocated `Batch`
/// buffers (`buffers`, 2–4), so a training step only takes a ready batch: the data wait is
/// near zero once the pool is warm. Each epoch visits every sample exactly once in an order
/// fixed by `(seed, epoch)` (SeededRandom's Fisher–Yates); the last batch of an epoch holds
/// what is left and has `endsEpoch` set.
///
/// Batch size can change at any step: `next(batchSize:)` with a new size drops the batches made
/// at the old size and rewinds the loader to the first sample not yet handed out, so no sample
/// of the epoch is skipped or repeated. Buffers grow once to the largest size asked for.
///
/// `stop()` (also run by deinit) wakes and joins the thread; `next` then returns nil.
public final class BatchLoader: @unchecked Sendable {
    public let dataset: ImageDataset
    public let sampleShape: [Int]
    public let seed: UInt64
    public let shuffled: Bool

    private let monitor = Monitor()
    // Shared state, guarded by `monitor`.
    private var free: [Batch] = []
    private var ready: [Batch] = []
    private var requestedSize: Int
    private var generation = 0
    private var rewindTo: (epoch: Int, start: Int)? = nil
    private var stopping = false
    private var thread: JoinableThread?

    // Loader-thread state.
    private var cursorEpoch: Int
    private var cursorStart = 0
    private let order: UnsafeMutablePointer<Int32>
    private var orderEpoch = -1

    /// - Parameters:
    ///   - sampleShape: shape of one sample in `Batch.x`; nil means `[rows·cols]`.
    ///   - batchSize: the first batch size (1…), changeable per `next` call.
    ///   - buffers: batch buffers in the pool (2…8), the consumer's included.
    ///   - shuffled: false keeps the dataset order (for tests and debugging).
    ///   - firstEpoch: the epoch number to start at (its order is that epoch's).
    public init(dataset: ImageDataset, sampleShape: [Int]? = nil, batchSize: Int, seed: UInt64,
                buffers: Int = 3, shuffled: Bool = true, firstEpoch: Int = 0) {
        precondition(batchSize >= 1, "BatchLoader: batch size must be ≥ 1, got \(batchSize)")
        precondition((2...8).contains(buffers), "BatchLoader: buffers must be 2…8, got \(buffers)")
        let shape = sampleShape ?? [dataset.sampleSize]
        precondition(shape.reduce(1, *) == dataset.sampleSize, "BatchLoader: sample shape \(shape) does not hold \(dataset.rows)×\(dataset.cols) images")
        self.dataset = dataset
        self.sampleShape = shape
        self.seed = seed
        self.shuffled = shuffled
        self.requestedSize = batchSize
        self.cursorEpoch = firstEpoch
        order = .allocate(capacity: dataset.count)
        order.initialize(repeating: 0, count: dataset.count)
        free.reserveCapacity(buffers)
        ready.reserveCapacity(buffers)
        for i in 0..<buffers { free.append(Batch(sampleShape: shape, capacity: batchSize, name: "loader.x\(i)")) }
        // unowned(unsafe): deinit joins the thread before any member goes away, and a plain
        // `unowned` would trap when the thread touches self while deinit waits for it.
        thread = JoinableThread(name: "inftop-loader") { [unowned(unsafe) self] in self.run() }
    }

    deinit {
        stop()
        order.deallocate()
    }

    /// Steps in one epoch at `batchSize` (the last one may be short).
    public func stepsPerEpoch(batchSize: Int) -> Int { (dataset.count + batchSize - 1) / batchSize }

    /// The next batch of `batchSize` samples (fewer at the end of an epoch); blocks until the
    /// loader has one. Returns nil once `stop()` was called. Give it back with `recycle`.
    ///
    /// `recycling` gives back the previous batch in the same critical section (one lock and
    /// one wake-up of the loader per step instead of two).
    public func next(batchSize: Int, recycling previous: Batch? = nil) -> Batch? {
        precondition(batchSize >= 1, "BatchLoader: batch size must be ≥ 1, got \(batchSize)")
        return monitor.locked { () -> Batch? in
            if let previous {
                free.append(previous)
                monitor.broadcast()
            }
            if batchSize != requestedSize {
                requestedSize = batchSize
                generation &+= 1
                if let first = ready.first {
                    // Rewind to the oldest batch not handed out; the loader redoes it at the new size.
                    if rewindTo == nil { rewindTo = (first.epoch, first.start) }
                    free.append(contentsOf: ready)
                    ready.removeAll(keepingCapacity: true)
                    monitor.broadcast()
                }
            }
            while ready.isEmpty && !stopping {
                monitor.wait()
            }
            if stopping { return nil }
            return ready.removeFirst()
        }
    }

    /// Gives a batch from `next` back to the pool.
    public func recycle(_ batch: Batch) {
        monitor.locked {
            free.append(batch)
            monitor.broadcast()
        }
    }

    /// Stops and joins the loader thread (idempotent). Batches still held stay valid.
    public func stop() {
        monitor.locked {
            stopping = true
            monitor.broadcast()
        }
        thread?.join()
        thread = nil
    }

    /// The loader thread: take a free buffer, fill it from the cursor, publish it.
    private func run() {
        while true {
            let job: (batch: Batch, generation: Int, size: Int, epoch: Int, start: Int)? = monitor.locked {
                while free.isEmpty && !stopping { monitor.wait() }
                if stopping { return nil }
                if let r = rewindTo {
                    cursorEpoch = r.epoch
                    cursorStart = r.start
                    rewindTo = nil
                }
                return (free.removeLast(), generation, requestedSize, cursorEpoch, cursorStart)
            }
            guard let job else { return }
            let n = min(job.size, dataset.count - job.start)
            if orderEpoch != job.epoch { makeOrder(epoch: job.epoch) }
            job.batch.fill(dataset, indices: order + job.start, n: n)
            job.batch.epoch = job.epoch
            job.batch.start = job.start
            job.batch.endsEpoch = job.start + n == dataset.count
            if job.batch.endsEpoch { cursorEpoch = job.epoch + 1; cursorStart = 0 } else { cursorStart = job.start + n }
            monitor.locked {
                if job.generation == generation {
                    ready.append(job.batch)
                } else {
                    // Made at a size nobody wants any more: redo from its first sample.
                    free.append(job.batch)
                    if rewindTo == nil { rewindTo = (job.epoch, job.start) }
                }
                monitor.broadcast()
            }
        }
    }

    /// The visiting order of `epoch`: a Fisher–Yates shuffle seeded by (seed, epoch), or 0..<count.
    private func makeOrder(epoch: Int) {
        let n = dataset.count
        for i in 0..<n { order[i] = Int32(i) }
        if shuffled {
            var rng = SeededRandom(seed: seed &+ UInt64(truncatingIfNeeded: epoch) &* 0x9E37_79B9_7F4A_7C15)
            rng.shuffle(UnsafeMutableBufferPointer(start: order, count: n))
        }
        orderEpoch = epoch
    }
}
