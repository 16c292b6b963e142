/// One concurrent generation as the generator's panel shows it.
public struct GenerationStreamSnapshot: Sendable, Equatable, Codable {
    /// "prefill", "decode", "done" (the finished text stays on screen until the stream's next prompt).
    public var phase: String
    /// The instruction being answered (the user turn, without the chat template).
    public var prompt: String
    /// The answer so far (decoded tokens; the panel shows its tail).
    public var text: String
    public var promptTokens: Int
    public var generatedTokens: Int
    /// Positions in this stream's sequence (prompt + generated) and what its KV cache holds.
    public var positions: Int
    public var capacity: Int
    /// This stream's decode speed over its generation so far, tokens/s (nil before the second token).
    public var decodeTokensPerSecond: Double?
    /// Why the last generation stopped ("eos", "max_tokens", "context_full"), nil while running.
    public var stop: String?

    public init(phase: String, prompt: String, text: String, promptTokens: Int, generatedTokens: Int,
                positions: Int, capacity: Int, decodeTokensPerSecond: Double?, stop: String?) {
        self.phase = phase; self.prompt = prompt; self.text = text; self.promptTokens = promptTokens
        self.generatedTokens = generatedTokens; self.positions = positions; self.capacity = capacity
        self.decodeTokensPerSecond = decodeTokensPerSecond; self.stop = stop
    }
}

/// What the generative model (`v` → generator) did, published beside the `InferenceSnapshot`
/// that carries its per-node table, memory and the TTFT / tokens-per-second series.
///
/// In that snapshot `latency` is the time to first token, `itemsPerSecond` the decode
/// tokens/s over all streams, `requests` the generations finished and `batchSize` the
/// concurrent generations.
public struct GenerationSnapshot: Sendable, Equatable, Codable {
    /// Time to first token (prompt taken → first token sampled), ms, over the recent window.
    public var ttft: PhaseStat?
    /// Prompt tokens per second of prefill time, over the recent window (0 when none ran).
    public var prefillTokensPerSecond: Double
    /// Generated tokens per second of wall time, all streams together, over the recent window.
    public var decodeTokensPerSecond: Double
    /// Mean time per output token of one stream (decode step), ms, over the recent window.
    public var timePerTokenMs: Double?
    /// `K`: on reuses every earlier position's keys and values; off recomputes the whole prefix.
    public var kvCacheEnabled: Bool
    /// Positions held over all streams, their caches' capacity, and the caches' bytes (preallocated).
    public var kvPositions: Int
    public var kvCapacity: Int
    public var kvBytes: Int
    /// Kernel threads the generator runs with.
    public var threads: Int
    /// Generations finished and tokens generated since the generator started.
    public var completed: Int
    public var generatedTokens: Int
    /// Tokens at most per answer.
    public var maxNewTokens: Int
    /// How tokens are picked ("greedy", "T 0.7 · top-k 40 · top-p 0.95 · seed 0").
    public var sampling: String
    public var streams: [GenerationStreamSnapshot]

    public init(ttft: PhaseStat?, prefillTokensPerSecond: Double, decodeTokensPerSecond: Double, timePerTokenMs: Double?,
                kvCacheEnabled: Bool, kvPositions: Int, kvCapacity: Int, kvBytes: Int, threads: Int, completed: Int,
                generatedTokens: Int, maxNewTokens: Int, sampling: String, streams: [GenerationStreamSnapshot]) {
        self.ttft = ttft; self.prefillTokensPerSecond = prefillTokensPerSecond
        self.decodeTokensPerSecond = decodeTokensPerSecond; self.timePerTokenMs = timePerTokenMs
        self.kvCacheEnabled = kvCacheEnabled; self.kvPositions = kvPositions; self.kvCapacity = kvCapacity
        self.kvBytes = kvBytes; self.threads = threads; self.completed = completed; self.generatedTokens = generatedTokens
        self.maxNewTokens = maxNewTokens; self.sampling = sampling; self.streams = streams
    }
}
