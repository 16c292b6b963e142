/// A weight-bearing node that runs int8 at `precision == .int8`: it keeps its weights' int8 form
/// (built on first use, or ahead of it by `prepareInt8`, and rebuilt when the fp32 weights change).
public protocol Int8WeightHolder: Node {
    /// Quantizes (or re-quantizes, if the fp32 weights changed) now.
    func prepareInt8()
    /// Bytes of the int8 form built so far (0 before `prepareInt8` or an int8 forward).
    var int8WeightBytes: Int { get }
}

/// What the serving side needs to switch a model to int8 off its hot path: build the int8 weights
/// ahead of the first int8 forward (which would otherwise quantize lazily, inside that batch), and
/// the bytes they take (the memory panel's "weights int8"; the process-wide total is
/// `MemoryLedger.shared.bytes(.weightsINT8)`).
extension Model {
    /// Quantizes every int8-capable node now (Linear, Conv2d, every BERT projection).
    public func prepareInt8() {
        for node in nodes { (node as? any Int8WeightHolder)?.prepareInt8() }
    }

    /// Bytes of the int8 weight forms built so far.
    public var int8WeightBytes: Int {
        nodes.reduce(0) { $0 + (($1 as? any Int8WeightHolder)?.int8WeightBytes ?? 0) }
    }
}

extension Linear: Int8WeightHolder {
    public func prepareInt8() { _ = int8Weights.weights(for: weight.value, n: outFeatures, k: inFeatures) }
    public var int8WeightBytes: Int { int8Weights.bytes }
}

extension Conv2d: Int8WeightHolder {
    public func prepareInt8() { _ = int8Weights.weights(for: weight.value, n: outChannels, k: weight.value.count / outChannels) }
    public var int8WeightBytes: Int { int8Weights.bytes }
}

extension ProjectionNode: Int8WeightHolder {
    public func prepareInt8() { _ = int8() }
    public var int8WeightBytes: Int { q8?.bytes ?? 0 }
}
