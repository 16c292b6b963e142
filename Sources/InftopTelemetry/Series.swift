/// A bounded ring of `(time, value)` points; the oldest point is dropped when full.
/// Single writer (the workload thread); `snapshot` copies it for publication.
public struct SeriesRing: Sendable {
    public let name: String
    public let unit: String
    public let capacity: Int
    private var times: [Double]
    private var values: [Double]
    private var head = 0
    public private(set) var count = 0

    /// - Parameter capacity: points kept (≥ 1).
    public init(name: String, unit: String = "", capacity: Int = 2048) {
        precondition(capacity >= 1, "SeriesRing '\(name)': capacity must be ≥ 1, got \(capacity)")
        self.name = name; self.unit = unit; self.capacity = capacity
        times = Array(repeating: 0, count: capacity)
        values = Array(repeating: 0, count: capacity)
    }

    /// Appends a point at `time` seconds.
    public mutating func append(time: Double, value: Double) {
        let i = (head + count) % capacity
        times[i] = time; values[i] = value
        if count < capacity { count += 1 } else { head = (head + 1) % capacity }
    }

    public var last: Double? { count > 0 ? values[(head + count - 1) % capacity] : nil }

    /// The points, oldest first.
    public func snapshot() -> SeriesSnapshot {
        var t: [Double] = [], v: [Double] = []
        t.reserveCapacity(count); v.reserveCapacity(count)
        for k in 0..<count {
            let i = (head + k) % capacity
            t.append(times[i]); v.append(values[i])
        }
        return SeriesSnapshot(name: name, unit: unit, times: t, values: v)
    }
}
