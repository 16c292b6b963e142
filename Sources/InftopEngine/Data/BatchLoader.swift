import InftopTelemetry
/// Shuffled training mini-batches made ahead of time on loader threads (0, 1 or 2).
///
/// The loader threads convert bytes to fp32 (x/255) into a small pool of preallocated `Batch`
/// buffers (`buffers`, 2–8), so a training step usually just takes a ready batch. When none is
/// ready, the consumer fills the next batch itself — or redoes the oldest one a loader is filling,
/// after `patienceNanos` (0 by default) — rather than block: on a busy machine a thread that
/// sleeps waits milliseconds for a CPU again, while converting a batch takes microseconds
/// (64 images: ~6 µs). The data wait stays near one batch's conversion.
///
/// Each epoch visits every sample exactly once in an order fixed by `(seed, epoch)`
/// (SeededRandom's Fisher–Yates); the last batch of an epoch holds what is left and has
/// `endsEpoch` set. Batch size can change at any step: `next(batchSize:)` with a new size drops
/// the batches made at the old size and rewinds to the first sample not yet handed out, so no
/// sample of the epoch is skipped or repeated. Buffers grow once to the largest size asked for.
///
/// With two loader threads fills finish out of order; `ready` is kept sorted by position in the
/// visiting order, and the consumer takes its first batch only when no fill of an earlier
/// position is still in progress, so the batches come out exactly as with one thread or none.
///
/// `stop()` (also run by deinit) wakes and joins the threads; `next` then returns nil.
public final class BatchLoader: @unchecked Sendable {
    public let dataset: ImageDataset
    public let sampleShape: [Int]
    public let seed: UInt64
    public let shuffled: Bool
    /// How long the consumer waits for a fill in progress before redoing it itself (0: at once;
    /// the loader's copy is then dropped, a few µs of wasted work).
    public let patienceNanos: UInt64
    /// Applied to every sample as its batch is filled; nil = none.
    public let augmentation: Augmentation?
    /// The whole dataset converted to fp32 once (`[count, rows·cols]`), when preprocessing is
    /// cached: a fill then copies floats instead of converting bytes. nil = on the fly.
    private let cache: Tensor?

    /// A claimed piece of work: fill `batch` with `n` samples from `start` of `epoch`'s order.
    private struct Job {
        let batch: Batch, generation: Int, epoch: Int, start: Int, n: Int, orderSlot: Int, id: Int
    }

    /// A fill in progress; `dropped` when its result must be thrown away (the consumer redid
    /// it, or the batch size changed since it was claimed).
    private struct Claim {
        let id: Int, epoch: Int, start: Int, n: Int, orderSlot: Int
        var dropped = false
    }

    private let monitor = Monitor()
    // Everything below is guarded by `monitor`.
    private var free: [Batch] = []
    /// Filled batches at the current size, sorted by visiting order (`(epoch, start)`).
    private var ready: [Batch] = []
    private var requestedSize: Int
    /// Bumped when the size changes; fills claimed under an older one are dropped.
    private var generation = 0
    private var stopping = false
    /// The next sample to claim.
    private var cursorEpoch: Int
    private var cursorStart = 0
    /// Fills in progress, oldest first.
    private var inFlight: [Claim] = []
    private var nextClaimID = 0
    private var fillsByConsumer = 0
    private var fillsStolen = 0
    /// Threads inside `monitor.wait` (a broadcast is needed only then).
    private var waiters = 0
    /// Two visiting orders (epochs e and e+1 can be filled at the same time), which epoch each
    /// holds, and how many fills are reading it.
    private let orders: [UnsafeMutablePointer<Int32>]
    private var orderEpoch = [-1, -1]
    private var orderReaders = [0, 0]
    private var threads: [JoinableThread] = []
    /// Each loader thread's track in traces ("loader", "loader 2"; a SpanTap has one producer):
    /// one "fill" span per batch it converts (exports only).
    private let taps: [SpanTap]
    /// The "fill" site of each tap.
    private let fillSites: [Int32]
    /// Loader threads (0…2).
    public let loaderThreads: Int

    /// - Parameters:
    ///   - sampleShape: shape of one sample in `Batch.x`; nil means `[rows·cols]`.
    ///   - batchSize: the first batch size (1…), changeable per `next` call.
    ///   - buffers: batch buffers in the pool (2…8), the consumer's included.
    ///   - shuffled: false keeps the dataset order (for tests and debugging).
    ///   - firstEpoch: the epoch number to start at (its order is that epoch's).
    ///   - loaderThreads: 0 runs no loader thread (the consumer fills every batch itself), 1 or 2.
    ///   - patienceNanos: see `patienceNanos`.
    ///   - augmentation: see `augmentation`.
    ///   - cachePreprocessed: convert the whole dataset to fp32 here, once (4 bytes a pixel:
    ///     188 MB for Fashion-MNIST's 60 000 images), instead of each batch as it is filled.
    public init(dataset: ImageDataset, sampleShape: [Int]? = nil, batchSize: Int, seed: UInt64,
                buffers: Int = 3, shuffled: Bool = true, firstEpoch: Int = 0, loaderThreads: Int = 1,
                patienceNanos: UInt64 = 0, augmentation: Augmentation? = nil, cachePreprocessed: Bool = false) {
        self.patienceNanos = patienceNanos
        self.augmentation = augmentation
        if cachePreprocessed {
            let t = Tensor([dataset.count, dataset.sampleSize], name: "dataset.fp32", owner: .data)
            ImageDataset.convert(dataset.pixels, t.data, dataset.count * dataset.sampleSize)
            cache = t
        } else {
            cache = nil
        }
        precondition(batchSize >= 1, "BatchLoader: batch size must be ≥ 1, got \(batchSize)")
        precondition((2...8).contains(buffers), "BatchLoader: buffers must be 2…8, got \(buffers)")
        precondition((0...2).contains(loaderThreads), "BatchLoader: loader threads must be 0…2, got \(loaderThreads)")
        let shape = sampleShape ?? [dataset.sampleSize]
        precondition(shape.reduce(1, *) == dataset.sampleSize, "BatchLoader: sample shape \(shape) does not hold \(dataset.rows)×\(dataset.cols) images")
        self.dataset = dataset
        self.sampleShape = shape
        self.seed = seed
        self.shuffled = shuffled
        self.requestedSize = batchSize
        self.cursorEpoch = firstEpoch
        orders = (0..<2).map { _ in
            let p = UnsafeMutablePointer<Int32>.allocate(capacity: dataset.count)
            p.initialize(repeating: 0, count: dataset.count)
            return p
        }
        free.reserveCapacity(buffers)
        ready.reserveCapacity(buffers)
        inFlight.reserveCapacity(buffers)
        for i in 0..<buffers { free.append(Batch(sampleShape: shape, capacity: batchSize, name: "loader.x\(i)")) }
        self.loaderThreads = loaderThreads
        taps = (0..<loaderThreads).map { SpanTap(track: $0 == 0 ? "loader" : "loader \($0 + 1)") }
        fillSites = taps.map { $0.addSite("fill") }
        for i in 0..<loaderThreads {
            // unowned(unsafe): deinit joins the threads before any member goes away, and a plain
            // `unowned` would trap when a thread touches self while deinit waits for it.
            threads.append(JoinableThread(name: "inftop-loader\(i)") { [unowned(unsafe) self] in self.run(i) })
        }
    }

    deinit {
        stop()
        for p in orders { p.deallocate() }
    }

    /// Steps in one epoch at `batchSize` (the last one may be short).
    public func stepsPerEpoch(batchSize: Int) -> Int { (dataset.count + batchSize - 1) / batchSize }

    /// The next batch of `batchSize` samples (fewer at the end of an epoch). Returns nil once
    /// `stop()` was called. Give it back with `recycle`, or as `recycling` of the next call
    /// (one lock and one wake-up of the loader per step instead of two).
    public func next(batchSize: Int, recycling previous: Batch? = nil) -> Batch? {
        precondition(batchSize >= 1, "BatchLoader: batch size must be ≥ 1, got \(batchSize)")
        monitor.locked {
            if let previous { free.append(previous); wake() }
            if batchSize != requestedSize {
                requestedSize = batchSize
                generation &+= 1
                // Rewind to the oldest sample not handed out: the first ready batch or the oldest
                // fill in progress, whichever comes first in the visiting order.
                var oldest = ready.first.map { ($0.epoch, $0.start) }
                if let c = oldestPending(), oldest.map({ (c.epoch, c.start) < $0 }) ?? true {
                    oldest = (c.epoch, c.start)
                }
                if let oldest { (cursorEpoch, cursorStart) = oldest }
                free.append(contentsOf: ready)
                ready.removeAll(keepingCapacity: true)
                // Fills in progress are at the old size: drop them when done, never take them over.
                for i in inFlight.indices { inFlight[i].dropped = true }
                wake()
            }
        }
        while true {
            let (batch, job): (Batch?, Job?) = monitor.locked {
                var waited = patienceNanos == 0
                while true {
                    if stopping { return (nil, nil) }
                    let pending = oldestPendingIndex()
                    if let first = ready.first,
                       pending.map({ (first.epoch, first.start) < (inFlight[$0].epoch, inFlight[$0].start) }) ?? true {
                        return (ready.removeFirst(), nil)
                    }
                    if !free.isEmpty {
                        // The next batch is neither ready nor being made: make it here instead of waiting.
                        if let pending {
                            // A loader is on it but has not finished within a wait (it may have
                            // lost its CPU): redo that fill here and drop the loader's copy.
                            if waited { return (nil, steal(pending)) }
                        } else if let job = claim() {
                            return (nil, job)
                        }
                    }
                    waiters += 1
                    waited = !monitor.wait(nanos: waited ? 1_000_000 : patienceNanos) || waited
                    waiters -= 1
                }
            }
            if let batch { return batch }
            guard let job else { return nil }
            fill(job)
            // Only this thread changes the generation, so the fill is never stale; fills made
            // meanwhile by the loaders come later in the order and stay in `ready`.
            monitor.locked { finish(job); fillsByConsumer += 1; wake() }
            return job.batch
        }
    }


    /// Batches the consumer filled itself (nothing was ready), and how many of those redid a
    /// fill the loader had started but not finished in time.
    public var consumerFills: (total: Int, stolen: Int) { monitor.locked { (fillsByConsumer, fillsStolen) } }

    /// Gives a batch from `next` back to the pool.
    public func recycle(_ batch: Batch) {
        monitor.locked {
            free.append(batch)
            wake()
        }
    }

    /// Stops and joins the loader threads (idempotent). Batches still held stay valid.
    public func stop() {
        monitor.locked {
            stopping = true
            monitor.broadcast()
        }
        for t in threads { t.join() }
        threads = []
    }

    /// Loader thread `index`: claim, fill, publish, while there are free buffers.
    private func run(_ index: Int) {
        let tap = taps[index], fillSite = fillSites[index]
        while true {
            let job: Job? = monitor.locked {
                while true {
                    if stopping { return nil }
                    if !free.isEmpty, let job = claim() { return job }
                    waiters += 1
                    monitor.wait()
                    waiters -= 1
                }
            }
            guard let job else { return }
            let t0 = tap.isOn ? monotonicNanos() : 0
            fill(job)
            if tap.isOn { tap.interval(site: fillSite, phase: .data, t0: t0, nanos: monotonicNanos() &- t0) }
            monitor.locked {
                let dropped = finish(job)
                if job.generation == generation && !dropped {
                    // In visiting order (another loader may have finished a later fill first);
                    // the consumer's own fills never go here.
                    let key = (job.epoch, job.start)
                    let at = ready.firstIndex(where: { key < ($0.epoch, $0.start) }) ?? ready.endIndex
                    ready.insert(job.batch, at: at)
                } else {
                    free.append(job.batch)  // made at a size nobody wants any more, or redone by the consumer
                }
                wake()
            }
        }
    }

    /// The fill in progress (not dropped) that comes first in the visiting order (under the lock).
    private func oldestPendingIndex() -> Int? {
        var best: Int?
        for i in inFlight.indices where !inFlight[i].dropped {
            if let b = best, (inFlight[b].epoch, inFlight[b].start) <= (inFlight[i].epoch, inFlight[i].start) { continue }
            best = i
        }
        return best
    }

    private func oldestPending() -> Claim? { oldestPendingIndex().map { inFlight[$0] } }

    /// Wakes the other threads if they sleep (under the lock): a futex wake is a system call, and
    /// it can hand this thread's CPU to the woken one.
    @inline(__always)
    private func wake() { if waiters > 0 { monitor.broadcast() } }

    /// Takes a free buffer and the next samples (under the lock). Nil when the order slot the
    /// next epoch needs is still being read by another fill (rare; the caller waits).
    private func claim() -> Job? {
        let epoch = cursorEpoch, start = cursorStart
        let slot = epoch & 1
        if orderEpoch[slot] != epoch {
            guard orderReaders[slot] == 0 else { return nil }
            makeOrder(epoch: epoch, into: orders[slot])
            orderEpoch[slot] = epoch
        }
        let n = min(requestedSize, dataset.count - start)
        if start + n == dataset.count { (cursorEpoch, cursorStart) = (epoch + 1, 0) } else { cursorStart = start + n }
        orderReaders[slot] += 1
        nextClaimID &+= 1
        inFlight.append(Claim(id: nextClaimID, epoch: epoch, start: start, n: n, orderSlot: slot))
        return Job(batch: free.removeLast(), generation: generation, epoch: epoch, start: start, n: n, orderSlot: slot, id: nextClaimID)
    }

    /// Takes over fill `i` in progress (under the lock): the same samples into a free
    /// buffer; the original's result will be dropped.
    private func steal(_ i: Int) -> Job {
        inFlight[i].dropped = true
        fillsStolen += 1
        let c = inFlight[i]
        orderReaders[c.orderSlot] += 1
        nextClaimID &+= 1
        inFlight.append(Claim(id: nextClaimID, epoch: c.epoch, start: c.start, n: c.n, orderSlot: c.orderSlot))
        return Job(batch: free.removeLast(), generation: generation, epoch: c.epoch, start: c.start, n: c.n, orderSlot: c.orderSlot, id: nextClaimID)
    }

    /// Converts the job's samples (outside the lock).
    private func fill(_ job: Job) {
        let b = job.batch
        if let cache {
            b.fill(cache: cache.data, labels: dataset, indices: orders[job.orderSlot] + job.start, n: job.n)
        } else {
            b.fill(dataset, indices: orders[job.orderSlot] + job.start, n: job.n)
        }
        if let a = augmentation {
            a.apply(b.x.data, n: job.n, rows: dataset.rows, cols: dataset.cols, seed: seed, epoch: job.epoch, start: job.start)
        }
        b.epoch = job.epoch
        b.start = job.start
        b.endsEpoch = job.start + job.n == dataset.count
    }

    /// Marks a fill done (under the lock); returns whether its result must be dropped.
    @discardableResult
    private func finish(_ job: Job) -> Bool {
        orderReaders[job.orderSlot] -= 1
        guard let i = inFlight.firstIndex(where: { $0.id == job.id }) else { return false }
        return inFlight.remove(at: i).dropped
    }

    /// The visiting order of `epoch`: a Fisher–Yates shuffle seeded by (seed, epoch), or 0..<count.
    private func makeOrder(epoch: Int, into order: UnsafeMutablePointer<Int32>) {
        let n = dataset.count
        for i in 0..<n { order[i] = Int32(i) }
        if shuffled {
            var rng = SeededRandom(seed: seed &+ UInt64(truncatingIfNeeded: epoch) &* 0x9E37_79B9_7F4A_7C15)
            rng.shuffle(UnsafeMutableBufferPointer(start: order, count: n))
        }
    }
}
