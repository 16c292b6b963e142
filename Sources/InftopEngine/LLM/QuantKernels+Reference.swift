/// The reference twin of the quantized kernels (ck_quant.h): plain Swift loops over the block
/// layouts, in Double, kept forever as the oracle the ISA tiers are tested against and what
/// `--backend reference` runs.
public enum QuantKernels {
    @inline(__always)
    static func half(_ p: UnsafeRawPointer, _ offset: Int) -> Float {
        Float(Float16(bitPattern: UInt16(p.load(fromByteOffset: offset, as: UInt8.self))
                      | UInt16(p.load(fromByteOffset: offset + 1, as: UInt8.self)) << 8))
    }

    /// Element `j` of row `r` of `w`, dequantized.
    public static func element(_ w: QuantizedMatrix, row r: Int, col j: Int) -> Float {
        let row = w.data + r * w.rowBytes
        let b = j / 32, i = j % 32
        switch w.type {
        case .f32: return row.loadUnaligned(fromByteOffset: 4 * j, as: Float.self)
        case .f16: return half(row, 2 * j)
        case .q4_0:
            let p = b * 18, byte = row.load(fromByteOffset: p + 2 + i % 16, as: UInt8.self)
            let q = i < 16 ? byte & 15 : byte >> 4
            return half(row, p) * Float(Int(q) - 8)
        case .q4_1:
            let p = b * 20, byte = row.load(fromByteOffset: p + 4 + i % 16, as: UInt8.self)
            let q = i < 16 ? byte & 15 : byte >> 4
            return half(row, p) * Float(q) + half(row, p + 2)
        case .q8_0:
            let p = b * 34
            return half(row, p) * Float(row.load(fromByteOffset: p + 2 + i, as: Int8.self))
        default: preconditionFailure("QuantKernels: type \(w.type.name) is not supported")
        }
    }

    /// y[t, r] = Σ_k x[t, k] · W[r, k] (Double accumulation), for t < m and r in `rows`.
    public static func matmulReference(_ w: QuantizedMatrix, _ x: UnsafePointer<Float>, ldx: Int, m: Int,
                                       _ y: UnsafeMutablePointer<Float>, ldy: Int, rows: Range<Int>) {
        var line = [Float](repeating: 0, count: w.cols)
        for r in rows {
            for j in 0..<w.cols { line[j] = element(w, row: r, col: j) }
            for t in 0..<m {
                var s = 0.0
                for j in 0..<w.cols { s += Double(line[j]) * Double(x[t * ldx + j]) }
                y[t * ldy + r] = Float(s)
            }
        }
    }
}
