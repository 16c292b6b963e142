import InftopTelemetry
import InftopWorkloads

/// The A side of an A/B compare (`x`): what was serving and its figures when the key was
/// pressed — the per-window p50, p99 and items/s since that configuration started (the samples
/// the noise test resamples), served accuracy and its query count, resident memory.
public struct ABBaseline: Equatable, Sendable {
    public var label: String
    public var p50: [Double], p99: [Double], throughput: [Double]
    public var accuracy: Double?
    public var accuracyIsProportion: Bool
    public var queries: Int
    public var residentBytes: Int

    /// The windows of `snapshot`'s serving side since its configuration started; nil when
    /// nothing serves.
    public static func capture(_ snapshot: DashboardSnapshot) -> ABBaseline? {
        guard let inf = snapshot.inference, let floor = inf.floor else { return nil }
        // One point per 1-s window; the configuration ran `seconds`.
        let k = max(0, Int(floor.verdict.seconds))
        func recent(_ name: String) -> [Double] { Array((inf.series(name)?.values ?? []).suffix(k)) }
        let label = inf.tradeoff?.last { $0.current }?.label ?? inf.model
        return ABBaseline(label: label, p50: recent("latency_p50_ms"), p99: recent("latency_p99_ms"),
                          throughput: recent("items_per_sec"), accuracy: inf.servedAccuracy,
                          accuracyIsProportion: !inf.accuracyLabel.hasPrefix("cosine"), queries: floor.verdict.queries,
                          residentBytes: snapshot.memory.residentBytes)
    }

    /// One compared figure: name, A, B, Δ and the noise verdict.
    public struct Row: Equatable, Sendable {
        public var name: String
        public var a: Double?, b: Double?
        public var result: ABComparison.Result?
    }

    /// A against `current` (the B side, captured the same way).
    public func compare(with current: ABBaseline) -> [Row] {
        func mean(_ xs: [Double]) -> Double? { xs.isEmpty ? nil : xs.reduce(0, +) / Double(xs.count) }
        var rows = [
            Row(name: "p50 ms", a: mean(p50), b: mean(current.p50), result: ABComparison.compare(p50, current.p50)),
            Row(name: "p99 ms", a: mean(p99), b: mean(current.p99), result: ABComparison.compare(p99, current.p99)),
            Row(name: "items/s", a: mean(throughput), b: mean(current.throughput),
                result: ABComparison.compare(throughput, current.throughput)),
            Row(name: "RSS MB", a: Double(residentBytes) / 1_048_576, b: Double(current.residentBytes) / 1_048_576, result: nil),
        ]
        if let x = accuracy, let y = current.accuracy {
            rows.append(Row(name: accuracyIsProportion ? "accuracy" : "cosine", a: x, b: y,
                            result: accuracyIsProportion ? ABComparison.compareProportions(x, queries, y, current.queries) : nil))
        }
        return rows
    }
}
