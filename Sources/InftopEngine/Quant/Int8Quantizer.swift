import CKernels
import Dispatch
#if canImport(Glibc)
import Glibc
#endif
import InftopTelemetry

/// One thread's quantized activations for `Int8Gemm` (kept in its `GemmWorkspace`, so concurrent
/// callers never share one): codes `[rows, kp]` u8 and a scale and zero point per row. Only grows;
/// counted under `.other` like the fp32 packing buffers.
final class Int8Activations {
    /// `[rows, kp]`.
    private(set) var q = UnsafeMutablePointer<UInt8>.allocate(capacity: 64)
    /// `[rows]` each; `tmp` `[2·rows]` (the feature-major pass's per-row min and max).
    private(set) var scale = UnsafeMutablePointer<Float>.allocate(capacity: 1)
    private(set) var zp = UnsafeMutablePointer<Int32>.allocate(capacity: 1)
    private(set) var tmp = UnsafeMutablePointer<Float>.allocate(capacity: 2)
    private var qCapacity = 64, rowCapacity = 1

    init() { MemoryLedger.shared.add(64 + 16, to: .other) }

    deinit {
        q.deallocate(); scale.deallocate(); zp.deallocate(); tmp.deallocate()
        MemoryLedger.shared.add(-(qCapacity + rowCapacity * 16), to: .other)
    }

    /// Makes room for `rows` × `kp` codes (contents are not kept).
    func reserve(rows: Int, kp: Int) {
        if rows * kp > qCapacity {
            q.deallocate(); q = .allocate(capacity: rows * kp)
            MemoryLedger.shared.add(rows * kp - qCapacity, to: .other); qCapacity = rows * kp
        }
        if rows > rowCapacity {
            scale.deallocate(); zp.deallocate(); tmp.deallocate()
            scale = .allocate(capacity: rows); zp = .allocate(capacity: rows); tmp = .allocate(capacity: 2 * rows)
            MemoryLedger.shared.add((rows - rowCapacity) * 16, to: .other); rowCapacity = rows
        }
    }
}

/// Dynamic per-row asymmetric quantization of activations (formulas in `ck_int8.h`): row i of
/// op(X) gets lo = min(0, min x), hi = max(0, max x), scale = (hi − lo) / qmax, zero point
/// rint(−lo / scale), codes clamp(rint(x / scale) + zp, 0, qmax). A ReLU output has lo = 0, so
/// all qmax + 1 codes cover [0, hi]. Round-trip error ≤ scale / 2 per value.
enum Int8Quantizer {
    enum Tier { case reference, fast }

    /// Quantizes `rows` rows of op(X) (`transX`: X stored `[k, rows]`) into `act`, codes `[rows, kp]`
    /// (row stride kp, values past k = the zero point). Rows are split over `threads` when there
    /// are enough values to pay the hand-off (≥ 64 K per part).
    static func quantize(_ tier: Tier, x: UnsafePointer<Float>, ldx: Int, transX: Bool, rows: Int, k: Int, kp: Int,
                         activationMax: Int32, into act: Int8Activations, threads: Int) {
        let parts = max(1, min(threads, rows * k / 65536, rows / 8))
        nonisolated(unsafe) let q = act.q, s = act.scale, z = act.zp, t = act.tmp, xp = x
        let body: (Int) -> Void = { part in
            let lo = part * rows / parts, hi = (part + 1) * rows / parts
            if lo >= hi { return }
            switch (tier, transX) {
            case (.fast, false):
                ck_quant_rows_u8(xp, ldx, lo, hi, k, kp, activationMax, q, kp, s, z)
            case (.fast, true):
                ck_quant_cols_u8(xp, ldx, lo, hi, k, kp, activationMax, q, kp, s, z, t + 2 * lo)
            case (.reference, _):
                reference(x: xp, ldx: ldx, transX: transX, rows: lo..<hi, k: k, kp: kp, activationMax: activationMax,
                          q: q, scale: s, zp: z)
            }
        }
        if parts == 1 { body(0); return }
        ParallelChunks.forEach(parts, body)  // the worker pool, as every other split (not libdispatch: it parks per call)
    }

    /// The plain-loop twin of `ck_quant_rows_u8` / `ck_quant_cols_u8` (same float operations).
    static func reference(x: UnsafePointer<Float>, ldx: Int, transX: Bool, rows: Range<Int>, k: Int, kp: Int,
                          activationMax: Int32, q: UnsafeMutablePointer<UInt8>, scale: UnsafeMutablePointer<Float>,
                          zp: UnsafeMutablePointer<Int32>) {
        let qmax = Float(activationMax)
        for i in rows {
            @inline(__always) func at(_ p: Int) -> Float { transX ? x[p * ldx + i] : x[i * ldx + p] }
            var lo: Float = 0, hi: Float = 0
            for p in 0..<k { lo = min(lo, at(p)); hi = max(hi, at(p)) }
            var s = (hi - lo) / qmax
            if !(s > 0) { s = 1 }
            let inv = 1 / s
            let z = min(qmax, max(0, (-lo * inv).rounded(.toNearestOrEven)))
            scale[i] = s
            zp[i] = Int32(z)
            for p in 0..<k {
                let v = Int32((at(p) * inv).rounded(.toNearestOrEven)) + zp[i]
                q[i * kp + p] = UInt8(min(activationMax, max(0, v)))
            }
            for p in k..<kp { q[i * kp + p] = UInt8(zp[i]) }
        }
    }
}
