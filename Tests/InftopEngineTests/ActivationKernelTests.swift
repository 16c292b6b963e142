import XCTest
import InftopEngine
#if canImport(Glibc)
import Glibc
#endif

/// Fast kernels against their reference tiers (and libm) over sizes that hit the SIMD body,
/// the tail, and both.
final class ActivationKernelTests: XCTestCase {
    let sizes = [1, 7, 8, 9, 31, 1000]

    /// Relative error allowed for Φ-based values at x: erfc's 1.2e-7 and exp's few ulp, plus
    /// float rounding of the exponent −x²/2 (three roundings of a value of size x²/2).
    func relTol(_ x: Float) -> Float { 3e-7 + 1.5e-7 * x * x }

    /// Values spread over [-8, 8] with a few specials mixed in at the front.
    func inputs(_ n: Int, seed: UInt64) -> [Float] {
        var r = SeededRandom(seed: seed)
        var v = (0..<n).map { _ in r.uniform(-8, 8) }
        let specials: [Float] = [0, -0.0, 1e-4, -1e-4, 1, -1, 3, -3, 5.5, -5.5, 10, -10, 30, -30]
        for (i, s) in specials.enumerated() where i < n { v[(i * 7) % n] = s }
        return v
    }

    func testGeluFastMatchesReference() {
        for n in sizes {
            let x = inputs(n, seed: UInt64(n))
            var fast = [Float](repeating: .nan, count: n), ref = fast
            Activations.gelu(x, &fast, count: n)
            Activations.geluReference(x, &ref, count: n)
            for i in 0..<n {
                XCTAssertEqual(fast[i], ref[i], accuracy: 1e-37 + relTol(x[i]) * abs(ref[i]), "gelu(\(x[i])) n=\(n)")
            }
        }
    }

    func testGeluKnownValues() {
        // ½·x·(1 + erf(x/√2)) in double precision (what torch.nn.functional.gelu computes).
        let x: [Float] = [-3, -1, 0, 0.5, 1, 2]
        let expected: [Float] = [-0.0040496941, -0.15865526, 0, 0.34573123, 0.84134474, 1.9544997]
        var y = [Float](repeating: 0, count: x.count)
        Activations.gelu(x, &y, count: x.count)
        for i in 0..<x.count { XCTAssertEqual(y[i], expected[i], accuracy: relTol(x[i]) * abs(expected[i])) }
    }

    /// In the negative tail x·Φ(x) is tiny; erfc (not 1 + erf) keeps its relative error small.
    func testGeluNegativeTailKeepsRelativeAccuracy() {
        let x: [Float] = [-4, -5, -6, -7, -8, -9, -10, -12, -13]
        var fast = [Float](repeating: 0, count: x.count), ref = fast
        Activations.gelu(x, &fast, count: x.count)
        Activations.geluReference(x, &ref, count: x.count)
        for i in 0..<x.count {
            XCTAssertTrue(ref[i] < 0)
            XCTAssertEqual(fast[i] / ref[i], 1, accuracy: relTol(x[i]), "gelu(\(x[i])) \(fast[i]) vs \(ref[i])")
        }
    }

    func testGeluBackwardFastMatchesReference() {
        for n in sizes {
            let x = inputs(n, seed: UInt64(n) + 100)
            var r = SeededRandom(seed: 3)
            let dY = (0..<n).map { _ in r.uniform(-2, 2) }
            var fast = [Float](repeating: .nan, count: n), ref = fast
            Activations.geluBackward(x: x, dY: dY, dX: &fast, count: n)
            Activations.geluBackwardReference(x: x, dY: dY, dX: &ref, count: n)
            for i in 0..<n {
                // gelu' = Φ + x·φ cancels (a zero near x = −0.75, and in the negative tail), so the
                // error is relative to the size of the two terms, not of their sum.
                let v = Double(x[i])
                let terms = 0.5 * erfc(-v / 2.0.squareRoot()) + abs(v) * exp(-0.5 * v * v) / (2 * Double.pi).squareRoot()
                XCTAssertEqual(fast[i], ref[i], accuracy: 1e-37 + relTol(x[i]) * abs(dY[i]) * Float(terms), "gelu'(\(x[i])) n=\(n)")
            }
        }
    }

    func testGeluInPlace() {
        let x = inputs(31, seed: 4)
        var y = x, ref = x
        y.withUnsafeMutableBufferPointer { Activations.gelu($0.baseAddress!, $0.baseAddress!, count: 31) }
        Activations.geluReference(x, &ref, count: 31)
        LayerCheck.assertClose(y, ref, atol: 3e-6, "in place")
    }

    func testFastExpMatchesLibm() {
        for n in sizes + [4096] {
            var r = SeededRandom(seed: UInt64(n) + 7)
            var x = (0..<n).map { _ in r.uniform(-87, 88) }
            if n > 8 { x[0] = 0; x[1] = -87.3; x[2] = 88; x[3] = 1; x[4] = -1e-6; x[5] = 0.34657359 }
            var y = [Float](repeating: 0, count: n)
            FastMath.exp(x, &y, count: n)
            for i in 0..<n {
                let e = exp(Double(x[i]))
                XCTAssertEqual(Double(y[i]) / e, 1, accuracy: 4e-7, "exp(\(x[i]))")
            }
        }
    }

    func testFastExpClampsInsteadOfOverflowing() {
        let x: [Float] = [-1000, -100, 100, 1000, -.infinity, .infinity, -88, 89]
        var y = [Float](repeating: 0, count: x.count)
        FastMath.exp(x, &y, count: x.count)
        for v in y { XCTAssertTrue(v.isFinite && v > 0, "\(y)") }
        XCTAssertTrue(y[0] < 1.3e-38 && y[3] > 1e38)
    }

    func testReluAndBackward() {
        for n in sizes {
            let x = inputs(n, seed: UInt64(n) + 5)
            var y = [Float](repeating: .nan, count: n)
            Activations.relu(x, &y, count: n)
            XCTAssertEqual(y, x.map { max($0, 0) })
            let dY = (0..<n).map { Float($0) + 1 }
            var dX = [Float](repeating: .nan, count: n)
            Activations.reluBackward(y: y, dY: dY, dX: &dX, count: n)
            XCTAssertEqual(dX, (0..<n).map { x[$0] > 0 ? dY[$0] : 0 })
        }
        var nanOut: [Float] = [0]
        Activations.relu([Float.nan], &nanOut, count: 1)
        XCTAssertTrue(nanOut[0].isNaN, "ReLU propagates NaN like PyTorch")
    }
}
