import InftopTelemetry
import XCTest
import InftopEngine

/// Every INT8 GEMM tier against the reference twin (bit-exact outputs: same integers, same
/// epilogue) and against exact integer products computed here, over shapes with 1, primes and
/// tile remainders, both input and output layouts, 1 and 2 threads; the avx2 tier's saturation
/// worst case; the round-trip bounds of weight and activation quantization.
final class Int8GemmTests: XCTestCase {
    /// (m, n, k). The last three exceed 2·2¹⁹ multiply-adds, so 2 threads really split them
    /// (along N, along M, and N again with a partial 64-channel group).
    static let shapes: [(Int, Int, Int)] = [
        (1, 1, 1), (1, 16, 4), (1, 97, 31), (7, 13, 1), (6, 16, 8), (13, 31, 97), (97, 7, 13),
        (31, 97, 300), (5, 65, 33), (2, 130, 3), (64, 200, 300), (300, 40, 200), (37, 333, 97),
    ]

    /// The fast tiers this CPU runs; a test of a tier the CPU lacks is reported as skipped.
    func tiers() throws -> [Int8Kernel] {
        let fast = [Int8Kernel.avx2, .avxvnni, .avx512vnni]
        let missing = fast.filter { !$0.runs(on: .host) }
        if !missing.isEmpty {
            print("Int8GemmTests: skipping \(missing.map(\.rawValue).joined(separator: ", ")): this CPU lacks them (\(CPUFeatures.host.flagList))")
        }
        let have = fast.filter { $0.runs(on: .host) }
        if have.isEmpty { throw XCTSkip("no int8 tier runs on this CPU") }
        return have
    }

    func testTiersMatchReferenceBitExact() throws {
        for kernel in try tiers() {
            for (m, n, k) in Self.shapes {
                for threads in [1, 2] {
                    let x = values(m * k, seed: UInt64(m * 31 + k), scale: 2, shift: -0.6)
                    let w = values(n * k, seed: UInt64(n * 17 + k), scale: 0.5, shift: -0.25)
                    let b = values(n, seed: 9, scale: 1, shift: -0.5)
                    let q = w.withUnsafeBufferPointer { QuantizedWeights($0.baseAddress!, n: n, k: k) }
                    let qmax = kernel.activationMax
                    let ref = run(.reference, qmax, threads: 1, m, k, x, q, b)
                    let got = run(kernel, qmax, threads: threads, m, k, x, q, b)
                    XCTAssertEqual(got, ref, "\(kernel) \(m)x\(n)x\(k) threads \(threads)")
                    // Feature-major input and output give the very same numbers.
                    let xT = transpose(x, rows: m, cols: k)
                    let gotT = run(kernel, qmax, threads: threads, m, k, xT, q, b, transX: true, transY: true)
                    XCTAssertEqual(transpose(gotT, rows: n, cols: m), ref, "\(kernel) \(m)x\(n)x\(k) transX+transY threads \(threads)")
                }
            }
        }
    }

    /// Integer-valued operands whose rows span exactly [0, qmax] and [−127, 127] quantize with
    /// scale 1 and zero point 0, so each output is the exact integer dot product (< 2²⁴).
    func testExactIntegers() throws {
        for kernel in [Int8Kernel.reference] + (try tiers()) {
            let qmax = Int(kernel.activationMax)
            for (m, n, k) in Self.shapes where k >= 2 {
                var rng = UInt64(m * 1000 + n * 10 + k) | 1
                func next(_ range: ClosedRange<Int>) -> Int {
                    rng ^= rng << 13; rng ^= rng >> 7; rng ^= rng << 17
                    return range.lowerBound + Int(rng % UInt64(range.count))
                }
                var x = (0..<(m * k)).map { _ in Float(next(0...qmax)) }
                var w = (0..<(n * k)).map { _ in Float(next(-127...127)) }
                for i in 0..<m { x[i * k] = 0; x[i * k + 1] = Float(qmax) }
                for j in 0..<n { w[j * k + (j % k)] = j % 2 == 0 ? 127 : -127 }
                let q = w.withUnsafeBufferPointer { QuantizedWeights($0.baseAddress!, n: n, k: k) }
                for threads in [1, 2] {
                    let got = run(kernel, kernel.activationMax, threads: threads, m, k, x, q, nil)
                    for i in 0..<m {
                        for j in 0..<n {
                            var exact = 0
                            for p in 0..<k { exact += Int(x[i * k + p]) * Int(w[j * k + p]) }
                            if got[i * n + j] != Float(exact) {
                                XCTFail("\(kernel) \(m)x\(n)x\(k) threads \(threads): y[\(i),\(j)] = \(got[i * n + j]), exact \(exact)")
                                return
                            }
                        }
                    }
                }
            }
        }
    }

    /// vpmaddubsw adds two u8·s8 products into a saturating int16: the avx2 tier's activations
    /// stop at 127, so the largest pair, 2·127·127 = 32 258, still fits. All-127 activations
    /// against all-±127 weights (and alternating signs) must give exact sums; the VNNI tiers
    /// take 255 against ±127.
    func testSaturationWorstCase() throws {
        for kernel in try tiers() {
            let qmax = kernel.activationMax
            let m = 7, k = 1001, n = 35
            let x = [Float](repeating: Float(qmax), count: m * k)
            var w = [Float](repeating: 0, count: n * k)
            for j in 0..<n { for p in 0..<k { w[j * k + p] = j % 3 == 0 ? 127 : j % 3 == 1 ? -127 : (p % 2 == 0 ? 127 : -127) } }
            let q = w.withUnsafeBufferPointer { QuantizedWeights($0.baseAddress!, n: n, k: k) }
            let got = run(kernel, qmax, threads: 1, m, k, x, q, nil)
            for i in 0..<m {
                for j in 0..<n {
                    let perP = Int(qmax) * 127
                    let exact = j % 3 == 0 ? perP * k : j % 3 == 1 ? -perP * k : perP  // alternating: k odd leaves one +
                    XCTAssertEqual(got[i * n + j], Float(exact), "\(kernel) qmax \(qmax): y[\(i),\(j)]")
                }
            }
        }
    }

    /// Weights: |w − scale·q| ≤ scale/2 (+ float rounding), scale = max|w|/127 per channel.
    func testWeightRoundTrip() {
        let n = 37, k = 129
        var w = values(n * k, seed: 5, scale: 3, shift: -1.5)
        for p in 0..<k { w[5 * k + p] = 0 }  // an all-zero channel stays exactly zero
        let q = w.withUnsafeBufferPointer { QuantizedWeights($0.baseAddress!, n: n, k: k) }
        let back = q.dequantized()
        for j in 0..<n {
            let amax = (0..<k).map { abs(w[j * k + $0]) }.max()!
            let bound = amax / 127 / 2 * 1.0001 + 1e-7
            for p in 0..<k { XCTAssertLessThanOrEqual(abs(back[j * k + p] - w[j * k + p]), bound, "w[\(j),\(p)]") }
        }
        XCTAssertEqual(Array(back[(5 * k)..<(6 * k)]), [Float](repeating: 0, count: k))
        XCTAssertEqual(q.bytes, 3 * 132 * 16 + 3 * 16 * 8)
    }

    /// Activations: through an identity weight (scale 1/127, codes 127 on the diagonal) the GEMM
    /// returns the dequantized activations, which must be within scale/2 of x per row, where
    /// scale = (max(0, max x) − min(0, min x)) / qmax.
    func testActivationRoundTrip() throws {
        for kernel in [Int8Kernel.reference] + (try tiers()) {
            let m = 9, k = 50
            let x = values(m * k, seed: 11, scale: 4, shift: -1)
            var eye = [Float](repeating: 0, count: k * k)
            for p in 0..<k { eye[p * k + p] = 1 }
            let q = eye.withUnsafeBufferPointer { QuantizedWeights($0.baseAddress!, n: k, k: k) }
            let y = run(kernel, kernel.activationMax, threads: 1, m, k, x, q, nil)
            for i in 0..<m {
                let row = x[(i * k)..<((i + 1) * k)]
                let scale = (max(0, row.max()!) - min(0, row.min()!)) / Float(kernel.activationMax)
                for p in 0..<k {
                    XCTAssertLessThanOrEqual(abs(y[i * k + p] - x[i * k + p]), scale / 2 * 1.001 + 1e-6, "\(kernel) x[\(i),\(p)]")
                }
            }
        }
    }

    /// The int8 form follows the fp32 weights: rebuilt after copy(from:) or markChanged, kept otherwise.
    func testWeightCacheFollowsVersion() {
        let w = Tensor([3, 4], values: (0..<12).map { Float($0) - 5 })
        let cache = Int8WeightCache()
        let a = cache.weights(for: w, n: 3, k: 4)
        XCTAssertTrue(a === cache.weights(for: w, n: 3, k: 4))
        w.copy(from: Tensor([3, 4], values: (0..<12).map { Float($0) }))
        let b = cache.weights(for: w, n: 3, k: 4)
        XCTAssertFalse(a === b)
        XCTAssertEqual(b.value(2, 3), 127)
        w.data[0] = 100; w.markChanged()
        XCTAssertFalse(b === cache.weights(for: w, n: 3, k: 4))
        XCTAssertEqual(cache.weights(for: w, n: 3, k: 4).value(0, 0), 127)
    }

    /// What `select` picks never needs a feature the CPU lacks, and an AVX2-only CPU gets avx2.
    func testSelectionRespectsCPU() {
        var avx2Only = CPUFeatures()
        avx2Only.avx2 = true; avx2Only.fma = true; avx2Only.osYmm = true
        XCTAssertEqual(Int8Kernel.select(isa: .avx2, cpu: avx2Only), .avx2)
        XCTAssertEqual(Int8Kernel.select(isa: .avx512, cpu: avx2Only), .avx2)
        for isa in CPUFeatures.host.availableISAs {
            XCTAssertTrue(Int8Kernel.select(isa: isa).runs(on: .host))
        }
    }

    // MARK: helpers

    func run(_ kernel: Int8Kernel, _ qmax: Int32, threads: Int, _ m: Int, _ k: Int, _ x: [Float], _ q: QuantizedWeights,
             _ bias: [Float]?, transX: Bool = false, transY: Bool = false) -> [Float] {
        var y = [Float](repeating: .nan, count: m * q.n)
        x.withUnsafeBufferPointer { xp in
            y.withUnsafeMutableBufferPointer { ybuf in
                let yp = ybuf.baseAddress!
                let body = { (b: UnsafePointer<Float>?) in
                    Int8Gemm.run(kernel, activationMax: qmax, threads: threads, m: m, k: k, x: xp.baseAddress!,
                                 ldx: transX ? m : k, transX: transX, weights: q, bias: b, y: yp,
                                 ldy: transY ? m : q.n, transY: transY)
                }
                if let bias { bias.withUnsafeBufferPointer { body($0.baseAddress!) } } else { body(nil) }
            }
        }
        return y
    }

    func values(_ count: Int, seed: UInt64, scale: Float, shift: Float) -> [Float] {
        LayerCheck.values(count, seed: seed, scale: scale, shift: shift)
    }

    func transpose(_ a: [Float], rows: Int, cols: Int) -> [Float] {
        var t = [Float](repeating: 0, count: a.count)
        for i in 0..<rows { for j in 0..<cols { t[j * rows + i] = a[i * cols + j] } }
        return t
    }
}
