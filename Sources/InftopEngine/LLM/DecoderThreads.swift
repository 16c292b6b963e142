import CKernels
import Synchronization

/// The decoder's worker threads: `count - 1` JoinableThreads plus the caller, which run one
/// parallel region at a time (`run(chunks:)`). A region is `chunks` pieces of work handed out
/// through one atomic counter, so whoever is awake takes the next piece: on a busy machine a
/// worker that has not been scheduled yet costs nothing, the caller does its pieces (the caller
/// waits only for pieces a worker has started). A decode step runs ~180 regions, so hand-off cost
/// matters: workers spin (x86 `pause`) about `spinLimit` times after a region, then park on a
/// Monitor until the next one.
public final class DecoderThreads: @unchecked Sendable {
    private let pool: Pool
    public var count: Int { pool.count }
    /// Spin iterations (each a `pause`) before a worker parks.
    public var spinLimit: Int { get { pool.spinLimit } set { pool.spinLimit = newValue } }
    private var workers: [JoinableThread] = []

    public init(count: Int) {
        precondition(count >= 1, "DecoderThreads: count must be ≥ 1")
        let pool = Pool(count: count)
        self.pool = pool
        for w in 1..<count {
            workers.append(JoinableThread(name: "inftop-dec\(w)") { pool.loop(index: w) })
        }
    }

    deinit {
        pool.stop()
        for w in workers { w.join() }
    }

    /// Pieces to cut a region into: one per thread alone, else a few per thread so a late worker
    /// leaves less behind.
    public var chunks: Int { count == 1 ? 1 : 4 * count }

    /// Runs `body(piece, thread)` for every piece in 0..<n, `thread` in 0..<count naming the
    /// thread's own scratch; returns when all pieces are done.
    public func run(chunks n: Int, _ body: @escaping (Int, Int) -> Void) { pool.run(chunks: n, body) }
}

/// The state the workers share with the caller (the workers hold it, not the DecoderThreads, so
/// its deinit can stop and join them).
private final class Pool: @unchecked Sendable {
    let count: Int
    /// Bumped per region (wakes the workers).
    private let generation = Atomic<Int>(0)
    /// (region << 32) | next piece to take.
    private let claim = Atomic<Int>(0)
    /// Pieces finished in the current region.
    private let done = Atomic<Int>(0)
    private let parked = Atomic<Int>(0)
    private let stopping = Atomic<Bool>(false)
    private let monitor = Monitor()
    private var task: ((Int, Int) -> Void)?
    /// Pieces in the current region. Atomic (relaxed: a plain load on x86) because a worker still
    /// in `take` from the last region reads it while the caller sets the next one (TSan saw the
    /// race); a stale value is harmless, as the claim's compare-exchange names the region.
    private let total = Atomic<Int>(0)
    private var region = 0
    var spinLimit = 50_000

    init(count: Int) { self.count = count }

    func stop() {
        stopping.store(true, ordering: .sequentiallyConsistent)
        generation.wrappingAdd(1, ordering: .sequentiallyConsistent)
        monitor.locked { monitor.broadcast() }
    }

    func run(chunks n: Int, _ body: @escaping (Int, Int) -> Void) {
        if count == 1 || n <= 1 {
            for c in 0..<n { body(c, 0) }
            return
        }
        task = body
        total.store(n, ordering: .relaxed)
        region &+= 1
        done.store(0, ordering: .relaxed)
        claim.store((region & 0x7fff_ffff) << 32, ordering: .releasing)
        generation.wrappingAdd(1, ordering: .sequentiallyConsistent)
        if parked.load(ordering: .sequentiallyConsistent) > 0 { monitor.locked { monitor.broadcast() } }
        take(index: 0)
        var spins = 0
        while done.load(ordering: .acquiring) < n {
            spins += 1
            if spins < 2_000 { ck_pause() } else { sched_yield_() }
        }
        task = nil
    }

    /// Takes pieces of the current region until none is left.
    private func take(index: Int) {
        while true {
            let c = claim.load(ordering: .acquiring)
            let next = c & 0xffff_ffff
            guard next < total.load(ordering: .relaxed) else { return }
            guard claim.compareExchange(expected: c, desired: c + 1, ordering: .acquiringAndReleasing).exchanged else { continue }
            task?(next, index)
            done.wrappingAdd(1, ordering: .releasing)
        }
    }

    func loop(index: Int) {
        var seen = 0
        while true {
            var spins = 0
            while generation.load(ordering: .acquiring) == seen {
                spins += 1
                if spins < spinLimit { ck_pause(); continue }
                monitor.locked {
                    parked.wrappingAdd(1, ordering: .sequentiallyConsistent)
                    while generation.load(ordering: .sequentiallyConsistent) == seen { monitor.wait() }
                    parked.wrappingSubtract(1, ordering: .sequentiallyConsistent)
                }
            }
            seen = generation.load(ordering: .acquiring)
            if stopping.load(ordering: .acquiring) { return }
            take(index: index)
        }
    }
}

#if canImport(Glibc)
import Glibc
@inline(__always) func sched_yield_() { _ = sched_yield() }
#endif
