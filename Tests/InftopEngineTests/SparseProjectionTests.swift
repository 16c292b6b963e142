import Foundation
import InftopEngine
import InftopTelemetry
import XCTest

/// Unstructured pruning of a BERT encoder: the CSR products in the projections' two other
/// layouts (avx2 against the reference twin and a dense product, rows with 1, primes and the
/// 8-, 32- and 64-row remainders), and the encoder under a sparse plan: exactly the requested
/// share of every projection zero, the same embeddings whether CSR or the pruned dense copy
/// runs, and the loaded weights back at sparsity 0.
final class SparseProjectionTests: XCTestCase {
    var dir = ""
    override func setUp() { dir = makeTempDir("bertsparse") }
    override func tearDown() { removeTree(dir) }

    func testTransposedOutAndKMajorInMatchReferenceAndDense() {
        for (m, n, k) in PruningTests.shapes {
            for density in [0.0, 0.37, 1.0] {
                var w = LayerCheck.values(n * k, seed: UInt64(n * 13 + k), scale: 2, shift: -1)
                let keep = LayerCheck.values(n * k, seed: UInt64(n + 7 * k), scale: 1, shift: 0)
                for i in w.indices where Double(keep[i]) >= density { w[i] = 0 }
                let x = LayerCheck.values(m * k, seed: UInt64(m * 5 + k), scale: 2, shift: -1)  // [m, k]
                var xt = [Float](repeating: 0, count: k * m)  // [k, m]
                for i in 0..<m { for c in 0..<k { xt[c * m + i] = x[i * k + c] } }
                let bias = LayerCheck.values(n, seed: 3, scale: 1, shift: -0.5)
                let csr = w.withUnsafeBufferPointer { SparseWeights($0.baseAddress!, n: n, k: k) }
                var dense = [Float](repeating: 0, count: m * n)  // [m, n]
                for i in 0..<m { for j in 0..<n {
                    var s: Double = 0
                    for c in 0..<k { s += Double(x[i * k + c]) * Double(w[j * k + c]) }
                    dense[i * n + j] = Float(s) + bias[j]
                } }
                var denseT = [Float](repeating: 0, count: n * m)
                for i in 0..<m { for j in 0..<n { denseT[j * m + i] = dense[i * n + j] } }
                let tol = Float(k) * 4e-7 + 1e-6
                for tier in [SparseGemm.Tier.reference, .avx2] {
                    let scratch = Tensor([0], name: "xt")
                    var yT = [Float](repeating: .nan, count: n * m), y = [Float](repeating: .nan, count: m * n)
                    x.withUnsafeBufferPointer { xp in bias.withUnsafeBufferPointer { bp in yT.withUnsafeMutableBufferPointer { yp in
                        SparseGemm.runTransposedOut(tier, m: m, x: xp.baseAddress!, ldx: k, weights: csr, bias: bp.baseAddress!,
                                                    yT: yp.baseAddress!, ldyT: m, scratch: scratch)
                    } } }
                    xt.withUnsafeBufferPointer { xp in bias.withUnsafeBufferPointer { bp in y.withUnsafeMutableBufferPointer { yp in
                        SparseGemm.runKMajorIn(tier, m: m, xt: xp.baseAddress!, ldxt: m, weights: csr, bias: bp.baseAddress!,
                                               y: yp.baseAddress!, ldy: n, scratch: scratch)
                    } } }
                    LayerCheck.assertClose(yT, denseT, atol: tol, "\(tier) transposed-out \(m)x\(n)x\(k) density \(density)")
                    LayerCheck.assertClose(y, dense, atol: tol, "\(tier) k-major-in \(m)x\(n)x\(k) density \(density)")
                }
            }
        }
    }

    func testEncoderUnderASparsePlanPrunesEveryProjectionAndAnswersAlike() throws {
        var tiny = BertModelTests.Tiny(seed: 31, hidden: 24, heads: 4)
        try tiny.write(to: dir)
        let enc = try SentenceEncoder.load(directory: dir)
        let texts = ["the cat sat on the mat.", "a dog", "the dogs sat on a cat and the mat"]
        for backend in [KernelBackend.reference, .simd, .blas] {
            let full = enc.embed(texts, compute: Compute(backend: backend))
            let plan = Compute(backend: backend, sparsity: 0.75)
            enc.model.setPlan(plan)
            let projections = enc.model.nodes.compactMap { $0 as? ProjectionNode }
            XCTAssertEqual(projections.count, 4 * tiny.layers)
            for p in projections {
                let count = Double(p.outFeatures * p.inFeatures)
                XCTAssertEqual(p.prunedSparsity, (0.75 * count).rounded() / count, accuracy: 1e-12, "\(p.name): exactly that share zero")
                XCTAssertNotNil(p.sparseChoice, "\(p.name) measured at plan preparation")
                p.pinSparseChoice(.pinned(.csr))
            }
            XCTAssertGreaterThan(enc.model.sparseWeightBytes, 0)
            let i = try XCTUnwrap(enc.model.nodes.firstIndex { $0.name == "L0.qkv" })
            let viaCSR = enc.embed(texts, compute: plan)
            XCTAssertEqual(enc.model.weightFormat(ofNode: i, batch: 1), .csr)
            for p in projections { p.pinSparseChoice(.pinned(.dense)) }
            let viaDense = enc.embed(texts, compute: plan)
            XCTAssertEqual(enc.model.weightFormat(ofNode: i, batch: 1), .dense)
            for (a, b) in zip(viaCSR, viaDense) { for (u, v) in zip(a, b) { XCTAssertEqual(u, v, accuracy: 2e-5, "\(backend) csr vs pruned dense") } }
            XCTAssertGreaterThan(zip(viaCSR[0], full[0]).map { abs($0 - $1) }.max()!, 1e-3, "pruning changed the embeddings")
            let back = enc.embed(texts, compute: Compute(backend: backend))
            XCTAssertEqual(back, full, "\(backend): sparsity 0 runs the loaded weights again")
            XCTAssertEqual(enc.model.sparseWeightBytes, 0, "the dense plan releases the pruned copies")
        }
    }
}
