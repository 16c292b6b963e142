import ONNXProto

extension ONNXModel {
    /// The opset `write` declares.
    public static let exportOpset = 17

    /// Writes `model` as an ONNX file (opset 17, IR version 8) that ONNX Runtime runs as inftop
    /// does: Linear → Gemm (transB = 1, weight `[out, in]`), Conv2d → Conv, MaxPool2d → MaxPool,
    /// ReLU → Relu, Flatten → Flatten (axis 1). Input `input` `[batch, …sample shape]`, output
    /// `logits` `[batch, classes]`; nodes and initializers keep inftop's names (`fc1`,
    /// `fc1.weight`). Written to a temporary name and renamed.
    /// - Throws: `EngineError.invalid` for a node with no ONNX form (naming it), `.io` when the
    ///   file cannot be written.
    public static func write(_ model: Model, to path: String) throws {
        let bytes: [UInt8] = try proto(model).serializedBytes()
        try bytes.withUnsafeBytes { try FileBytes.writeAtomically(path: path, parts: [$0]) }
    }

    static func proto(_ model: Model) throws -> Onnx_ModelProto {
        guard let sample = model.descriptor.sampleShape else {
            throw EngineError.invalid(what: "model '\(model.name)'", reason: "has token inputs; ONNX export writes image models (mlp, cnn)")
        }
        var graph = Onnx_GraphProto()
        graph.name = model.name
        func valueName(_ v: Int) -> String { v == 0 ? "input" : (v == model.nodes.count ? "logits" : model.nodes[v - 1].name) }
        for (i, node) in model.nodes.enumerated() {
            var n = Onnx_NodeProto()
            n.name = node.name
            n.input = model.wiring[i].map(valueName)
            n.output = [valueName(i + 1)]
            func weight(_ t: Tensor, _ suffix: String) {
                var init_ = Onnx_TensorProto()
                init_.name = node.name + suffix
                init_.dims = t.shape.map { Int64($0) }
                init_.dataType = Int32(Onnx_TensorProto.DataType.float.rawValue)
                init_.floatData = Array(UnsafeBufferPointer(start: t.data, count: t.count))
                graph.initializer.append(init_)
                n.input.append(init_.name)
            }
            switch node {
            case let l as Linear:
                n.opType = "Gemm"
                n.attribute = [attribute("transB", int: 1)]
                weight(l.weight.value, ".weight")
                weight(l.bias.value, ".bias")
            case let c as Conv2d:
                n.opType = "Conv"
                n.attribute = [attribute("kernel_shape", ints: [c.kernel, c.kernel]), attribute("pads", ints: Array(repeating: c.padding, count: 4)),
                               attribute("strides", ints: [1, 1])]
                weight(c.weight.value, ".weight")
                weight(c.bias.value, ".bias")
            case let p as MaxPool2d:
                n.opType = "MaxPool"
                n.attribute = [attribute("kernel_shape", ints: [p.size, p.size]), attribute("strides", ints: [p.size, p.size])]
            case is ReLU:
                n.opType = "Relu"
            case is Flatten:
                n.opType = "Flatten"
                n.attribute = [attribute("axis", int: 1)]
            default:
                throw EngineError.invalid(what: "model '\(model.name)'", reason: "node '\(node.name)' (\(type(of: node))) has no ONNX export")
            }
            graph.node.append(n)
        }
        let classes: Int
        if case .classes(let c) = model.descriptor.output { classes = c } else { classes = model.outputShape(batch: 1).last ?? 1 }
        graph.input = [valueInfo("input", dims: sample)]
        graph.output = [valueInfo("logits", dims: [classes])]
        var m = Onnx_ModelProto()
        m.irVersion = 8
        m.producerName = "inftop"
        m.docString = model.descriptor.summary
        var opset = Onnx_OperatorSetIdProto()
        opset.domain = ""
        opset.version = Int64(exportOpset)
        m.opsetImport = [opset]
        m.graph = graph
        return m
    }

    private static func attribute(_ name: String, int: Int) -> Onnx_AttributeProto {
        var a = Onnx_AttributeProto()
        a.name = name
        a.type = .int
        a.i = Int64(int)
        return a
    }

    private static func attribute(_ name: String, ints: [Int]) -> Onnx_AttributeProto {
        var a = Onnx_AttributeProto()
        a.name = name
        a.type = .ints
        a.ints = ints.map { Int64($0) }
        return a
    }

    /// A float tensor `[batch, dims…]` with a symbolic batch.
    private static func valueInfo(_ name: String, dims: [Int]) -> Onnx_ValueInfoProto {
        var shape = Onnx_TensorShapeProto()
        var b = Onnx_TensorShapeProto.Dimension()
        b.dimParam = "batch"
        shape.dim = [b] + dims.map { d in
            var x = Onnx_TensorShapeProto.Dimension()
            x.dimValue = Int64(d)
            return x
        }
        var t = Onnx_TypeProto.Tensor()
        t.elemType = Int32(Onnx_TensorProto.DataType.float.rawValue)
        t.shape = shape
        var type = Onnx_TypeProto()
        type.tensorType = t
        var v = Onnx_ValueInfoProto()
        v.name = name
        v.type = type
        return v
    }
}
