import CKernels
import InftopTelemetry

/// A weight matrix as the GGUF file stores it: `rows` output rows of `cols` inputs, each row
/// `rowBytes` bytes of `type` blocks, in the file's mapping (not copied). `matmul` multiplies
/// fp32 activations by it, dequantizing in registers (ck_quant.h tiers) or with the Swift
/// reference twin (`QuantKernels`).
public struct QuantizedMatrix: @unchecked Sendable {
    public let name: String
    public let type: GGMLType
    public let rows: Int
    public let cols: Int
    public let rowBytes: Int
    public let data: UnsafeRawPointer

    public init(name: String, type: GGMLType, rows: Int, cols: Int, data: UnsafeRawPointer) {
        precondition(cols % type.blockSize == 0, "QuantizedMatrix \(name): \(cols) columns is not whole \(type.name) blocks")
        self.name = name; self.type = type; self.rows = rows; self.cols = cols
        self.rowBytes = cols / type.blockSize * (type.blockBytes ?? 0)
        self.data = data
    }

    /// The tensor `name` of `file` as a matrix of `rows` × `cols`.
    /// - Throws: `EngineError.badFile` naming the tensor when it is missing, of another shape, or
    ///   of a type the kernels do not run.
    public init(file: GGUFFile, name: String, rows: Int, cols: Int) throws {
        guard let t = file.tensor(name) else { throw EngineError.badFile(path: file.path, reason: "tensor '\(name)' is missing") }
        guard t.type.isSupported else {
            throw EngineError.badFile(path: file.path, reason: "tensor '\(name)' has type \(t.type.name), which is not supported (inftop runs \(GGMLType.supported.map(\.name).joined(separator: ", ")))")
        }
        let shape = t.dims.count == 1 ? [t.dims[0], 1] : t.dims
        guard shape.count == 2, shape[0] == cols, shape[1] == rows else {
            throw EngineError.badFile(path: file.path, reason: "tensor '\(name)' has shape \(t.dims), expected [\(cols), \(rows)]")
        }
        guard cols % t.type.blockSize == 0, cols <= 16384 else {
            throw EngineError.badFile(path: file.path, reason: "tensor '\(name)': \(cols) columns is not whole \(t.type.name) blocks or exceeds 16384")
        }
        self.init(name: name, type: t.type, rows: rows, cols: cols, data: file.data(of: t))
    }

    /// Bytes the matrix occupies in the file.
    public var byteCount: Int { rows * rowBytes }

    /// y[t, r] = Σ_k x[t, k] · W[r, k] for tokens t in 0..<m and rows r in `rowRange` (y has row stride
    /// `ldy`, x row stride `ldx` ≥ `cols`). m = 1 runs the GEMV kernel on `x` (on AVX2 for the block
    /// types: integer dots on x quantized to Q8 blocks, exact for `roundTripQ8`'d inputs, llama.cpp's
    /// rounding for others); m > 1 the GEMM one on
    /// `xt`, x transposed and padded by `QuantizedMatrix.transpose` (`tp` columns), with `scratch`
    /// (`QuantizedMatrix.scratchFloats(cols)` floats). The reference backend reads `x` only.
    public func matmul(_ x: UnsafePointer<Float>, ldx: Int, m: Int, xt: UnsafePointer<Float>?, tp: Int,
                       _ y: UnsafeMutablePointer<Float>, ldy: Int,
                       rows rowRange: Range<Int>, isa: KernelISA, backend: KernelBackend, scratch: UnsafeMutablePointer<Float>) {
        if rowRange.isEmpty || m == 0 { return }
        let t = Int32(type.id), k = Int32(cols), r0 = Int32(rowRange.lowerBound), r1 = Int32(rowRange.upperBound)
        if backend == .reference {
            QuantKernels.matmulReference(self, x, ldx: ldx, m: m, y, ldy: ldy, rows: rowRange)
            return
        }
        if m == 1 {
            let out = y + rowRange.lowerBound
            switch isa {
            case .avx512: ck_qgemv_avx512(t, data, rowBytes, k, x, out, r0, r1)
            // Integer dot products on the Q8-quantized input (what the decoder's inputs already are).
            default: ck_qgemv_q8_avx2(t, data, rowBytes, k, x, out, r0, r1)
            }
        } else {
            guard let xt else { preconditionFailure("QuantizedMatrix \(name): m > 1 needs xt") }
            switch isa {
            case .avx512: ck_qgemm_avx512(t, data, rowBytes, k, xt, Int32(tp), Int32(m), y, Int32(ldy), r0, r1, scratch)
            default: ck_qgemm_avx2(t, data, rowBytes, k, xt, Int32(tp), Int32(m), y, Int32(ldy), r0, r1, scratch)
            }
        }
    }

    /// Lanes `tp` of the transposed input for m tokens (m rounded up to the GEMM tile's token lanes).
    public static func paddedTokens(_ m: Int) -> Int { (m + Int(CK_QGEMM_LANES) - 1) / Int(CK_QGEMM_LANES) * Int(CK_QGEMM_LANES) }

    /// x transposed in blocks of 16 tokens (padding tokens zero), the GEMM kernels' input layout (ck_quant.h).
    public static func transpose(_ x: UnsafePointer<Float>, ldx: Int, m: Int, cols: Int, into xt: UnsafeMutablePointer<Float>, tp: Int) {
        ck_transpose(x, Int32(ldx), Int32(m), Int32(cols), xt, Int32(tp))
    }

    /// Rounds `x` (a multiple of 32 floats) through ggml's Q8 activation encoding in place, as the
    /// decoder does to every matmul input (llama.cpp's numerics; the GEMV tier then recovers the
    /// integers exactly).
    public static func roundTripQ8(_ x: UnsafeMutablePointer<Float>, count: Int) { ck_q8_roundtrip(x, Int32(count)) }

    /// Row `r` dequantized into out[0..<cols].
    public func dequantizeRow(_ r: Int, into out: UnsafeMutablePointer<Float>) {
        ck_dequant_row(Int32(type.id), data, rowBytes, Int32(cols), Int32(r), out)
    }

    /// Floats of GEMM scratch for `cols` inputs (one packed panel).
    public static func scratchFloats(_ cols: Int) -> Int { (Int(CK_QGEMM_PANEL) + 1) * cols }
}
