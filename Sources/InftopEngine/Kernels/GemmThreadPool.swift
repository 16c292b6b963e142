import Dispatch
import Synchronization
import InftopTelemetry
#if canImport(Glibc)
import Glibc
#endif

/// A small persistent pool for splitting one GEMM across threads. The caller runs part 0 itself
/// and workers 1…count−1 run the others, so `count` parts use `count − 1` extra threads.
///
/// Why not `DispatchQueue.concurrentPerform`: see `Gemm.ParallelMode` (both are kept and
/// measured by `inftop bench`). Workers spin briefly after a job (the next GEMM of a training
/// step usually follows within microseconds) and then sleep on a semaphore, so an idle pool costs
/// no CPU.
///
/// One job at a time: a second caller that finds the pool busy (training and inference
/// threads both multithreading) runs all its parts on its own thread instead of waiting, which
/// keeps results identical and never deadlocks.
final class GemmThreadPool: @unchecked Sendable {
    static let shared = GemmThreadPool()

    /// How long an idle worker polls for the next job before sleeping, in nanoseconds.
    static let spinNanos: UInt64 = 50_000

    private final class Worker: @unchecked Sendable {
        /// Jobs handed to this worker so far; the worker polls it while spinning.
        let ticket = Atomic<Int>(0)
        let wake = DispatchSemaphore(value: 0)
    }

    private let busy = Atomic<Bool>(false)
    /// Parts still running on workers for the current job.
    private let pending = Atomic<Int>(0)
    /// Grows and is read only by the caller holding `busy`.
    private nonisolated(unsafe) var workers: [Worker] = []
    /// The current job; written by the caller holding `busy` before any ticket is published.
    private nonisolated(unsafe) var job: ((Int) -> Void)?

    /// Runs `body(0)`…`body(count − 1)`, in parallel when the pool is free; returns when all
    /// parts are done.
    func run(count: Int, _ body: (Int) -> Void) {
        if count <= 1 { body(0); return }
        guard busy.compareExchange(expected: false, desired: true, ordering: .acquiring).exchanged else {
            for i in 0..<count { body(i) }
            return
        }
        defer { busy.store(false, ordering: .releasing) }
        ensureWorkers(count - 1)
        withoutActuallyEscaping(body) { escapable in
            job = escapable
            pending.store(count - 1, ordering: .relaxed)
            for w in 0..<(count - 1) {
                // Release: the worker that sees the new ticket also sees `job`.
                workers[w].ticket.wrappingAdd(1, ordering: .releasing)
                workers[w].wake.signal()
            }
            escapable(0)
            // Parts are equal in size, so the wait is short: spin, yielding the core to the
            // worker if the machine is oversubscribed.
            var spins = 0
            while pending.load(ordering: .acquiring) != 0 {
                spins += 1
                if spins > 64 { sched_yield() }
            }
            job = nil
        }
    }

    private func ensureWorkers(_ n: Int) {
        while workers.count < n {
            let worker = Worker()
            let index = workers.count + 1
            workers.append(worker)
            startThread { [unowned self] in self.loop(worker, part: index) }
        }
    }

    private func loop(_ worker: Worker, part: Int) {
        var seen = 0
        while true {
            // Poll briefly so back-to-back GEMMs skip the futex wake-up; then sleep.
            let deadline = monotonicNanos() &+ GemmThreadPool.spinNanos
            while worker.ticket.load(ordering: .acquiring) == seen && monotonicNanos() < deadline {}
            worker.wake.wait()
            seen = worker.ticket.load(ordering: .acquiring)
            job!(part)
            pending.wrappingSubtract(1, ordering: .releasing)
        }
    }

    private func startThread(_ body: @escaping @Sendable () -> Void) {
        final class Box { let body: @Sendable () -> Void; init(_ b: @escaping @Sendable () -> Void) { body = b } }
        var attr = pthread_attr_t()
        pthread_attr_init(&attr)
        pthread_attr_setdetachstate(&attr, Int32(PTHREAD_CREATE_DETACHED))
        var tid = pthread_t()
        let rc = pthread_create(&tid, &attr, { raw in
            let box = Unmanaged<Box>.fromOpaque(raw!).takeRetainedValue()
            box.body()
            return nil
        }, Unmanaged.passRetained(Box(body)).toOpaque())
        pthread_attr_destroy(&attr)
        precondition(rc == 0, "Gemm: cannot start a worker thread (pthread_create \(rc))")
    }
}
