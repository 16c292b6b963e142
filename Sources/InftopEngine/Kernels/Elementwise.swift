/// Small memory-bound kernels the layers share: bias adds and gradient sums. SIMD8 over the
/// contiguous dimension; the compiler keeps the tails scalar.
public enum Elementwise {
    /// y[r, c] += bias[c] for a row-major `[rows, cols]` matrix (Linear's bias).
    public static func addRowBias(_ y: UnsafeMutablePointer<Float>, bias: UnsafePointer<Float>, rows: Int, cols: Int) {
        let vecEnd = cols & ~7
        for r in 0..<rows {
            let yr = y + r * cols
            var j = 0
            while j < vecEnd { yr.storeV8(yr.loadV8(at: j) + bias.loadV8(at: j), at: j); j += 8 }
            while j < cols { yr[j] += bias[j]; j += 1 }
        }
    }

    /// sums[c] += Σ_r x[r, c] for a row-major `[rows, cols]` matrix (Linear's db from dY).
    public static func addColumnSums(_ x: UnsafePointer<Float>, rows: Int, cols: Int, into sums: UnsafeMutablePointer<Float>) {
        let vecEnd = cols & ~7
        var j = 0
        // Column blocks of 8 outermost: the accumulator stays in a register down all rows.
        while j < vecEnd {
            var acc = sums.loadV8(at: j)
            for r in 0..<rows { acc += x.loadV8(at: r * cols + j) }
            sums.storeV8(acc, at: j)
            j += 8
        }
        while j < cols {
            var acc = sums[j]
            for r in 0..<rows { acc += x[r * cols + j] }
            sums[j] = acc
            j += 1
        }
    }

    /// Σ x[0..<count] with SIMD8 partial sums (four accumulators: enough to hide add latency).
    public static func sum(_ x: UnsafePointer<Float>, count: Int) -> Float {
        var a0 = SIMD8<Float>(), a1 = SIMD8<Float>(), a2 = SIMD8<Float>(), a3 = SIMD8<Float>()
        var i = 0
        while i + 32 <= count {
            a0 += x.loadV8(at: i); a1 += x.loadV8(at: i + 8); a2 += x.loadV8(at: i + 16); a3 += x.loadV8(at: i + 24)
            i += 32
        }
        while i + 8 <= count { a0 += x.loadV8(at: i); i += 8 }
        var s = ((a0 + a1) + (a2 + a3)).sum()
        while i < count { s += x[i]; i += 1 }
        return s
    }

    /// z[i] = x[i] · y[i] for `count` elements (dropout's mask). `z` may alias either input.
    public static func multiply(_ x: UnsafePointer<Float>, _ y: UnsafePointer<Float>, _ z: UnsafeMutablePointer<Float>, count: Int) {
        var i = 0
        while i + 8 <= count { z.storeV8(x.loadV8(at: i) * y.loadV8(at: i), at: i); i += 8 }
        while i < count { z[i] = x[i] * y[i]; i += 1 }
    }
}
