import InftopTelemetry
import XCTest
import InftopEngine

/// The pruned convolution: the k-major CSR product (avx2 against its reference twin and a dense
/// product, over column counts with 1, primes and the 64-, 32- and 8-column remainders), and a
/// pruned CNN's forward under the sparse plan against the dense forward of the same weights.
final class SparseConvTests: XCTestCase {
    func testKMajorCSRMatchesReferenceAndDense() {
        let shapes: [(n: Int, k: Int, columns: Int)] = [
            (1, 1, 1), (1, 9, 7), (5, 1, 8), (3, 25, 13), (17, 29, 31), (8, 50, 64), (13, 7, 67), (6, 800, 196), (32, 25, 784), (2, 3, 130),
        ]
        for (n, k, columns) in shapes {
            for density in [0.0, 0.1, 0.37, 1.0] {
                var w = LayerCheck.values(n * k, seed: UInt64(n * 13 + k), scale: 2, shift: -1)
                let keep = LayerCheck.values(n * k, seed: UInt64(n + 7 * k), scale: 1, shift: 0)
                for i in w.indices where Double(keep[i]) >= density { w[i] = 0 }
                if n > 2 { for c in 0..<k { w[k + c] = 0 } }  // an empty row
                let ldb = columns + 3, ldc = columns + 1  // strides wider than the columns
                let b = LayerCheck.values(k * ldb, seed: UInt64(columns * 5 + k), scale: 2, shift: -1)
                let bias = LayerCheck.values(n, seed: 3, scale: 1, shift: -0.5)
                let csr = w.withUnsafeBufferPointer { SparseWeights($0.baseAddress!, n: n, k: k) }
                func run(_ tier: SparseGemm.Tier, bias withBias: Bool) -> [Float] {
                    var c = [Float](repeating: .nan, count: n * ldc)
                    b.withUnsafeBufferPointer { bp in bias.withUnsafeBufferPointer { biasp in c.withUnsafeMutableBufferPointer { cp in
                        SparseGemm.runKMajor(tier, columns: columns, b: bp.baseAddress!, ldb: ldb, weights: csr,
                                             bias: withBias ? biasp.baseAddress! : nil, c: cp.baseAddress!, ldc: ldc)
                    } } }
                    return (0..<n).flatMap { j in c[(j * ldc)..<(j * ldc + columns)] }
                }
                var dense = [Float](repeating: 0, count: n * columns)
                for j in 0..<n { for i in 0..<columns {
                    var s: Double = 0
                    for c in 0..<k { s += Double(w[j * k + c]) * Double(b[c * ldb + i]) }
                    dense[j * columns + i] = Float(s) + bias[j]
                } }
                let tol = Float(k) * 4e-7 + 1e-6
                let ref = run(.reference, bias: true)
                LayerCheck.assertClose(run(.avx2, bias: true), ref, atol: tol, "avx2 vs reference \(n)x\(k)x\(columns) density \(density)")
                LayerCheck.assertClose(ref, dense, atol: tol, "reference vs dense \(n)x\(k)x\(columns) density \(density)")
                let noBias = run(.avx2, bias: false)
                for j in 0..<n { for i in 0..<columns {
                    XCTAssertEqual(noBias[j * columns + i], ref[j * columns + i] - bias[j], accuracy: tol * 4 + 1e-6)
                } }
            }
        }
    }

    func testPrunedCNNForwardUnderTheSparsePlanMatchesDense() throws {
        let model = try ModelZoo.make(name: "cnn", seed: 5)
        model.pruneMagnitude(sparsity: 0.9)
        let convs = model.nodes.compactMap { $0 as? Conv2d }
        XCTAssertEqual(convs.count, 2)
        for backend in [KernelBackend.reference, .simd, .blas] {
            for b in [1, 3] {
                let x = Tensor([b, 1, 28, 28], values: LayerCheck.values(b * 784, seed: UInt64(b), scale: 1, shift: 0))
                model.setPlan(Compute(backend: backend, threads: 2))
                let dense = model.forward(x).toArray()
                model.setPlan(Compute(backend: backend, threads: 2, sparsity: 0.9))
                for c in convs {
                    let choice = try XCTUnwrap(c.sparseChoice, "\(c.name) measured at plan preparation")
                    XCTAssertTrue(choice.denseMs[0] > 0 && choice.sparseMs[0] > 0, "\(c.name): both timed, \(choice)")
                    c.pinSparseChoice(.pinned(.csr))
                }
                let i = try XCTUnwrap(model.nodes.firstIndex { $0.name == "conv2" })
                XCTAssertEqual(model.weightFormat(ofNode: i, batch: b), .csr)
                XCTAssertGreaterThan(model.sparseWeightBytes, 0)
                let sparse = model.forward(x).toArray()
                LayerCheck.assertClose(sparse, dense, atol: 2e-4, "\(backend) csr vs dense batch \(b)")
                model.setPlan(Compute(backend: backend, threads: 2))
                XCTAssertEqual(model.weightFormat(ofNode: i, batch: b), .dense)
                XCTAssertEqual(model.sparseWeightBytes, 0, "the dense plan releases the CSR forms")
            }
        }
    }
}
