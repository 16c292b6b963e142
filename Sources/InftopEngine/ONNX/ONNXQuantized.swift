import ONNXProto

/// A projection's weight as a quantized ONNX file holds it, in inftop's int8 weight terms
/// (`QuantizedWeights(codes:scales:)`): `codes` `[n, k]` row-major (row j = output channel j, the
/// file's `[k, n]` transposed), w[j, p] = scales[j] · codes[j, p].
struct ONNXInt8Weight {
    let n: Int, k: Int
    let codes: [Int8]
    let scales: [Float]
}

/// The dynamic-int8 patterns `onnxruntime.quantization.quantize_dynamic` writes, rewritten to
/// the fp32 ops `ONNXBert` maps, before it recognises the encoder:
///
/// - `DynamicQuantizeLinear(x) → (xq, xs, xz)`, `MatMulInteger(xq, Wq, xz, wz) → Cast(float)
///   → Mul(·, Mul(xs, ws))` becomes `MatMul(x, W)` with W = ws · (Wq − wz) as a constant `[k, n]`
///   (per-tensor or per-column `ws`, `wz`); the contrib `MatMulIntegerToFloat(xq, Wq, xs, ws, xz,
///   wz[, bias])` likewise (then `Add(·, bias)`). When `Wq − wz` fits in −128…127 (always for
///   QInt8 weights, whose zero point is 0), the codes and scales are also kept as an
///   `ONNXInt8Weight` under W's name, so the int8 plan runs the file's weights as they are.
/// - `DequantizeLinear` of a constant folds to fp32; of a `Gather` from a constant table (the
///   quantized embeddings) it becomes a `Gather` from the dequantized table.
///
/// The activations' `DynamicQuantizeLinear` is dropped: inftop's int8 GEMM quantizes activations
/// itself (per row). A quantized pattern that does not fit (a weight that is not a constant, a
/// quantized activation read by anything else, any other quantized op) is refused, its node named.
enum ONNXQuantized {
    /// Quantized ops; any not rewritten here is refused by name.
    static let ops: Set<String> = ["DynamicQuantizeLinear", "MatMulInteger", "MatMulIntegerToFloat", "DequantizeLinear", "QuantizeLinear",
                                   "QLinearMatMul", "QLinearConv", "ConvInteger", "DynamicQuantizeMatMul", "QAttention", "QLinearAdd",
                                   "QLinearMul", "QGemm", "DynamicQuantizeLSTM", "QEmbedLayerNormalization"]

    /// The graph's nodes with the patterns above rewritten; the constants they add (dequantized
    /// weights and tables) and the int8 forms of the weights, by the constant's name.
    static func rewrite(_ nodes: [Onnx_NodeProto], initializers: [String: ONNXConstant],
                        fail: (String) -> EngineError) throws -> (nodes: [Onnx_NodeProto], constants: [String: ONNXConstant], int8: [String: ONNXInt8Weight]) {
        guard nodes.contains(where: { ops.contains($0.opType) }) else { return (nodes, [:], [:]) }
        func label(_ i: Int) -> String { nodes[i].name.isEmpty ? "\(nodes[i].opType)_\(i)" : nodes[i].name }
        var producer: [String: Int] = [:], consumers: [String: [Int]] = [:]
        for (i, n) in nodes.enumerated() {
            for o in n.output where !o.isEmpty { producer[o] = i }
            for v in n.input where !v.isEmpty { consumers[v, default: []].append(i) }
        }
        var constants: [String: ONNXConstant] = [:], int8: [String: ONNXInt8Weight] = [:]
        var replaced: [Int: [Onnx_NodeProto]] = [:], dropped: Set<Int> = []
        func constant(_ name: String) -> ONNXConstant? { name.isEmpty ? nil : initializers[name] }
        func only(_ value: String, _ op: String) -> Int? {
            guard let c = consumers[value], c.count == 1, nodes[c[0]].opType == op else { return nil }
            return c[0]
        }
        func node(_ op: String, _ name: String, _ inputs: [String], _ outputs: [String]) -> Onnx_NodeProto {
            var n = Onnx_NodeProto()
            n.opType = op; n.name = name; n.input = inputs; n.output = outputs
            return n
        }
        /// W = ws · (Wq − wz) `[k, n]` under a new name, with its int8 form when the codes fit.
        func weight(_ i: Int, _ q: String, scale: String, zero: String?) throws -> String {
            let what = "node '\(label(i))' (\(nodes[i].opType))"
            guard let wq = constant(q) else { throw fail("\(what): weight '\(q)' is not a constant initializer (inftop maps constant quantized weights only)") }
            guard wq.shape.count == 2, !wq.isFloat else { throw fail("\(what): weight '\(q)' of shape \(wq.shape) is not an integer [in, out] matrix") }
            let (k, n) = (wq.shape[0], wq.shape[1])
            guard let ws = constant(scale), ws.isFloat, ws.count == 1 || ws.count == n else {
                throw fail("\(what): weight scale '\(scale)' is not a constant of 1 or \(n) values")
            }
            let wz = zero.flatMap(constant) ?? ONNXConstant(shape: [], ints: [0])
            guard zero == nil || zero!.isEmpty || constant(zero!) != nil, wz.count == 1 || wz.count == n else {
                throw fail("\(what): weight zero point '\(zero ?? "")' is not a constant of 1 or \(n) values")
            }
            let s = ws.floats, z = wz.ints
            var w = [Float](repeating: 0, count: k * n), t = [Int8](repeating: 0, count: k * n), fits = true
            for p in 0..<k {
                for j in 0..<n {
                    let c = wq.int(at: p * n + j) - z[z.count == 1 ? 0 : j]
                    w[p * n + j] = s[s.count == 1 ? 0 : j] * Float(c)
                    if c < -128 || c > 127 { fits = false } else { t[j * k + p] = Int8(c) }
                }
            }
            let name = q + "_dequantized"
            constants[name] = ONNXConstant(shape: [k, n], floats: w)
            if fits { int8[name] = ONNXInt8Weight(n: n, k: k, codes: t, scales: s.count == 1 ? Array(repeating: s[0], count: n) : s) }
            return name
        }
        /// The DynamicQuantizeLinear whose outputs `xq`, `xs`, `xz` a quantized MatMul reads.
        func dynamicQuantize(_ i: Int, _ xq: String, _ xs: String?, _ xz: String) throws -> Int {
            guard let d = producer[xq], nodes[d].opType == "DynamicQuantizeLinear", nodes[d].output.first == xq,
                  nodes[d].output.count == 3, xz.isEmpty || xz == nodes[d].output[2], xs == nil || xs == nodes[d].output[1] else {
                throw fail("node '\(label(i))' (\(nodes[i].opType)): input '\(xq)' is not a DynamicQuantizeLinear of fp32 activations with its zero point")
            }
            return d
        }

        for (i, n) in nodes.enumerated() {
            switch n.opType {
            case "MatMulInteger":
                guard n.input.count >= 2 else { throw fail("node '\(label(i))' (MatMulInteger): \(n.input.count) inputs") }
                let d = try dynamicQuantize(i, n.input[0], nil, n.input.count > 2 ? n.input[2] : "")
                let shape = "node '\(label(i))' (MatMulInteger): not followed by Cast to float and Mul by input scale · weight scale"
                guard let c = only(n.output[0], "Cast"), ONNXAttributes(nodes[c]).int("to") == 1, let m = only(nodes[c].output[0], "Mul") else { throw fail(shape) }
                guard let sv = nodes[m].input.first(where: { $0 != nodes[c].output[0] }), let s = producer[sv], nodes[s].opType == "Mul",
                      nodes[s].input.contains(nodes[d].output[1]), let ws = nodes[s].input.first(where: { $0 != nodes[d].output[1] }) else { throw fail(shape) }
                let w = try weight(i, n.input[1], scale: ws, zero: n.input.count > 3 ? n.input[3] : nil)
                replaced[i] = [node("MatMul", n.name, [nodes[d].input[0], w], [nodes[m].output[0]])]
                dropped.formUnion([c, m])
                if consumers[nodes[s].output[0]]?.allSatisfy({ dropped.contains($0) }) == true { dropped.insert(s) }
            case "MatMulIntegerToFloat":
                guard n.input.count >= 4 else { throw fail("node '\(label(i))' (MatMulIntegerToFloat): \(n.input.count) inputs") }
                let d = try dynamicQuantize(i, n.input[0], n.input[2], n.input.count > 4 ? n.input[4] : "")
                let w = try weight(i, n.input[1], scale: n.input[3], zero: n.input.count > 5 ? n.input[5] : nil)
                if n.input.count > 6, !n.input[6].isEmpty {
                    replaced[i] = [node("MatMul", n.name, [nodes[d].input[0], w], [n.output[0] + "_without_bias"]),
                                   node("Add", n.name + "_bias", [n.output[0] + "_without_bias", n.input[6]], [n.output[0]])]
                } else {
                    replaced[i] = [node("MatMul", n.name, [nodes[d].input[0], w], [n.output[0]])]
                }
            case "DequantizeLinear":
                guard n.input.count >= 2, let scale = constant(n.input[1]), scale.isFloat else {
                    throw fail("node '\(label(i))' (DequantizeLinear): its scale is not a constant")
                }
                let zero = n.input.count > 2 ? constant(n.input[2]) : nil
                guard n.input.count <= 2 || n.input[2].isEmpty || zero != nil else { throw fail("node '\(label(i))' (DequantizeLinear): its zero point is not a constant") }
                guard scale.count == 1, (zero?.count ?? 1) == 1 else {
                    throw fail("node '\(label(i))' (DequantizeLinear): a per-axis scale of \(scale.count) (inftop folds per-tensor DequantizeLinear only)")
                }
                let (s, z) = (scale.floats[0], Float(zero?.ints[0] ?? 0))
                func dequantized(_ q: ONNXConstant) -> ONNXConstant { ONNXConstant(shape: q.shape, floats: q.floats { s * ($0 - z) }) }
                if let q = constant(n.input[0]) {
                    constants[n.output[0]] = dequantized(q)
                    dropped.insert(i)
                } else if let g = producer[n.input[0]], nodes[g].opType == "Gather", consumers[n.input[0]]?.count == 1, let table = constant(nodes[g].input[0]) {
                    // The quantized embeddings: Gather(table_q, ids) → DequantizeLinear becomes Gather(table, ids).
                    let name = nodes[g].input[0] + "_dequantized"
                    constants[name] = dequantized(table)
                    var gather = nodes[g]
                    gather.input[0] = name
                    gather.output = [n.output[0]]
                    replaced[g] = [gather]
                    dropped.insert(i)
                } else {
                    throw fail("node '\(label(i))' (DequantizeLinear): input '\(n.input[0])' is neither a constant nor a Gather from a constant table")
                }
            default: break
            }
        }
        for (i, n) in nodes.enumerated() where ops.contains(n.opType) && n.opType != "DynamicQuantizeLinear" && replaced[i] == nil && !dropped.contains(i) {
            throw fail("node '\(label(i))' (\(n.opType)): quantized op \(n.opType) is not supported (inftop maps DynamicQuantizeLinear → MatMulInteger → Cast → Mul and DequantizeLinear of constants)")
        }
        // What the rewritten MatMuls no longer read: the activations' DynamicQuantizeLinear (all
        // of whose readers were rewritten) and the scale Muls.
        for (i, n) in nodes.enumerated() where n.opType == "DynamicQuantizeLinear" {
            let readers = n.output.flatMap { consumers[$0] ?? [] }
            guard let other = readers.first(where: { !(replaced[$0] != nil && nodes[$0].opType.hasPrefix("MatMulInteger")) && !dropped.contains($0) }) else {
                dropped.insert(i)
                continue
            }
            throw fail("node '\(label(i))' (DynamicQuantizeLinear): its output is read by '\(label(other))' (\(nodes[other].opType)), not by a MatMulInteger inftop maps")
        }
        var out: [Onnx_NodeProto] = []
        for i in nodes.indices where !dropped.contains(i) { out += replaced[i] ?? [nodes[i]] }
        return (out, constants, int8)
    }
}
