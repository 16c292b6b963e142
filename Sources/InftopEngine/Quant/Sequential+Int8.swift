/// What the serving side needs to switch a model to int8 off its hot path: build the int8 weights
/// ahead of the first int8 forward (which would otherwise quantize lazily, inside that batch), and
/// the bytes they take (the memory panel's "weights int8"; the process-wide total is
/// `MemoryLedger.shared.bytes(.weightsINT8)`).
extension Sequential {
    /// Quantizes (or re-quantizes, if the fp32 weights changed) every Linear and Conv2d now.
    public func prepareInt8() {
        for layer in layers {
            if let l = layer as? Linear { _ = l.int8Weights.weights(for: l.weight.value, n: l.outFeatures, k: l.inFeatures) }
            if let c = layer as? Conv2d {
                _ = c.int8Weights.weights(for: c.weight.value, n: c.outChannels, k: c.weight.value.count / c.outChannels)
            }
        }
    }

    /// Bytes of the int8 weight forms built so far (0 before `prepareInt8` or an int8 forward).
    public var int8WeightBytes: Int {
        layers.reduce(0) { sum, layer in
            sum + ((layer as? Linear)?.int8Weights.bytes ?? 0) + ((layer as? Conv2d)?.int8Weights.bytes ?? 0)
        }
    }
}

extension BertModel {
    /// Quantizes every projection now (a loaded model's weights never change, so once is enough).
    public func prepareInt8() { _ = int8.layers(of: self) }
}
