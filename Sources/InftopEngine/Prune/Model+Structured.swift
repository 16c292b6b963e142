import InftopTelemetry

/// Structured pruning of the zoo's chains (mlp, cnn): whole output units of every weight-bearing
/// node but the last — a Linear's output neurons, a convolution's output channels — ranked by
/// the L2 norm of the unit's weights (its row of W, `in · k · k` values for a convolution),
/// the smallest removed.
///
/// Two forms of the same pruning: masks (`pruneStructured`), which zero a removed unit's weight
/// row, its bias and the next node's inputs from it, so the unit outputs exactly 0 and
/// fine-tuning keeps it so; and the physically smaller model (`shrunk`), whose dense matrices
/// lose those rows and columns, so every backend does less work. The two give the same outputs.
extension Model {
    /// Indices of the weight-bearing nodes, in order, and each one's output units.
    var unitNodes: [(node: Int, weight: Parameter, bias: Parameter?, units: Int)] {
        nodes.indices.compactMap { i in
            let node = nodes[i]
            guard node.kind.isWeightBearing, let w = node.parameters.first(where: { $0.name == node.name + ".weight" }) else { return nil }
            return (i, w, node.parameters.first { $0.name == node.name + ".bias" }, w.value.shape[0])
        }
    }

    /// L2 norm of each output unit's weights (row j of W viewed as `[units, rest]`) of node `i`.
    public func unitImportance(ofNode i: Int) -> [Float] {
        guard let u = unitNodes.first(where: { $0.node == i }) else { return [] }
        let rest = u.weight.value.count / u.units, v = u.weight.value.data
        return (0..<u.units).map { j in
            var s: Float = 0
            for p in 0..<rest { s += v[j * rest + p] * v[j * rest + p] }
            return s.squareRoot()
        }
    }

    /// Per prunable node (every weight-bearing node but the last: `(node index, kept units)`),
    /// the units kept when `fraction` of them (rounded) go, lowest L2 norm first, ties by index.
    public func structuredKeep(fraction: Double) -> [(node: Int, kept: [Int])] {
        precondition(fraction >= 0 && fraction < 1, "Model '\(name)': structured fraction \(fraction) outside [0, 1)")
        return unitNodes.dropLast().map { u in
            let norms = unitImportance(ofNode: u.node)
            let drop = min(u.units - 1, Int((fraction * Double(u.units)).rounded()))
            let order = (0..<u.units).sorted { norms[$0] != norms[$1] ? norms[$0] < norms[$1] : $0 < $1 }
            return (u.node, order.dropFirst(drop).sorted())
        }
    }

    /// Zeros `fraction` of each prunable node's units (`structuredKeep`) through masks: the unit's
    /// weight row and bias, and the next weight-bearing node's input columns that read it. Masks
    /// replace earlier ones and stay applied through fine-tuning (`applyMasks`). 0 removes them.
    public func pruneStructured(fraction: Double) {
        guard fraction > 0 else { masks = []; return }
        let keep = structuredKeep(fraction: fraction)
        let units = unitNodes
        var byParam: [ObjectIdentifier: PruneMask] = [:]
        func mask(_ p: Parameter) -> Tensor {
            if let m = byParam[ObjectIdentifier(p)] { return m.mask }
            let t = Tensor(p.value.shape, name: p.name + ".mask", owner: .other)
            t.fill(1)
            byParam[ObjectIdentifier(p)] = PruneMask(parameter: p, mask: t)
            return t
        }
        for (k, entry) in keep.enumerated() {
            let u = units[k], next = units[k + 1]
            let kept = Set(entry.kept)
            let rest = u.weight.value.count / u.units
            let nextRest = next.weight.value.count / next.units, group = nextRest / u.units
            precondition(group * u.units == nextRest, "Model '\(name)': '\(next.weight.name)' rows (\(nextRest)) do not split over \(u.units) inputs")
            for j in 0..<u.units where !kept.contains(j) {
                let w = mask(u.weight)
                for p in 0..<rest { w.data[j * rest + p] = 0 }
                if let b = u.bias { mask(b).data[j] = 0 }
                let nw = mask(next.weight)
                for r in 0..<next.units { for g in 0..<group { nw.data[r * nextRest + j * group + g] = 0 } }
            }
        }
        masks = parameters.compactMap { byParam[ObjectIdentifier($0)] }
        applyMasks()
    }

    /// Per prunable node, the units that are alive: any nonzero weight in their row or a nonzero bias.
    public func liveUnits() -> [(node: Int, kept: [Int])] {
        unitNodes.dropLast().map { u in
            let rest = u.weight.value.count / u.units, v = u.weight.value.data
            return (u.node, (0..<u.units).filter { j in
                (u.bias.map { $0.value.data[j] != 0 } ?? false) || (0..<rest).contains { v[j * rest + $0] != 0 }
            })
        }
    }

    /// The physically smaller zoo model without the dead units (`liveUnits`: those a structured
    /// pruning zeroed): same names, smaller weights copied over, so its outputs equal this
    /// model's. Masks are not carried (the shrunk model has nothing left to mask).
    /// - Throws: `EngineError.invalid` for a model that is not in the zoo.
    public func shrunk() throws -> Model { try shrunk(keeping: liveUnits()) }

    /// The zoo model with only the units `keep` names (per prunable node, as `structuredKeep`
    /// gives them) and this model's weights of those units: what serving runs for structured
    /// pruning. Outputs equal this model's with the other units zeroed (weight row, bias and
    /// the next node's inputs from them). `reusing` a model of the same widths (the one made
    /// for the previous weights) copies into it instead of allocating.
    /// - Throws: `EngineError.invalid` for a model that is not in the zoo.
    public func shrunk(keeping keep: [(node: Int, kept: [Int])], reusing old: Model? = nil) throws -> Model {
        let widths = keep.map { max(1, $0.kept.count) }
        let small: Model
        if let old, old.unitNodes.dropLast().map(\.units) == widths {
            small = old
        } else {
            small = try ModelZoo.make(name: name, seed: 0, widths: widths)
        }
        let src = unitNodes, dst = small.unitNodes
        precondition(src.count == dst.count && keep.count == src.count - 1,
                     "Model '\(name)': shrunk model has \(dst.count) weight-bearing nodes, not \(src.count)")
        for k in src.indices {
            let s = src[k], d = dst[k]
            let outs = k < keep.count ? (keep[k].kept.isEmpty ? [0] : keep[k].kept) : Array(0..<s.units)
            let ins: [Int]? = k > 0 ? (keep[k - 1].kept.isEmpty ? [0] : keep[k - 1].kept) : nil
            let rest = s.weight.value.count / s.units
            let group = ins.map { _ in rest / src[k - 1].units } ?? rest
            let dRest = d.weight.value.count / d.units
            for (jo, j) in outs.enumerated() {
                let sRow = s.weight.value.data + j * rest, dRow = d.weight.value.data + jo * dRest
                if let ins {
                    for (co, c) in ins.enumerated() { (dRow + co * group).update(from: sRow + c * group, count: group) }
                } else {
                    dRow.update(from: sRow, count: rest)
                }
                if let sb = s.bias, let db = d.bias { db.value.data[jo] = sb.value.data[j] }
            }
            d.weight.value.markChanged()
            d.bias?.value.markChanged()
        }
        small.weightsDidChange()
        return small
    }
}
