import CKernels
import Dispatch
import InftopTelemetry
import Synchronization
#if canImport(Glibc)
import Glibc
#endif

/// The process's compute workers: `cores − 1` persistent threads that every parallel kernel
/// (GEMM splits, the layers' chunked loops, BERT's rows and heads) runs its tasks on, with the
/// caller taking part — the one parallel-for (`ParallelChunks.run` and `Gemm.split` call it).
///
/// Why not libdispatch's apply: it parks its worker after every call, so each split GEMM paid a
/// futex wake and a futex wait (about two syscalls per call, PLATFORM.md) and MiniLM's p90 ran
/// 1.3× its p50. Here an idle worker spins for `spinNanos` (with PAUSE) before it parks on a
/// condition variable, as OpenBLAS's threads do, so back-to-back kernels of one forward hand off
/// through a shared counter alone. Tasks are claimed from an atomic counter and the caller claims
/// them too, so a worker that is slow to wake delays nothing: the caller just runs more of them.
///
/// One job at a time: a call made while the pool is busy (another workload's kernel, or a task
/// that itself asks for parallelism) runs its tasks on the calling thread. No allocation per
/// call; the body is borrowed for the call's duration only.
///
/// `shared` serves the layers and BERT; a workload that needs threads of its own (the decoder,
/// whose thread count is a knob and whose ~180 regions per token must not fall back to the
/// caller while training holds `shared`) makes its own instance and `shutdown()`s it.
final class WorkerPool: @unchecked Sendable {
    /// Sized from the cores this process may use; workers start on first use.
    static let shared = WorkerPool(workers: max(0, Int(sysconf(Int32(_SC_NPROCESSORS_ONLN))) - 1))

    /// How long an idle worker spins before it parks (a forward's next kernel is microseconds
    /// away; a serving gap of milliseconds parks it). `INFTOP_SPIN_US` overrides it (benchmarks).
    static let spinNanos: UInt64 = environment("INFTOP_SPIN_US").flatMap { UInt64($0) }.map { $0 * 1000 } ?? 50_000

    /// `INFTOP_PARALLEL=dispatch` (benchmarks only): libdispatch's apply instead of the pool, for
    /// same-run comparisons with what the pool replaced.
    static let useDispatch = environment("INFTOP_PARALLEL") == "dispatch"

    private static func environment(_ name: String) -> String? { getenv(name).map { String(cString: $0) } }

    let workerCount: Int
    private let generation = Atomic<Int>(0)
    private let busy = Atomic<Bool>(false)
    private let finished = Atomic<Bool>(true)
    private let active = Atomic<Int>(0)
    private let next = Atomic<Int>(0)
    private let done = Atomic<Int>(0)
    private let sleepers = Atomic<Int>(0)
    private let stopping = Atomic<Bool>(false)
    /// The current job, a `(task, slot) -> Void`; written only while `finished` is true and no
    /// worker is `active`.
    private nonisolated(unsafe) var body: UnsafeRawPointer?
    private nonisolated(unsafe) var tasks = 0
    private let mutex = UnsafeMutablePointer<pthread_mutex_t>.allocate(capacity: 1)
    private let wake = UnsafeMutablePointer<pthread_cond_t>.allocate(capacity: 1)
    private let startOnce = Locked<[JoinableThread]>([])

    /// Its threads' names, `\(threadName)\(w)` (`top -H` shows them).
    let threadName: String

    init(workers: Int, threadName: String = "inftop-worker") {
        workerCount = workers
        self.threadName = threadName
        pthread_mutex_init(mutex, nil)
        pthread_cond_init(wake, nil)
    }

    /// Only after `shutdown()`: a running worker holds the pool strongly (its loop is a method
    /// call on it), so the last release, and this, come after its threads were joined.
    deinit {
        pthread_cond_destroy(wake); pthread_mutex_destroy(mutex)
        wake.deallocate(); mutex.deallocate()
    }

    /// Runs `body(i)` for every i in 0..<count, in parallel over the workers and the caller;
    /// returns when all have returned. `count` ≤ 1, no workers, or a busy pool: on the caller.
    func run(_ count: Int, _ body: (Int) -> Void) {
        if count <= 0 { return }
        if Self.useDispatch && count > 1 {
            withoutActuallyEscaping(body) { body in
                nonisolated(unsafe) let run = body
                DispatchQueue.concurrentPerform(iterations: count) { run($0) }
            }
            return
        }
        run(count) { i, _ in body(i) }
    }

    /// Runs `body(i, slot)` for every i in 0..<count, as `run`, where `slot` in 0...workerCount
    /// names the thread (0 = the caller, w + 1 = worker w), so a task may use per-thread scratch.
    /// Slots are distinct within one call; a pool called from two threads at once gives the
    /// second caller slot 0 too, so per-slot scratch needs a pool used from one thread at a time.
    func run(_ count: Int, _ body: (Int, Int) -> Void) {
        if count <= 0 { return }
        if count == 1 || workerCount == 0 || !busy.compareExchange(expected: false, desired: true, ordering: .acquiring).exchanged {
            for i in 0..<count { body(i, 0) }
            return
        }
        startWorkersIfNeeded()
        withoutActuallyEscaping(body) { body in
            withUnsafePointer(to: body) { bp in
                self.body = UnsafeRawPointer(bp)
                tasks = count
                next.store(0, ordering: .relaxed)
                done.store(0, ordering: .relaxed)
                finished.store(false, ordering: .sequentiallyConsistent)
                generation.wrappingAdd(1, ordering: .sequentiallyConsistent)
                if sleepers.load(ordering: .sequentiallyConsistent) > 0 {
                    pthread_mutex_lock(mutex); pthread_cond_broadcast(wake); pthread_mutex_unlock(mutex)
                }
                work(bp.pointee, count, slot: 0)
                var spins = 0
                while done.load(ordering: .acquiring) < count { spins += 1; if spins & 1023 == 0 { sched_yield() } else { ck_pause() } }
                // No worker may still be about to read this job when it goes out of scope.
                finished.store(true, ordering: .sequentiallyConsistent)
                while active.load(ordering: .sequentiallyConsistent) != 0 { ck_pause() }
                self.body = nil
            }
        }
        busy.store(false, ordering: .releasing)
    }

    /// Claims and runs tasks until none is left.
    @inline(__always)
    private func work(_ body: (Int, Int) -> Void, _ count: Int, slot: Int) {
        while true {
            let i = next.wrappingAdd(1, ordering: .relaxed).oldValue
            if i >= count { return }
            body(i, slot)
            done.wrappingAdd(1, ordering: .releasing)
        }
    }

    /// Stops and joins the workers (an instance's owner calls it once, from its deinit; no call
    /// may be running). `shared` lives as long as the process.
    func shutdown() {
        stopping.store(true, ordering: .sequentiallyConsistent)
        generation.wrappingAdd(1, ordering: .sequentiallyConsistent)
        pthread_mutex_lock(mutex); pthread_cond_broadcast(wake); pthread_mutex_unlock(mutex)
        let threads = startOnce.withLock { t in defer { t = [] }; return t }
        for t in threads { t.join() }
    }

    private func workerLoop(slot: Int) {
        var seen = generation.load(ordering: .acquiring)
        while true {
            // Spin, then park, until a new job is published.
            let spinStart = clockNanos()
            var spins = 0
            while generation.load(ordering: .acquiring) == seen && !stopping.load(ordering: .relaxed) {
                spins += 1
                if spins & 63 != 0 { ck_pause(); continue }
                if clockNanos() &- spinStart < Self.spinNanos { continue }
                pthread_mutex_lock(mutex)
                sleepers.wrappingAdd(1, ordering: .sequentiallyConsistent)
                while generation.load(ordering: .sequentiallyConsistent) == seen && !stopping.load(ordering: .sequentiallyConsistent) {
                    pthread_cond_wait(wake, mutex)
                }
                sleepers.wrappingSubtract(1, ordering: .sequentiallyConsistent)
                pthread_mutex_unlock(mutex)
            }
            seen = generation.load(ordering: .acquiring)
            if stopping.load(ordering: .acquiring) { return }
            active.wrappingAdd(1, ordering: .sequentiallyConsistent)
            if !finished.load(ordering: .sequentiallyConsistent), let raw = body {
                let job = raw.assumingMemoryBound(to: ((Int, Int) -> Void).self).pointee
                work(job, tasks, slot: slot)
            }
            active.wrappingSubtract(1, ordering: .sequentiallyConsistent)
        }
    }

    private func startWorkersIfNeeded() {
        startOnce.withLock { threads in
            guard threads.isEmpty else { return }
            for w in 0..<workerCount {
                threads.append(JoinableThread(name: "\(threadName)\(w)") { [unowned self] in self.workerLoop(slot: w + 1) })
            }
        }
    }

    @inline(__always)
    private func clockNanos() -> UInt64 {
        var ts = timespec()
        clock_gettime(CLOCK_MONOTONIC, &ts)
        return UInt64(ts.tv_sec) &* 1_000_000_000 &+ UInt64(ts.tv_nsec)
    }
}
