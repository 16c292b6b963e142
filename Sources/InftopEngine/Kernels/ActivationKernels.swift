#if canImport(Glibc)
import Glibc
#endif

/// Elementwise activation kernels shared by the training layers and BERT inference.
///
/// GELU here is the exact (erf) form, PyTorch's default `nn.GELU()` / `approximate='none'`:
///
///     gelu(x) = x·Φ(x) = ½·x·(1 + erf(x/√2))
///     gelu'(x) = Φ(x) + x·φ(x),   φ(x) = e^(−x²/2)/√(2π)
///
/// Tiers: `gelu`/`geluBackward` are the fast SIMD8 kernels; `geluReference`/
/// `geluBackwardReference` are plain loops over libm's `erf`/`exp` in Double, kept forever as the
/// oracle. All take raw buffers of `count` elements and may run on disjoint slices in parallel.
public enum Activations {
    /// Φ(x), the standard normal CDF, for 8 lanes, through erfc so that the negative tail keeps
    /// its relative accuracy (½(1 + erf) cancels to 0 there):
    ///
    ///     Φ(x) = ½·erfc(|x|/√2) for x < 0,   1 − ½·erfc(|x|/√2) for x ≥ 0
    ///     erfc(z) ≈ t·exp(−z² + P(t)),  t = 1/(1 + z/2)
    ///
    /// P is the degree-9 Chebyshev fit of Numerical Recipes' `erfcc` (relative error < 1.2e-7
    /// for all z ≥ 0); one division and one `FastMath.exp`.
    @inline(__always)
    static func cdf(_ x: SIMD8<Float>) -> SIMD8<Float> {
        // |x|/√2; clearing the sign bit is the cheapest |x|.
        let absX = unsafeBitCast(unsafeBitCast(x, to: SIMD8<UInt32>.self) & 0x7FFF_FFFF, to: SIMD8<Float>.self)
        let z = absX * SIMD8(repeating: 0.707_106_781_186_547_5)
        let t = 1 / SIMD8(repeating: 1).addingProduct(z, SIMD8(repeating: 0.5))
        var p = SIMD8<Float>(repeating: 0.170_872_77)
        p = SIMD8(repeating: -0.822_152_23).addingProduct(p, t)
        p = SIMD8(repeating: 1.488_515_87).addingProduct(p, t)
        p = SIMD8(repeating: -1.135_203_98).addingProduct(p, t)
        p = SIMD8(repeating: 0.278_868_07).addingProduct(p, t)
        p = SIMD8(repeating: -0.186_288_06).addingProduct(p, t)
        p = SIMD8(repeating: 0.096_784_18).addingProduct(p, t)
        p = SIMD8(repeating: 0.374_091_96).addingProduct(p, t)
        p = SIMD8(repeating: 1.000_023_68).addingProduct(p, t)
        p = SIMD8(repeating: -1.265_512_23).addingProduct(p, t)
        let halfErfc = SIMD8<Float>(repeating: 0.5) * t * FastMath.exp(p - z * z)   // = Φ(−|x|)
        return halfErfc.replacing(with: SIMD8<Float>(repeating: 1) - halfErfc, where: x .>= 0)
    }

    /// y = gelu(x) for `count` elements (exact erf form; relative error ≲ 2e-7 plus the
    /// input-rounding sensitivity ~1e-7·x² in the negative tail).
    /// `x` and `y` may be the same buffer (in place).
    public static func gelu(_ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>, count: Int) {
        var i = 0
        // Two vectors a step: cdf is one long dependency chain (a division, ten FMAs, exp), so a
        // second independent chain roughly doubles the throughput of a latency-bound loop.
        while i + 16 <= count {
            let a = x.loadV8(at: i), b = x.loadV8(at: i + 8)
            let ya = a * cdf(a), yb = b * cdf(b)
            y.storeV8(ya, at: i)
            y.storeV8(yb, at: i + 8)
            i += 16
        }
        while i + 8 <= count {
            let v = x.loadV8(at: i)
            y.storeV8(v * cdf(v), at: i)
            i += 8
        }
        if i < count {
            let v = FastMath.loadPartial(x + i, count - i)
            FastMath.storePartial(v * cdf(v), y + i, count - i)
        }
    }

    /// dX = dY ⊙ gelu'(x) for `count` elements; gelu' is the exact derivative Φ(x) + x·φ(x).
    /// `dX` may alias `dY`.
    public static func geluBackward(x: UnsafePointer<Float>, dY: UnsafePointer<Float>,
                                    dX: UnsafeMutablePointer<Float>, count: Int) {
        let invSqrt2Pi = SIMD8<Float>(repeating: 0.398_942_280_401_432_7)
        @inline(__always) func derivative(_ v: SIMD8<Float>) -> SIMD8<Float> {
            // φ(x)·√(2π) = e^(−x²/2): a second exp, since erfc's exp has P(t) folded in.
            let gauss = FastMath.exp(v * v * SIMD8(repeating: -0.5))
            return cdf(v).addingProduct(v * gauss, invSqrt2Pi)
        }
        var i = 0
        while i + 8 <= count {
            dX.storeV8(dY.loadV8(at: i) * derivative(x.loadV8(at: i)), at: i)
            i += 8
        }
        if i < count {
            let n = count - i
            let d = FastMath.loadPartial(dY + i, n) * derivative(FastMath.loadPartial(x + i, n))
            FastMath.storePartial(d, dX + i, n)
        }
    }

    /// Reference GELU: x·Φ(x) in Double per element, with Φ(x) = ½·erfc(−x/√2) (the same value
    /// as ½(1 + erf(x/√2)) without its cancellation for very negative x).
    public static func geluReference(_ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>, count: Int) {
        for i in 0..<count {
            let v = Double(x[i])
            y[i] = Float(v * 0.5 * erfc(-v / 2.0.squareRoot()))
        }
    }

    /// Reference GELU backward: dY·(Φ(x) + x·e^(−x²/2)/√(2π)) in Double per element.
    public static func geluBackwardReference(x: UnsafePointer<Float>, dY: UnsafePointer<Float>,
                                             dX: UnsafeMutablePointer<Float>, count: Int) {
        for i in 0..<count {
            let v = Double(x[i])
            let cdf = 0.5 * erfc(-v / 2.0.squareRoot())
            let pdf = Foundation_exp(-0.5 * v * v) / (2 * Double.pi).squareRoot()
            dX[i] = Float(Double(dY[i]) * (cdf + v * pdf))
        }
    }

    /// y = max(x, 0) for `count` elements (NaN stays NaN, as in PyTorch). May run in place.
    public static func relu(_ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>, count: Int) {
        var i = 0
        let zero = SIMD8<Float>()
        while i + 8 <= count {
            let v = x.loadV8(at: i)
            y.storeV8(v.replacing(with: zero, where: v .< zero), at: i)
            i += 8
        }
        while i < count { let v = x[i]; y[i] = v < 0 ? 0 : v; i += 1 }
    }

    /// dX = dY where y > 0, else 0 (y is ReLU's output; y > 0 ⇔ x > 0). `dX` may alias `dY`.
    public static func reluBackward(y: UnsafePointer<Float>, dY: UnsafePointer<Float>,
                                    dX: UnsafeMutablePointer<Float>, count: Int) {
        var i = 0
        let zero = SIMD8<Float>()
        while i + 8 <= count {
            let v = y.loadV8(at: i)
            dX.storeV8(zero.replacing(with: dY.loadV8(at: i), where: v .> zero), at: i)
            i += 8
        }
        while i < count { dX[i] = y[i] > 0 ? dY[i] : 0; i += 1 }
    }
}

/// libm's double `exp`, named so it does not collide with `FastMath.exp` inside the enums.
@inline(__always)
func Foundation_exp(_ x: Double) -> Double { exp(x) }
