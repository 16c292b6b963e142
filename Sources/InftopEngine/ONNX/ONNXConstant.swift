/// A tensor whose values are known at load time: an ONNX initializer, a `Constant` node's value,
/// or the result of folding shape arithmetic. Floating-point data (FLOAT, DOUBLE) is kept as
/// fp32; INT8 and UINT8 (a quantized file's weights and tables) as bytes; other integer and
/// boolean data (INT64, INT32, BOOL, …) as Int64.
///
/// `shape` is row-major, `[]` for a scalar; the storage holds the shape's product of elements.
struct ONNXConstant: Equatable {
    enum Storage: Equatable {
        case float([Float])
        case int([Int64])
        /// INT8 and UINT8 as stored (a quantized MiniLM holds 22 M of them: 8× less than Int64).
        case int8([Int8])
        case uint8([UInt8])
    }

    var shape: [Int]
    var storage: Storage

    private init(shape: [Int], storage: Storage, count: Int) {
        precondition(shape.reduce(1, *) == count, "ONNXConstant: \(count) values for shape \(shape)")
        self.shape = shape; self.storage = storage
    }

    init(shape: [Int], floats: [Float]) { self.init(shape: shape, storage: .float(floats), count: floats.count) }
    init(shape: [Int], ints: [Int64]) { self.init(shape: shape, storage: .int(ints), count: ints.count) }
    init(shape: [Int], int8: [Int8]) { self.init(shape: shape, storage: .int8(int8), count: int8.count) }
    init(shape: [Int], uint8: [UInt8]) { self.init(shape: shape, storage: .uint8(uint8), count: uint8.count) }

    /// Every element as fp32 through `transform` (a dequantization), without an Int64 copy of bytes.
    func floats(_ transform: (Float) -> Float) -> [Float] {
        switch storage {
        case .float(let v): v.map(transform)
        case .int(let v): v.map { transform(Float($0)) }
        case .int8(let v): v.map { transform(Float($0)) }
        case .uint8(let v): v.map { transform(Float($0)) }
        }
    }

    /// Element i as Int64 (floats truncated toward zero).
    func int(at i: Int) -> Int64 {
        switch storage {
        case .float(let v): v[i].isFinite ? Int64(v[i]) : 0
        case .int(let v): v[i]
        case .int8(let v): Int64(v[i])
        case .uint8(let v): Int64(v[i])
        }
    }

    /// A 1-D int64 tensor (a shape, axes, indices).
    init(vector: [Int64]) { self.init(shape: [vector.count], ints: vector) }

    var count: Int { shape.reduce(1, *) }
    var isFloat: Bool { if case .float = storage { return true } else { return false } }

    /// Every element as Double (exact for fp32 and for integers below 2⁵³).
    var doubles: [Double] {
        switch storage {
        case .float(let v): v.map(Double.init)
        case .int(let v): v.map(Double.init)
        case .int8(let v): v.map(Double.init)
        case .uint8(let v): v.map(Double.init)
        }
    }

    /// Every element as fp32 (weights and biases).
    var floats: [Float] {
        switch storage {
        case .float(let v): v
        case .int(let v): v.map(Float.init)
        case .int8(let v): v.map(Float.init)
        case .uint8(let v): v.map(Float.init)
        }
    }

    /// Every element as Int64 (shapes, axes; floats are truncated toward zero as ONNX's Cast does).
    var ints: [Int64] {
        switch storage {
        case .float(let v): v.map { $0.isFinite ? Int64($0) : 0 }
        case .int(let v): v
        case .int8(let v): v.map(Int64.init)
        case .uint8(let v): v.map(Int64.init)
        }
    }

    /// A tensor of the same element kind as `self` holding `values` in `shape`.
    func like(shape: [Int], _ values: [Double]) -> ONNXConstant {
        isFloat ? ONNXConstant(shape: shape, floats: values.map { Float($0) })
            : ONNXConstant(shape: shape, ints: values.map { Int64($0) })
    }

    /// Elements gathered from `indices` (flat positions), same element kind.
    func picking(_ indices: [Int], shape: [Int]) -> ONNXConstant {
        switch storage {
        case .float(let v): ONNXConstant(shape: shape, floats: indices.map { v[$0] })
        case .int(let v): ONNXConstant(shape: shape, ints: indices.map { v[$0] })
        case .int8(let v): ONNXConstant(shape: shape, int8: indices.map { v[$0] })
        case .uint8(let v): ONNXConstant(shape: shape, uint8: indices.map { v[$0] })
        }
    }
}

/// Row-major strides and the numpy broadcasting ONNX's elementwise ops and Expand use.
enum ONNXShapes {
    static func strides(_ shape: [Int]) -> [Int] {
        var s = Array(repeating: 1, count: shape.count)
        var acc = 1
        for i in stride(from: shape.count - 1, through: 0, by: -1) { s[i] = acc; acc *= shape[i] }
        return s
    }

    /// The broadcast shape of `a` and `b` (numpy rules), nil when they do not broadcast.
    static func broadcast(_ a: [Int], _ b: [Int]) -> [Int]? {
        let n = max(a.count, b.count)
        var out = Array(repeating: 1, count: n)
        for i in 0..<n {
            let x = i < n - a.count ? 1 : a[i - (n - a.count)]
            let y = i < n - b.count ? 1 : b[i - (n - b.count)]
            guard x == y || x == 1 || y == 1 else { return nil }
            out[i] = max(x, y)
        }
        return out
    }

    /// For each flat position of `out`, the flat position in a tensor of `shape` broadcast to it.
    static func sourceIndices(of shape: [Int], in out: [Int]) -> [Int] {
        let total = out.reduce(1, *)
        let pad = out.count - shape.count
        let src = strides(shape), dst = strides(out)
        return (0..<total).map { flat in
            var rest = flat, at = 0
            for d in 0..<out.count {
                let i = rest / dst[d]
                rest %= dst[d]
                if d >= pad && shape[d - pad] != 1 { at += i * src[d - pad] }
            }
            return at
        }
    }
}
