import InftopTelemetry
import XCTest
import InftopEngine

final class ConvPoolTests: XCTestCase {
    /// Direct convolution: y[b,o,i,j] = bias[o] + Σ w[o,c,ki,kj]·x[b,c,i+ki−p,j+kj−p].
    func directConv(_ x: Tensor, _ conv: Conv2d) -> [Float] {
        let B = x.shape[0], C = x.shape[1], H = x.shape[2], W = x.shape[3]
        let k = conv.kernel, p = conv.padding, O = conv.outChannels
        let OH = H + 2 * p - k + 1, OW = W + 2 * p - k + 1
        let w = conv.weight.value, bias = conv.bias.value
        var y = [Float](repeating: 0, count: B * O * OH * OW)
        for b in 0..<B { for o in 0..<O { for i in 0..<OH { for j in 0..<OW {
            var s = Double(bias[o])
            for c in 0..<C { for ki in 0..<k { for kj in 0..<k {
                let ih = i + ki - p, iw = j + kj - p
                if ih < 0 || ih >= H || iw < 0 || iw >= W { continue }
                s += Double(w[((o * C + c) * k + ki) * k + kj]) * Double(x[((b * C + c) * H + ih) * W + iw])
            } } }
            y[((b * O + o) * OH + i) * OW + j] = Float(s)
        } } } }
        return y
    }

    let shapes: [(batch: Int, cin: Int, cout: Int, h: Int, w: Int, k: Int, p: Int)] = [
        (1, 1, 1, 1, 1, 1, 0), (1, 1, 2, 5, 5, 3, 1), (2, 3, 4, 7, 5, 3, 0), (3, 2, 5, 6, 7, 5, 2),
        (1, 3, 2, 4, 4, 5, 2), (2, 1, 3, 3, 9, 3, 2), (5, 2, 3, 8, 8, 2, 1),
        // Padding past k − 1 (dX has no implicit-GEMM form: the lowered path runs it).
        (2, 2, 3, 4, 5, 1, 1),
        // Implicit GEMM edges: 13 output rows (two 6-row panels and one row), 99 pixels (six
        // 16-wide panels and 3 columns), and K = 360 / K′ = 63 (two k blocks / one).
        (2, 3, 13, 9, 11, 3, 1), (1, 40, 7, 6, 5, 3, 1),
    ]

    func testForwardMatchesDirectConvolution() {
        for compute in LayerCheck.backends {
            for (i, s) in shapes.enumerated() {
                for (chunk, threading) in [(Int.max, ConvThreading.batch), (2, .batch), (1, .gemm), (Int.max, .gemm)] {
                    let conv = Conv2d(name: "conv\(i)", inChannels: s.cin, outChannels: s.cout, kernel: s.k, padding: s.p, seed: UInt64(i))
                    conv.samplesPerChunk = chunk
                    conv.threading = threading
                    let x = LayerCheck.tensor([s.batch, s.cin, s.h, s.w], seed: UInt64(100 + i))
                    let y = conv.forward(x, compute, training: false)
                    XCTAssertEqual(y.shape, [s.batch, s.cout, s.h + 2 * s.p - s.k + 1, s.w + 2 * s.p - s.k + 1])
                    LayerCheck.assertClose(y.toArray(), directConv(x, conv), atol: 2e-5, "conv\(i) chunk \(chunk) \(compute.backend)")
                }
            }
        }
    }

    func testGradients() {
        for compute in LayerCheck.backends {
            for (i, s) in shapes.enumerated() {
                for (chunk, threading) in [(Int.max, ConvThreading.batch), (1, .batch), (2, .gemm)] {
                    let conv = Conv2d(name: "conv\(i)", inChannels: s.cin, outChannels: s.cout, kernel: s.k, padding: s.p, seed: UInt64(i))
                    conv.samplesPerChunk = chunk
                    conv.threading = threading
                    LayerCheck.checkGradients(conv, LayerCheck.tensor([s.batch, s.cin, s.h, s.w], seed: UInt64(200 + i)), compute, limit: 80)
                }
            }
        }
    }

    /// Every way of cutting the batch (threads × chunk size × threading mode, col reused or
    /// recomputed) gives the same output and gradients, and gradients accumulate across calls.
    /// 19 one-image chunks make 8 backward groups of 2–3 chunks at 2 threads, 12 at 3.
    func testSplitsGiveSameResults() {
        let x = LayerCheck.tensor([19, 3, 9, 8], seed: 1), dY = LayerCheck.tensor([19, 4, 9, 8], seed: 2)
        var results: [[Float]] = []
        var labels: [String] = []
        // The simd cases at every ISA tier the CPU has (the implicit-GEMM passes use its tile).
        let simdCases: [(Int, KernelBackend, KernelISA)] = CPUFeatures.host.availableISAs.flatMap { [(Int.max, .simd, $0), (1, .simd, $0)] }
        for threads in [1, 2, 3] {
            for threading in ConvThreading.allCases {
                for (chunk, backend, isa) in [(Int.max, KernelBackend.blas, KernelISA.avx2), (4, .blas, .avx2), (3, .blas, .avx2), (1, .blas, .avx2)] + simdCases {
                    let compute = Compute(backend: backend, threads: threads, isa: isa)
                    let conv = Conv2d(name: "c", inChannels: 3, outChannels: 4, kernel: 3, padding: 1, seed: 3)
                    conv.samplesPerChunk = chunk
                    conv.threading = threading
                    var out: [Float] = []
                    for _ in 0..<2 {   // twice: the second backward adds to the first
                        out = conv.forward(x, compute, training: true).toArray()
                        out += conv.backward(dY, compute).toArray()
                    }
                    results.append(out + conv.weight.grad.toArray() + conv.bias.grad.toArray())
                    labels.append("threads \(threads) \(threading) chunk \(chunk) \(backend) \(isa)")
                }
            }
        }
        for i in 1..<results.count { LayerCheck.assertClose(results[i], results[0], atol: 1e-4, rtol: 1e-5, labels[i]) }
        // And the accumulated gradient is twice a single backward's.
        let conv = Conv2d(name: "c", inChannels: 3, outChannels: 4, kernel: 3, padding: 1, seed: 3)
        let compute = Compute(backend: .reference, threads: 1)
        _ = conv.forward(x, compute, training: true)
        _ = conv.backward(dY, compute)
        let n = results[0].count, wb = conv.weight.grad.count + conv.bias.grad.count
        LayerCheck.assertClose(Array(results[0][(n - wb)...]), (conv.weight.grad.toArray() + conv.bias.grad.toArray()).map { 2 * $0 },
                               atol: 1e-4, rtol: 1e-5, "accumulation")
    }

    /// A backward run with another thread count than its forward (so other chunks) must not
    /// reuse the forward's im2col columns for the wrong images.
    func testBackwardWithDifferentSplitThanForward() {
        let x = LayerCheck.tensor([6, 2, 5, 5], seed: 4), dY = LayerCheck.tensor([6, 3, 5, 5], seed: 5)
        func run(_ fwd: Compute, _ bwd: Compute) -> [Float] {
            let conv = Conv2d(name: "c", inChannels: 2, outChannels: 3, kernel: 3, padding: 1, seed: 6)
            conv.samplesPerChunk = 4
            _ = conv.forward(x, fwd, training: true)
            return conv.backward(dY, bwd).toArray() + conv.weight.grad.toArray() + conv.bias.grad.toArray()
        }
        let one = Compute(backend: .blas, threads: 1), two = Compute(backend: .blas, threads: 2), three = Compute(backend: .blas, threads: 3)
        let expected = run(one, one)
        LayerCheck.assertClose(run(two, one), expected, atol: 1e-5, rtol: 1e-5, "2 then 1")
        LayerCheck.assertClose(run(one, three), expected, atol: 1e-5, rtol: 1e-5, "1 then 3")
        LayerCheck.assertClose(run(three, two), expected, atol: 1e-5, rtol: 1e-5, "3 then 2")
    }

    func testInitIsPyTorchDefaultRange() {
        let conv = Conv2d(name: "c", inChannels: 4, outChannels: 8, kernel: 5, padding: 2, seed: 1)
        XCTAssertEqual(conv.weight.value.shape, [8, 4, 5, 5])
        XCTAssertEqual(conv.bias.value.shape, [8])
        let bound = 1 / Float(100).squareRoot()
        let w = conv.weight.value.toArray()
        XCTAssertTrue(w.allSatisfy { abs($0) <= bound } && conv.bias.value.toArray().allSatisfy { abs($0) <= bound })
        XCTAssertGreaterThan(w.max()!, 0.9 * bound)
        XCTAssertLessThan(w.min()!, -0.9 * bound)
    }

    func testSkippingInputGradient() {
        let compute = Compute(backend: .blas, threads: 2)
        let a = Conv2d(name: "a", inChannels: 1, outChannels: 3, kernel: 3, padding: 1, seed: 1)
        let b = Conv2d(name: "b", inChannels: 1, outChannels: 3, kernel: 3, padding: 1, seed: 1)
        b.computesInputGradient = false
        let x = LayerCheck.tensor([2, 1, 6, 6], seed: 2), dY = LayerCheck.tensor([2, 3, 6, 6], seed: 3)
        _ = a.forward(x, compute, training: true); _ = a.backward(dY, compute)
        _ = b.forward(x, compute, training: true)
        let dX = b.backward(dY, compute)
        XCTAssertEqual(a.weight.grad.toArray(), b.weight.grad.toArray())
        XCTAssertEqual(a.bias.grad.toArray(), b.bias.grad.toArray())
        XCTAssertEqual(dX.shape, [2, 1, 6, 6])
        XCTAssertTrue(dX.toArray().allSatisfy { $0 == 0 })
    }

    // MARK: MaxPool2d

    func testMaxPoolForwardAndGradients() {
        for compute in LayerCheck.backends {
            for (shape, size) in [([1, 1, 2, 2], 2), ([2, 3, 4, 6], 2), ([1, 2, 5, 7], 2), ([2, 1, 6, 6], 3), ([1, 1, 3, 3], 1)] {
                let pool = MaxPool2d(name: "pool", size: size)
                // Distinct values ≥ 0.05 apart: the finite differences (h = 0.01) never cross a tie.
                let n = shape.reduce(1, *)
                var order = Array(0..<n)
                var rng = SeededRandom(seed: UInt64(n))
                rng.shuffle(&order)
                let x = Tensor(shape, values: order.map { Float($0) * 0.05 - 1 })
                let y = pool.forward(x, compute, training: false)
                let (B, C, H, W) = (shape[0], shape[1], shape[2], shape[3])
                let OH = H / size, OW = W / size
                XCTAssertEqual(y.shape, [B, C, OH, OW])
                for plane in 0..<(B * C) { for i in 0..<OH { for j in 0..<OW {
                    var m = -Float.infinity
                    for a in 0..<size { for b in 0..<size { m = max(m, x[plane * H * W + (i * size + a) * W + j * size + b]) } }
                    XCTAssertEqual(y[(plane * OH + i) * OW + j], m)
                } } }
                LayerCheck.checkGradients(pool, x, compute, h: 0.01)
            }
        }
    }

    func testMaxPoolTiesGoToFirstMaximum() {
        let compute = Compute(backend: .reference, threads: 1)
        let pool = MaxPool2d(name: "pool", size: 2)
        // Window 1: all equal → first (0,0). Window 2: tie between (0,1) and (1,0) → (0,1).
        let x = Tensor([1, 1, 2, 4], values: [3, 3, 1, 5,
                                              3, 3, 5, 2])
        let y = pool.forward(x, compute, training: true)
        XCTAssertEqual(y.toArray(), [3, 5])
        let dX = pool.backward(Tensor([1, 1, 1, 2], values: [10, 20]), compute)
        XCTAssertEqual(dX.toArray(), [10, 0, 0, 20,
                                      0, 0, 0, 0])
    }

    func testMaxPoolNaNWinsAndOddEdgesAreDropped() {
        let compute = Compute(backend: .reference, threads: 1)
        let pool = MaxPool2d(name: "pool", size: 2)
        let x = Tensor([1, 1, 3, 3], values: [1, .nan, 9,
                                              2, 0, 9,
                                              9, 9, 9])
        let y = pool.forward(x, compute, training: true)
        XCTAssertEqual(y.shape, [1, 1, 1, 1])
        XCTAssertTrue(y[0].isNaN)
        let dX = pool.backward(Tensor([1, 1, 1, 1], values: [4]), compute)
        XCTAssertEqual(dX.toArray(), [0, 4, 0, 0, 0, 0, 0, 0, 0])
    }
}

extension ConvPoolTests {
    /// The vectorised 2×2 path and the generic scalar loop agree, ties and NaNs included:
    /// a 2×2 pool equals a generic pool fed the same data (size 2 runs the SIMD path for the
    /// first 8·k columns and the scalar tail for the rest).
    func testPool2MatchesGenericRuleOnTiesAndNaNs() {
        // OW = 18: two vectors and an overlapping third, last column dropped; 16: exactly two
        // vectors; 7 and 2: the scalar path.
        for W in [37, 16, 14, 5] { pool2Check(H: 6, W: W) }
    }

    func pool2Check(H: Int, W: Int) {
        let compute = Compute(backend: .reference, threads: 1)
        var rng = SeededRandom(seed: UInt64(12 + W))
        // Few distinct values: many ties. A sprinkling of NaNs.
        let values: [Float] = (0..<(2 * H * W)).map { _ in
            let r = rng.nextInt(below: 20)
            return r == 0 ? .nan : Float(r % 3)
        }
        let x = Tensor([1, 2, H, W], values: values)
        let pool = MaxPool2d(name: "p", size: 2)
        let y = pool.forward(x, compute, training: true).toArray()
        let dY = Tensor([1, 2, H / 2, W / 2], values: (0..<(2 * (H / 2) * (W / 2))).map { Float($0 + 1) })
        let dX = pool.backward(dY, compute).toArray()
        // Expected by the rule, written out directly.
        var expY: [Float] = [], expDX = [Float](repeating: 0, count: values.count)
        for c in 0..<2 { for oh in 0..<(H / 2) { for ow in 0..<(W / 2) {
            var best = Float(0), at = -1
            for di in 0..<2 { for dj in 0..<2 {
                let i = c * H * W + (2 * oh + di) * W + 2 * ow + dj
                if at < 0 || values[i] > best || values[i].isNaN { best = values[i]; at = i }
            } }
            expY.append(best)
            expDX[at] += dY[(c * (H / 2) + oh) * (W / 2) + ow]
        } } }
        XCTAssertEqual(y.count, expY.count)
        for i in 0..<y.count { XCTAssertTrue(y[i] == expY[i] || (y[i].isNaN && expY[i].isNaN), "W \(W) y[\(i)] \(y[i]) vs \(expY[i])") }
        XCTAssertEqual(dX, expDX, "W \(W)")
    }
}
