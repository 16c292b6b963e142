/// Structured pruning of a BERT encoder at load (`BertModel.load(…, pruneUnits:)`): in every
/// layer, the least important `fraction` of attention heads and of FFN channels go, and the
/// projections that read or write them lose those rows or columns:
///
/// - head h: Q, K, V rows h·d ..< (h+1)·d and their biases, attention output columns likewise;
///   importance = L2 norm of its attention-output columns (what the head adds to the stream).
/// - FFN channel c: FFN-up row c and its bias, FFN-down column c; importance = ‖up row c‖₂ ·
///   ‖down column c‖₂ (the channel's gain from input to output, GELU aside).
///
/// At least one head and one channel stay. Unpruned (fraction 0) the weights pass through as
/// they are (no copy).
public enum BertPruning {
    /// Heads kept (ascending) of `heads` from `attentionOutput` `[hidden, hidden]`.
    public static func keptHeads(attentionOutput wo: WeightBuffer, hidden h: Int, heads: Int, fraction: Double) -> [Int] {
        let d = h / heads
        let norms = (0..<heads).map { head -> Float in
            var s: Float = 0
            for r in 0..<h { for c in (head * d)..<((head + 1) * d) { s += wo.pointer[r * h + c] * wo.pointer[r * h + c] } }
            return s
        }
        return keep(norms, fraction: fraction)
    }

    /// FFN channels kept (ascending) from up `[f, h]` and down `[h, f]`.
    public static func keptChannels(up: WeightBuffer, down: WeightBuffer, hidden h: Int, intermediate f: Int, fraction: Double) -> [Int] {
        let scores = (0..<f).map { c -> Float in
            var u: Float = 0, v: Float = 0
            for k in 0..<h { u += up.pointer[c * h + k] * up.pointer[c * h + k]; v += down.pointer[k * f + c] * down.pointer[k * f + c] }
            return (u * v).squareRoot()
        }
        return keep(scores, fraction: fraction)
    }

    /// Indices of all but the `round(fraction · n)` lowest scores (ties by index), ascending.
    static func keep(_ scores: [Float], fraction: Double) -> [Int] {
        let n = scores.count, drop = min(n - 1, Int((fraction * Double(n)).rounded()))
        return (0..<n).sorted { scores[$0] != scores[$1] ? scores[$0] < scores[$1] : $0 < $1 }.dropFirst(drop).sorted()
    }

    /// Rows `keep` of `w` viewed `[rows, cols]`, as `[keep.count, cols]` (`w` itself when all kept).
    public static func rows(_ w: WeightBuffer, cols: Int, keep: [Int]) -> WeightBuffer {
        guard keep.count * cols != w.count else { return w }
        let out = WeightBuffer(name: w.name + ".pruned", shape: cols == 1 ? [keep.count] : [keep.count, cols])
        for (i, r) in keep.enumerated() { out.mutablePointer!.advanced(by: i * cols).update(from: w.pointer + r * cols, count: cols) }
        return out
    }

    /// Column groups `keep` (each `group` wide) of `w` viewed `[rows, ·]`, as `[rows, keep.count · group]`.
    public static func columns(_ w: WeightBuffer, rows: Int, keep: [Int], group: Int) -> WeightBuffer {
        let width = w.count / rows, kept = keep.count * group
        guard kept != width else { return w }
        let out = WeightBuffer(name: w.name + ".pruned", shape: [rows, kept])
        for r in 0..<rows {
            for (i, c) in keep.enumerated() {
                out.mutablePointer!.advanced(by: r * kept + i * group).update(from: w.pointer + r * width + c * group, count: group)
            }
        }
        return out
    }
}
