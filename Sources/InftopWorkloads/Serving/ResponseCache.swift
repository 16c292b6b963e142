import InftopTelemetry

/// Least-recently-used answers keyed by a hash of the request's input, bounded by bytes
/// (`c` turns it on; Triton's response cache). An entry holds the model's answer (its output
/// row) and that answer's score, so a hit is answered — and scored — exactly as the model
/// answered it. An entry costs its floats plus `entryOverhead` bytes of key and bookkeeping.
///
/// Answers depend on the weights and on the plan (int8 answers differ from fp32 ones): the
/// service clears the cache when either changes. One lock; shared by the serving workers.
public final class ResponseCache: Sendable {
    /// Bytes an entry costs besides its floats: key, score, links, dictionary slot.
    public static let entryOverhead = 64

    private struct Entry {
        var key: UInt64
        /// `width` floats at `offset` of `store`.
        var offset: Int
        var score: Double
        var prev: Int32, next: Int32
    }

    private struct LRU {
        var capacityBytes: Int
        let width: Int
        var index: [UInt64: Int32] = [:]
        var entries: [Entry] = []
        /// [slots × width] answers; a freed slot is reused.
        var store: [Float] = []
        var free: [Int32] = []
        var head: Int32 = -1, tail: Int32 = -1
        var bytes = 0
        var lookups = 0, hits = 0

        var entryBytes: Int { width * 4 + ResponseCache.entryOverhead }

        mutating func unlink(_ i: Int32) {
            let e = entries[Int(i)]
            if e.prev >= 0 { entries[Int(e.prev)].next = e.next } else { head = e.next }
            if e.next >= 0 { entries[Int(e.next)].prev = e.prev } else { tail = e.prev }
        }

        mutating func pushFront(_ i: Int32) {
            entries[Int(i)].prev = -1
            entries[Int(i)].next = head
            if head >= 0 { entries[Int(head)].prev = i }
            head = i
            if tail < 0 { tail = i }
        }

        mutating func evictOne() {
            let i = tail
            guard i >= 0 else { return }
            unlink(i)
            index[entries[Int(i)].key] = nil
            free.append(i)
            bytes -= entryBytes
        }
    }

    private let lru: Locked<LRU>
    /// Floats per answer.
    public let width: Int

    /// - Parameters:
    ///   - width: floats per answer (> 0): 10 logits, 384 embedding values.
    ///   - capacityBytes: bytes the entries may take (≥ 0; 0 holds nothing).
    public init(width: Int, capacityBytes: Int) {
        precondition(width > 0 && capacityBytes >= 0, "ResponseCache: need width > 0 and capacity ≥ 0")
        self.width = width
        lru = Locked(LRU(capacityBytes: capacityBytes, width: width))
    }

    /// Copies the answer for `key` into `out` (`width` floats) and returns its score, or nil on
    /// a miss. Counts the lookup; a hit becomes the most recently used entry.
    public func lookup(_ key: UInt64, into out: UnsafeMutablePointer<Float>) -> Double? {
        lru.withLock { c in
            c.lookups += 1
            guard let i = c.index[key] else { return nil }
            c.hits += 1
            c.unlink(i)
            c.pushFront(i)
            let e = c.entries[Int(i)]
            c.store.withUnsafeBufferPointer { out.update(from: $0.baseAddress! + e.offset, count: c.width) }
            return e.score
        }
    }

    /// Stores `answer` (`width` floats) and its score under `key`, evicting least recently used
    /// entries until it fits; an entry larger than the capacity is not stored.
    public func insert(_ key: UInt64, answer: UnsafePointer<Float>, score: Double) {
        lru.withLock { c in
            guard c.entryBytes <= c.capacityBytes else { return }
            if let i = c.index[key] {  // another worker answered it meanwhile: refresh
                c.unlink(i)
                c.pushFront(i)
                return
            }
            while c.bytes + c.entryBytes > c.capacityBytes { c.evictOne() }
            let slot: Int32
            if let f = c.free.popLast() {
                slot = f
            } else {
                slot = Int32(c.entries.count)
                c.entries.append(Entry(key: 0, offset: c.entries.count * c.width, score: 0, prev: -1, next: -1))
                c.store.append(contentsOf: repeatElement(0, count: c.width))
            }
            let offset = c.entries[Int(slot)].offset
            c.entries[Int(slot)].key = key
            c.entries[Int(slot)].score = score
            let w = c.width
            c.store.withUnsafeMutableBufferPointer { ($0.baseAddress! + offset).update(from: answer, count: w) }
            c.index[key] = slot
            c.pushFront(slot)
            c.bytes += c.entryBytes
        }
    }

    /// Forgets every answer (weights or plan changed); keeps the hit counters unless `counters`.
    public func clear(counters: Bool = false) {
        lru.withLock { c in
            c.index.removeAll(keepingCapacity: true)
            c.entries.removeAll(keepingCapacity: true)
            c.store.removeAll(keepingCapacity: true)
            c.free.removeAll(keepingCapacity: true)
            c.head = -1; c.tail = -1; c.bytes = 0
            if counters { c.lookups = 0; c.hits = 0 }
        }
    }

    /// Zeroes the lookup and hit counters (the entries stay).
    public func resetCounters() {
        lru.withLock { c in c.lookups = 0; c.hits = 0 }
    }

    /// Changes the capacity, evicting least recently used entries to fit.
    public func resize(capacityBytes: Int) {
        lru.withLock { c in
            c.capacityBytes = max(0, capacityBytes)
            while c.bytes > c.capacityBytes { c.evictOne() }
        }
    }

    public var capacityBytes: Int { lru.withLock { $0.capacityBytes } }

    /// (entries, bytes, lookups, hits).
    public var counts: (entries: Int, bytes: Int, lookups: Int, hits: Int) {
        lru.withLock { c in (c.index.count, c.bytes, c.lookups, c.hits) }
    }

    /// Keys from most to least recently used (tests).
    public var keysByRecency: [UInt64] {
        lru.withLock { c in
            var out: [UInt64] = []
            var i = c.head
            while i >= 0 { out.append(c.entries[Int(i)].key); i = c.entries[Int(i)].next }
            return out
        }
    }
}
