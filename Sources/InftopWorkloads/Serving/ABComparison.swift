import InftopEngine
import InftopTelemetry

/// A/B compare (`x`): is a change between two runs larger than their run-to-run spread?
///
/// The stated test: each run is a list of per-window figures (the 1-s windows' p50, p99 or
/// items/s since its configuration started); a percentile bootstrap of the difference of their
/// means (B − A), 2 000 resamples with a fixed seed, gives a 95 % interval. The change is real
/// when the interval excludes 0, noise when it straddles 0, and unknown with fewer than 3
/// windows on either side.
public enum ABComparison {
    public enum Verdict: String, Sendable, Equatable { case real, noise, unknown }

    public struct Result: Sendable, Equatable {
        /// Mean of B minus mean of A.
        public var delta: Double
        /// The 95 % bootstrap interval of `delta` (nil when unknown).
        public var low: Double?, high: Double?
        public var verdict: Verdict
    }

    public static let resamples = 2_000
    public static let minimumWindows = 3

    public static func compare(_ a: [Double], _ b: [Double], seed: UInt64 = 1) -> Result {
        let delta = mean(b) - mean(a)
        guard a.count >= minimumWindows, b.count >= minimumWindows else {
            return Result(delta: a.isEmpty || b.isEmpty ? .nan : delta, low: nil, high: nil, verdict: .unknown)
        }
        var rng = SeededRandom(seed: seed)
        var diffs: [Double] = []
        diffs.reserveCapacity(resamples)
        for _ in 0..<resamples {
            var sa = 0.0, sb = 0.0
            for _ in a.indices { sa += a[rng.nextInt(below: a.count)] }
            for _ in b.indices { sb += b[rng.nextInt(below: b.count)] }
            diffs.append(sb / Double(b.count) - sa / Double(a.count))
        }
        diffs.sort()
        let low = diffs[Int(Double(resamples) * 0.025)], high = diffs[Int(Double(resamples) * 0.975) - 1]
        return Result(delta: delta, low: low, high: high, verdict: low > 0 || high < 0 ? .real : .noise)
    }

    /// Served accuracy as a share of right answers: real when the two proportions differ by more
    /// than 1.96 standard errors (a two-proportion z-test), noise otherwise.
    public static func compareProportions(_ a: Double, _ na: Int, _ b: Double, _ nb: Int) -> Result {
        guard na > 0, nb > 0 else { return Result(delta: .nan, low: nil, high: nil, verdict: .unknown) }
        let se = (a * (1 - a) / Double(na) + b * (1 - b) / Double(nb)).squareRoot()
        let d = b - a
        return Result(delta: d, low: d - 1.96 * se, high: d + 1.96 * se, verdict: abs(d) > 1.96 * se ? .real : .noise)
    }

    static func mean(_ xs: [Double]) -> Double { xs.isEmpty ? .nan : xs.reduce(0, +) / Double(xs.count) }
}
