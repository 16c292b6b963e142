import InftopTelemetry

/// One inference request: which test sample to classify and when it arrived.
public struct Request: Sendable {
    /// Index into the evaluation set.
    public var sample: Int32
    /// Arrival time, `monotonicNanos()`.
    public var arrivalNanos: UInt64

    public init(sample: Int32, arrivalNanos: UInt64) {
        self.sample = sample
        self.arrivalNanos = arrivalNanos
    }
}

/// Bounded FIFO between the load generator and the batcher (a preallocated ring under a lock, `Locked`:
/// two threads, a handful of operations per request, not a kernel).
///
/// A request offered when the queue is full is dropped and counted, as a server would shed load.
public final class RequestQueue: Sendable {
    private struct Ring {
        var items: [Request]
        var head = 0
        var count = 0
        var dropped = 0
    }
    private let ring: Locked<Ring>
    public let capacity: Int

    /// - Parameter capacity: requests held at most (≥ 1).
    public init(capacity: Int = 65_536) {
        precondition(capacity >= 1, "RequestQueue: capacity must be ≥ 1")
        self.capacity = capacity
        ring = Locked(Ring(items: Array(repeating: Request(sample: 0, arrivalNanos: 0), count: capacity)))
    }

    /// Adds a request; returns false (and counts a drop) when full.
    @discardableResult
    public func push(_ r: Request) -> Bool {
        ring.withLock { q in
            guard q.count < capacity else { q.dropped += 1; return false }
            q.items[(q.head + q.count) % capacity] = r
            q.count += 1
            return true
        }
    }

    /// Moves up to `max` requests, oldest first, into `out` (cleared first); returns how many.
    public func pop(max: Int, into out: inout [Request]) -> Int {
        out.removeAll(keepingCapacity: true)
        return ring.withLock { q in
            let n = Swift.min(max, q.count)
            for i in 0..<n { out.append(q.items[(q.head + i) % capacity]) }
            q.head = (q.head + n) % capacity
            q.count -= n
            return n
        }
    }

    /// Arrival time of the oldest waiting request, nil when empty.
    public func oldestArrival() -> UInt64? {
        ring.withLock { q in q.count > 0 ? q.items[q.head].arrivalNanos : nil }
    }

    public var count: Int { ring.withLock { $0.count } }
    public var dropped: Int { ring.withLock { $0.dropped } }
}
