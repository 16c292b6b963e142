import InftopTelemetry

/// One pruned weight and its mask: `mask` has the weight's shape, 1 where the weight is kept and
/// 0 where it was pruned; `applyMasks` multiplies them after every optimizer step.
public struct PruneMask: @unchecked Sendable {
    public let parameter: Parameter
    /// Same shape as `parameter.value`, values 0 or 1.
    public let mask: Tensor
    /// Fraction of the mask that is 0.
    public var sparsity: Double {
        var zeros = 0
        for i in 0..<mask.count where mask.data[i] == 0 { zeros += 1 }
        return Double(zeros) / Double(mask.count)
    }
}

/// Over which weights magnitude pruning ranks.
public enum PruneScope: String, Sendable, CaseIterable {
    /// Each weight-bearing node loses exactly `sparsity` of its own weights.
    case perLayer = "layer"
    /// One threshold over all of them: `sparsity` of all weights, more from the layers with
    /// smaller weights.
    case global
}

/// Unstructured magnitude pruning and the masks that keep it through fine-tuning.
extension Model {
    /// The weights pruning applies to: each weight-bearing node's `*.weight` (biases, LayerNorms
    /// and embeddings stay dense), in node order.
    public var prunableWeights: [Parameter] {
        nodes.filter { $0.kind.isWeightBearing }.compactMap { node in node.parameters.first { $0.name == node.name + ".weight" } }
    }

    /// Zeros the smallest-magnitude weights so that exactly `round(sparsity · count)` of each
    /// node's weight (`perLayer`) or of all of them (`global`) are zero, ties broken by storage
    /// order, and keeps the masks (replacing earlier ones). `sparsity` 0 removes the masks
    /// (weights pruned before stay zero until training moves them). Weights already zero rank
    /// lowest, so pruning further keeps every weight pruned before.
    public func pruneMagnitude(sparsity: Double, scope: PruneScope = .perLayer) {
        precondition(sparsity >= 0 && sparsity < 1, "Model '\(name)': sparsity \(sparsity) outside [0, 1)")
        guard sparsity > 0 else { masks = []; return }
        let weights = prunableWeights
        var newMasks: [PruneMask] = []
        func maskFor(_ p: Parameter) -> Tensor {
            let m = Tensor(p.value.shape, name: p.name + ".mask", owner: .other)
            m.fill(1)
            return m
        }
        switch scope {
        case .perLayer:
            for p in weights {
                let m = maskFor(p)
                for i in Self.smallestMagnitudes(p.value.data, count: p.value.count, sparsity: sparsity) { m.data[i] = 0 }
                newMasks.append(PruneMask(parameter: p, mask: m))
            }
        case .global:
            var all: [(Float, Int, Int)] = []
            for (w, p) in weights.enumerated() { for i in 0..<p.value.count { all.append((abs(p.value.data[i]), w, i)) } }
            all.sort { $0.0 != $1.0 ? $0.0 < $1.0 : ($0.1 != $1.1 ? $0.1 < $1.1 : $0.2 < $1.2) }
            let ms = weights.map(maskFor)
            for e in all.prefix(Int((sparsity * Double(all.count)).rounded())) { ms[e.1].data[e.2] = 0 }
            newMasks = zip(weights, ms).map { PruneMask(parameter: $0, mask: $1) }
        }
        masks = newMasks
        applyMasks()
    }

    /// Indices of the `round(sparsity · count)` smallest |v[i]|, ties broken by index.
    public static func smallestMagnitudes(_ v: UnsafePointer<Float>, count n: Int, sparsity: Double) -> ArraySlice<Int> {
        let order = (0..<n).sorted { a, b in abs(v[a]) != abs(v[b]) ? abs(v[a]) < abs(v[b]) : a < b }
        return order.prefix(Int((sparsity * Double(n)).rounded()))
    }

    /// Sets the masks from tensors by parameter name (a checkpoint's `<parameter>.mask`), and applies them.
    public func setMasks(_ byName: [String: Tensor]) {
        masks = parameters.compactMap { p in byName[p.name].map { PruneMask(parameter: p, mask: $0) } }
        applyMasks()
    }

    /// Parameters by name followed by the masks as `<parameter>.mask` (what a checkpoint of a
    /// pruned model holds, so fine-tuning can resume with them).
    public var checkpointTensors: [(name: String, tensor: Tensor)] {
        namedParameters + masks.map { ($0.parameter.name + ".mask", $0.mask) }
    }

    /// Multiplies every masked weight by its mask, so pruned weights are exactly zero (call after
    /// every optimizer step while fine-tuning a pruned model). No-op without masks.
    public func applyMasks() {
        for m in masks {
            let w = m.parameter.value.data, k = m.mask.data, n = m.mask.count
            var i = 0
            while i + 8 <= n { w.storeV8(w.loadV8(at: i) * k.loadV8(at: i), at: i); i += 8 }
            while i < n { w[i] *= k[i]; i += 1 }
            m.parameter.value.markChanged()
        }
    }

    /// Follows the pruning knob at a step boundary: when (sparsity, mode) differs from the value
    /// it acted on last, prunes to it (unstructured or structured masks; 0 removes the masks).
    /// Returns true when it pruned. Pruning done directly (`pruneMagnitude`) does not count.
    @discardableResult
    public func followPruning(sparsity: Double, mode: PruneMode) -> Bool {
        guard sparsity != followedPruning.sparsity || mode != followedPruning.mode else { return false }
        followedPruning = (sparsity, mode)
        switch mode {
        case .unstructured: pruneMagnitude(sparsity: sparsity)
        case .structured: pruneStructured(fraction: sparsity)
        }
        return true
    }

    /// Per node: name, fraction of its weight that is zero and its format at `batch` (nil for
    /// weight-free nodes), for the layer table. Scans the weights: call when they changed.
    public func nodePlans(batch: Int) -> [NodePlan] {
        nodes.indices.map { NodePlan(name: nodes[$0].name, sparsity: weightSparsity(ofNode: $0), format: weightFormat(ofNode: $0, batch: batch)) }
    }

    /// Per node of this model, physically cut from `full` by structured pruning (`shrunk`, or a
    /// BERT encoder loaded with `pruneUnits`): the fraction of `full`'s node weights removed and
    /// format shrunk for the weight-bearing nodes whose matrices got smaller (dense otherwise),
    /// nil for weight-free nodes. Nodes pair by position (the same graph, smaller matrices).
    public func shrunkNodePlans(cutFrom full: Model) -> [NodePlan] {
        precondition(full.nodes.count == nodes.count, "Model '\(name)': \(nodes.count) nodes, cut from a model of \(full.nodes.count)")
        return nodes.indices.map { i in
            guard nodes[i].kind.isWeightBearing else { return NodePlan(name: nodes[i].name, sparsity: nil, format: nil) }
            let before = full.nodes[i].weightBytes, after = nodes[i].weightBytes
            let removed = before > 0 ? Double(before - min(before, after)) / Double(before) : 0
            return NodePlan(name: nodes[i].name, sparsity: removed, format: after < before ? .shrunk : .dense)
        }
    }

    /// Fraction of node i's weight that is zero now (nil for nodes without a prunable weight).
    public func weightSparsity(ofNode i: Int) -> Double? {
        let node = nodes[i]
        if let projection = node as? ProjectionNode { return projection.prunedSparsity }  // pruned by its own plan
        guard node.kind.isWeightBearing, let p = node.parameters.first(where: { $0.name == node.name + ".weight" }) else { return nil }
        var zeros = 0
        let v = p.value.data
        for j in 0..<p.value.count where v[j] == 0 { zeros += 1 }
        return Double(zeros) / Double(p.value.count)
    }

    /// How node i runs at inference at `batch` under its plan: csr where it measured CSR faster.
    public func weightFormat(ofNode i: Int, batch: Int) -> WeightFormat? {
        guard nodes[i].kind.isWeightBearing else { return nil }
        guard plans[i].sparsity > 0 else { return .dense }
        if let l = nodes[i] as? Linear { return l.runsSparse(batch: batch) ? .csr : .dense }
        if let c = nodes[i] as? Conv2d { return c.runsSparse() ? .csr : .dense }
        if let p = nodes[i] as? ProjectionNode { return p.prunedWeight != nil && p.runsSparse(tokens: max(1, p.lastRows)) ? .csr : .dense }
        return .dense
    }

    /// Bytes of the CSR forms held now (the memory panel's "weights sparse" of this model).
    public var sparseWeightBytes: Int {
        nodes.reduce(0) { $0 + (($1 as? Linear)?.sparseWeightBytes ?? ($1 as? Conv2d)?.sparseWeightBytes ?? ($1 as? ProjectionNode)?.sparseWeightBytes ?? 0) }
    }
}
