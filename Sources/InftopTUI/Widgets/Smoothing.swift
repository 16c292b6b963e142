/// Curve smoothing as TensorBoard does it.
public enum Smoothing {
    /// TensorBoard's debiased exponential moving average (its "Smoothing" slider, 0.6 by
    /// default): `last = last·w + (1−w)·v`, shown as `last / (1 − w^n)` where `n` counts the
    /// finite points so far, so the first points are not pulled toward zero. A non-finite
    /// value is passed through unchanged and does not disturb the average.
    /// - Parameters:
    ///   - values: the raw series, oldest first.
    ///   - weight: smoothing factor in 0…1 (0 = none; clamped).
    /// - Returns: a series of the same length.
    public static func tensorBoardEMA(_ values: [Double], weight: Double = 0.6) -> [Double] {
        let w = min(max(weight, 0), 1)
        var out: [Double] = []
        out.reserveCapacity(values.count)
        var last = 0.0
        var n = 0
        for v in values {
            guard v.isFinite else { out.append(v); continue }
            last = last * w + (1 - w) * v
            n += 1
            let debias = w == 1 ? 1 : 1 - pow(w, Double(n))
            out.append(last / debias)
        }
        return out
    }

    private static func pow(_ b: Double, _ e: Double) -> Double {
        var r = 1.0, k = Int(e), x = b
        // Integer power by squaring: exact enough and avoids Foundation in this file.
        while k > 0 { if k & 1 == 1 { r *= x }; x *= x; k >>= 1 }
        return r
    }
}
