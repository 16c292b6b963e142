import CKernels
import InftopTelemetry

/// The register-tile kernel of one ISA tier — the one function table every GEMM-shaped kernel
/// (packed GEMM, implicit-GEMM convolution, attention's per-head products) dispatches through,
/// chosen from `Compute.isa`:
///
/// - `avx2`: the Swift 6×16 `SIMD8<Float>` microkernel (GemmMicrokernel.swift), B panels 16 wide.
/// - `avx512`: the C 6×64 zmm tile (`ck_sgemm512_tile`, Sources/CKernels/gemm512.c), B panels
///   64 wide, ragged edges masked in registers.
///
/// Both tiers read A in the same 6-row packed layout (`Gemm.packA`), so weights packed once serve
/// either tier and switching the ISA live needs no repacking. `GemmTier(isa)` refuses a tier the
/// CPU lacks: no 512-bit instruction runs before `CPUFeatures.host` has reported AVX-512.
struct GemmTier: Equatable {
    let isa: KernelISA
    /// Columns of one B micro-panel (and of the register tile): 16 or 64.
    let nr: Int

    static let avx2 = GemmTier(isa: .avx2, nr: Gemm.nr)
    static let avx512 = GemmTier(isa: .avx512, nr: 64)  // CK512_NR

    private init(isa: KernelISA, nr: Int) { self.isa = isa; self.nr = nr }

    /// The tier for a resolved ISA (`auto` → the host's best).
    @inline(__always)
    init(_ isa: KernelISA) {
        switch isa {
        case .avx2: self = .avx2
        case .avx512:
            precondition(Self.hostHasAVX512, "Gemm: the avx512 tier was asked for on a CPU without AVX-512 (CPUFeatures.resolve must reject it first)")
            self = .avx512
        case .auto: self = Self.hostHasAVX512 ? .avx512 : .avx2
        }
    }

    private static let hostHasAVX512 = CPUFeatures.host.hasAVX512

    /// One register tile: `C[0..<rows, 0..<cols] = alpha·(A·B) + beta·C` with `rows` ≤ 6 and
    /// `cols` ≤ `nr`. `ap` is a packed 6-row A micro-panel (`kc`×6, p-major); `bp` holds `kc` rows
    /// of B `bStride` floats apart (zero-padded to 16 columns for the avx2 tier; the avx512 tier
    /// reads only `cols` columns). `scratch`: the thread's 6×16 edge tile (avx2 only).
    @inline(__always)
    func tile(kc: Int, ap: UnsafePointer<Float>, bp: UnsafePointer<Float>, bStride: Int,
              c: UnsafeMutablePointer<Float>, ldc: Int, rows: Int, cols: Int,
              alpha: Float, beta: Float, scratch: UnsafeMutablePointer<Float>) {
        if isa == .avx512 {
            ck_sgemm512_tile(Int64(kc), ap, 1, Int64(Gemm.mr), bp, Int64(bStride), c, Int64(ldc),
                             Int64(rows), Int64(cols), alpha, beta)
        } else {
            Gemm.microkernel(kc: kc, ap: ap, bp: bp, bStride: bStride, c: c, ldc: ldc, rows: rows, cols: cols,
                             alpha: alpha, beta: beta, scratch: scratch)
        }
    }
}
