import InftopEngine
#if canImport(Glibc)
import Glibc
#endif

/// The latest trained weights for readers on other threads (the inference replica), double
/// buffered so training never waits on a reader.
///
/// The training thread copies its parameters into the back buffer without a lock, then swaps
/// back and front under a mutex it only *tries* to take: when a reader holds it, the swap is
/// skipped and retried at a later step. Readers copy the front buffer under the mutex (tens of
/// µs for these models). Buffers are allocated on the first `publish`.
public final class WeightsMailbox: @unchecked Sendable {
    private let mutex = UnsafeMutablePointer<pthread_mutex_t>.allocate(capacity: 1)
    /// Guarded by `mutex`.
    private var buffers: [[Tensor]] = [[], []]
    private var front = 0
    private var frontVersion = 0
    /// Writer-only.
    private var backFilled = false
    private var writes = 0

    public init() { pthread_mutex_init(mutex, nil) }

    deinit {
        pthread_mutex_destroy(mutex)
        mutex.deallocate()
    }

    /// The version of the front buffer: 0 before the first publication, then increasing.
    public var version: Int {
        pthread_mutex_lock(mutex); defer { pthread_mutex_unlock(mutex) }
        return frontVersion
    }

    /// Training thread: copies `params` into the back buffer (unless a previous copy is still
    /// waiting to be swapped in) and makes it the front if no reader is copying. Returns whether
    /// the new weights are now visible.
    @discardableResult
    public func publish(_ params: [Parameter]) -> Bool {
        let back = 1 - front  // `front` only changes on this thread
        if buffers[back].isEmpty {
            // First publication: the buffers never change size afterwards.
            let make = { (k: Int) in params.map { Tensor($0.value.shape, name: "published.\($0.name)\(k)", owner: .weightsFP32) } }
            pthread_mutex_lock(mutex)
            buffers = [make(0), make(1)]
            pthread_mutex_unlock(mutex)
        }
        if !backFilled {
            precondition(buffers[back].count == params.count, "WeightsMailbox: \(params.count) parameters, buffers hold \(buffers[back].count)")
            for (dst, p) in zip(buffers[back], params) { dst.copy(from: p.value) }
            backFilled = true
            writes += 1
        }
        guard pthread_mutex_trylock(mutex) == 0 else { return false }
        front = back
        frontVersion = writes
        pthread_mutex_unlock(mutex)
        backFilled = false
        return true
    }

    /// Reader: copies the front weights into `model` when they are newer than `version`;
    /// returns the version now in `model`, or nil when nothing was published yet.
    public func copyLatest(into model: Model, ifNewerThan version: Int = 0) -> Int? {
        pthread_mutex_lock(mutex); defer { pthread_mutex_unlock(mutex) }
        guard frontVersion > 0 else { return nil }
        if frontVersion <= version { return version }
        let src = buffers[front]
        precondition(src.count == model.parameters.count, "WeightsMailbox: model '\(model.name)' has \(model.parameters.count) parameters, published \(src.count)")
        for (p, s) in zip(model.parameters, src) { p.value.copy(from: s) }
        model.weightsDidChange()
        return frontVersion
    }
}
