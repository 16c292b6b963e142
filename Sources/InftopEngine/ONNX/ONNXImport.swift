import ONNXProto

/// ONNX files as models of inftop's one graph (`Model`).
public enum ONNXModel {
    /// Ops an image model's graph may hold: mapped to nodes, folded at load, or passed through.
    public static let supportedOps: [String] =
        ONNXFold.ops.union(["Gemm", "MatMul", "Add", "Relu", "Conv", "MaxPool", "Flatten", "Reshape", "Shape", "Dropout"]).sorted()

    /// Loads an image model (one float input `[batch, …]`, one output `[batch, classes]`) from
    /// `path` into a `Model` whose nodes are named after the ONNX nodes they came from (a fused
    /// MatMul + Add is `"matmul+add"`). Shape arithmetic is folded for `batch` images of the
    /// file's sample shape; the nodes then run any batch.
    /// - Throws: `EngineError`, one line naming the file and the node, tensor or input at fault
    ///   (`ONNXFile` for unreadable files; an unsupported op names the op and the node).
    public static func load(path: String, batch: Int = 1) throws -> Model {
        var importer = try ONNXImporter(file: try ONNXFile(path: path), batch: batch)
        return try importer.build()
    }
}

/// One pass over an ONNX graph in its (topological) node order, turning each node into constants
/// (folding), an alias of its input (Identity, Dropout, a Reshape that changes nothing) or a node
/// of the model (`emit`). A MatMul with constant weights waits as `pendingLinear` for the Add of
/// its bias, so the two become one `Linear`.
struct ONNXImporter {
    /// A node output of the running model: `node` is the model's input ("input") or a node name;
    /// `shape` is for the folding batch.
    struct Ref { var node: String; var shape: [Int] }

    struct PendingLinear {
        var input: Ref
        /// `[out, in]` (nn.Linear's layout).
        var weight: [Float]
        var inFeatures: Int, outFeatures: Int
        var onnxNames: [String]
    }

    enum Value {
        case constant(ONNXConstant)
        case runtime(Ref)
        case pendingLinear(PendingLinear)
    }

    let file: ONNXFile
    let batch: Int
    private var values: [String: Value] = [:]
    /// How many node inputs (and graph outputs) read each value.
    private var uses: [String: Int] = [:]
    private(set) var nodes: [any Node] = []
    private(set) var nodeInputs: [[String]] = []
    private var names: Set<String> = []
    private let inputName: String
    let sampleShape: [Int]

    init(file: ONNXFile, batch: Int) throws {
        precondition(batch >= 1, "ONNXImporter: batch must be ≥ 1")
        self.file = file
        self.batch = batch
        for (name, c) in file.initializers { values[name] = .constant(c) }
        let inputs = file.graph.input.filter { file.initializers[$0.name] == nil }
        guard inputs.count == 1, let x = inputs.first else {
            throw EngineError.badFile(path: file.path, reason: "the graph has \(inputs.count) inputs (\(inputs.map(\.name).joined(separator: ", "))); an image model takes one")
        }
        let t = x.type.tensorType
        guard t.elemType == Int32(Onnx_TensorProto.DataType.float.rawValue) else {
            throw EngineError.badFile(path: file.path, reason: "input '\(x.name)' has element type \(t.elemType); an image model takes float")
        }
        let dims = t.shape.dim
        guard dims.count >= 2 else {
            throw EngineError.badFile(path: file.path, reason: "input '\(x.name)' has rank \(dims.count); an image model takes [batch, …]")
        }
        var sample: [Int] = []
        for (i, d) in dims.enumerated().dropFirst() {
            guard case .dimValue(let v)? = d.value, v >= 1 else {
                throw EngineError.badFile(path: file.path, reason: "input '\(x.name)' dimension \(i) is not a fixed size (\(d.dimParam.isEmpty ? "unknown" : d.dimParam))")
            }
            sample.append(Int(v))
        }
        sampleShape = sample
        inputName = x.name
        values[x.name] = .runtime(Ref(node: "input", shape: [batch] + sample))
        for n in file.graph.node { for i in n.input where !i.isEmpty { uses[i, default: 0] += 1 } }
        for o in file.graph.output { uses[o.name, default: 0] += 1 }
    }

    /// Runs the pass and wires the model.
    mutating func build() throws -> Model {
        for (i, node) in file.graph.node.enumerated() { try visit(node, index: i) }
        guard file.graph.output.count == 1, let out = file.graph.output.first else {
            throw EngineError.badFile(path: file.path, reason: "the graph has \(file.graph.output.count) outputs; an image model gives one")
        }
        guard let value = values[out.name] else {
            throw EngineError.badFile(path: file.path, reason: "output '\(out.name)' is produced by no node")
        }
        let ref = try materialize(value, for: "output '\(out.name)'")
        guard let last = nodes.last, ref.node == last.name else {
            throw EngineError.badFile(path: file.path, reason: "output '\(out.name)' is not computed by the graph's last compute node")
        }
        guard ref.shape.count == 2 else {
            throw EngineError.badFile(path: file.path, reason: "output '\(out.name)' is \(ref.shape); an image model gives [batch, classes]")
        }
        let base = file.path.split(separator: "/").last.map(String.init) ?? file.path
        let name = base.hasSuffix(".onnx") ? String(base.dropLast(5)) : base
        let producer = file.proto.producerName.isEmpty ? "" : " from \(file.proto.producerName)"
        let descriptor = ModelDescriptor(
            name: name, summary: "ONNX\(producer), \(nodes.count) nodes", input: .image(shape: sampleShape),
            output: .classes(ref.shape[1]), servingRate: 200, evalBatchSize: 100, trainable: false, latencyBoundMs: 50)
        return Model(descriptor: descriptor, nodes: nodes, inputs: nodeInputs)
    }

    // MARK: - one node

    private func displayName(_ node: Onnx_NodeProto, _ index: Int) -> String {
        node.name.isEmpty ? "\(node.opType)_\(index)" : node.name
    }

    private mutating func visit(_ node: Onnx_NodeProto, index: Int) throws {
        let (path, display, op) = (file.path, displayName(node, index), node.opType)
        let fail = { (m: String) -> EngineError in EngineError.badFile(path: path, reason: "node '\(display)' (\(op)): \(m)") }
        guard node.domain.isEmpty || node.domain == "ai.onnx" else {
            throw fail("op domain '\(node.domain)' is not supported (inftop imports the default ONNX domain)")
        }
        var inputs: [Value?] = []
        for name in node.input {
            if name.isEmpty { inputs.append(nil); continue }
            guard let v = values[name] else { throw fail("reads '\(name)', which no earlier node produces") }
            inputs.append(v)
        }
        let constants = inputs.map { v -> ONNXConstant? in if case .constant(let c)? = v { return c } else { return nil } }
        let allConstant = zip(inputs, constants).allSatisfy { $0 == nil || $1 != nil }
        func output(_ v: Value, _ k: Int = 0) { if k < node.output.count { values[node.output[k]] = v } }

        if node.opType == "Shape", let v = inputs.first ?? nil {
            let shape: [Int]
            switch v {
            case .constant(let c): shape = c.shape
            case .runtime(let r): shape = r.shape
            case .pendingLinear(let p): shape = [p.input.shape[0], p.outFeatures]
            }
            let rank = shape.count
            func clamp(_ a: Int64) -> Int { let r = Int(a) < 0 ? Int(a) + rank : Int(a); return min(max(r, 0), rank) }
            let attrs = ONNXAttributes(node)
            let start = clamp(attrs.int("start") ?? 0), end = clamp(attrs.int("end") ?? Int64(rank))
            output(.constant(ONNXConstant(vector: shape[start..<max(start, end)].map { Int64($0) })))
            return
        }
        if allConstant && ONNXFold.ops.contains(node.opType) {
            let results = try ONNXFold.evaluate(node, constants, opset: file.opset, fail: fail)
            for (k, r) in results.enumerated() { output(.constant(r), k) }
            return
        }
        let name = displayName(node, index)
        let attrs = ONNXAttributes(node)
        switch node.opType {
        case "Identity", "Dropout":
            guard let v = inputs.first ?? nil else { throw fail("has no input") }
            output(v)
        case "MatMul":
            guard case .runtime(let x)? = inputs.first ?? nil, let w = constants.count > 1 ? constants[1] : nil else {
                throw fail("multiplies two computed tensors (inftop maps MatMul with constant weights [in, out] to Linear)")
            }
            guard x.shape.count == 2, w.shape.count == 2, w.shape[0] == x.shape[1] else {
                throw fail("multiplies \(x.shape) by weights \(w.shape) (inftop maps [batch, in] · [in, out] to Linear)")
            }
            let (k, n) = (w.shape[0], w.shape[1])
            let wv = w.floats
            var t = [Float](repeating: 0, count: k * n)
            for i in 0..<k { for j in 0..<n { t[j * k + i] = wv[i * n + j] } }
            let p = PendingLinear(input: x, weight: t, inFeatures: k, outFeatures: n, onnxNames: [name])
            if uses[node.output[0]] == 1 {
                output(.pendingLinear(p))
            } else {
                output(.runtime(emitLinear(p, bias: nil)))
            }
        case "Add":
            // MatMul + Add of a constant bias [out] (or [1, out]) → one Linear.
            for (a, b) in [(0, 1), (1, 0)] {
                guard case .pendingLinear(var p)? = inputs[a], let bias = constants[b] else { continue }
                guard bias.count == p.outFeatures, bias.shape.last == p.outFeatures, bias.shape.dropLast().allSatisfy({ $0 == 1 }) else { continue }
                p.onnxNames.append(name)
                output(.runtime(emitLinear(p, bias: bias.floats)))
                return
            }
            throw fail("adds \(describe(inputs)) (inftop maps Add only as the bias of a MatMul with constant weights)")
        case "Gemm":
            guard case .runtime(let x)? = try runtime(inputs.first ?? nil, fail), let w = constants.count > 1 ? constants[1] : nil else {
                throw fail("needs constant weights B (inftop maps Gemm to Linear)")
            }
            guard (attrs.int("transA") ?? 0) == 0 else { throw fail("has transA = 1 (inftop maps Gemm with transA = 0)") }
            let transB = (attrs.int("transB") ?? 0) == 1
            let alpha = attrs.float("alpha") ?? 1, beta = attrs.float("beta") ?? 1
            guard x.shape.count == 2, w.shape.count == 2 else { throw fail("multiplies \(x.shape) by \(w.shape)") }
            let (n, k) = transB ? (w.shape[0], w.shape[1]) : (w.shape[1], w.shape[0])
            guard k == x.shape[1] else { throw fail("multiplies \(x.shape) by weights \(w.shape)\(transB ? "ᵀ" : "")") }
            let wv = w.floats
            var t = [Float](repeating: 0, count: n * k)
            for j in 0..<n { for i in 0..<k { t[j * k + i] = alpha * (transB ? wv[j * k + i] : wv[i * n + j]) } }
            var bias: [Float]? = nil
            if constants.count > 2, let c = constants[2] {
                guard c.count == n || c.count == 1 else { throw fail("has bias C of shape \(c.shape) for \(n) outputs") }
                bias = (c.count == 1 ? Array(repeating: c.floats[0], count: n) : c.floats).map { $0 * beta }
            } else if inputs.count > 2, inputs[2] != nil {
                throw fail("has a computed bias C (inftop maps Gemm with a constant bias)")
            }
            output(.runtime(emitLinear(PendingLinear(input: x, weight: t, inFeatures: k, outFeatures: n, onnxNames: [name]), bias: bias)))
        case "Relu":
            let x = try ref(inputs.first ?? nil, fail)
            output(.runtime(emit(ReLU(name: unique(name)), [x], shape: x.shape)))
        case "Conv":
            output(.runtime(try conv(name, inputs, constants, attrs, fail)))
        case "MaxPool":
            let x = try ref(inputs.first ?? nil, fail)
            guard node.output.count == 1 || uses[node.output[1]] == nil else { throw fail("returns indices (inftop maps MaxPool without them)") }
            let k = attrs.ints("kernel_shape") ?? []
            let strides = attrs.ints("strides") ?? [1, 1], pads = attrs.ints("pads") ?? [0, 0, 0, 0]
            guard x.shape.count == 4, k.count == 2, k[0] == k[1], strides == k, pads.allSatisfy({ $0 == 0 }),
                  (attrs.int("ceil_mode") ?? 0) == 0, (attrs.ints("dilations") ?? [1, 1]).allSatisfy({ $0 == 1 }),
                  ["", "NOTSET", "VALID"].contains(attrs.string("auto_pad") ?? "") else {
                throw fail("has kernel \(k), strides \(strides), pads \(pads) (inftop maps square MaxPool with stride = kernel, no padding, floor mode)")
            }
            let pool = MaxPool2d(name: unique(name), size: Int(k[0]))
            output(.runtime(emit(pool, [x], shape: pool.outputShape(x.shape))))
        case "Flatten":
            let x = try ref(inputs.first ?? nil, fail)
            let axis = attrs.int("axis") ?? 1
            guard axis == 1 || axis == 1 - Int64(x.shape.count) else { throw fail("flattens at axis \(axis) (inftop maps axis 1: [batch, …] → [batch, features])") }
            output(.runtime(flatten(x, name)))
        case "Reshape":
            let x = try ref(inputs.first ?? nil, fail)
            guard let target = constants.count > 1 ? constants[1] : nil else { throw fail("has a computed target shape that did not fold") }
            let shape = try ONNXFold.reshapeTarget(x.shape, target.ints, allowZero: attrs.int("allowzero") == 1, fail: fail)
            if shape == x.shape {
                output(.runtime(x))
            } else if shape.count == 2 && shape[0] == x.shape[0] {
                output(.runtime(flatten(x, name)))
            } else {
                throw fail("reshapes \(x.shape) to \(shape) (inftop maps a reshape to [batch, features])")
            }
        default:
            throw fail("op \(node.opType) is not supported (inftop imports: \(ONNXModel.supportedOps.joined(separator: ", ")))")
        }
    }

    private func describe(_ inputs: [Value?]) -> String {
        inputs.map { v -> String in
            switch v {
            case .constant(let c)?: "constant \(c.shape)"
            case .runtime(let r)?: "computed \(r.shape)"
            case .pendingLinear(let p)?: "MatMul [\(p.input.shape[0]), \(p.outFeatures)]"
            case nil: "nothing"
            }
        }.joined(separator: " and ")
    }

    private mutating func conv(_ name: String, _ inputs: [Value?], _ constants: [ONNXConstant?], _ attrs: ONNXAttributes,
                               _ fail: (String) -> EngineError) throws -> Ref {
        let x = try ref(inputs.first ?? nil, fail)
        guard let w = constants.count > 1 ? constants[1] : nil, w.shape.count == 4 else { throw fail("needs constant weights [out, in, k, k]") }
        let (out, cin, kh, kw) = (w.shape[0], w.shape[1], w.shape[2], w.shape[3])
        let pads = attrs.ints("pads") ?? [0, 0, 0, 0]
        let strides = attrs.ints("strides") ?? [1, 1], dilations = attrs.ints("dilations") ?? [1, 1]
        guard x.shape.count == 4, x.shape[1] == cin, kh == kw, (attrs.int("group") ?? 1) == 1,
              strides.allSatisfy({ $0 == 1 }), dilations.allSatisfy({ $0 == 1 }),
              pads.count == 4, Set(pads).count == 1, ["", "NOTSET"].contains(attrs.string("auto_pad") ?? "") else {
            throw fail("convolves \(x.shape) with \(w.shape), strides \(strides), pads \(pads), dilations \(dilations), group \(attrs.int("group") ?? 1) (inftop maps square kernels, stride 1, equal padding, group 1)")
        }
        let conv = Conv2d(name: unique(name), inChannels: cin, outChannels: out, kernel: kh, padding: Int(pads[0]), seed: 0)
        copy(w.floats, into: conv.weight.value)
        if constants.count > 2, let b = constants[2] {
            guard b.count == out else { throw fail("has bias \(b.shape) for \(out) channels") }
            copy(b.floats, into: conv.bias.value)
        } else if inputs.count > 2, inputs[2] != nil {
            throw fail("has a computed bias")
        } else {
            conv.bias.value.fill(0)
        }
        guard conv.outputShape(x.shape).allSatisfy({ $0 >= 1 }) else { throw fail("gives an empty output for input \(x.shape)") }
        return emit(conv, [x], shape: conv.outputShape(x.shape))
    }

    // MARK: - emitting nodes

    private mutating func runtime(_ v: Value?, _ fail: (String) -> EngineError) throws -> Value? {
        guard let v else { return nil }
        if case .constant = v { return v }
        return .runtime(try materialize(v, fail: fail))
    }

    private mutating func ref(_ v: Value?, _ fail: (String) -> EngineError) throws -> Ref {
        guard let v else { throw fail("has no input") }
        return try materialize(v, fail: fail)
    }

    private mutating func materialize(_ v: Value, for what: String) throws -> Ref {
        let path = file.path
        return try materialize(v) { EngineError.badFile(path: path, reason: "\(what): \($0)") }
    }

    private mutating func materialize(_ v: Value, fail: (String) -> EngineError) throws -> Ref {
        switch v {
        case .runtime(let r): return r
        case .pendingLinear(let p): return emitLinear(p, bias: nil)
        case .constant(let c): throw fail("reads a constant \(c.shape) where inftop needs the model's computed input")
        }
    }

    private mutating func emitLinear(_ p: PendingLinear, bias: [Float]?) -> Ref {
        let linear = Linear(name: unique(p.onnxNames.joined(separator: "+")), inFeatures: p.inFeatures, outFeatures: p.outFeatures, seed: 0)
        copy(p.weight, into: linear.weight.value)
        if let bias { copy(bias, into: linear.bias.value) } else { linear.bias.value.fill(0) }
        return emit(linear, [p.input], shape: [p.input.shape[0], p.outFeatures])
    }

    private mutating func flatten(_ x: Ref, _ name: String) -> Ref {
        if x.shape.count == 2 { return x }
        let f = Flatten(name: unique(name))
        return emit(f, [x], shape: f.outputShape(x.shape))
    }

    private mutating func emit(_ node: any Node, _ inputs: [Ref], shape: [Int]) -> Ref {
        nodes.append(node)
        nodeInputs.append(inputs.map(\.node))
        return Ref(node: node.name, shape: shape)
    }

    /// `name`, or `name#2`, `name#3`, … when an earlier node took it ("input" is the model's input).
    private mutating func unique(_ name: String) -> String {
        var n = name, k = 1
        while n == "input" || names.contains(n) { k += 1; n = "\(name)#\(k)" }
        names.insert(n)
        return n
    }

    private func copy(_ values: [Float], into t: Tensor) {
        precondition(values.count == t.count, "ONNXImporter: \(values.count) values for '\(t.name)' \(t.shape)")
        values.withUnsafeBufferPointer { t.data.update(from: $0.baseAddress!, count: t.count) }
        t.markChanged()
    }
}
