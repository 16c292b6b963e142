import InftopTelemetry

/// What one generation measured (monotonic clock).
public struct GenerationStats: Sendable, Equatable {
    public var promptTokens: Int
    /// Generated ids (the end-of-generation token, when one stopped it, is not included).
    public var tokens: [Int32]
    /// Prefill start → first token sampled.
    public var ttftNanos: UInt64
    public var prefillNanos: UInt64
    /// First token → last token (the decode steps).
    public var decodeNanos: UInt64
    /// Why it stopped: "eos", "max_tokens", "context_full".
    public var stop: String

    public var prefillTokensPerSec: Double { prefillNanos > 0 ? Double(promptTokens) / (Double(prefillNanos) / 1e9) : 0 }
    /// Decode steps per second (tokens after the first, which prefill produced).
    public var decodeTokensPerSec: Double {
        let steps = max(0, tokens.count - 1)
        return decodeNanos > 0 && steps > 0 ? Double(steps) / (Double(decodeNanos) / 1e9) : 0
    }
}

extension LanguageModel {
    /// Whether `id` ends a generation: the file's EOS, or a ChatML / GPT-2 end marker.
    public func isEndOfGeneration(_ id: Int32) -> Bool {
        if id == tokenizer.eos { return true }
        guard tokenizer.isControl(id) else { return false }
        let t = tokenizer.tokens[Int(id)]
        return t == "<|im_end|>" || t == "<|endoftext|>" || t == "<|eot_id|>"
    }

    /// Prefills `prompt`, then samples and decodes up to `maxTokens` tokens, calling `onToken`
    /// with each new id as it comes (return false to stop early). The end-of-generation token stops it.
    /// - Throws: `EngineError.invalid` for an empty or too long prompt, or `maxTokens < 1`.
    public func generate(prompt: [Int32], maxTokens: Int, sampler: inout Sampler, clock: () -> UInt64 = monotonicNanos,
                         onToken: (Int32) -> Bool = { _ in true }) throws -> GenerationStats {
        guard maxTokens >= 1 else { throw EngineError.invalid(what: "--max-tokens", reason: "\(maxTokens): must be ≥ 1") }
        let t0 = clock()
        var logits = try prefill(prompt)
        var next = sampler.sample(logits)
        let t1 = clock()
        var stats = GenerationStats(promptTokens: prompt.count, tokens: [], ttftNanos: t1 - t0, prefillNanos: t1 - t0,
                                    decodeNanos: 0, stop: "max_tokens")
        while true {
            if isEndOfGeneration(next) { stats.stop = "eos"; break }
            stats.tokens.append(next)
            if !onToken(next) { stats.stop = "stopped"; break }
            if stats.tokens.count >= maxTokens { break }
            if context.count >= cache.capacity { stats.stop = "context_full"; break }
            logits = try decode(next)
            next = sampler.sample(logits)
        }
        stats.decodeNanos = clock() - t1
        return stats
    }
}
