import Dispatch
import Foundation

/// Fused inference kernels of the BERT encoder, each with a plain `…Reference` twin (the test
/// oracle): bias + activation, bias + residual + LayerNorm, masked softmax attention
/// (BertKernels+Attention.swift). Row-major fp32 on raw pointers; rows are split over
/// `threads` with `DispatchQueue.concurrentPerform` when there is enough work.
public enum BertKernels {
    // MARK: - bias + activation

    /// x[r, c] = act(x[r, c] + bias[c]) for r < rows, c < cols (x row stride `cols`). GELU is the
    /// training layers' (`Activations.cdf`: erfc through `FastMath.exp`, relative error < 2e-7).
    public static func biasActivation(_ x: UnsafeMutablePointer<Float>, bias: UnsafePointer<Float>, rows: Int, cols: Int,
                                      activation: BertActivation, threads: Int = 1) {
        nonisolated(unsafe) let x = x
        parallelRows(rows, threads: threads, minRowsPerThread: max(1, 16_384 / max(cols, 1))) { range in
            for r in range {
                let row = x + r * cols
                var c = 0
                switch activation {
                case .gelu:
                    // Bias first, then the one vector GELU over the row (`Activations.gelu`, whose
                    // loop keeps several erfc chains in flight; per element the same arithmetic).
                    while c + 8 <= cols { store8(load8(row + c) + load8(bias + c), row + c); c += 8 }
                    while c < cols { row[c] += bias[c]; c += 1 }
                    Activations.gelu(row, row, count: cols)
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

    /// Normalises one row in place: (v − mean) / sqrt(var + eps) · gamma + beta — the engine's
    /// one LayerNorm (`Norms.layerNorm`, two passes over the row), on a single row.
    @inline(__always)
    static func layerNormRow(_ v: UnsafeMutablePointer<Float>, gamma: UnsafePointer<Float>, beta: UnsafePointer<Float>, n: Int, eps: Float) {
        Norms.layerNorm(x: v, gamma: gamma, beta: beta, y: v, rows: 1, cols: n, eps: eps, mean: nil, rstd: nil)
    }

    // MARK: - vector math (the engine's one exp and GELU: FastMath.exp, Activations.cdf)

    /// Exact (erf) GELU, x·Φ(x), Hugging Face's "gelu": the same vector function as the
    /// training layers' `Activations.gelu`.
    @inline(__always)
    static func gelu8(_ x: SIMD8<Float>) -> SIMD8<Float> { x * Activations.cdf(x) }

    /// Tanh GELU, ½x(1 + tanh(√(2/π)(x + 0.044715x³))), with tanh(u) = 1 − 2/(e^{2u} + 1).
    @inline(__always)
    static func geluTanh8(_ x: SIMD8<Float>) -> SIMD8<Float> {
        let u = SIMD8<Float>(repeating: 0.797_884_560_8) * x.addingProduct(SIMD8(repeating: 0.044_715) * x * x, x)
        let e = FastMath.exp(u + u)
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
    /// (chunk indices are distinct, so a chunk can own per-worker scratch), on the engine's one
    /// parallel-for (`ParallelChunks.forEach`, the worker pool; the caller runs chunks too).
    static func parallelChunks(_ n: Int, parts: Int, _ body: (Int, Range<Int>) -> Void) {
        if parts <= 1 { body(0, 0..<n); return }
        ParallelChunks.forEach(parts) { i in body(i, (n * i / parts)..<(n * (i + 1) / parts)) }
    }
}
