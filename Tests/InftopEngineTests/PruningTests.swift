import InftopTelemetry
import XCTest
import InftopEngine

/// Unstructured pruning: exact sparsity (per layer and global), the CSR kernel against its
/// reference twin and against a dense product over shapes with 1, primes and the kernel's
/// 8-, 32- and 64-row remainders, the sparse plan's forward against the dense one, and masks keeping
/// pruned weights exactly zero through SGD-momentum and AdamW steps.
final class PruningTests: XCTestCase {
    static let shapes: [(m: Int, n: Int, k: Int)] = [
        (1, 1, 1), (1, 7, 13), (1, 97, 31), (2, 5, 9), (7, 13, 1), (8, 16, 8), (9, 31, 97), (31, 3, 40),
        (32, 10, 128), (33, 17, 64), (40, 11, 23), (64, 128, 256), (97, 13, 7), (71, 9, 50), (130, 5, 17),
    ]

    func testMagnitudePruningHitsTheSparsityExactly() throws {
        for s in [0.5, 0.75, 0.9, 0.333] {
            let model = try ModelZoo.make(name: "mlp", seed: 3)
            let biases = model.parameters.filter { $0.name.hasSuffix(".bias") }.map { $0.value.toArray() }
            let before = model.prunableWeights.map { $0.value.toArray() }
            model.pruneMagnitude(sparsity: s, scope: .perLayer)
            XCTAssertEqual(model.masks.count, 3)
            for (p, old) in zip(model.prunableWeights, before) {
                let v = p.value.toArray()
                let zeros = v.filter { $0 == 0 }.count
                XCTAssertEqual(zeros, Int((s * Double(v.count)).rounded()), "\(p.name) at \(s)")
                // The kept weights are unchanged and none is smaller in magnitude than a pruned one.
                let keptMin = zip(v, old).filter { $0.0 != 0 }.map { abs($0.1) }.min()!
                let prunedMax = zip(v, old).filter { $0.0 == 0 }.map { abs($0.1) }.max()!
                XCTAssertLessThanOrEqual(prunedMax, keptMin, p.name)
                for (a, b) in zip(v, old) where a != 0 { XCTAssertEqual(a, b) }
            }
            XCTAssertEqual(model.parameters.filter { $0.name.hasSuffix(".bias") }.map { $0.value.toArray() }, biases)
        }
        let model = try ModelZoo.make(name: "mlp", seed: 3)
        model.pruneMagnitude(sparsity: 0.8, scope: .global)
        let all = model.prunableWeights.flatMap { $0.value.toArray() }
        XCTAssertEqual(all.filter { $0 == 0 }.count, Int((0.8 * Double(all.count)).rounded()))
        model.pruneMagnitude(sparsity: 0)
        XCTAssertTrue(model.masks.isEmpty)
    }

    func testPruningFurtherKeepsEarlierZeros() throws {
        let model = try ModelZoo.make(name: "mlp", seed: 1)
        model.pruneMagnitude(sparsity: 0.5)
        let zeros50 = model.prunableWeights.map { p in (0..<p.value.count).filter { p.value[$0] == 0 } }
        model.pruneMagnitude(sparsity: 0.9)
        for (p, z) in zip(model.prunableWeights, zeros50) { for i in z { XCTAssertEqual(p.value[i], 0) } }
    }

    func testCSRKernelMatchesReferenceAndDense() {
        for (m, n, k) in Self.shapes {
            for density in [0.0, 0.1, 0.37, 1.0] {
                var w = values(n * k, seed: UInt64(n * 13 + k), scale: 2, shift: -1)
                let keep = values(n * k, seed: UInt64(n + 7 * k), scale: 1, shift: 0)
                for i in w.indices where Double(keep[i]) >= density { w[i] = 0 }
                if n > 2 { for c in 0..<k { w[k + c] = 0 } }  // an empty row
                let x = values(m * k, seed: UInt64(m * 5 + k), scale: 2, shift: -1)
                let b = values(n, seed: 3, scale: 1, shift: -0.5)
                let csr = w.withUnsafeBufferPointer { SparseWeights($0.baseAddress!, n: n, k: k) }
                XCTAssertEqual(csr.dense(), w)
                XCTAssertEqual(csr.nnz, w.filter { $0 != 0 }.count)
                let ref = run(.reference, m, x, csr, b)
                let fast = run(.avx2, m, x, csr, b)
                var dense = [Float](repeating: 0, count: m * n)
                for i in 0..<m { for j in 0..<n {
                    var s: Double = 0
                    for c in 0..<k { s += Double(x[i * k + c]) * Double(w[j * k + c]) }
                    dense[i * n + j] = Float(s) + b[j]
                } }
                let tol = Float(k) * 4e-7 + 1e-6
                LayerCheck.assertClose(fast, ref, atol: tol, "avx2 vs reference \(m)x\(n)x\(k) density \(density)")
                LayerCheck.assertClose(ref, dense, atol: tol, "reference vs dense \(m)x\(n)x\(k) density \(density)")
            }
        }
    }

    func testSparsePlanForwardMatchesDense() throws {
        let model = try ModelZoo.make(name: "mlp", seed: 2)
        model.pruneMagnitude(sparsity: 0.9)
        for b in [1, 7, 64] {
            let x = Tensor([b, 784], values: values(b * 784, seed: UInt64(b), scale: 1, shift: 0))
            model.setPlan(Compute(backend: .simd))
            let dense = model.forward(x).toArray()
            model.setPlan(Compute(backend: .simd, sparsity: 0.9))
            for l in model.nodes.compactMap({ $0 as? Linear }) {
                XCTAssertNotNil(l.sparseChoice, "\(l.name) measured at plan preparation")
                l.pinSparseChoice(.pinned(.csr))
            }
            XCTAssertEqual(model.weightFormat(ofNode: 0, batch: b), .csr)
            XCTAssertNil(model.weightFormat(ofNode: 1, batch: b))
            XCTAssertGreaterThan(model.sparseWeightBytes, 0)
            let sparse = model.forward(x).toArray()
            LayerCheck.assertClose(sparse, dense, atol: 1e-4, "csr vs dense batch \(b)")
            model.setPlan(Compute(backend: .simd))
            XCTAssertEqual(model.sparseWeightBytes, 0, "the dense plan releases the CSR forms")
            XCTAssertEqual(model.weightFormat(ofNode: 0, batch: b), .dense)
        }
    }

    func testMasksKeepPrunedWeightsZeroThroughSGDMomentumAndAdamW() throws {
        for optimizer in [SGD(learningRate: 0.05, momentum: 0.9, weightDecay: 1e-4) as any Optimizer, AdamW(learningRate: 0.01)] {
            let model = try ModelZoo.make(name: "mlp", seed: 4)
            model.setPlan(Compute(backend: .simd))
            // Some steps before pruning, so momentum and moments hold nonzero state for pruned weights.
            let loss = SoftmaxCrossEntropy()
            func step(_ s: Int) {
                let x = Tensor([16, 784], values: values(16 * 784, seed: UInt64(100 + s), scale: 1, shift: 0))
                let labels = (0..<16).map { Int32(($0 + s) % 10) }
                let logits = model.forward(x, training: true)
                _ = labels.withUnsafeBufferPointer { loss.forward(logits: logits, labels: $0.baseAddress!) }
                model.backward(loss.backward())
                optimizer.step(model.parameters)
                model.applyMasks()
                zeroGradients(model.parameters)
            }
            for s in 0..<3 { step(s) }
            model.pruneMagnitude(sparsity: 0.75)
            let pruned = model.masks.map { m in (0..<m.mask.count).filter { m.mask[$0] == 0 } }
            let keptBefore = model.masks.map { $0.parameter.value.toArray() }
            for s in 3..<8 { step(s) }
            for (m, (zeros, before)) in zip(model.masks, zip(pruned, keptBefore)) {
                for i in zeros { XCTAssertEqual(m.parameter.value[i], 0, "\(type(of: optimizer)) \(m.parameter.name)[\(i)]") }
                let moved = (0..<m.mask.count).filter { m.mask[$0] == 1 && m.parameter.value[$0] != before[$0] }.count
                XCTAssertGreaterThan(moved, 0, "the kept weights of \(m.parameter.name) still train")
            }
        }
    }

    /// Structured pruning: the shrunk model's outputs equal the full model's with those units
    /// zeroed by masks; the matrices really are smaller; the removed units had the smallest norms.
    func testStructuredShrinkMatchesUnitsZeroed() throws {
        for (name, widths, input) in [("mlp", [128, 64], [784]), ("cnn", [16, 32, 64], [1, 28, 28])] {
            let model = try ModelZoo.make(name: name, seed: 5)
            let norms = model.unitImportance(ofNode: 0)
            model.pruneStructured(fraction: 0.5)
            let kept = model.structuredKeep(fraction: 0.5)
            let removed = Set(0..<norms.count).subtracting(kept[0].kept)
            XCTAssertEqual(removed.count, norms.count / 2)
            XCTAssertLessThanOrEqual(removed.map { norms[$0] }.max()!, kept[0].kept.map { norms[$0] }.min()!)
            XCTAssertEqual(model.liveUnits().map { $0.kept.count }, widths)
            let small = try model.shrunk()
            XCTAssertEqual(Array(small.prunableWeights.map { $0.value.shape[0] }.dropLast()), widths, name)
            XCTAssertLessThan(small.parameterCount, model.parameterCount / 2, name)
            for b in [1, 3] {
                let x = Tensor([b] + input, values: values(b * input.reduce(1, *), seed: UInt64(b + 9), scale: 1, shift: 0))
                for plan in [Compute(backend: .reference), Compute(backend: .simd)] {
                    model.setPlan(plan)
                    small.setPlan(plan)
                    let full = model.forward(x).toArray()
                    LayerCheck.assertClose(small.forward(x).toArray(), full, atol: 2e-5, "\(name) shrunk vs zeroed, batch \(b), \(plan.backend)")
                }
            }
        }
    }

    // MARK: helpers

    func run(_ tier: SparseGemm.Tier, _ m: Int, _ x: [Float], _ w: SparseWeights, _ b: [Float]) -> [Float] {
        var y = [Float](repeating: .nan, count: m * w.n)
        let scratch = Tensor([0])
        x.withUnsafeBufferPointer { xp in b.withUnsafeBufferPointer { bp in y.withUnsafeMutableBufferPointer { yp in
            SparseGemm.run(tier, m: m, x: xp.baseAddress!, ldx: w.k, weights: w, bias: bp.baseAddress!, y: yp.baseAddress!, ldy: w.n, scratch: scratch)
        } } }
        return y
    }

    func values(_ count: Int, seed: UInt64, scale: Float, shift: Float) -> [Float] {
        LayerCheck.values(count, seed: seed, scale: scale, shift: shift)
    }
}
