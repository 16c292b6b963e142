#if canImport(Glibc)
import Glibc
#endif
import CKernels
import InftopTelemetry

/// The decoder's small kernels: RMSNorm, RoPE, SwiGLU, causal softmax attention over the KV
/// cache. Fast versions (SIMD8 / ck_quant.h attention helpers) beside plain reference loops.
public enum DecoderKernels {
    /// y = x / sqrt(mean(x²) + eps) · gamma over `n` elements (x and y may alias).
    public static func rmsNorm(_ x: UnsafePointer<Float>, _ gamma: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>, n: Int, eps: Float) {
        var acc = SIMD8<Float>()
        var i = 0
        while i + 8 <= n { let v = x.loadV8(at: i); acc.addProduct(v, v); i += 8 }
        var ss = acc.sum()
        while i < n { ss += x[i] * x[i]; i += 1 }
        let scale = 1 / (ss / Float(n) + eps).squareRoot()
        let s8 = SIMD8<Float>(repeating: scale)
        i = 0
        while i + 8 <= n { y.storeV8(x.loadV8(at: i) * s8 * gamma.loadV8(at: i), at: i); i += 8 }
        while i < n { y[i] = x[i] * scale * gamma[i]; i += 1 }
    }

    public static func rmsNormReference(_ x: UnsafePointer<Float>, _ gamma: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>, n: Int, eps: Float) {
        var ss = 0.0
        for i in 0..<n { ss += Double(x[i]) * Double(x[i]) }
        let scale = 1 / (ss / Double(n) + Double(eps)).squareRoot()
        for i in 0..<n { y[i] = Float(Double(x[i]) * scale * Double(gamma[i])) }
    }

    /// The RoPE table: cos/sin of pos · base^(-2i/dims) for pos < positions, i < dims/2, as
    /// [pos][i] pairs (cos, sin), computed in Double.
    public static func ropeTable(positions: Int, dims: Int, base: Float) -> [Float] {
        var t = [Float](repeating: 0, count: positions * dims)
        for p in 0..<positions {
            for i in 0..<(dims / 2) {
                let theta = Double(p) * pow(Double(base), -2.0 * Double(i) / Double(dims))
                t[p * dims + 2 * i] = Float(cos(theta))
                t[p * dims + 2 * i + 1] = Float(sin(theta))
            }
        }
        return t
    }

    /// Rotates the first `dims` elements of each of `heads` heads of `headDim` in `x` (in place)
    /// by position `pos`: adjacent pairs (x[2i], x[2i+1]), ggml's "normal" RoPE that GGUF llama files
    /// are converted for. `table` from `ropeTable`.
    public static func rope(_ x: UnsafeMutablePointer<Float>, heads: Int, headDim: Int, dims: Int, pos: Int, table: UnsafePointer<Float>) {
        let row = table + pos * dims
        for h in 0..<heads {
            let v = x + h * headDim
            for i in 0..<(dims / 2) {
                let c = row[2 * i], s = row[2 * i + 1]
                let a = v[2 * i], b = v[2 * i + 1]
                v[2 * i] = a * c - b * s
                v[2 * i + 1] = a * s + b * c
            }
        }
    }

    /// gate[i] = silu(gate[i]) · up[i] = gate / (1 + e^-gate) · up, for `n` elements.
    public static func swiglu(_ gate: UnsafeMutablePointer<Float>, _ up: UnsafePointer<Float>, n: Int) {
        var i = 0
        let one = SIMD8<Float>(repeating: 1)
        while i + 8 <= n {
            let g = gate.loadV8(at: i)
            gate.storeV8(g / (one + FastMath.exp(-g)) * up.loadV8(at: i), at: i)
            i += 8
        }
        while i < n { gate[i] = gate[i] / (1 + Foundation_exp_f(-gate[i])) * up[i]; i += 1 }
    }

    public static func swigluReference(_ gate: UnsafeMutablePointer<Float>, _ up: UnsafePointer<Float>, n: Int) {
        for i in 0..<n { let g = Double(gate[i]); gate[i] = Float(g / (1 + Foundation_exp(-g)) * Double(up[i])) }
    }

    /// Softmax of s[0..<n] in place (max-subtracted, FastMath exp).
    public static func softmax(_ s: UnsafeMutablePointer<Float>, n: Int) {
        var mx = -Float.infinity
        for j in 0..<n { mx = max(mx, s[j]) }
        var j = 0
        let m8 = SIMD8<Float>(repeating: mx)
        while j + 8 <= n { s.storeV8(s.loadV8(at: j) - m8, at: j); j += 8 }
        while j < n { s[j] -= mx; j += 1 }
        FastMath.exp(UnsafePointer(s), s, count: n)
        var sum: Float = 0
        for j in 0..<n { sum += s[j] }
        let inv = 1 / sum
        for j in 0..<n { s[j] *= inv }
    }

    /// One query head over `n` cached positions: out[0..<hd] = softmax(scale · q·Kᵀ) · V, with K
    /// transposed (`kt[d * ldk + j]`) and V row-major (`v[j * ldv + d]`); `scores` holds ≥ n floats.
    public static func attend(q: UnsafePointer<Float>, kt: UnsafePointer<Float>, ldk: Int, v: UnsafePointer<Float>, ldv: Int,
                              hd: Int, n: Int, scale: Float, scores: UnsafeMutablePointer<Float>, out: UnsafeMutablePointer<Float>,
                              isa: KernelISA, backend: KernelBackend) {
        if backend == .reference {
            attendReference(q: q, kt: kt, ldk: ldk, v: v, ldv: ldv, hd: hd, n: n, scale: scale, out: out)
            return
        }
        if isa == .avx512 {
            ck_attn_scores_avx512(q, kt, Int32(ldk), Int32(hd), Int32(n), scale, scores)
            softmax(scores, n: n)
            ck_attn_context_avx512(scores, v, Int32(ldv), Int32(hd), Int32(n), out)
        } else {
            ck_attn_scores_avx2(q, kt, Int32(ldk), Int32(hd), Int32(n), scale, scores)
            softmax(scores, n: n)
            ck_attn_context_avx2(scores, v, Int32(ldv), Int32(hd), Int32(n), out)
        }
    }

    /// The `nq` query heads that share one KV head (grouped-query attention): query i at
    /// `q + i·ldq`, its output at `out + i·ldo`, the same as `attend` per head. On AVX2 the keys
    /// and values are read once for the whole group (ck_attn_*_group_avx2); the AVX-512 tier, the
    /// reference and a lone head (decode's per-head items) run `attend` head by head. `scores` holds ≥ nq · lds floats, lds ≥ n.
    public static func attendGroup(q: UnsafePointer<Float>, ldq: Int, nq: Int, kt: UnsafePointer<Float>, ldk: Int,
                                   v: UnsafePointer<Float>, ldv: Int, hd: Int, n: Int, scale: Float,
                                   scores: UnsafeMutablePointer<Float>, lds: Int, out: UnsafeMutablePointer<Float>, ldo: Int,
                                   isa: KernelISA, backend: KernelBackend) {
        if backend == .reference || isa == .avx512 || nq == 1 {
            for i in 0..<nq {
                attend(q: q + i * ldq, kt: kt, ldk: ldk, v: v, ldv: ldv, hd: hd, n: n, scale: scale,
                       scores: scores, out: out + i * ldo, isa: isa, backend: backend)
            }
            return
        }
        ck_attn_scores_group_avx2(q, Int32(ldq), Int32(nq), kt, Int32(ldk), Int32(hd), Int32(n), scale, scores, Int32(lds))
        for i in 0..<nq { softmax(scores + i * lds, n: n) }
        ck_attn_context_group_avx2(scores, Int32(lds), Int32(nq), v, Int32(ldv), Int32(hd), Int32(n), out, Int32(ldo))
    }

    public static func attendReference(q: UnsafePointer<Float>, kt: UnsafePointer<Float>, ldk: Int, v: UnsafePointer<Float>, ldv: Int,
                                       hd: Int, n: Int, scale: Float, out: UnsafeMutablePointer<Float>) {
        var s = [Double](repeating: 0, count: n)
        for j in 0..<n {
            var a = 0.0
            for d in 0..<hd { a += Double(q[d]) * Double(kt[d * ldk + j]) }
            s[j] = a * Double(scale)
        }
        let mx = s.max() ?? 0
        var sum = 0.0
        for j in 0..<n { s[j] = Foundation_exp(s[j] - mx); sum += s[j] }
        for d in 0..<hd {
            var a = 0.0
            for j in 0..<n { a += s[j] / sum * Double(v[j * ldv + d]) }
            out[d] = Float(a)
        }
    }
}

@inline(__always) func Foundation_exp_f(_ x: Float) -> Float { Float(Foundation_exp(Double(x))) }
