import InftopTelemetry

/// When a scenario's figures count: MLPerf LoadGen's rules, scaled to a live session.
///
/// LoadGen asks every run for ≥ 600 s and ≥ 1 024 (SingleStream), 270 336 (Server) or 24 576
/// (Offline) queries; a dashboard has seconds, not ten minutes. Kept: a minimum duration and
/// query count per scenario, SingleStream judged on p90, Server on p99 against a bound with no
/// query dropped, Offline on throughput. Scaled: 10 s, and 256 / 1 024 / 1 024 queries.
public struct ScenarioRules: Sendable, Equatable {
    public var minSeconds: Double
    public var minQueries: [LoadScenario: Int]

    public static let live = ScenarioRules(minSeconds: 10, minQueries: [.single: 256, .server: 1024, .offline: 1024])

    public init(minSeconds: Double, minQueries: [LoadScenario: Int]) {
        self.minSeconds = minSeconds
        self.minQueries = minQueries
    }

    /// The verdict for `queries` answered over `seconds` with latency `stat`, `dropped`
    /// requests shed by a full queue, against `boundMs` (Server).
    public func verdict(scenario: LoadScenario, queries: Int, seconds: Double, stat: PhaseStat?,
                        dropped: Int, boundMs: Double) -> ScenarioVerdict {
        func v(_ ok: Bool, _ why: String) -> ScenarioVerdict {
            ScenarioVerdict(valid: ok, reason: why, queries: queries, seconds: seconds)
        }
        let need = minQueries[scenario] ?? 0
        if scenario == .server, let s = stat, s.p99Ms > boundMs {
            return v(false, "p99 \(Format.ms(s.p99Ms)) ms > bound \(Format.ms(boundMs)) ms")
        }
        if dropped > 0 { return v(false, "\(dropped) queries dropped (queue full)") }
        if queries < need { return v(false, "too few queries (\(queries) < \(need))") }
        if seconds < minSeconds { return v(false, "too short (\(Format.ms(seconds)) s < \(Format.ms(minSeconds)) s)") }
        guard let s = stat else { return v(false, "no latency measured") }
        switch scenario {
        case .single: return v(true, "p90 \(Format.ms(s.p90Ms)) ms")
        case .server: return v(true, "p99 \(Format.ms(s.p99Ms)) ms ≤ bound \(Format.ms(boundMs)) ms")
        case .offline: return v(true, "\(queries) samples in \(Format.ms(seconds)) s")
        }
    }
}
