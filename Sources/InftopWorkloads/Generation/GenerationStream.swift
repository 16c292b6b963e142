import InftopEngine
import InftopTelemetry

/// One concurrent generation of the generator: its own sequence (KV cache, workspace, context)
/// on the shared weights, its sampler, and where it is in answering its prompt. Owned by the
/// generator thread.
final class GenerationStream {
    enum Phase: String { case idle, prefill, decode, done }

    let model: LanguageModel
    private(set) var phase: Phase = .idle
    private(set) var prompt = ""
    /// The prompt's ids (chat template applied when the model has one).
    private(set) var promptIDs: [Int32] = []
    /// Generated ids so far (an end-of-generation token is not included).
    private(set) var tokens: [Int32] = []
    private(set) var stop: String?
    private var sampler: Sampler
    /// When the prompt was taken, when its first token was sampled, and the decode time so far.
    private(set) var takenAt: UInt64 = 0
    private(set) var firstTokenAt: UInt64 = 0
    private(set) var decodeNanos: UInt64 = 0
    /// The sampled token not yet fed back (the next decode step's input).
    private var pending: Int32 = 0

    init(model: LanguageModel, sampler: Sampler) {
        self.model = model
        self.sampler = sampler
    }

    /// Takes a new prompt (tokenized here, so the tokenizer's time is inside the TTFT).
    /// - Throws: `EngineError.invalid` when the prompt does not fit the context with room to answer.
    func begin(prompt text: String, sampler s: Sampler, now: UInt64) throws {
        prompt = text
        sampler = s
        takenAt = now
        if let t = model.chatTemplate {
            promptIDs = model.tokenizer.encode(t.render(user: text), special: true)
        } else {
            promptIDs = model.tokenizer.encode(text, special: false)
        }
        guard !promptIDs.isEmpty, promptIDs.count < model.cache.capacity else {
            throw EngineError.invalid(what: "prompt", reason: "\(promptIDs.count) tokens do not fit the context of \(model.cache.capacity) positions with room to answer")
        }
        tokens.removeAll(keepingCapacity: true)
        stop = nil
        decodeNanos = 0
        phase = .prefill
    }

    /// What one `advance` did, for the generator's figures.
    enum Outcome {
        /// Prefilled `promptTokens` in `nanos`; the first token came `ttft` after the prompt was taken.
        case prefilled(promptTokens: Int, nanos: UInt64, ttft: UInt64)
        /// One decode step of `nanos`.
        case decoded(nanos: UInt64)
        case nothing
    }

    /// One action: the prefill (and first token) of a new prompt, or one decode step. Stops on
    /// the end-of-generation token, `maxNewTokens` or a full context.
    func advance(maxNewTokens: Int, clock: any NanoClock) throws -> Outcome {
        switch phase {
        case .idle, .done:
            return .nothing
        case .prefill:
            let t0 = clock.now()
            let logits = try model.prefill(promptIDs)
            pending = sampler.sample(logits)
            let t1 = clock.now()
            firstTokenAt = t1
            accept(maxNewTokens: maxNewTokens)
            return .prefilled(promptTokens: promptIDs.count, nanos: t1 &- t0, ttft: t1 &- takenAt)
        case .decode:
            guard model.context.count < model.cache.capacity else { finish("context_full"); return .nothing }
            let t0 = clock.now()
            let logits = try model.decode(pending)
            pending = sampler.sample(logits)
            let dt = clock.now() &- t0
            decodeNanos &+= dt
            accept(maxNewTokens: maxNewTokens)
            return .decoded(nanos: dt)
        }
    }

    /// Takes the sampled token: ends the answer on end-of-generation or the token limit, else
    /// keeps decoding.
    private func accept(maxNewTokens: Int) {
        if model.isEndOfGeneration(pending) { finish("eos"); return }
        tokens.append(pending)
        if tokens.count >= maxNewTokens { finish("max_tokens"); return }
        phase = .decode
    }

    private func finish(_ why: String) {
        stop = why
        phase = .done
    }

    /// The stream as the panel shows it (the text decoded here, at snapshot time, not per token).
    func snapshot() -> GenerationStreamSnapshot {
        let steps = max(0, tokens.count - 1)
        return GenerationStreamSnapshot(
            phase: phase.rawValue, prompt: prompt, text: model.tokenizer.decode(tokens), promptTokens: promptIDs.count,
            generatedTokens: tokens.count, positions: model.context.count, capacity: model.cache.capacity,
            decodeTokensPerSecond: decodeNanos > 0 && steps > 0 ? Double(steps) / (Double(decodeNanos) / 1e9) : nil, stop: stop)
    }
}
