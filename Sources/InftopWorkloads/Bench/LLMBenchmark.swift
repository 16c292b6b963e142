import Foundation
import InftopEngine
import InftopTelemetry

/// One row of `inftop bench --llm`: llama-bench's columns.
public struct LLMBenchResult: Sendable, Equatable {
    public var model: String
    public var sizeBytes: Int
    public var params: Int
    public var backend: String
    public var isa: String
    public var threads: Int
    public var kvCache: Bool
    /// `pp64`, `tg128`, `ttft64`.
    public var test: String
    /// Tokens per second, mean and standard deviation over the repetitions (for `ttft`: ms, median and sd).
    public var mean: Double
    public var sd: Double
    public var reps: Int
    public var peakRssMB: Double

    public var jsonLine: String {
        func r(_ v: Double, _ d: Int = 2) -> String { String(format: "%.\(d)f", v) }
        let unit = test.hasPrefix("ttft") ? "ms" : "tokens_per_s"
        return "{\"model\":\(JSONText.quote(model)),\"size_bytes\":\(sizeBytes),\"params\":\(params),\"backend\":\(JSONText.quote(backend)),"
            + "\"isa\":\"\(isa)\",\"threads\":\(threads),\"kv_cache\":\(kvCache),\"test\":\"\(test)\",\"\(unit)\":\(r(mean)),\"sd\":\(r(sd)),"
            + "\"reps\":\(reps),\"peak_rss_mb\":\(r(peakRssMB, 1))}"
    }
}

/// Times a generative model the way llama-bench (and peers/llm_bench.py) does: `ppN` = prefill of
/// N tokens, `tgN` = a 1-token prompt then N single-token decode steps (tokens/s = N / time of
/// both), `ttft64` = prefill of 64 tokens plus picking the first token (greedy). Tokens are the
/// tokenization of the same English paragraph the peer script uses. One warm-up, then `reps` runs.
public final class LLMBenchmark {
    public let model: LanguageModel
    public let path: String
    let stream: [Int32]

    public static let paragraph = "The quick brown fox jumps over the lazy dog while the engineers measure how fast the model "
        + "answers each question, one token after another, and write every figure down with its command. "

    public init(path: String, contextCapacity: Int) throws {
        self.path = path
        model = try LanguageModel(path: path, contextCapacity: contextCapacity)
        stream = model.tokenizer.encode(String(repeating: Self.paragraph, count: 40))
    }

    /// Tokens `0..<n` of the stream (repeated when n is longer).
    func tokens(_ n: Int) -> [Int32] { (0..<n).map { stream[$0 % stream.count] } }

    func timed(reps: Int, _ body: () throws -> Void) rethrows -> [Double] {
        try body()
        var out: [Double] = []
        for _ in 0..<reps {
            let t0 = monotonicNanos()
            try body()
            out.append(Double(monotonicNanos() - t0) / 1e9)
        }
        return out
    }

    static func meanSD(_ v: [Double]) -> (Double, Double) {
        let m = v.reduce(0, +) / Double(max(1, v.count))
        let s = (v.reduce(0) { $0 + ($1 - m) * ($1 - m) } / Double(max(1, v.count))).squareRoot()
        return (m, s)
    }

    /// Runs `tests` ("pp64", "tg128", "ttft64") with `compute`, calling `report` per row.
    public func run(tests: [String], compute: Compute, kvCache: Bool, reps: Int, report: (LLMBenchResult) -> Void) throws {
        model.compute = compute
        model.kvCacheEnabled = kvCache
        let size = (try? FileManager.default.attributesOfItem(atPath: path)[.size] as? Int) ?? 0
        for test in tests {
            let n = Int(test.drop { !$0.isNumber }) ?? 0
            var values: [Double] = []
            if test.hasPrefix("pp") {
                let toks = tokens(n)
                values = try timed(reps: reps) { try model.prefill(toks) }.map { Double(n) / $0 }
            } else if test.hasPrefix("tg") {
                let toks = tokens(n + 1)
                values = try timed(reps: reps) {
                    try model.prefill([toks[0]])
                    for i in 0..<n { try model.decode(toks[1 + i]) }
                }.map { Double(n) / $0 }
            } else if test.hasPrefix("ttft") {
                let toks = tokens(n)
                values = try timed(reps: reps) { _ = Sampler.argmax(try model.prefill(toks)) }.map { $0 * 1e3 }
            }
            let (m, s) = Self.meanSD(values)
            report(LLMBenchResult(model: model.name, sizeBytes: size, params: model.config.parameterCount(tiedHead: model.tiedHead),
                                  backend: compute.backend == .reference ? "reference" : "cpu", isa: compute.isa.rawValue,
                                  threads: compute.threads, kvCache: kvCache, test: test, mean: test.hasPrefix("ttft") ? values.sorted()[values.count / 2] : m,
                                  sd: s, reps: reps, peakRssMB: Double(ProcessMemory.shared.peakResidentBytes()) / 1_048_576))
        }
    }
}
