#if canImport(Glibc)
import Glibc
#endif

/// Teacher-forced scoring: the next-token logits after every prefix of a token list (their top
/// K) and the list's perplexity, as llama.cpp's perplexity tool computes it.
public enum LanguageModelScorer {
    public struct Position: Sendable, Equatable {
        public var ids: [Int32]
        public var logits: [Float]
    }
    public struct Result: Sendable {
        public var positions: [Position]
        /// exp(mean −log p(ids[i+1] | ids[0...i])); NaN for a list of one token.
        public var perplexity: Double
    }

    /// With the KV cache on: one prefill that reports every position; off: each prefix recomputed.
    public static func score(_ lm: LanguageModel, ids: [Int32], top: Int) throws -> Result {
        var positions: [Position] = []
        var nll = 0.0
        func take(_ i: Int, _ logits: UnsafeBufferPointer<Float>) {
            positions.append(topK(logits, top))
            if i + 1 < ids.count { nll -= logSoftmax(logits, at: Int(ids[i + 1])) }
        }
        if lm.kvCacheEnabled {
            try lm.prefill(ids) { i, l in take(i, l) }
        } else {
            for n in 1...max(1, ids.count) { take(n - 1, try lm.prefill(Array(ids.prefix(n)))) }
        }
        return Result(positions: positions, perplexity: ids.count > 1 ? exp(nll / Double(ids.count - 1)) : .nan)
    }

    /// The `k` largest logits, decreasing (ties: lower id first).
    public static func topK(_ logits: UnsafeBufferPointer<Float>, _ k: Int) -> Position {
        var best: [(Float, Int32)] = []
        best.reserveCapacity(k + 1)
        for i in 0..<logits.count {
            let v = logits[i]
            if best.count == k, let last = best.last, v <= last.0 { continue }
            var j = best.count
            best.append((v, Int32(i)))
            while j > 0 && best[j - 1].0 < v { best[j] = best[j - 1]; j -= 1 }
            best[j] = (v, Int32(i))
            if best.count > k { best.removeLast() }
        }
        return Position(ids: best.map(\.1), logits: best.map(\.0))
    }

    /// log softmax(logits)[i], in Double.
    public static func logSoftmax(_ logits: UnsafeBufferPointer<Float>, at i: Int) -> Double {
        var mx = -Float.infinity
        for v in logits { mx = max(mx, v) }
        var s = 0.0
        for v in logits { s += exp(Double(v - mx)) }
        return Double(logits[i] - mx) - log(s)
    }
}
