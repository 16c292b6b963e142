#if canImport(Glibc)
import Glibc
#endif

/// A small, fast, seeded pseudo-random generator: xoshiro256** (Blackman & Vigna) whose 256-bit
/// state is filled from the seed by SplitMix64, as the authors recommend.
///
/// Same seed ⇒ same sequence on every platform and Swift version (unlike `SystemRandomNumberGenerator`
/// or the standard library's `shuffle`, whose algorithm is unspecified), so weight initialisation,
/// dropout masks and the data loader's epoch order are reproducible. A value type: copying it forks
/// the sequence. Not for cryptography.
public struct SeededRandom: RandomNumberGenerator, Sendable {
    private var s0: UInt64, s1: UInt64, s2: UInt64, s3: UInt64
    /// A spare standard normal from the last Box–Muller pair (`normal()` yields two per pair).
    private var spareNormal: Float?

    /// A generator whose sequence is fixed by `seed` (any value, 0 included).
    public init(seed: UInt64) {
        var sm = seed
        func splitMix(_ x: inout UInt64) -> UInt64 {
            x &+= 0x9E37_79B9_7F4A_7C15
            var z = x
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return z ^ (z >> 31)
        }
        s0 = splitMix(&sm); s1 = splitMix(&sm); s2 = splitMix(&sm); s3 = splitMix(&sm)
    }

    /// The next 64 uniformly distributed bits.
    @inline(__always)
    public mutating func next() -> UInt64 {
        let result = ((s1 &* 5) << 7 | (s1 &* 5) >> 57) &* 9
        let t = s1 << 17
        s2 ^= s0; s3 ^= s1; s1 ^= s2; s0 ^= s3
        s2 ^= t
        s3 = (s3 << 45) | (s3 >> 19)
        return result
    }

    /// A Float uniform in [0, 1): the top 24 bits of `next()`, so every value is exactly k·2⁻²⁴.
    @inline(__always)
    public mutating func nextFloat() -> Float {
        Float(next() >> 40) * (1.0 / 16_777_216.0)
    }

    /// A Float uniform in [lo, hi) (PyTorch's `uniform_(lo, hi)` draws from the same interval).
    @inline(__always)
    public mutating func uniform(_ lo: Float, _ hi: Float) -> Float {
        lo + (hi - lo) * nextFloat()
    }

    /// A standard normal (mean 0, variance 1) by the Box–Muller transform in Double; the second
    /// value of each pair is kept for the next call.
    public mutating func normal() -> Float {
        if let s = spareNormal { spareNormal = nil; return s }
        // u1 in (0, 1] so log(u1) is finite.
        let u1 = (Double(next() >> 11) + 1) * (1.0 / 9_007_199_254_740_992.0)
        let u2 = Double(next() >> 11) * (1.0 / 9_007_199_254_740_992.0)
        let r = (-2 * log(u1)).squareRoot()
        let a = 2 * Double.pi * u2
        spareNormal = Float(r * sin(a))
        return Float(r * cos(a))
    }

    /// An Int uniform in 0..<bound (bound ≥ 1), unbiased (Lemire's multiply-and-reject).
    public mutating func nextInt(below bound: Int) -> Int {
        precondition(bound >= 1, "SeededRandom.nextInt: bound must be ≥ 1, got \(bound)")
        let b = UInt64(bound)
        var m = next().multipliedFullWidth(by: b)
        if m.low < b {
            let threshold = (0 &- b) % b
            while m.low < threshold { m = next().multipliedFullWidth(by: b) }
        }
        return Int(m.high)
    }

    /// Shuffles `buffer` in place by Fisher–Yates (Durstenfeld's form): every permutation equally
    /// likely, the order fixed by the generator's state.
    public mutating func shuffle<T>(_ buffer: UnsafeMutableBufferPointer<T>) {
        var i = buffer.count - 1
        while i > 0 {
            let j = nextInt(below: i + 1)
            if i != j { buffer.swapAt(i, j) }
            i -= 1
        }
    }

    /// Shuffles `array` in place by Fisher–Yates (same order as the buffer version).
    public mutating func shuffle<T>(_ array: inout [T]) {
        array.withUnsafeMutableBufferPointer { shuffle($0) }
    }

    /// Fills `tensor` with values uniform in [lo, hi), in storage order.
    public mutating func fillUniform(_ tensor: Tensor, _ lo: Float, _ hi: Float) {
        let p = tensor.data
        for i in 0..<tensor.count { p[i] = uniform(lo, hi) }
    }
}
