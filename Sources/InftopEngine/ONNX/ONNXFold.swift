import ONNXProto

/// Load-time evaluation of the ops whose inputs are all known: the shape arithmetic exporters
/// write (Shape, Gather, Unsqueeze, Squeeze, Concat, Slice, Range, Expand, Cast, Constant,
/// ConstantOfShape, Reshape, Transpose, elementwise arithmetic on constants). Their results
/// become constants of the import (`ONNXImporter`), so none of them is a node of the model.
enum ONNXFold {
    /// Ops `evaluate` knows.
    static let ops: Set<String> = [
        "Constant", "Identity", "Cast", "Gather", "Unsqueeze", "Squeeze", "Concat", "Slice", "Range", "Expand",
        "ConstantOfShape", "Reshape", "Transpose", "Add", "Sub", "Mul", "Div", "Neg", "Sqrt", "Equal", "Where",
    ]

    /// The node's outputs from its inputs (nil for an omitted optional input). `fail` makes the
    /// error line for this node (the importer names the file and node).
    static func evaluate(_ node: Onnx_NodeProto, _ x: [ONNXConstant?], opset: Int, fail: (String) -> EngineError) throws -> [ONNXConstant] {
        func input(_ i: Int) throws -> ONNXConstant {
            guard i < x.count, let v = x[i] else { throw fail("needs input \(i)") }
            return v
        }
        func axis(_ a: Int, rank: Int) throws -> Int {
            let r = a < 0 ? a + rank : a
            guard r >= 0 && r < max(rank, 1) else { throw fail("axis \(a) is out of range for rank \(rank)") }
            return r
        }
        let attrs = ONNXAttributes(node)
        switch node.opType {
        case "Constant":
            if let t = attrs.tensor("value") {
                var ext = ExternalData(modelPath: "")
                return [try ONNXFile.constant(t, file: node.name, external: &ext)]
            }
            if let f = attrs.float("value_float") { return [ONNXConstant(shape: [], floats: [f])] }
            if let fs = attrs.floats("value_floats") { return [ONNXConstant(shape: [fs.count], floats: fs)] }
            if let i = attrs.int("value_int") { return [ONNXConstant(shape: [], ints: [i])] }
            if let v = attrs.ints("value_ints") { return [ONNXConstant(vector: v)] }
            throw fail("has no value attribute inftop reads (value, value_float(s), value_int(s))")
        case "Identity":
            return [try input(0)]
        case "Cast":
            let v = try input(0)
            let to = Onnx_TensorProto.DataType(rawValue: Int(attrs.int("to") ?? 1)) ?? .undefined
            switch to {
            case .float, .double, .float16, .bfloat16: return [ONNXConstant(shape: v.shape, floats: v.floats)]
            case .bool: return [ONNXConstant(shape: v.shape, ints: v.doubles.map { $0 != 0 ? 1 : 0 })]
            case .int64, .int32, .int16, .int8, .uint8, .uint16, .uint32, .uint64: return [ONNXConstant(shape: v.shape, ints: v.ints)]
            default: throw fail("casts to \(to), which inftop does not fold")
            }
        case "Gather":
            let data = try input(0), indices = try input(1)
            let a = try axis(Int(attrs.int("axis") ?? 0), rank: data.shape.count)
            let n = data.shape[a]
            let outer = data.shape[..<a].reduce(1, *), inner = data.shape[(a + 1)...].reduce(1, *)
            var picks: [Int] = []
            for o in 0..<outer {
                for raw in indices.ints {
                    let i = Int(raw < 0 ? raw + Int64(n) : raw)
                    guard i >= 0 && i < n else { throw fail("index \(raw) is out of range 0..<\(n)") }
                    for k in 0..<inner { picks.append((o * n + i) * inner + k) }
                }
            }
            return [data.picking(picks, shape: Array(data.shape[..<a]) + indices.shape + Array(data.shape[(a + 1)...]))]
        case "Unsqueeze", "Squeeze":
            let v = try input(0)
            let axes = opset >= 13 ? (x.count > 1 ? x[1]?.ints : nil) : attrs.ints("axes")
            var shape = v.shape
            if node.opType == "Unsqueeze" {
                guard let axes else { throw fail("has no axes") }
                let rank = shape.count + axes.count
                for a in try axes.map({ try axis(Int($0), rank: rank) }).sorted() { shape.insert(1, at: a) }
            } else if let axes {
                for a in try axes.map({ try axis(Int($0), rank: shape.count) }).sorted(by: >) {
                    guard shape[a] == 1 else { throw fail("squeezes axis \(a) of size \(shape[a])") }
                    shape.remove(at: a)
                }
            } else {
                shape.removeAll { $0 == 1 }
            }
            return [v.picking(Array(0..<v.count), shape: shape)]
        case "Concat":
            let parts = try (0..<x.count).map { try input($0) }
            guard let first = parts.first else { throw fail("has no inputs") }
            let a = try axis(Int(attrs.int("axis") ?? 0), rank: first.shape.count)
            let outer = first.shape[..<a].reduce(1, *)
            var values: [Double] = []
            var total = 0
            for p in parts {
                guard p.shape.count == first.shape.count else { throw fail("joins tensors of ranks \(parts.map(\.shape.count))") }
                total += p.shape[a]
            }
            for o in 0..<outer {
                for p in parts {
                    let chunk = p.shape[a...].reduce(1, *)
                    values += p.doubles[(o * chunk)..<((o + 1) * chunk)]
                }
            }
            var shape = first.shape
            shape[a] = total
            let float = parts.contains { $0.isFloat }
            return [float ? ONNXConstant(shape: shape, floats: values.map { Float($0) }) : ONNXConstant(shape: shape, ints: values.map { Int64($0) })]
        case "Slice":
            let v = try input(0)
            let starts = try input(1).ints, ends = try input(2).ints
            let axes = x.count > 3 ? x[3]?.ints ?? Array(0..<Int64(starts.count)) : Array(0..<Int64(starts.count))
            let steps = x.count > 4 ? x[4]?.ints ?? Array(repeating: 1, count: starts.count) : Array(repeating: 1, count: starts.count)
            var ranges = v.shape.map { Array(0..<$0) }
            for (k, a0) in axes.enumerated() {
                let a = try axis(Int(a0), rank: v.shape.count), n = Int64(v.shape[a]), step = steps[k]
                guard step != 0 else { throw fail("has step 0") }
                func clamp(_ s: Int64, _ lo: Int64, _ hi: Int64) -> Int64 { min(max(s < 0 ? s + n : s, lo), hi) }
                let s = step > 0 ? clamp(starts[k], 0, n) : clamp(starts[k], 0, n - 1)
                let e = step > 0 ? clamp(ends[k], 0, n) : clamp(ends[k], -1, n - 1)
                ranges[a] = Array(stride(from: s, to: e, by: Int(step))).map { Int($0) }
            }
            return [v.picking(cartesian(ranges, strides: ONNXShapes.strides(v.shape)), shape: ranges.map(\.count))]
        case "Range":
            let start = try input(0), limit = try input(1), delta = try input(2)
            let s = start.doubles[0], l = limit.doubles[0], d = delta.doubles[0]
            guard d != 0 else { throw fail("has delta 0") }
            let n = max(Int(((l - s) / d).rounded(.up)), 0)
            return [start.like(shape: [n], (0..<n).map { s + Double($0) * d })]
        case "Expand":
            let v = try input(0)
            let target = try input(1).ints.map { Int($0) }
            guard let out = ONNXShapes.broadcast(v.shape, target) else { throw fail("cannot expand \(v.shape) to \(target)") }
            return [v.picking(ONNXShapes.sourceIndices(of: v.shape, in: out), shape: out)]
        case "ConstantOfShape":
            let shape = try input(0).ints.map { Int($0) }
            let fill = attrs.tensor("value").flatMap { t -> ONNXConstant? in
                var ext = ExternalData(modelPath: "")
                return try? ONNXFile.constant(t, file: node.name, external: &ext)
            } ?? ONNXConstant(shape: [1], floats: [0])
            return [fill.picking(Array(repeating: 0, count: shape.reduce(1, *)), shape: shape)]
        case "Reshape":
            let v = try input(0)
            let shape = try reshapeTarget(v.shape, try input(1).ints, allowZero: attrs.int("allowzero") == 1, fail: fail)
            return [v.picking(Array(0..<v.count), shape: shape)]
        case "Transpose":
            let v = try input(0)
            let perm = attrs.ints("perm")?.map { Int($0) } ?? Array((0..<v.shape.count).reversed())
            guard perm.sorted() == Array(0..<v.shape.count) else { throw fail("has perm \(perm) for rank \(v.shape.count)") }
            let src = ONNXShapes.strides(v.shape)
            let ranges = perm.map { Array(0..<v.shape[$0]) }
            return [v.picking(cartesian(ranges, strides: perm.map { src[$0] }), shape: perm.map { v.shape[$0] })]
        case "Neg", "Sqrt":
            let v = try input(0)
            return [v.like(shape: v.shape, v.doubles.map { node.opType == "Neg" ? -$0 : $0.squareRoot() })]
        case "Add", "Sub", "Mul", "Div", "Equal":
            let a = try input(0), b = try input(1)
            guard let out = ONNXShapes.broadcast(a.shape, b.shape) else { throw fail("cannot broadcast \(a.shape) with \(b.shape)") }
            let av = a.doubles, bv = b.doubles
            let ia = ONNXShapes.sourceIndices(of: a.shape, in: out), ib = ONNXShapes.sourceIndices(of: b.shape, in: out)
            let float = a.isFloat || b.isFloat
            let values: [Double] = zip(ia, ib).map { i, j in
                let p = av[i], q = bv[j]
                switch node.opType {
                case "Add": return p + q
                case "Sub": return p - q
                case "Mul": return p * q
                case "Equal": return p == q ? 1 : 0
                default: return float ? p / q : (q == 0 ? 0 : (p / q).rounded(.towardZero))
                }
            }
            if node.opType == "Equal" { return [ONNXConstant(shape: out, ints: values.map { Int64($0) })] }
            return [float ? ONNXConstant(shape: out, floats: values.map { Float($0) }) : ONNXConstant(shape: out, ints: values.map { Int64($0) })]
        case "Where":
            let c = try input(0), a = try input(1), b = try input(2)
            guard let ab = ONNXShapes.broadcast(a.shape, b.shape), let out = ONNXShapes.broadcast(c.shape, ab) else {
                throw fail("cannot broadcast \(c.shape), \(a.shape) and \(b.shape)")
            }
            let cv = c.doubles, av = a.doubles, bv = b.doubles
            let ic = ONNXShapes.sourceIndices(of: c.shape, in: out), ia = ONNXShapes.sourceIndices(of: a.shape, in: out),
                ib = ONNXShapes.sourceIndices(of: b.shape, in: out)
            return [a.like(shape: out, (0..<ic.count).map { cv[ic[$0]] != 0 ? av[ia[$0]] : bv[ib[$0]] })]
        default:
            throw fail("op \(node.opType) cannot be folded")
        }
    }

    /// Reshape's target for `input`: 0 copies the input's dimension (unless `allowZero`), one −1
    /// takes what is left. Shared by the folded and the runtime Reshape.
    static func reshapeTarget(_ input: [Int], _ target: [Int64], allowZero: Bool, fail: (String) -> EngineError) throws -> [Int] {
        var shape = try target.enumerated().map { i, d -> Int in
            if d == 0 && !allowZero {
                guard i < input.count else { throw fail("copies dimension \(i) of a rank-\(input.count) input") }
                return input[i]
            }
            return Int(d)
        }
        let total = input.reduce(1, *)
        if let free = shape.firstIndex(of: -1) {
            let known = shape.enumerated().filter { $0.offset != free }.reduce(1) { $0 * $1.element }
            guard known > 0, total % known == 0 else { throw fail("cannot reshape \(input) to \(target)") }
            shape[free] = total / known
        }
        guard shape.allSatisfy({ $0 >= 0 }), shape.reduce(1, *) == total else { throw fail("cannot reshape \(input) to \(target)") }
        return shape
    }

    /// Flat positions of every combination of `ranges` (row-major over the ranges), given the
    /// stride of each range's axis in the source.
    private static func cartesian(_ ranges: [[Int]], strides: [Int]) -> [Int] {
        var out = [0]
        for (r, s) in zip(ranges, strides) {
            var next: [Int] = []
            next.reserveCapacity(out.count * r.count)
            for base in out { for i in r { next.append(base + i * s) } }
            out = next
        }
        return out
    }
}

/// A node's attributes by name.
struct ONNXAttributes {
    private let byName: [String: Onnx_AttributeProto]

    init(_ node: Onnx_NodeProto) {
        var d: [String: Onnx_AttributeProto] = [:]
        for a in node.attribute { d[a.name] = a }
        byName = d
    }

    func int(_ name: String) -> Int64? { byName[name].flatMap { $0.hasI ? $0.i : nil } }
    func float(_ name: String) -> Float? { byName[name].flatMap { $0.hasF ? $0.f : nil } }
    func ints(_ name: String) -> [Int64]? { byName[name].map(\.ints) }
    func floats(_ name: String) -> [Float]? { byName[name].map(\.floats) }
    func string(_ name: String) -> String? { byName[name].flatMap { $0.hasS ? String(decoding: $0.s, as: UTF8.self) : nil } }
    func tensor(_ name: String) -> Onnx_TensorProto? { byName[name].flatMap { $0.hasT ? $0.t : nil } }
    var names: [String] { byName.keys.sorted() }
}
