#if canImport(Glibc)
import Glibc
#endif
import InftopTelemetry

/// A fp32 weight `[n, k]` (row j = output channel j, nn.Linear's `[out, in]` layout) quantized to
/// symmetric per-output-channel int8, packed for `Int8Gemm`:
///
///     scale[j] = max_p |w[j, p]| / 127            (1 for an all-zero row: then every q is 0)
///     q[j, p]  = clamp(rint(w[j, p] / scale[j]), −127, 127)
///     w[j, p] ≈ scale[j] · q[j, p],  |error| ≤ scale[j] / 2
///
/// Packed in panels of 16 output channels (`ck_int8.h`): panel P holds channels 16P…16P+15 as
/// `kp / 4` groups of 16 × 4 bytes, zero past `k` and past `n`. `colsum[j] = Σ_p q[j, p]` is
/// what the activations' zero point subtracts. Built once per plan change (or when the fp32
/// weights change: `Int8WeightCache`); bytes are counted under `.weightsINT8`.
public final class QuantizedWeights: @unchecked Sendable {
    /// Output channels and input features.
    public let n: Int, k: Int
    /// `k` rounded up to a multiple of 4 (vpdpbusd's group).
    public let kp: Int
    /// 16-channel panels: ⌈n / 16⌉.
    public let panels: Int
    /// `[panels, kp / 4, 16, 4]` int8.
    let packed: UnsafeMutablePointer<Int8>
    /// `[panels · 16]`: per-channel scale, 0 past n.
    let scales: UnsafeMutablePointer<Float>
    /// `[panels · 16]`: Σ_p q[j, p], 0 past n.
    let colsums: UnsafeMutablePointer<Int32>

    /// Bytes held: the packed int8 weights plus the scales and column sums.
    public var bytes: Int { Self.bytes(n: n, k: k) }

    /// Bytes of the int8 form of an `[n, k]` weight (packed codes, scales, column sums).
    public static func bytes(n: Int, k: Int) -> Int { (n + 15) / 16 * (((k + 3) / 4 * 4) * 16 + 16 * 8) }

    /// Zero codes, scales and sums for an `[n, k]` weight (the public initializers fill them).
    private init(zerosFor n: Int, k: Int) {
        precondition(n >= 1 && k >= 1, "QuantizedWeights: n \(n), k \(k) must be ≥ 1")
        self.n = n
        self.k = k
        kp = (k + 3) / 4 * 4
        panels = (n + 15) / 16
        packed = Self.alloc(panels * kp * 16, Int8.self)
        scales = Self.alloc(panels * 16, Float.self)
        colsums = Self.alloc(panels * 16, Int32.self)
        packed.initialize(repeating: 0, count: panels * kp * 16)
        scales.initialize(repeating: 0, count: panels * 16)
        colsums.initialize(repeating: 0, count: panels * 16)
        MemoryLedger.shared.add(bytes, to: .weightsINT8)
    }

    /// Quantizes `w` (row j at `w + j·ldw`, k values; `ldw` defaults to k).
    public convenience init(_ w: UnsafePointer<Float>, n: Int, k: Int, ldw: Int? = nil) {
        let ldw = ldw ?? k
        precondition(ldw >= k, "QuantizedWeights: ldw \(ldw) < k \(k)")
        self.init(zerosFor: n, k: k)
        for j in 0..<n {
            let row = w + j * ldw
            var amax: Float = 0
            for p in 0..<k { amax = max(amax, abs(row[p])) }
            let scale = amax > 0 ? amax / 127 : 1
            scales[j] = scale
            var sum: Int32 = 0
            for p in 0..<k {
                let q = Int8(max(-127, min(127, (row[p] / scale).rounded(.toNearestOrEven))))
                packed[offset(j, p)] = q
                sum += Int32(q)
            }
            colsums[j] = sum
        }
    }

    /// Takes int8 codes and per-channel scales as they are, without re-quantizing: row j of
    /// `codes` (`codes + j·k`, k values in −128…127) with `scales[j]`, so w[j, p] = scales[j] ·
    /// codes[j, p] exactly (a quantized ONNX file's weights: `ONNXQuantized`). A per-tensor
    /// scale is that scale repeated for every channel.
    public convenience init(codes: UnsafePointer<Int8>, scales channelScales: UnsafePointer<Float>, n: Int, k: Int) {
        self.init(zerosFor: n, k: k)
        for j in 0..<n {
            scales[j] = channelScales[j]
            var sum: Int32 = 0
            for p in 0..<k {
                let q = codes[j * k + p]
                packed[offset(j, p)] = q
                sum += Int32(q)
            }
            colsums[j] = sum
        }
    }

    /// `parts` one above the other (rows of the first, then the second's, …), codes and scales as
    /// they are: BERT's fused Q|K|V from a file's three quantized projections.
    public convenience init(stacking parts: [QuantizedWeights]) {
        precondition(!parts.isEmpty && parts.allSatisfy { $0.k == parts[0].k }, "QuantizedWeights(stacking:): parts of different k")
        self.init(zerosFor: parts.reduce(0) { $0 + $1.n }, k: parts[0].k)
        var row = 0
        for part in parts {
            for j in 0..<part.n {
                scales[row] = part.scale(j)
                colsums[row] = part.columnSum(j)
                for p in 0..<k { packed[offset(row, p)] = part.value(j, p) }
                row += 1
            }
        }
    }

    deinit {
        free(packed); free(scales); free(colsums)
        MemoryLedger.shared.add(-bytes, to: .weightsINT8)
    }

    /// Index of q[j, p] in `packed`.
    @inline(__always)
    func offset(_ j: Int, _ p: Int) -> Int { (j / 16) * kp * 16 + (p / 4) * 64 + (j % 16) * 4 + p % 4 }

    /// q[j, p] (0 ≤ j < n, 0 ≤ p < k).
    public func value(_ j: Int, _ p: Int) -> Int8 { packed[offset(j, p)] }

    /// Channel j's scale.
    public func scale(_ j: Int) -> Float { scales[j] }

    /// Channel j's Σ_p q[j, p].
    public func columnSum(_ j: Int) -> Int32 { colsums[j] }

    /// w ≈ scale · q, as `[n, k]` row-major (for tests and the round-trip bound).
    public func dequantized() -> [Float] {
        var out = [Float](repeating: 0, count: n * k)
        for j in 0..<n { for p in 0..<k { out[j * k + p] = scales[j] * Float(value(j, p)) } }
        return out
    }

    private static func alloc<T>(_ count: Int, _: T.Type) -> UnsafeMutablePointer<T> {
        let bytes = max(64, (count * MemoryLayout<T>.stride + 63) / 64 * 64)
        guard let raw = aligned_alloc(64, bytes) else { fatalError("QuantizedWeights: out of memory allocating \(bytes) bytes") }
        return raw.bindMemory(to: T.self, capacity: count)
    }
}

/// The int8 form of one fp32 weight tensor, rebuilt when the tensor's `version` moves (an
/// optimizer step, `copy(from:)` as the serving replica takes newer weights) or after
/// `invalidate()`. Used by one thread at a time (the node's forward).
public final class Int8WeightCache: @unchecked Sendable {
    private var cached: QuantizedWeights?
    private var version = 0
    private var source: ObjectIdentifier?

    public init() {}

    /// The quantized `weight` viewed as `[n, k]`.
    public func weights(for weight: Tensor, n: Int, k: Int) -> QuantizedWeights {
        precondition(n * k == weight.count, "Int8WeightCache: '\(weight.name)' has \(weight.count) values, not \(n)×\(k)")
        if let c = cached, version == weight.version, source == ObjectIdentifier(weight), c.n == n, c.k == k { return c }
        cached = nil  // free the old form before building the new one
        let q = QuantizedWeights(weight.data, n: n, k: k)
        cached = q
        version = weight.version
        source = ObjectIdentifier(weight)
        return q
    }

    /// Drops the cached form (the next `weights` rebuilds it).
    public func invalidate() { cached = nil }

    /// Bytes of the cached int8 form (0 when none).
    public var bytes: Int { cached?.bytes ?? 0 }
}
