/// The int8 forms of a BERT encoder's projections, per layer: Wqkv `[3H, H]`, Wo `[H, H]`,
/// W1 `[F, H]`, W2 `[H, F]` (all `[out, in]`, quantized per output channel). Built on the first
/// int8 forward and kept: a loaded model's weights do not change. Used by the one thread that
/// runs the model (`BertModel` is not thread-safe).
///
/// How `BertModel.embed` uses them at `precision == .int8` (biases stay in the fused fp32
/// kernels that follow, as in fp32):
///
///     QKVᵀ [3H, M] = Wqkv · Xᵀ        Int8Gemm(x: X [M, H],      weights: qkv,  transY)
///     P    [M, H]  = ctx · Woᵀ        Int8Gemm(x: ctxᵀ [H, M],   weights: out,  transX)
///     FFN  [M, F]  = X · W1ᵀ          Int8Gemm(x: X [M, H],      weights: up)
///     P    [M, H]  = FFN · W2ᵀ        Int8Gemm(x: FFN [M, F],    weights: down)
final class BertInt8Weights: @unchecked Sendable {
    struct Layer {
        let qkv: QuantizedWeights, out: QuantizedWeights, up: QuantizedWeights, down: QuantizedWeights
    }

    private var built: [Layer]?

    /// Every layer's int8 projections (quantized on first call).
    func layers(of model: BertModel) -> [Layer] {
        if let built { return built }
        let H = model.config.hiddenSize, F = model.config.intermediateSize
        let result = model.layers.map { L in
            Layer(qkv: QuantizedWeights(L.wqkv.pointer, n: 3 * H, k: H), out: QuantizedWeights(L.wo.pointer, n: H, k: H),
                  up: QuantizedWeights(L.w1.pointer, n: F, k: H), down: QuantizedWeights(L.w2.pointer, n: H, k: F))
        }
        built = result
        return result
    }

    /// Bytes of the int8 forms built so far (0 before the first int8 forward).
    var bytes: Int { built?.reduce(0) { $0 + $1.qkv.bytes + $1.out.bytes + $1.up.bytes + $1.down.bytes } ?? 0 }
}

extension BertModel {
    /// Bytes of the int8 projection weights (0 until the first int8 forward builds them).
    public var int8WeightBytes: Int { int8.bytes }
}
