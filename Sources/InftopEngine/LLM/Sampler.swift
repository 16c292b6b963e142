/// Picks the next token from logits: greedy (temperature 0), or temperature / top-k / top-p
/// (nucleus) sampling from a seeded generator, so a seed reproduces a generation.
public struct Sampler: Sendable {
    public var temperature: Float
    /// Keep the k most likely tokens (0 = all).
    public var topK: Int
    /// Keep the smallest set of most likely tokens whose probability reaches p (1 = all).
    public var topP: Float
    private var rng: SeededRandom
    private var order: [Int32] = []

    /// - Throws: `EngineError.invalid` naming the knob when a value is out of range.
    public init(temperature: Float = 0, topK: Int = 40, topP: Float = 0.95, seed: UInt64 = 0) throws {
        guard temperature.isFinite, temperature >= 0, temperature <= 100 else {
            throw EngineError.invalid(what: "--temperature", reason: "\(temperature): must be in 0…100 (0 = greedy)")
        }
        guard topK >= 0 else { throw EngineError.invalid(what: "--top-k", reason: "\(topK): must be ≥ 0 (0 = no limit)") }
        guard topP.isFinite, topP > 0, topP <= 1 else { throw EngineError.invalid(what: "--top-p", reason: "\(topP): must be in (0, 1]") }
        self.temperature = temperature; self.topK = topK; self.topP = topP
        rng = SeededRandom(seed: seed)
    }

    /// The greedy sampler.
    public static var greedy: Sampler { try! Sampler(temperature: 0) }

    /// The index of the largest logit (the first on ties).
    public static func argmax(_ logits: UnsafeBufferPointer<Float>) -> Int32 {
        var best = 0
        var bv = -Float.infinity
        for i in 0..<logits.count where logits[i] > bv { bv = logits[i]; best = i }
        return Int32(best)
    }

    /// The next token.
    public mutating func sample(_ logits: UnsafeBufferPointer<Float>) -> Int32 {
        if temperature == 0 { return Self.argmax(logits) }
        let n = logits.count
        let k = topK == 0 ? n : min(topK, n)
        // The k largest, in decreasing order (a partial selection: k is small next to the vocabulary).
        order.removeAll(keepingCapacity: true)
        if k < n {
            var heap: [(Float, Int32)] = []
            heap.reserveCapacity(k + 1)
            for i in 0..<n {
                let v = logits[i]
                if heap.count < k { heap.append((v, Int32(i))); if heap.count == k { heap.sort { $0.0 > $1.0 } }; continue }
                if v > heap[k - 1].0 {
                    var j = k - 1
                    while j > 0 && heap[j - 1].0 < v { heap[j] = heap[j - 1]; j -= 1 }
                    heap[j] = (v, Int32(i))
                }
            }
            if heap.count < k { heap.sort { $0.0 > $1.0 } }
            order = heap.map(\.1)
        } else {
            order = (0..<Int32(n)).sorted { logits[Int($0)] > logits[Int($1)] }
        }
        let mx = logits[Int(order[0])]
        var probs = order.map { Double(Foundation_exp(Double((logits[Int($0)] - mx) / temperature))) }
        let total = probs.reduce(0, +)
        for i in probs.indices { probs[i] /= total }
        var keep = probs.count, acc = 0.0
        if topP < 1 {
            for (i, p) in probs.enumerated() { acc += p; if acc >= Double(topP) { keep = i + 1; break } }
        }
        let mass = probs[0..<keep].reduce(0, +)
        var u = Double(rng.nextFloat()) * mass
        for i in 0..<keep { u -= probs[i]; if u <= 0 { return order[i] } }
        return order[keep - 1]
    }
}
