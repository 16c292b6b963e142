import ArgumentParser
import Foundation
import InftopEngine
import InftopTelemetry
import InftopWorkloads

/// `inftop score`: teacher-forced next-token logits after every prefix of each id list, and the
/// perplexity of the list — what a quantization or a cache setting costs in quality.
struct ScoreCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "score",
        abstract: "Teacher-forced next-token top-K logits and perplexity of token id lists (JSON lines on stdin).",
        discussion: """
            Reads one JSON object a line, {"ids": [...]}, and prints for each
            {"positions": [{"top_ids": [...], "top_logits": [...]}, ...], "perplexity": …}: positions[i] holds the
            top K next-token logits after ids[0...i]; perplexity is exp of the mean negative log-likelihood of
            ids[1...] given their prefixes.
            """)

    @Option(help: "GGUF file (default: the installed SmolLM2-135M-Instruct).")
    var model: String?
    @Option(help: "Logits to print per position.")
    var top: Int = 10
    @Option(help: "Threads for the kernels.")
    var threads: Int = 2
    @Option(help: "Kernel ISA: auto, avx2 or avx512.")
    var isa: String = "auto"
    @Flag(name: .customLong("no-kv-cache"), help: "Score each prefix by recomputing it from the start.")
    var noKVCache = false
    @Flag(help: "JSON output (the only format; accepted for symmetry with the other commands).")
    var json = false

    func validate() throws {
        guard top >= 1 else { throw ValidationError("--top \(top): must be ≥ 1") }
        guard threads >= 1, threads <= 256 else { throw ValidationError("--threads \(threads): must be in 1…256") }
        guard KernelISA(rawValue: isa) != nil else { throw ValidationError("--isa '\(isa)': must be auto, avx2 or avx512") }
    }

    func run() throws {
        let lm: LanguageModel
        do {
            lm = try LLMCommandSupport.load(model, ctx: 8192, compute: try LLMCommandSupport.compute(threads: threads, isa: isa, backend: "simd"))
        } catch let e as EngineError {
            exitWithErrorLine("score", "\(e)")
        }
        lm.kvCacheEnabled = !noKVCache
        var lineNo = 0
        while let line = readLine(strippingNewline: true) {
            lineNo += 1
            if line.trimmingCharacters(in: .whitespaces).isEmpty { continue }
            guard let obj = try? JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any],
                  let raw = obj["ids"] as? [Any], let ids = raw.map({ ($0 as? NSNumber)?.int32Value }) as? [Int32] else {
                exitWithErrorLine("score", "line \(lineNo): expected {\"ids\": [integers]}")
            }
            do {
                let r = try LanguageModelScorer.score(lm, ids: ids, top: top)
                let pos = r.positions.map { p in
                    "{\"top_ids\":[\(p.ids.map(String.init).joined(separator: ","))],\"top_logits\":[\(p.logits.map { String(format: "%.4f", $0) }.joined(separator: ","))]}"
                }
                print("{\"positions\":[\(pos.joined(separator: ","))],\"perplexity\":\(r.perplexity.isFinite ? String(format: "%.4f", r.perplexity) : "null")}")
            } catch let e as EngineError {
                exitWithErrorLine("score", "line \(lineNo): \(e)")
            }
        }
    }
}
