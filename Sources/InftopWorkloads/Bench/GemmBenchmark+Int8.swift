import InftopEngine
import InftopTelemetry

/// The operands of the `int8` row of `inftop bench --gemm` (`GemmBenchmark.compare(int8: true)`):
/// the same A, B and C as the fp32 rows. B is quantized once, outside the timing (weights are
/// quantized once per plan change); each timed call quantizes A (per row, on the fly) and runs
/// the int8 GEMM with its dequantizing epilogue, as a node's int8 forward does. A's layout is
/// honoured (tn/tt: feature-major input, `transX`); B's only changes the one-time packing.
struct Int8GemmOperands {
    let shape: GemmShape
    let layout: GemmLayout
    let a: Tensor, c: Tensor
    let weights: QuantizedWeights
    let compute: Compute
    /// The tier the plan selects on this CPU (`Int8Kernel.plan`).
    var kernel: Int8Kernel { Int8Kernel.plan(compute).kernel }

    init(_ shape: GemmShape, layout: GemmLayout, a: Tensor, b: Tensor, c: Tensor, threads: Int) {
        self.shape = shape
        self.layout = layout
        self.a = a
        self.c = c
        compute = Compute(backend: .simd, threads: threads)
        let (n, k) = (shape.n, shape.k)
        if layout.transB {
            weights = QuantizedWeights(b.data, n: n, k: k)  // B stored [n, k]
        } else {
            var bT = [Float](repeating: 0, count: n * k)  // B stored [k, n]: quantize Bᵀ
            for p in 0..<k { for j in 0..<n { bT[j * k + p] = b.data[p * n + j] } }
            weights = bT.withUnsafeBufferPointer { QuantizedWeights($0.baseAddress!, n: n, k: k) }
        }
    }

    func call() {
        Int8Gemm.run(compute, m: shape.m, k: shape.k, x: a.data, ldx: layout.transA ? shape.m : shape.k,
                     transX: layout.transA, weights: weights, y: c.data, ldy: shape.n)
    }
}
