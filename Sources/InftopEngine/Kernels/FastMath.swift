/// Vectorised transcendental functions on `SIMD8<Float>` (one AVX2 register), for the kernels
/// that need them in a hot loop (GELU and its derivative, softmax).
public enum FastMath {
    /// eˣ for 8 lanes, Cephes' `expf` scheme: x = n·ln2 + r with |r| ≤ ½ln2 (ln2 split in two
    /// parts so n·ln2 is exact), a degree-6 polynomial for eʳ, and 2ⁿ built from its exponent bits.
    /// Relative error a few ulp over the clamped range (tested against libm's `exp`).
    ///
    /// Inputs are clamped to [-87.3, 88] so 2ⁿ stays a normal float: results saturate at about
    /// 1.2e-38 and 1.65e38 instead of underflowing to 0 or overflowing to ∞.
    @inline(__always)
    public static func exp(_ v: SIMD8<Float>) -> SIMD8<Float> {
        var x = v.replacing(with: 88.0, where: v .> 88.0)
        x = x.replacing(with: -87.3, where: x .< -87.3)
        // Round x·log₂e to the nearest integer by adding 1.5·2²³: the sum's low mantissa bits
        // are then the integer itself, which saves a float→int conversion.
        let magic = SIMD8<Float>(repeating: 12_582_912.0)
        let shifted = x * SIMD8(repeating: 1.442_695_040_888_963_4) + magic
        let n = shifted - magic
        let nInt = unsafeBitCast(shifted, to: SIMD8<Int32>.self) &- 0x4B40_0000
        // r = x − n·ln2, with ln2 = C1 + C2 (C1 has few mantissa bits, so n·C1 is exact).
        var r = x.addingProduct(n, SIMD8(repeating: -0.693_359_375))
        r = r.addingProduct(n, SIMD8(repeating: 2.121_944_40e-4))
        // eʳ ≈ 1 + r + r²·P(r), Cephes' minimax coefficients.
        var q = SIMD8<Float>(repeating: 1.987_569_150_0e-4)
        q = SIMD8(repeating: 1.398_199_950_7e-3).addingProduct(q, r)
        q = SIMD8(repeating: 8.333_451_907_3e-3).addingProduct(q, r)
        q = SIMD8(repeating: 4.166_579_589_4e-2).addingProduct(q, r)
        q = SIMD8(repeating: 1.666_666_545_9e-1).addingProduct(q, r)
        q = SIMD8(repeating: 5.000_000_120_1e-1).addingProduct(q, r)
        let er = (r + 1).addingProduct(q, r * r)
        let pow2n = unsafeBitCast((nInt &+ 127) &<< 23, to: SIMD8<Float>.self)
        return er * pow2n
    }

    /// yᵢ = eˣⁱ for `count` elements (any count; the tail is done through a padded vector).
    /// `x` and `y` may be the same buffer.
    public static func exp(_ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>, count: Int) {
        var i = 0
        while i + 8 <= count {
            let v = UnsafeRawPointer(x + i).loadUnaligned(as: SIMD8<Float>.self)
            UnsafeMutableRawPointer(y + i).storeBytes(of: exp(v), as: SIMD8<Float>.self)
            i += 8
        }
        if i < count {
            let v = exp(loadPartial(x + i, count - i))
            storePartial(v, y + i, count - i)
        }
    }

    /// The first `n` (< 8) lanes from `p`, the rest zero.
    @inline(__always)
    static func loadPartial(_ p: UnsafePointer<Float>, _ n: Int) -> SIMD8<Float> {
        var v = SIMD8<Float>()
        for j in 0..<n { v[j] = p[j] }
        return v
    }

    /// Stores the first `n` (< 8) lanes of `v` at `p`.
    @inline(__always)
    static func storePartial(_ v: SIMD8<Float>, _ p: UnsafeMutablePointer<Float>, _ n: Int) {
        for j in 0..<n { p[j] = v[j] }
    }
}

extension UnsafePointer where Pointee == Float {
    /// 8 floats from `self + offset`, no alignment needed.
    @inline(__always)
    func loadV8(at offset: Int) -> SIMD8<Float> { UnsafeRawPointer(self + offset).loadUnaligned(as: SIMD8<Float>.self) }
}

extension UnsafeMutablePointer where Pointee == Float {
    /// 8 floats from `self + offset`, no alignment needed.
    @inline(__always)
    func loadV8(at offset: Int) -> SIMD8<Float> { UnsafeRawPointer(self + offset).loadUnaligned(as: SIMD8<Float>.self) }

    /// Stores 8 floats at `self + offset`, no alignment needed.
    @inline(__always)
    func storeV8(_ v: SIMD8<Float>, at offset: Int) { UnsafeMutableRawPointer(self + offset).storeBytes(of: v, as: SIMD8<Float>.self) }
}
