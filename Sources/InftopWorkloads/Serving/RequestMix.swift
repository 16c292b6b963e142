import InftopEngine

/// Which input each request asks about (the `z` knob): with probability `repeatFraction` one of
/// a hot set of `hotCount` samples, ranked Zipf-like (rank k drawn ∝ 1/k); otherwise the next
/// of the other samples in a shuffled order, so a non-repeat asks about an input no request has
/// asked about for a whole pass over the cold samples. A cache large enough for the hot set and
/// smaller than a pass therefore hits on repeats only: hit rate ≈ `repeatFraction`.
public struct RequestMix: Sendable {
    public let sampleCount: Int
    public var repeatFraction: Double
    /// The hot samples, in rank order.
    public let hot: [Int32]
    /// Cumulative Zipf weights of the hot ranks, last = 1.
    private let hotCDF: [Double]
    /// The other samples, reshuffled after every pass.
    private var cold: [Int32]
    private var coldNext = 0

    /// - Parameters:
    ///   - sampleCount: inputs requests draw from (≥ 1).
    ///   - repeatFraction: in [0, 1].
    ///   - hotCount: hot-set size (capped at half the samples).
    public init(sampleCount: Int, repeatFraction: Double, hotCount: Int = 64, rng: inout SeededRandom) {
        precondition(sampleCount >= 1, "RequestMix: need ≥ 1 sample")
        self.sampleCount = sampleCount
        self.repeatFraction = min(1, max(0, repeatFraction))
        var order = (0..<Int32(sampleCount)).map { $0 }
        order.withUnsafeMutableBufferPointer { rng.shuffle($0) }
        let h = max(1, min(hotCount, sampleCount / 2))
        hot = Array(order.prefix(h))
        cold = sampleCount > h ? Array(order.dropFirst(h)) : hot
        var acc = 0.0
        var cdf: [Double] = []
        for k in 1...h { acc += 1 / Double(k); cdf.append(acc) }
        hotCDF = cdf.map { $0 / acc }
    }

    /// The next request's sample, and whether it was drawn as a repeat.
    public mutating func next(_ rng: inout SeededRandom) -> (sample: Int32, isRepeat: Bool) {
        let u = Double(rng.next() >> 11) / Double(1 << 53)
        if repeatFraction > 0 && u < repeatFraction {
            let v = Double(rng.next() >> 11) / Double(1 << 53)
            var lo = 0, hi = hotCDF.count - 1
            while lo < hi {
                let mid = (lo + hi) / 2
                if hotCDF[mid] > v { hi = mid } else { lo = mid + 1 }
            }
            return (hot[lo], true)
        }
        if coldNext == cold.count {
            cold.withUnsafeMutableBufferPointer { rng.shuffle($0) }
            coldNext = 0
        }
        defer { coldNext += 1 }
        return (cold[coldNext], false)
    }
}
