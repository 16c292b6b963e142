import InftopTelemetry

/// The rows of the Layers table: which workload's layers, filtered and sorted.
public enum LayerRows {
    /// The layers of `workload`, or of the other workload when that one has none.
    public static func source(_ snapshot: DashboardSnapshot, workload: WorkloadKind) -> (WorkloadKind, [LayerStat]) {
        let t = snapshot.training?.layers ?? [], i = snapshot.inference?.layers ?? []
        switch workload {
        case .training: return t.isEmpty && !i.isEmpty ? (.inference, i) : (.training, t)
        case .inference: return i.isEmpty && !t.isEmpty ? (.training, t) : (.inference, i)
        }
    }

    /// `layers` whose name contains `filter` (case-insensitive), sorted by `key`. Ties and
    /// missing values keep model order; missing values go last either way.
    public static func arrange(_ layers: [LayerStat], sort key: LayerSortKey, descending: Bool, filter: String) -> [LayerStat] {
        let f = filter.lowercased()
        let kept = layers.enumerated().filter { f.isEmpty || $0.element.name.lowercased().contains(f) }
        func value(_ l: LayerStat) -> Double? {
            switch key {
            case .order, .name: return nil
            case .share: return l.share
            case .forward: return l.forward?.meanMs
            case .backward: return l.backward?.meanMs
            case .p99: return l.forward?.p99Ms
            }
        }
        let sorted = kept.sorted { a, b in
            switch key {
            case .order:
                return descending ? a.offset > b.offset : a.offset < b.offset
            case .name:
                let na = a.element.name.lowercased(), nb = b.element.name.lowercased()
                if na != nb { return descending ? na > nb : na < nb }
                return a.offset < b.offset
            default:
                switch (value(a.element), value(b.element)) {
                case let (x?, y?):
                    if x != y { return descending ? x > y : x < y }
                    return a.offset < b.offset
                case (.some, nil): return true
                case (nil, .some): return false
                case (nil, nil): return a.offset < b.offset
                }
            }
        }
        return sorted.map(\.element)
    }
}
