import InftopTelemetry
import XCTest
import InftopEngine

/// Shared helpers for the layer, kernel and optimizer tests: seeded tensors and a central
/// finite-difference gradient check on the scalar L = Σ Y ⊙ R (so dL/dY = R).
enum LayerCheck {
    /// simd at the host's widest ISA tier (the default) and, on an AVX-512 CPU, at avx2 too.
    static let backends: [Compute] = [Compute(backend: .reference, threads: 1), Compute(backend: .blas, threads: 2),
                                      Compute(backend: .simd, threads: 1), Compute(backend: .simd, threads: 2)]
        + (CPUFeatures.host.hasAVX512 ? [Compute(backend: .simd, threads: 1, isa: .avx2), Compute(backend: .simd, threads: 2, isa: .avx2)] : [])

    /// `count` values in [shift, shift + scale) from a xorshift stream (the same on every run).
    static func values(_ count: Int, seed: UInt64, scale: Float, shift: Float) -> [Float] {
        var s = seed &* 0x9E37_79B9_7F4A_7C15 | 1
        return (0..<count).map { _ in
            s ^= s << 13; s ^= s >> 7; s ^= s << 17
            return Float(s >> 40) / Float(1 << 24) * scale + shift
        }
    }

    static func tensor(_ shape: [Int], seed: UInt64, lo: Float = -1, hi: Float = 1) -> Tensor {
        var rng = SeededRandom(seed: seed)
        let t = Tensor(shape)
        rng.fillUniform(t, lo, hi)
        return t
    }

    /// Σ Y ⊙ R in Double for the layer's training forward on `x`.
    static func loss(_ layer: Layer, _ x: Tensor, _ r: Tensor, _ compute: Compute) -> Double {
        let y = layer.forward(x, compute, training: true)
        precondition(y.count == r.count)
        var s = 0.0
        for i in 0..<y.count { s += Double(y.data[i]) * Double(r.data[i]) }
        return s
    }

    /// Up to `limit` indices of 0..<count: all of them when few, else a seeded sample.
    static func indices(_ count: Int, limit: Int, seed: UInt64) -> [Int] {
        if count <= limit { return Array(0..<count) }
        var rng = SeededRandom(seed: seed)
        return (0..<limit).map { _ in rng.nextInt(below: count) }
    }

    /// Checks dX and every parameter gradient of `layer` at `x` against central differences
    /// with step `h`; |analytic − numeric| ≤ atol + rtol·max(|analytic|, |numeric|).
    static func checkGradients(_ layer: Layer, _ x: Tensor, _ compute: Compute, h: Float = 1e-2,
                               atol: Double = 2e-3, rtol: Double = 1e-2, limit: Int = 150,
                               checkInput: Bool = true, file: StaticString = #filePath, line: UInt = #line) {
        let yShape = layer.forward(x, compute, training: true).shape
        XCTAssertEqual(yShape, layer.outputShape(x.shape), "outputShape agrees with forward", file: file, line: line)
        let r = tensor(yShape, seed: 99, lo: -1, hi: 1)
        for p in layer.parameters { p.grad.fill(0) }
        _ = layer.forward(x, compute, training: true)
        let dX = layer.backward(r, compute).toArray()
        XCTAssertEqual(dX.count, x.count, "dX has the input's size", file: file, line: line)
        let grads = layer.parameters.map { $0.grad.toArray() }

        func close(_ a: Double, _ n: Double, _ what: String) {
            let ok = abs(a - n) <= atol + rtol * max(abs(a), abs(n))
            XCTAssertTrue(ok, "\(layer.name) \(what): analytic \(a) vs numeric \(n) (\(compute.backend))", file: file, line: line)
        }
        func numeric(_ t: Tensor, _ i: Int) -> Double {
            let old = t.data[i]
            t.data[i] = old + h
            let lp = loss(layer, x, r, compute)
            t.data[i] = old - h
            let lm = loss(layer, x, r, compute)
            t.data[i] = old
            // Divide by the step actually taken in Float.
            return (lp - lm) / (Double(old + h) - Double(old - h))
        }
        if checkInput {
            for i in indices(x.count, limit: limit, seed: 7) { close(Double(dX[i]), numeric(x, i), "dX[\(i)]") }
        }
        for (p, g) in zip(layer.parameters, grads) {
            for i in indices(p.value.count, limit: limit, seed: 8) { close(Double(g[i]), numeric(p.value, i), "\(p.name).grad[\(i)]") }
        }
    }

    static func assertClose(_ a: [Float], _ b: [Float], atol: Float, rtol: Float = 0, _ what: String,
                            file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertEqual(a.count, b.count, "\(what): counts", file: file, line: line)
        var worst = 0, worstErr: Float = -1
        for i in 0..<min(a.count, b.count) {
            let err = abs(a[i] - b[i]) - rtol * max(abs(a[i]), abs(b[i]))
            if !(err <= worstErr) { worstErr = err; worst = i }
        }
        if a.count > 0 && a.count == b.count {
            XCTAssertTrue(worstErr <= atol, "\(what): worst at [\(worst)] \(a[worst]) vs \(b[worst])", file: file, line: line)
        }
    }
}
