#if canImport(Glibc)
import Glibc
#endif

/// Names the calling thread as htop, top -H and perf show it: Linux keeps at most 15 bytes
/// (longer names are cut). Written to /proc/thread-self/comm because Glibc as Swift imports it
/// has no `pthread_setname_np` (it needs _GNU_SOURCE) and `prctl` is variadic; Foundation's
/// `Thread.name` does not reach the kernel on Linux. Best effort: a failure leaves the name.
public func nameCurrentThread(_ name: String) {
    let fd = open("/proc/thread-self/comm", O_WRONLY)
    if fd < 0 { return }
    defer { close(fd) }
    let bytes = Array(name.utf8.prefix(15))
    _ = bytes.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
}

/// A named POSIX thread that can be joined (Foundation's `Thread` cannot), for the long-lived
/// loops: the data loader, the training loop. The OS thread gets `name` (`nameCurrentThread`).
public final class JoinableThread: @unchecked Sendable {
    private final class Body { let run: @Sendable () -> Void; let name: String; init(_ r: @escaping @Sendable () -> Void, _ n: String) { run = r; name = n } }
    private var tid = pthread_t()
    private var joined = false
    private let lock = UnsafeMutablePointer<pthread_mutex_t>.allocate(capacity: 1)

    /// Starts `body` on a new thread at once.
    public init(name: String, _ body: @escaping @Sendable () -> Void) {
        pthread_mutex_init(lock, nil)
        let ctx = Unmanaged.passRetained(Body(body, name)).toOpaque()
        let rc = pthread_create(&tid, nil, { raw in
            let b = Unmanaged<Body>.fromOpaque(raw!).takeRetainedValue()
            nameCurrentThread(b.name)
            b.run()
            return nil
        }, ctx)
        precondition(rc == 0, "JoinableThread '\(name)': pthread_create failed (\(rc))")
    }

    deinit {
        // The last reference can go on the thread itself (a staged plan dropped while its
        // preparing thread still held it): that thread cannot join itself, so it is detached
        // and its resources go when it returns.
        pthread_mutex_lock(lock)
        let selfJoin = !joined && pthread_equal(tid, pthread_self()) != 0
        if selfJoin { pthread_detach(tid); joined = true }
        pthread_mutex_unlock(lock)
        if !selfJoin { join() }
        pthread_mutex_destroy(lock)
        lock.deallocate()
    }

    /// Waits for the body to return. Safe to call more than once and from several threads;
    /// must not be called from the thread itself.
    public func join() {
        pthread_mutex_lock(lock)
        defer { pthread_mutex_unlock(lock) }
        if joined { return }
        precondition(pthread_equal(tid, pthread_self()) == 0, "JoinableThread: a thread cannot join itself")
        pthread_join(tid, nil)
        joined = true
    }
}

/// A mutex with one condition variable (pthread), for producer/consumer hand-offs.
public final class Monitor: @unchecked Sendable {
    private let mutex = UnsafeMutablePointer<pthread_mutex_t>.allocate(capacity: 1)
    private let cond = UnsafeMutablePointer<pthread_cond_t>.allocate(capacity: 1)

    public init() {
        pthread_mutex_init(mutex, nil)
        var attr = pthread_condattr_t()
        pthread_condattr_init(&attr)
        pthread_condattr_setclock(&attr, CLOCK_MONOTONIC)
        pthread_cond_init(cond, &attr)
        pthread_condattr_destroy(&attr)
    }

    deinit {
        pthread_cond_destroy(cond)
        pthread_mutex_destroy(mutex)
        cond.deallocate()
        mutex.deallocate()
    }

    /// Runs `body` holding the mutex.
    @inline(__always)
    public func locked<R>(_ body: () throws -> R) rethrows -> R {
        pthread_mutex_lock(mutex)
        defer { pthread_mutex_unlock(mutex) }
        return try body()
    }

    /// Waits for a `broadcast` (or a spurious wake-up); call only inside `locked`.
    public func wait() { pthread_cond_wait(cond, mutex) }

    /// Waits at most `nanos` for a `broadcast`; call only inside `locked`. Returns false on timeout.
    @discardableResult
    public func wait(nanos: UInt64) -> Bool {
        var ts = timespec()
        clock_gettime(CLOCK_MONOTONIC, &ts)
        let total = UInt64(ts.tv_nsec) + nanos
        ts.tv_sec += Int(total / 1_000_000_000)
        ts.tv_nsec = Int(total % 1_000_000_000)
        return pthread_cond_timedwait(cond, mutex, &ts) == 0
    }

    /// Wakes every waiter (call inside or outside `locked`).
    public func broadcast() { pthread_cond_broadcast(cond) }
}
