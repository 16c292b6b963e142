import InftopTelemetry

/// The generator's figures, owned by the generator thread: TTFT percentiles (a 5 s window for
/// the chart, cumulative since the last knob change for the panel), and over 1 s windows the
/// tokens generated per second of wall time, prefill tokens per second of prefill time and the
/// mean decode step.
struct GenerationFigures {
    /// Time to first token, ns.
    private(set) var ttft: LatencyWindow
    /// Series: "items_per_sec" (generated tokens/s, all streams), "prefill_tok_per_s".
    private(set) var tokenSeries = SeriesRing(name: "items_per_sec", unit: "tok/s")
    private(set) var prefillSeries = SeriesRing(name: "prefill_tok_per_s", unit: "tok/s")
    private(set) var recentTokensPerSecond: Double = 0
    private(set) var recentPrefillTokensPerSecond: Double = 0
    private(set) var recentTimePerTokenMs: Double?
    /// Since the generator started.
    private(set) var completed = 0
    private(set) var generatedTokens = 0
    private(set) var decodeSteps = 0

    private let origin: UInt64
    private var windowStart: UInt64
    private var windowTokens = 0
    private var windowPrefillTokens = 0
    private var windowPrefillNanos: UInt64 = 0
    private var windowDecodeNanos: UInt64 = 0
    private var windowDecodeSteps = 0
    static let windowNanos: UInt64 = 1_000_000_000

    init(origin: UInt64) {
        self.origin = origin
        windowStart = origin
        ttft = LatencyWindow(origin: origin, windowSeconds: 5)
    }

    /// A prompt's prefill: its first token is a generated token too.
    mutating func prefilled(tokens: Int, nanos: UInt64, ttft t: UInt64, now: UInt64) {
        ttft.record(latencyNanos: t, now: now)
        windowPrefillTokens += tokens
        windowPrefillNanos &+= nanos
        windowTokens += 1
    }

    mutating func decoded(nanos: UInt64, now: UInt64) {
        windowTokens += 1
        windowDecodeNanos &+= nanos
        windowDecodeSteps += 1
        decodeSteps += 1
    }

    /// A generation ended with `tokens` generated.
    mutating func finished(tokens: Int) {
        completed += 1
        generatedTokens += tokens
    }

    /// A knob changed: the since-change TTFT starts again (the series go on).
    mutating func restart(now: UInt64) {
        ttft.reset()
        windowStart = now
        windowTokens = 0; windowPrefillTokens = 0; windowPrefillNanos = 0; windowDecodeNanos = 0; windowDecodeSteps = 0
    }

    /// `now` on the series' time axis, seconds.
    func seconds(at now: UInt64) -> Double { Double(now &- origin) / 1e9 }

    mutating func closeWindowIfDue(now: UInt64) {
        ttft.closeWindowIfDue(now: now)
        guard now > windowStart, now - windowStart >= Self.windowNanos else { return }
        let seconds = Double(now - windowStart) / 1e9, t = Double(now - origin) / 1e9
        recentTokensPerSecond = Double(windowTokens) / seconds
        tokenSeries.append(time: t, value: recentTokensPerSecond)
        if windowPrefillNanos > 0 {
            recentPrefillTokensPerSecond = Double(windowPrefillTokens) / (Double(windowPrefillNanos) / 1e9)
            prefillSeries.append(time: t, value: recentPrefillTokensPerSecond)
        }
        if windowDecodeSteps > 0 { recentTimePerTokenMs = Double(windowDecodeNanos) / Double(windowDecodeSteps) / 1e6 }
        windowStart = now
        windowTokens = 0; windowPrefillTokens = 0; windowPrefillNanos = 0; windowDecodeNanos = 0; windowDecodeSteps = 0
    }
}
