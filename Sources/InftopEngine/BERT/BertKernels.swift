import Dispatch
import Foundation

/// Fused inference kernels of the BERT encoder, each with a plain `…Reference` twin (the test
/// oracle): bias + activation, bias + residual + LayerNorm, masked softmax attention
/// (BertKernels+Attention.swift). Row-major fp32 on raw pointers; rows are split over
/// `threads` with `DispatchQueue.concurrentPerform` when there is enough work.
public enum BertKernels {
    // MARK: - bias + activation

    /// x[r, c] = act(x[r, c] + bias[c]) for r < rows, c < cols (x row stride `cols`). GELU uses a
    /// vectorised rational erf (max abs error 4e-7 against libm's erf).
    public static func biasActivation(_ x: UnsafeMutablePointer<Float>, bias: UnsafePointer<Float>, rows: Int, cols: Int,
                                      activation: BertActivation, threads: Int = 1) {
        nonisolated(unsafe) let x = x
        parallelRows(rows, threads: threads, minRowsPerThread: max(1, 16_384 / max(cols, 1))) { range in
            for r in range {
                let row = x + r * cols
                var c = 0
                switch activation {
                case .gelu:
                    while c + 8 <= cols { store8(gelu8(load8(row + c) + load8(bias + c)), row + c); c += 8 }
                case .geluTanh:
                    while c + 8 <= cols { store8(geluTanh8(load8(row + c) + load8(bias + c)), row + c); c += 8 }
                case .relu:
                    while c + 8 <= cols { let v = load8(row + c) + load8(bias + c); store8(v.replacing(with: 0, where: v .< 0), row + c); c += 8 }
                }
                while c < cols {
                    // Tail through the same vector code, one lane used, so every element rounds alike.
                    let v = SIMD8<Float>(repeating: row[c] + bias[c])
                    switch activation {
                    case .gelu: row[c] = gelu8(v)[0]
                    case .geluTanh: row[c] = geluTanh8(v)[0]
                    case .relu: row[c] = max(v[0], 0)
                    }
                    c += 1
                }
            }
        }
    }

    /// Plain-loop twin of `biasActivation` using libm's erf / tanh.
    public static func biasActivationReference(_ x: UnsafeMutablePointer<Float>, bias: UnsafePointer<Float>, rows: Int, cols: Int,
                                               activation: BertActivation) {
        for r in 0..<rows {
            for c in 0..<cols {
                let v = Double(x[r * cols + c] + bias[c])
                let y: Double
                switch activation {
                case .gelu: y = 0.5 * v * (1 + Foundation.erf(v / 2.0.squareRoot()))
                case .geluTanh: y = 0.5 * v * (1 + Foundation.tanh((2 / Double.pi).squareRoot() * (v + 0.044715 * v * v * v)))
                case .relu: y = max(v, 0)
                }
                x[r * cols + c] = Float(y)
            }
        }
    }

    // MARK: - bias + residual + LayerNorm

    /// residual[r] = LayerNorm(y[r] + bias + residual[r]) · gamma + beta, per row of `cols`
    /// (all rows stride `cols`; `bias` may be nil). In place in `residual`, which holds the
    /// sub-layer's input on entry and its output on return — the post-LN of BERT.
    public static func biasResidualLayerNorm(
        _ y: UnsafePointer<Float>, bias: UnsafePointer<Float>?, residual: UnsafeMutablePointer<Float>,
        gamma: UnsafePointer<Float>, beta: UnsafePointer<Float>, rows: Int, cols: Int, eps: Float, threads: Int = 1
    ) {
        nonisolated(unsafe) let y = y, bias = bias, residual = residual, gamma = gamma, beta = beta
        parallelRows(rows, threads: threads, minRowsPerThread: max(1, 16_384 / max(cols, 1))) { range in
            for r in range {
                let out = residual + r * cols, inp = y + r * cols
                var c = 0
                if let bias {
                    while c + 8 <= cols { store8(load8(inp + c) + load8(bias + c) + load8(out + c), out + c); c += 8 }
                    while c < cols { out[c] = inp[c] + bias[c] + out[c]; c += 1 }
                } else {
                    while c + 8 <= cols { store8(load8(inp + c) + load8(out + c), out + c); c += 8 }
                    while c < cols { out[c] = inp[c] + out[c]; c += 1 }
                }
                layerNormRow(out, gamma: gamma, beta: beta, n: cols, eps: eps)
            }
        }
    }

    /// Plain-loop twin of `biasResidualLayerNorm` (accumulates in Double).
    public static func biasResidualLayerNormReference(
        _ y: UnsafePointer<Float>, bias: UnsafePointer<Float>?, residual: UnsafeMutablePointer<Float>,
        gamma: UnsafePointer<Float>, beta: UnsafePointer<Float>, rows: Int, cols: Int, eps: Float
    ) {
        for r in 0..<rows {
            var v = [Double](repeating: 0, count: cols)
            for c in 0..<cols { v[c] = Double(y[r * cols + c]) + Double(bias?[c] ?? 0) + Double(residual[r * cols + c]) }
            let mean = v.reduce(0, +) / Double(cols)
            let variance = v.reduce(0) { $0 + ($1 - mean) * ($1 - mean) } / Double(cols)
            let rstd = 1 / (variance + Double(eps)).squareRoot()
            for c in 0..<cols { residual[r * cols + c] = Float((v[c] - mean) * rstd * Double(gamma[c]) + Double(beta[c])) }
        }
    }

    /// Normalises one row in place: (v − mean) / sqrt(var + eps) · gamma + beta (biased variance,
    /// two passes over the row, which is in L1: more accurate than E[x²] − E[x]²).
    @inline(__always)
    static func layerNormRow(_ v: UnsafeMutablePointer<Float>, gamma: UnsafePointer<Float>, beta: UnsafePointer<Float>, n: Int, eps: Float) {
        var acc = SIMD8<Float>.zero
        var c = 0
        while c + 8 <= n { acc += load8(v + c); c += 8 }
        var sum = acc.sum()
        while c < n { sum += v[c]; c += 1 }
        let mean = sum / Float(n)
        let m8 = SIMD8<Float>(repeating: mean)
        acc = .zero
        c = 0
        while c + 8 <= n { let d = load8(v + c) - m8; acc.addProduct(d, d); c += 8 }
        var sq = acc.sum()
        while c < n { let d = v[c] - mean; sq += d * d; c += 1 }
        let rstd = 1 / (sq / Float(n) + eps).squareRoot()
        let r8 = SIMD8<Float>(repeating: rstd)
        c = 0
        while c + 8 <= n { store8(load8(beta + c).addingProduct((load8(v + c) - m8) * r8, load8(gamma + c)), v + c); c += 8 }
        while c < n { v[c] = (v[c] - mean) * rstd * gamma[c] + beta[c]; c += 1 }
    }

    // MARK: - vector math

    /// e^x for 8 lanes (Cephes expf polynomial, ~1 ulp on [-87, 88]); 0 below −87.3, e^88 above 88.
    @inline(__always)
    public static func exp8(_ x: SIMD8<Float>) -> SIMD8<Float> {
        // replacing(with:where:) compiles to compare + blend; pointwiseMin/Max and clamped are not
        // inlined (generic calls, 9% of a forward when used here).
        var xc = x.replacing(with: 88, where: x .> 88)
        xc = xc.replacing(with: -87.3, where: xc .< -87.3)
        // Round x·log2(e) to an integer n by the 1.5·2²³ trick: the sum's low mantissa bits hold n.
        let magic = SIMD8<Float>(repeating: 12_582_912)
        let t = magic.addingProduct(xc, SIMD8(repeating: 1.442_695_04))
        return expCore(xc, n: t - magic, t: t, below: x .< SIMD8(repeating: -87.3))
    }

    @inline(__always)
    static func expCore(_ x: SIMD8<Float>, n: SIMD8<Float>, t: SIMD8<Float>, below: SIMDMask<SIMD8<Int32>>) -> SIMD8<Float> {
        // r = x − n·ln2 in two parts (Cody–Waite) so r is exact enough for the polynomial.
        var r = x.addingProduct(n, SIMD8(repeating: -0.693_359_375))
        r = r.addingProduct(n, SIMD8(repeating: 2.121_944_4e-4))
        var p = SIMD8<Float>(repeating: 1.398_199_95e-3).addingProduct(SIMD8(repeating: 1.987_569_15e-4), r)
        p = SIMD8<Float>(repeating: 8.333_451_9e-3).addingProduct(p, r)
        p = SIMD8<Float>(repeating: 4.166_579_59e-2).addingProduct(p, r)
        p = SIMD8<Float>(repeating: 1.666_666_55e-1).addingProduct(p, r)
        p = SIMD8<Float>(repeating: 5.000_000_12e-1).addingProduct(p, r)
        let y = (r + 1).addingProduct(p, r * r)
        // 2^n: n's integer value sits in t's low bits (t = n + 1.5·2²³); shift (n + 127) into the exponent.
        let tb = unsafeBitCast(t, to: SIMD8<UInt32>.self)
        let scale = unsafeBitCast((tb &- 0x4B40_0000 &+ 127) &<< 23, to: SIMD8<Float>.self)
        return (y * scale).replacing(with: 0, where: below)
    }

    /// erf for 8 lanes: odd/even rational approximation on [−4, 4] (±1 beyond, exact in fp32).
    @inline(__always)
    public static func erf8(_ a: SIMD8<Float>) -> SIMD8<Float> {
        var x = a.replacing(with: 4, where: a .> 4)
        x = x.replacing(with: -4, where: x .< -4)
        let x2 = x * x
        var p = SIMD8<Float>(repeating: 2.770_681_42e-08).addingProduct(x2, SIMD8(repeating: -2.726_142_25e-10))
        p = SIMD8<Float>(repeating: -2.101_024_02e-06).addingProduct(x2, p)
        p = SIMD8<Float>(repeating: -5.692_506_39e-05).addingProduct(x2, p)
        p = SIMD8<Float>(repeating: -7.349_906_30e-04).addingProduct(x2, p)
        p = SIMD8<Float>(repeating: -2.954_599_80e-03).addingProduct(x2, p)
        p = SIMD8<Float>(repeating: -1.609_603_33e-02).addingProduct(x2, p)
        var q = SIMD8<Float>(repeating: -2.133_740_55e-04).addingProduct(x2, SIMD8(repeating: -1.456_607_18e-05))
        q = SIMD8<Float>(repeating: -1.682_826_97e-03).addingProduct(x2, q)
        q = SIMD8<Float>(repeating: -7.373_329_17e-03).addingProduct(x2, q)
        q = SIMD8<Float>(repeating: -1.426_473_90e-02).addingProduct(x2, q)
        return x * p / q
    }

    /// Exact (erf) GELU, x·Φ(x) = ½x(1 + erf(x/√2)), Hugging Face's "gelu".
    @inline(__always)
    public static func gelu8(_ x: SIMD8<Float>) -> SIMD8<Float> {
        let half = SIMD8<Float>(repeating: 0.5) * x
        return half.addingProduct(half, erf8(x * SIMD8(repeating: 0.707_106_781_186_547_5)))
    }

    /// Tanh GELU, ½x(1 + tanh(√(2/π)(x + 0.044715x³))), with tanh(u) = 1 − 2/(e^{2u} + 1).
    @inline(__always)
    static func geluTanh8(_ x: SIMD8<Float>) -> SIMD8<Float> {
        let u = SIMD8<Float>(repeating: 0.797_884_560_8) * x.addingProduct(SIMD8(repeating: 0.044_715) * x * x, x)
        let e = exp8(u + u)
        let tanh = 1 - 2 / (e + 1)
        let half = SIMD8<Float>(repeating: 0.5) * x
        return half.addingProduct(half, tanh)
    }

    // MARK: - helpers

    @inline(__always)
    static func load8(_ p: UnsafePointer<Float>) -> SIMD8<Float> { UnsafeRawPointer(p).loadUnaligned(as: SIMD8<Float>.self) }
    @inline(__always)
    static func load8(_ p: UnsafeMutablePointer<Float>) -> SIMD8<Float> { UnsafeRawPointer(p).loadUnaligned(as: SIMD8<Float>.self) }
    @inline(__always)
    static func store8(_ v: SIMD8<Float>, _ p: UnsafeMutablePointer<Float>) { UnsafeMutableRawPointer(p).storeBytes(of: v, as: SIMD8<Float>.self) }

    /// Runs `body` over 0..<rows, split into up to `threads` contiguous chunks of at least
    /// `minRowsPerThread` rows each (one chunk, on the caller, when that leaves one).
    static func parallelRows(_ rows: Int, threads: Int, minRowsPerThread: Int = 1, _ body: (Range<Int>) -> Void) {
        let parts = max(1, min(threads, rows / max(1, minRowsPerThread)))
        parallelChunks(rows, parts: parts) { _, range in body(range) }
    }

    /// Runs `body(chunk, range)` for `parts` contiguous chunks of 0..<n, in parallel when parts > 1
    /// (chunk indices are distinct, so a chunk can own per-worker scratch). The caller runs chunks
    /// too (libdispatch's apply), so nothing waits on a worker that has not woken yet.
    static func parallelChunks(_ n: Int, parts: Int, _ body: (Int, Range<Int>) -> Void) {
        if parts <= 1 { body(0, 0..<n); return }
        withoutActuallyEscaping(body) { body in
            nonisolated(unsafe) let body = body
            DispatchQueue.concurrentPerform(iterations: parts) { i in
                body(i, (n * i / parts)..<(n * (i + 1) / parts))
            }
        }
    }
}
