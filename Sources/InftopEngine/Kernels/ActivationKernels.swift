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
    // Abramowitz & Stegun 7.1.26: erfc(z) ≈ t·(a1 + t·(a2 + t·(a3 + t·(a4 + t·a5))))·e^(−z²),
    // t = 1/(1 + p·z), z ≥ 0, |error| ≤ 1.5e-7 — the scheme PyTorch's AVX2 erf uses. Evaluating
    // erfc (not 1 + erf) keeps relative accuracy in the negative tail, where 1 + erf cancels.
    @usableFromInline static let asP: Float = 0.327_591_1
    @usableFromInline static let a1: Float = 0.254_829_592
    @usableFromInline static let a2: Float = -0.284_496_736
    @usableFromInline static let a3: Float = 1.421_413_741
    @usableFromInline static let a4: Float = -1.453_152_027
    @usableFromInline static let a5: Float = 1.061_405_429

    /// Φ(x) (the standard normal CDF) and e^(−x²/2) for 8 lanes; both GELU directions need them.
    @inline(__always)
    static func phiAndGauss(_ x: SIMD8<Float>) -> (cdf: SIMD8<Float>, gauss: SIMD8<Float>) {
        // |x|/√2; clearing the sign bit is the cheapest |x|.
        let absX = unsafeBitCast(unsafeBitCast(x, to: SIMD8<UInt32>.self) & 0x7FFF_FFFF, to: SIMD8<Float>.self)
        let z = absX * SIMD8(repeating: 0.707_106_781_186_547_5)
        let t = 1 / SIMD8(repeating: 1).addingProduct(z, SIMD8(repeating: asP))
        var poly = SIMD8<Float>(repeating: a5)
        poly = SIMD8(repeating: a4).addingProduct(poly, t)
        poly = SIMD8(repeating: a3).addingProduct(poly, t)
        poly = SIMD8(repeating: a2).addingProduct(poly, t)
        poly = SIMD8(repeating: a1).addingProduct(poly, t)
        poly = poly * t
        let gauss = FastMath.exp(-(z * z))          // e^(−z²) = e^(−x²/2)
        let halfErfc = SIMD8<Float>(repeating: 0.5) * poly * gauss   // ½·erfc(|x|/√2) = Φ(−|x|)
        // Φ(x) = 1 − Φ(−x) for x ≥ 0, Φ(−|x|) otherwise.
        let cdf = halfErfc.replacing(with: SIMD8<Float>(repeating: 1) - halfErfc, where: x .>= 0)
        return (cdf, gauss)
    }

    /// y = gelu(x) for `count` elements (exact erf form, |error| ≲ 1e-7·max(1,|x|)).
    /// `x` and `y` may be the same buffer (in place).
    public static func gelu(_ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>, count: Int) {
        var i = 0
        while i + 8 <= count {
            let v = x.loadV8(at: i)
            y.storeV8(v * phiAndGauss(v).cdf, at: i)
            i += 8
        }
        if i < count {
            let v = FastMath.loadPartial(x + i, count - i)
            FastMath.storePartial(v * phiAndGauss(v).cdf, y + i, count - i)
        }
    }

    /// dX = dY ⊙ gelu'(x) for `count` elements; gelu' is the exact derivative Φ(x) + x·φ(x).
    /// `dX` may alias `dY`.
    public static func geluBackward(x: UnsafePointer<Float>, dY: UnsafePointer<Float>,
                                    dX: UnsafeMutablePointer<Float>, count: Int) {
        let invSqrt2Pi = SIMD8<Float>(repeating: 0.398_942_280_401_432_7)
        @inline(__always) func derivative(_ v: SIMD8<Float>) -> SIMD8<Float> {
            let (cdf, gauss) = phiAndGauss(v)
            return cdf.addingProduct(v * gauss, invSqrt2Pi)
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

    /// Reference GELU: ½·x·(1 + erf(x/√2)) in Double per element.
    public static func geluReference(_ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>, count: Int) {
        for i in 0..<count {
            let v = Double(x[i])
            y[i] = Float(0.5 * v * (1 + erf(v / 2.0.squareRoot())))
        }
    }

    /// Reference GELU backward: dY·(Φ(x) + x·e^(−x²/2)/√(2π)) in Double per element.
    public static func geluBackwardReference(x: UnsafePointer<Float>, dY: UnsafePointer<Float>,
                                             dX: UnsafeMutablePointer<Float>, count: Int) {
        for i in 0..<count {
            let v = Double(x[i])
            let cdf = 0.5 * (1 + erf(v / 2.0.squareRoot()))
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
