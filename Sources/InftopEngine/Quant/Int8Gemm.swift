import CKernels
import Dispatch
import InftopTelemetry

/// INT8 inference GEMM, a drop-in for a weight-bearing node's fp32 forward GEMM:
///
///     Y[M, N] = op(X)[M, K] · Wᵀ + bias        (W `[N, K]`, quantized: `QuantizedWeights`)
///
/// op(X) is X stored `[M, K]` (row stride `ldx` ≥ K) or, with `transX`, X stored feature-major
/// `[K, M]` (`ldx` ≥ M: BERT's context `[H, M]`, an im2col matrix `[C·k·k, H·W]`). Y is stored
/// `[M, N]` (`ldy` ≥ N) or, with `transY`, `[N, M]` (`ldy` ≥ M: BERT's QKVᵀ, a convolution's
/// NCHW output plane block). `bias` `[N]` or nil.
///
/// Per call: each row of op(X) is quantized on the fly to u8 with its own scale and zero point
/// (0…255 on the VNNI tiers, 0…127 on AVX2), the products accumulate in int32, and the epilogue
/// dequantizes (sa·sw·(acc − za·colsum)) and adds the bias. Rows (M) or channels (N) are split
/// over `compute.threads` as the fp32 GEMM does (`Gemm.split`); the quantization of X is split
/// by rows first. The tier comes from `compute` (`Int8Kernel.plan`).
public enum Int8Gemm {
    public static func run(
        _ compute: Compute, m: Int, k: Int, x: UnsafePointer<Float>, ldx: Int, transX: Bool = false,
        weights w: QuantizedWeights, bias: UnsafePointer<Float>? = nil,
        y: UnsafeMutablePointer<Float>, ldy: Int, transY: Bool = false
    ) {
        let plan = Int8Kernel.plan(compute)
        run(plan.kernel, activationMax: plan.activationMax, threads: compute.threads, m: m, k: k, x: x, ldx: ldx,
            transX: transX, weights: w, bias: bias, y: y, ldy: ldy, transY: transY)
    }

    /// `run` with an explicit tier and activation range (tests and benchmarks pick tiers).
    public static func run(
        _ kernel: Int8Kernel, activationMax: Int32, threads: Int, m: Int, k: Int,
        x: UnsafePointer<Float>, ldx: Int, transX: Bool = false,
        weights w: QuantizedWeights, bias: UnsafePointer<Float>? = nil,
        y: UnsafeMutablePointer<Float>, ldy: Int, transY: Bool = false
    ) {
        precondition(k == w.k, "Int8Gemm: K \(k) but the weights are [\(w.n), \(w.k)]")
        precondition(m >= 0 && ldx >= (transX ? m : k) && ldy >= (transY ? m : w.n),
                     "Int8Gemm: leading dimensions ldx=\(ldx) ldy=\(ldy) too small for m=\(m) n=\(w.n) k=\(k) transX=\(transX) transY=\(transY)")
        precondition(activationMax == 255 || activationMax == 127, "Int8Gemm: activationMax \(activationMax) (127 or 255)")
        precondition(kernel != .avx2 || activationMax <= 127, "Int8Gemm: the avx2 tier needs activations ≤ 127 (vpmaddubsw saturates)")
        if m == 0 { return }
        let act = GemmWorkspace.current.int8
        act.reserve(rows: m, kp: w.kp)
        Int8Quantizer.quantize(kernel == .reference ? .reference : .fast, x: x, ldx: ldx, transX: transX, rows: m, k: k,
                               kp: w.kp, activationMax: activationMax, into: act, threads: threads)
        var args = ck_i8gemm_args(
            m: m, n: w.n, kp: w.kp, a: UnsafePointer(act.q), lda: w.kp, b: UnsafePointer(w.packed),
            a_scale: UnsafePointer(act.scale), a_zp: UnsafePointer(act.zp), w_scale: UnsafePointer(w.scales),
            w_colsum: UnsafePointer(w.colsums), bias: bias, c: y, ldc: ldy, trans_c: transY ? 1 : 0)
        multiply(kernel, &args, threads: threads)
    }

    /// Runs `args` on `kernel`, split over up to `threads` parts: N in whole 16-channel panels
    /// (64 for the zmm tier) when N ≥ M, else M in 6-row blocks, each part one kernel call.
    static func multiply(_ kernel: Int8Kernel, _ args: inout ck_i8gemm_args, threads: Int) {
        let m = args.m, n = args.n, k = args.kp
        let parts = partsFor(m: m, n: n, k: k, threads: threads, kernel: kernel)
        if parts == 1 { callTier(kernel, &args); return }
        let splitN = n >= m
        let unit = splitN ? (kernel == .avx512vnni ? 64 : 16) : 6
        let units = ((splitN ? n : m) + unit - 1) / unit
        let base = args
        // The worker pool (the fp32 GEMM's parallel-for): libdispatch's apply parked its worker
        // after every call, a futex wake per projection and MiniLM int8's p90 1.3–1.5× its p50.
        ParallelChunks.forEach(parts) { part in
            let lo = part * units / parts * unit
            let hi = min((part + 1) * units / parts * unit, splitN ? n : m)
            if lo >= hi { return }
            var g = base
            if splitN {
                g.n = hi - lo
                g.b = base.b + lo * base.kp
                g.w_scale = base.w_scale + lo
                g.w_colsum = base.w_colsum + lo
                g.bias = base.bias.map { $0 + lo }
                g.c = base.trans_c != 0 ? base.c + lo * base.ldc : base.c + lo
            } else {
                g.m = hi - lo
                g.a = base.a + lo * base.lda
                g.a_scale = base.a_scale + lo
                g.a_zp = base.a_zp + lo
                g.c = base.trans_c != 0 ? base.c + lo : base.c + lo * base.ldc
            }
            callTier(kernel, &g)
        }
    }

    @inline(__always)
    private static func callTier(_ kernel: Int8Kernel, _ args: inout ck_i8gemm_args) {
        if kernel == .reference { reference(args) } else { kernel.call(&args) }
    }

    /// Parts for a call: as `Gemm.partsFor`, with twice the fp32 minimum work per part (the
    /// int8 tiers do 2–4× the multiply-adds per second).
    static func partsFor(m: Int, n: Int, k: Int, threads: Int, kernel: Int8Kernel) -> Int {
        if threads <= 1 { return 1 }
        let unit = n >= m ? (kernel == .avx512vnni ? 64 : 16) : 6
        let units = n >= m ? (n + unit - 1) / unit : (m + unit - 1) / unit
        let byWork = max(1, m * n * k / (2 * Gemm.minWorkPerPart))
        return max(1, min(threads, units, byWork))
    }

    /// Multiply-accumulates of one call (M·N·K): `2·` this / seconds is the GOP/s figure.
    public static func ops(m: Int, n: Int, k: Int) -> Double { 2 * Double(m) * Double(n) * Double(k) }

    /// The plain-loop twin of the C kernels, on the same operands: exact int32 dot products over
    /// the packed layout, then the same epilogue (one fused multiply-add, as `_mm*_fmadd_ps`).
    static func reference(_ g: ck_i8gemm_args) {
        let a = g.a!, b = g.b!, sa = g.a_scale!, za = g.a_zp!, sw = g.w_scale!, cs = g.w_colsum!, c = g.c!
        for i in 0..<g.m {
            for j in 0..<g.n {
                var acc: Int32 = 0
                let panel = b + (j / 16) * g.kp * 16 + (j % 16) * 4
                for p in 0..<g.kp {
                    acc &+= Int32(a[i * g.lda + p]) * Int32(panel[(p / 4) * 64 + p % 4])
                }
                let v = Float(acc &- za[i] &* cs[j])
                let out = (g.bias?[j] ?? 0).addingProduct(v, sa[i] * sw[j])
                if g.trans_c != 0 { c[j * g.ldc + i] = out } else { c[i * g.ldc + j] = out }
            }
        }
    }
}
