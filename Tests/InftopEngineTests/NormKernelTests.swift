import XCTest
import InftopEngine

final class NormKernelTests: XCTestCase {
    func testLayerNormFastMatchesReference() {
        for cols in [1, 7, 8, 9, 31, 1000] {
            for rows in [1, 3] {
                var r = SeededRandom(seed: UInt64(cols * 10 + rows))
                // An offset and scale per row: the variance pass must not cancel.
                let x = (0..<rows * cols).map { i in Float(i / cols) * 50 + 3 * r.uniform(-1, 1) }
                let gamma = (0..<cols).map { _ in r.uniform(0.5, 1.5) }
                let beta = (0..<cols).map { _ in r.uniform(-0.5, 0.5) }
                var yF = [Float](repeating: .nan, count: rows * cols), yR = yF
                var mF = [Float](repeating: .nan, count: rows), mR = mF, sF = mF, sR = mF
                Norms.layerNorm(x: x, gamma: gamma, beta: beta, y: &yF, rows: rows, cols: cols, eps: 1e-5, mean: &mF, rstd: &sF)
                Norms.layerNormReference(x: x, gamma: gamma, beta: beta, y: &yR, rows: rows, cols: cols, eps: 1e-5, mean: &mR, rstd: &sR)
                LayerCheck.assertClose(yF, yR, atol: 2e-5, "y rows \(rows) cols \(cols)")
                LayerCheck.assertClose(mF, mR, atol: 1e-5, rtol: 1e-6, "mean rows \(rows) cols \(cols)")
                LayerCheck.assertClose(sF, sR, atol: 1e-5, rtol: 1e-5, "rstd rows \(rows) cols \(cols)")
                if cols > 1 {
                    // Normalised rows (γ = 1, β = 0 check through the stats): mean 0, variance 1.
                    let row = (0..<cols).map { (yF[$0] - beta[$0]) / gamma[$0] }
                    XCTAssertEqual(Double(row.reduce(0, +)) / Double(cols), 0, accuracy: 1e-4)
                }
            }
        }
    }

    func testLayerNormWithoutStatsAndInPlace() {
        let cols = 9, rows = 2
        let x = (0..<rows * cols).map { Float($0 % 5) - 1.5 }
        let gamma = [Float](repeating: 1, count: cols), beta = [Float](repeating: 0, count: cols)
        var y = x, ref = x
        y.withUnsafeMutableBufferPointer {
            Norms.layerNorm(x: $0.baseAddress!, gamma: gamma, beta: beta, y: $0.baseAddress!, rows: rows, cols: cols, eps: 1e-5, mean: nil, rstd: nil)
        }
        Norms.layerNormReference(x: x, gamma: gamma, beta: beta, y: &ref, rows: rows, cols: cols, eps: 1e-5, mean: nil, rstd: nil)
        LayerCheck.assertClose(y, ref, atol: 1e-5, "in place")
    }

    func testLayerNormBackwardFastMatchesReference() {
        for cols in [1, 7, 8, 9, 31, 1000] {
            let rows = 3
            var r = SeededRandom(seed: UInt64(cols))
            let x = (0..<rows * cols).map { _ in r.uniform(-2, 2) }
            let dY = (0..<rows * cols).map { _ in r.uniform(-1, 1) }
            let gamma = (0..<cols).map { _ in r.uniform(0.5, 1.5) }
            let beta = [Float](repeating: 0, count: cols)
            var y = [Float](repeating: 0, count: rows * cols), mean = [Float](repeating: 0, count: rows), rstd = mean
            Norms.layerNormReference(x: x, gamma: gamma, beta: beta, y: &y, rows: rows, cols: cols, eps: 1e-5, mean: &mean, rstd: &rstd)
            var dXF = [Float](repeating: .nan, count: rows * cols), dXR = dXF
            // Start the accumulators non-zero: both tiers must add, not overwrite.
            var dGF = [Float](repeating: 0.25, count: cols), dGR = dGF, dBF = dGF, dBR = dGF
            Norms.layerNormBackward(dY: dY, x: x, mean: mean, rstd: rstd, gamma: gamma, dX: &dXF, dGamma: &dGF, dBeta: &dBF, rows: rows, cols: cols)
            Norms.layerNormBackwardReference(dY: dY, x: x, mean: mean, rstd: rstd, gamma: gamma, dX: &dXR, dGamma: &dGR, dBeta: &dBR, rows: rows, cols: cols)
            LayerCheck.assertClose(dXF, dXR, atol: 2e-5, rtol: 1e-5, "dX cols \(cols)")
            LayerCheck.assertClose(dGF, dGR, atol: 2e-5, rtol: 1e-5, "dGamma cols \(cols)")
            LayerCheck.assertClose(dBF, dBR, atol: 2e-5, rtol: 1e-5, "dBeta cols \(cols)")
        }
    }
}
