#if canImport(Glibc)
import Glibc
#endif

/// Monotonic nanoseconds (`CLOCK_MONOTONIC`, ~41 ns per call on this machine, PLATFORM.md).
/// The one clock every span, series point and latency uses, so figures are comparable.
@inline(__always)
public func monotonicNanos() -> UInt64 {
    var ts = timespec()
    clock_gettime(CLOCK_MONOTONIC, &ts)
    return UInt64(ts.tv_sec) &* 1_000_000_000 &+ UInt64(ts.tv_nsec)
}

/// CPU time of the whole process in nanoseconds (user + system, all threads).
public func processCPUNanos() -> UInt64 {
    var ts = timespec()
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts)
    return UInt64(ts.tv_sec) &* 1_000_000_000 &+ UInt64(ts.tv_nsec)
}

/// CPU time of the calling thread in nanoseconds.
public func threadCPUNanos() -> UInt64 {
    var ts = timespec()
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts)
    return UInt64(ts.tv_sec) &* 1_000_000_000 &+ UInt64(ts.tv_nsec)
}

/// Where a workload reads the time: the system's monotonic clock in the product, a clock the
/// test moves by hand in tests (no sleeps), so batching and rate logic is tested exactly.
public protocol NanoClock: Sendable {
    /// Monotonic nanoseconds.
    func now() -> UInt64
}

/// `monotonicNanos()`.
public struct SystemClock: NanoClock {
    public init() {}
    @inline(__always) public func now() -> UInt64 { monotonicNanos() }
}

/// A clock that moves only when told (tests).
public final class ManualClock: NanoClock, @unchecked Sendable {
    private let lock = UnsafeMutablePointer<pthread_mutex_t>.allocate(capacity: 1)
    private var nanos: UInt64

    public init(start: UInt64 = 1_000_000_000) {
        nanos = start
        pthread_mutex_init(lock, nil)
    }

    deinit { pthread_mutex_destroy(lock); lock.deallocate() }

    public func now() -> UInt64 {
        pthread_mutex_lock(lock); defer { pthread_mutex_unlock(lock) }
        return nanos
    }

    /// Moves the clock forward by `delta` ns.
    public func advance(_ delta: UInt64) {
        pthread_mutex_lock(lock); defer { pthread_mutex_unlock(lock) }
        nanos &+= delta
    }
}
