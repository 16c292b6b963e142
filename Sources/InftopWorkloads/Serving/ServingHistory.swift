import InftopTelemetry

/// Every serving configuration of a session with its last figures: the points of the
/// speed-vs-accuracy view. Outlives a served-model switch (the session owns it); the service
/// files a configuration when it changes, if it answered enough requests to say anything.
public final class ServingHistory: Sendable {
    /// Requests a configuration must have answered to be filed.
    public static let minimumQueries = 32
    /// Points kept (oldest go first).
    public static let capacity = 64
    private let points = Locked<[TradeoffPoint]>([])

    public init() {}

    /// Files `point` (replacing an earlier point of the same label: the latest figures count).
    public func file(_ point: TradeoffPoint) {
        guard point.queries >= Self.minimumQueries else { return }
        var p = point
        p.current = false
        points.withLock { all in
            all.removeAll { $0.label == p.label }
            all.append(p)
            if all.count > Self.capacity { all.removeFirst(all.count - Self.capacity) }
        }
    }

    /// The filed points plus `current` (when given), current last.
    public func snapshot(current: TradeoffPoint?) -> [TradeoffPoint] {
        var all = points.withLock { $0 }
        if let c = current {
            all.removeAll { $0.label == c.label }
            all.append(c)
        }
        return all
    }
}
