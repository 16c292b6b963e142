/// Layer normalisation over the last dimension, PyTorch's `nn.LayerNorm(cols, eps)`:
///
///     mean = Σⱼ xⱼ / n,  var = Σⱼ (xⱼ − mean)² / n   (biased, as PyTorch)
///     rstd = 1/√(var + eps),  x̂ = (x − mean)·rstd,  y = x̂·γ + β
///
/// Tiers: `layerNorm`/`layerNormBackward` are the SIMD8 kernels (two passes over each row for the
/// variance, which is exact enough without Welford); the `…Reference` versions are plain loops
/// accumulating in Double, kept as the oracle.
public enum Norms {
    /// Normalises each of `rows` rows of `cols` values of `x` into `y` (row-major, row stride
    /// `cols`), then scales by `gamma[cols]` and shifts by `beta[cols]`.
    ///
    /// - `mean`, `rstd`: optional `[rows]` outputs (per-row mean and 1/√(var+eps)) that backward
    ///   needs; pass nil for inference.
    /// - Rows are independent: calling this on disjoint row ranges from several threads (offset
    ///   `x`, `y`, `mean`, `rstd` by the first row) is safe. `y` may alias `x`.
    /// - `cols` ≥ 1; `eps` > 0 (1e-5 in PyTorch's default, 1e-12 in BERT).
    public static func layerNorm(x: UnsafePointer<Float>, gamma: UnsafePointer<Float>, beta: UnsafePointer<Float>,
                                 y: UnsafeMutablePointer<Float>, rows: Int, cols: Int, eps: Float,
                                 mean: UnsafeMutablePointer<Float>?, rstd: UnsafeMutablePointer<Float>?) {
        precondition(cols >= 1, "Norms.layerNorm: cols must be ≥ 1, got \(cols)")
        let n = Float(cols)
        let vecEnd = cols & ~7
        for r in 0..<rows {
            let xr = x + r * cols, yr = y + r * cols
            // Pass 1: mean. Two accumulators halve the add latency chain.
            var s0 = SIMD8<Float>(), s1 = SIMD8<Float>()
            var j = 0
            while j + 16 <= vecEnd { s0 += xr.loadV8(at: j); s1 += xr.loadV8(at: j + 8); j += 16 }
            if j < vecEnd { s0 += xr.loadV8(at: j); j += 8 }
            var sum = (s0 + s1).sum()
            while j < cols { sum += xr[j]; j += 1 }
            let mu = sum / n
            // Pass 2: variance around the mean (no cancellation, unlike E[x²] − mean²).
            let mv = SIMD8<Float>(repeating: mu)
            var v0 = SIMD8<Float>(), v1 = SIMD8<Float>()
            j = 0
            while j + 16 <= vecEnd {
                let d0 = xr.loadV8(at: j) - mv, d1 = xr.loadV8(at: j + 8) - mv
                v0.addProduct(d0, d0); v1.addProduct(d1, d1); j += 16
            }
            if j < vecEnd { let d = xr.loadV8(at: j) - mv; v0.addProduct(d, d); j += 8 }
            var sq = (v0 + v1).sum()
            while j < cols { let d = xr[j] - mu; sq += d * d; j += 1 }
            let rs = 1 / (sq / n + eps).squareRoot()
            mean?[r] = mu
            rstd?[r] = rs
            // Pass 3: y = (x·rstd − mean·rstd)·γ + β, two FMAs per vector.
            let a = SIMD8<Float>(repeating: rs), b = SIMD8<Float>(repeating: -mu * rs)
            j = 0
            while j < vecEnd {
                let xhat = b.addingProduct(xr.loadV8(at: j), a)
                yr.storeV8(beta.loadV8(at: j).addingProduct(xhat, gamma.loadV8(at: j)), at: j)
                j += 8
            }
            while j < cols { yr[j] = (xr[j] * rs - mu * rs) * gamma[j] + beta[j]; j += 1 }
        }
    }

    /// Backward of `layerNorm` for `rows` rows of `cols`:
    ///
    ///     g = dY ⊙ γ,   dX = rstd·(g − mean(g) − x̂·mean(g ⊙ x̂))
    ///     dGamma += Σ_rows dY ⊙ x̂,   dBeta += Σ_rows dY
    ///
    /// `mean`/`rstd` are the `[rows]` values the forward stored. `dGamma`/`dBeta` (`[cols]`) are
    /// ACCUMULATED, so concurrent calls must not share them. `dX` may alias `dY`.
    public static func layerNormBackward(dY: UnsafePointer<Float>, x: UnsafePointer<Float>,
                                         mean: UnsafePointer<Float>, rstd: UnsafePointer<Float>,
                                         gamma: UnsafePointer<Float>, dX: UnsafeMutablePointer<Float>,
                                         dGamma: UnsafeMutablePointer<Float>, dBeta: UnsafeMutablePointer<Float>,
                                         rows: Int, cols: Int) {
        let n = Float(cols)
        let vecEnd = cols & ~7
        for r in 0..<rows {
            let xr = x + r * cols, dyr = dY + r * cols, dxr = dX + r * cols
            let a = SIMD8<Float>(repeating: rstd[r]), b = SIMD8<Float>(repeating: -mean[r] * rstd[r])
            // Pass 1: Σg, Σg·x̂, and the parameter gradients.
            var sg = SIMD8<Float>(), sgx = SIMD8<Float>()
            var j = 0
            while j < vecEnd {
                let dy = dyr.loadV8(at: j)
                let xhat = b.addingProduct(xr.loadV8(at: j), a)
                let g = dy * gamma.loadV8(at: j)
                sg += g
                sgx.addProduct(g, xhat)
                dGamma.storeV8(dGamma.loadV8(at: j).addingProduct(dy, xhat), at: j)
                dBeta.storeV8(dBeta.loadV8(at: j) + dy, at: j)
                j += 8
            }
            var sumG = sg.sum(), sumGX = sgx.sum()
            let rs = rstd[r], mu = mean[r]
            while j < cols {
                let dy = dyr[j], xhat = (xr[j] - mu) * rs, g = dy * gamma[j]
                sumG += g; sumGX += g * xhat
                dGamma[j] += dy * xhat; dBeta[j] += dy
                j += 1
            }
            // Pass 2: dX.
            let mg = SIMD8<Float>(repeating: sumG / n), mgx = SIMD8<Float>(repeating: sumGX / n)
            j = 0
            while j < vecEnd {
                let xhat = b.addingProduct(xr.loadV8(at: j), a)
                let g = dyr.loadV8(at: j) * gamma.loadV8(at: j)
                dxr.storeV8(a * (g - mg - xhat * mgx), at: j)
                j += 8
            }
            while j < cols {
                let xhat = (xr[j] - mu) * rs, g = dyr[j] * gamma[j]
                dxr[j] = rs * (g - sumG / n - xhat * (sumGX / n))
                j += 1
            }
        }
    }

    /// Reference forward: plain loops, Double accumulation. Same contract as `layerNorm`.
    public static func layerNormReference(x: UnsafePointer<Float>, gamma: UnsafePointer<Float>, beta: UnsafePointer<Float>,
                                          y: UnsafeMutablePointer<Float>, rows: Int, cols: Int, eps: Float,
                                          mean: UnsafeMutablePointer<Float>?, rstd: UnsafeMutablePointer<Float>?) {
        for r in 0..<rows {
            let xr = x + r * cols
            var s = 0.0
            for j in 0..<cols { s += Double(xr[j]) }
            let mu = s / Double(cols)
            var v = 0.0
            for j in 0..<cols { let d = Double(xr[j]) - mu; v += d * d }
            let rs = 1 / (v / Double(cols) + Double(eps)).squareRoot()
            for j in 0..<cols {
                y[r * cols + j] = Float((Double(xr[j]) - mu) * rs * Double(gamma[j]) + Double(beta[j]))
            }
            mean?[r] = Float(mu)
            rstd?[r] = Float(rs)
        }
    }

    /// Reference backward: plain loops, Double accumulation. Same contract as `layerNormBackward`.
    public static func layerNormBackwardReference(dY: UnsafePointer<Float>, x: UnsafePointer<Float>,
                                                  mean: UnsafePointer<Float>, rstd: UnsafePointer<Float>,
                                                  gamma: UnsafePointer<Float>, dX: UnsafeMutablePointer<Float>,
                                                  dGamma: UnsafeMutablePointer<Float>, dBeta: UnsafeMutablePointer<Float>,
                                                  rows: Int, cols: Int) {
        for r in 0..<rows {
            let mu = Double(mean[r]), rs = Double(rstd[r])
            var sumG = 0.0, sumGX = 0.0
            for j in 0..<cols {
                let i = r * cols + j
                let xhat = (Double(x[i]) - mu) * rs, g = Double(dY[i]) * Double(gamma[j])
                sumG += g; sumGX += g * xhat
                dGamma[j] += Float(Double(dY[i]) * xhat)
                dBeta[j] += dY[i]
            }
            for j in 0..<cols {
                let i = r * cols + j
                let xhat = (Double(x[i]) - mu) * rs, g = Double(dY[i]) * Double(gamma[j])
                dX[i] = Float(rs * (g - sumG / Double(cols) - xhat * sumGX / Double(cols)))
            }
        }
    }
}
