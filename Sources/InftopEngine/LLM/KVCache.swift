import InftopTelemetry

/// The decoder's key/value cache, preallocated per layer for `capacity` positions at load:
/// keys transposed, `[kvHead][headDim][capacity]` (so a query's scores over all positions are
/// one pass per head dimension), values row-major, `[kvHead][capacity][headDim]`. fp32. Its
/// bytes are counted as `.caches` in the memory ledger.
public final class KVCache: @unchecked Sendable {
    public let layers: Int
    public let kvHeads: Int
    public let headDim: Int
    public let capacity: Int
    /// Positions filled (the next token is written at `count`).
    public internal(set) var count = 0
    /// Per layer: keys `[kvHeads][headDim][capacity]`.
    let keys: [UnsafeMutablePointer<Float>]
    /// Per layer: values `[kvHeads][capacity][headDim]`.
    let values: [UnsafeMutablePointer<Float>]

    public init(layers: Int, kvHeads: Int, headDim: Int, capacity: Int) {
        self.layers = layers; self.kvHeads = kvHeads; self.headDim = headDim; self.capacity = capacity
        let n = kvHeads * headDim * capacity
        keys = (0..<layers).map { _ in UnsafeMutablePointer<Float>.allocate(capacity: n) }
        values = (0..<layers).map { _ in UnsafeMutablePointer<Float>.allocate(capacity: n) }
        MemoryLedger.shared.add(bytes, to: .caches)
    }

    deinit {
        for p in keys { p.deallocate() }
        for p in values { p.deallocate() }
        MemoryLedger.shared.add(-bytes, to: .caches)
    }

    /// Bytes of keys and values over all layers.
    public var bytes: Int { 2 * layers * kvHeads * headDim * capacity * MemoryLayout<Float>.size }

    /// Writes position `pos` of layer `layer` from k, v (`kvHeads · headDim` each).
    func store(layer: Int, pos: Int, k: UnsafePointer<Float>, v: UnsafePointer<Float>) {
        let kt = keys[layer], vv = values[layer]
        for h in 0..<kvHeads {
            let kh = kt + h * headDim * capacity, vh = vv + h * capacity * headDim
            for d in 0..<headDim { kh[d * capacity + pos] = k[h * headDim + d] }
            (vh + pos * headDim).update(from: v + h * headDim, count: headDim)
        }
    }
}
