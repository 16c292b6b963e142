/// A tensor whose values are known at load time: an ONNX initializer, a `Constant` node's value,
/// or the result of folding shape arithmetic. Floating-point data (FLOAT, DOUBLE) is kept as
/// fp32; integer and boolean data (INT64, INT32, INT8, UINT8, BOOL, …) as Int64.
///
/// `shape` is row-major, `[]` for a scalar; the storage holds the shape's product of elements.
struct ONNXConstant: Equatable {
    enum Storage: Equatable {
        case float([Float])
        case int([Int64])
    }

    var shape: [Int]
    var storage: Storage

    init(shape: [Int], floats: [Float]) {
        precondition(shape.reduce(1, *) == floats.count, "ONNXConstant: \(floats.count) floats for shape \(shape)")
        self.shape = shape; storage = .float(floats)
    }

    init(shape: [Int], ints: [Int64]) {
        precondition(shape.reduce(1, *) == ints.count, "ONNXConstant: \(ints.count) ints for shape \(shape)")
        self.shape = shape; storage = .int(ints)
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
        }
    }

    /// Every element as fp32 (weights and biases).
    var floats: [Float] {
        switch storage {
        case .float(let v): v
        case .int(let v): v.map(Float.init)
        }
    }

    /// Every element as Int64 (shapes, axes; floats are truncated toward zero as ONNX's Cast does).
    var ints: [Int64] {
        switch storage {
        case .float(let v): v.map { $0.isFinite ? Int64($0) : 0 }
        case .int(let v): v
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
