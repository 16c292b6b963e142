import CKernels
import Synchronization

/// The decoder's worker threads: `count - 1` JoinableThreads plus the caller, which run one
/// parallel region at a time (`run`), each worker taking its share `index` of `count`. A decode
/// step runs ~6 regions per layer, so hand-off cost matters more than for the batch workloads:
/// workers spin (x86 `pause`) for about `spinLimit` iterations after a region, then park on a
/// Monitor until the next one; the caller spins until all shares are done.
public final class DecoderThreads: @unchecked Sendable {
    public let count: Int
    private let generation = Atomic<Int>(0)
    private let finished = Atomic<Int>(0)
    private let parked = Atomic<Int>(0)
    private let stopping = Atomic<Bool>(false)
    private let monitor = Monitor()
    private var task: ((Int) -> Void)?
    private var workers: [JoinableThread] = []
    /// Spin iterations (each a `pause`, ~10–40 ns) before a worker parks.
    public var spinLimit = 100_000

    public init(count: Int) {
        precondition(count >= 1, "DecoderThreads: count must be ≥ 1")
        self.count = count
        for w in 1..<count {
            workers.append(JoinableThread(name: "inftop-dec\(w)") { [unowned self] in self.loop(index: w) })
        }
    }

    deinit {
        stopping.store(true, ordering: .sequentiallyConsistent)
        generation.wrappingAdd(1, ordering: .sequentiallyConsistent)
        monitor.locked { monitor.broadcast() }
        for w in workers { w.join() }
    }

    /// Runs `body(index)` for index in 0..<count, index 0 on the calling thread; returns when all are done.
    public func run(_ body: @escaping (Int) -> Void) {
        if count == 1 { body(0); return }
        task = body
        finished.store(0, ordering: .relaxed)
        generation.wrappingAdd(1, ordering: .sequentiallyConsistent)
        if parked.load(ordering: .sequentiallyConsistent) > 0 { monitor.locked { monitor.broadcast() } }
        body(0)
        var spins = 0
        while finished.load(ordering: .acquiring) < count - 1 {
            spins += 1
            if spins < 1_000_000 { ck_pause() } else { sched_yield_() }
        }
        task = nil
    }

    private func loop(index: Int) {
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
            task?(index)
            finished.wrappingAdd(1, ordering: .releasing)
        }
    }
}

#if canImport(Glibc)
import Glibc
@inline(__always) func sched_yield_() { _ = sched_yield() }
#endif
