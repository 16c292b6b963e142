/// Dynamic batching's decision, apart from any queue or clock so it is tested exactly: a batch
/// closes when `maxBatch` requests wait, or when the oldest has waited `maxDelayNanos`
/// (Triton's `max_queue_delay`); an empty queue never closes one.
public struct Batcher: Sendable, Equatable {
    public var maxBatch: Int
    public var maxDelayNanos: UInt64

    public init(maxBatch: Int, maxDelayNanos: UInt64) {
        precondition(maxBatch >= 1, "Batcher: max batch must be ≥ 1")
        self.maxBatch = maxBatch
        self.maxDelayNanos = maxDelayNanos
    }

    /// Why a batch closes now, or nil to keep waiting.
    public enum Close: Sendable, Equatable { case full, timeout }

    /// With `queued` requests, the oldest arrived at `oldestArrival` (nil when none), at `now`.
    public func decide(queued: Int, oldestArrival: UInt64?, now: UInt64) -> Close? {
        guard queued > 0, let first = oldestArrival else { return nil }
        if queued >= maxBatch { return .full }
        return now &- first >= maxDelayNanos ? .timeout : nil
    }

    /// Nanoseconds until the oldest request's delay runs out (0 when it has), for a bounded wait.
    public func remainingNanos(oldestArrival: UInt64, now: UInt64) -> UInt64 {
        let waited = now &- oldestArrival
        return waited >= maxDelayNanos ? 0 : maxDelayNanos - waited
    }
}
