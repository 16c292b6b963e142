import Synchronization
#if INFTOP_TSAN
import Glibc
#endif

/// A value behind a lock: the project's one lock type, with `Synchronization.Mutex`'s API
/// (`init(_:)`, `withLock`), used everywhere a `Mutex` would be.
///
/// Normally it is a `Mutex` (a futex on Linux, ~8 ns uncontended). ThreadSanitizer cannot see
/// that futex lock on Linux (the Synchronization module is not instrumented, so every access
/// inside a `withLock` closure looked like a race: issue 17 measured 11 such reports), so builds
/// with `-Xswiftc -DINFTOP_TSAN` (scripts/sanitize.sh thread) use a `pthread_mutex_t`, whose
/// lock and unlock TSan intercepts and treats as acquire/release. Same API in both, so code that
/// compiles against one compiles against the other.
#if INFTOP_TSAN
public struct Locked<Value: ~Copyable>: ~Copyable, @unchecked Sendable {
    @usableFromInline let mutex: UnsafeMutablePointer<pthread_mutex_t>
    @usableFromInline let value: UnsafeMutablePointer<Value>

    public init(_ initial: consuming sending Value) {
        mutex = .allocate(capacity: 1)
        pthread_mutex_init(mutex, nil)
        value = .allocate(capacity: 1)
        value.initialize(to: initial)
    }

    deinit {
        value.deinitialize(count: 1)
        value.deallocate()
        pthread_mutex_destroy(mutex)
        mutex.deallocate()
    }

    /// Runs `body` with the value while holding the lock.
    @inlinable
    public borrowing func withLock<Result: ~Copyable, E: Error>(
        _ body: (inout sending Value) throws(E) -> sending Result
    ) throws(E) -> sending Result {
        pthread_mutex_lock(mutex)
        defer { pthread_mutex_unlock(mutex) }
        return try body(&value.pointee)
    }
}
#else
public struct Locked<Value: ~Copyable>: ~Copyable, Sendable {
    @usableFromInline let mutex: Mutex<Value>

    public init(_ initial: consuming sending Value) { mutex = Mutex(initial) }

    /// Runs `body` with the value while holding the lock.
    @inlinable
    public borrowing func withLock<Result: ~Copyable, E: Error>(
        _ body: (inout sending Value) throws(E) -> sending Result
    ) throws(E) -> sending Result {
        try mutex.withLock(body)
    }
}
#endif
