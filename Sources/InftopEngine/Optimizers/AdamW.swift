#if canImport(Glibc)
import Glibc
#endif

/// Adam with decoupled weight decay, matching `torch.optim.AdamW` (amsgrad off):
///
///     t += 1                                  (per parameter)
///     p *= 1 − lr·weightDecay                 (decoupled decay, before the Adam update)
///     m = β1·m + (1−β1)·g
///     v = β2·v + (1−β2)·g²
///     p -= (lr / (1−β1ᵗ)) · m / (√v / √(1−β2ᵗ) + eps)
///
/// Bias corrections are computed in Double like PyTorch's Python scalars.
public final class AdamW: Optimizer {
    public var learningRate: Float
    public var beta1: Float, beta2: Float, eps: Float, weightDecay: Float
    var state = OptimizerStateStore()

    public init(learningRate: Float, beta1: Float = 0.9, beta2: Float = 0.999, eps: Float = 1e-8, weightDecay: Float = 0.01) {
        precondition(learningRate >= 0 && eps >= 0 && weightDecay >= 0, "AdamW: negative learningRate / eps / weightDecay")
        precondition(beta1 >= 0 && beta1 < 1 && beta2 >= 0 && beta2 < 1, "AdamW: betas must be in [0, 1), got \(beta1), \(beta2)")
        self.learningRate = learningRate
        self.beta1 = beta1
        self.beta2 = beta2
        self.eps = eps
        self.weightDecay = weightDecay
    }

    public func step(_ params: [Parameter]) {
        for param in params {
            param.value.markChanged()
            let (tensors, previous) = state.state(for: param, count: 2, label: "adam")
            let t = Double(previous + 1)
            let bc1 = 1 - pow(Double(beta1), t), bc2 = 1 - pow(Double(beta2), t)
            let stepSize = Float(Double(learningRate) / bc1)
            let invBc2Sqrt = Float(1 / bc2.squareRoot())
            let decay = 1 - learningRate * weightDecay
            let p = param.value.data, g = param.grad.data, m = tensors[0].data, v = tensors[1].data
            let n = param.value.count
            let b1 = SIMD8<Float>(repeating: beta1), b2 = SIMD8<Float>(repeating: beta2)
            let c1 = SIMD8<Float>(repeating: 1 - beta1), c2 = SIMD8<Float>(repeating: 1 - beta2)
            let decayV = SIMD8<Float>(repeating: decay), epsV = SIMD8<Float>(repeating: eps)
            let invV = SIMD8<Float>(repeating: invBc2Sqrt), stepV = SIMD8<Float>(repeating: -stepSize)
            var i = 0
            while i + 8 <= n {
                let gv = g.loadV8(at: i)
                let mv = (c1 * gv).addingProduct(b1, m.loadV8(at: i))
                let vv = (c2 * gv * gv).addingProduct(b2, v.loadV8(at: i))
                m.storeV8(mv, at: i)
                v.storeV8(vv, at: i)
                let denom = vv.squareRoot() * invV + epsV
                p.storeV8((p.loadV8(at: i) * decayV).addingProduct(stepV, mv / denom), at: i)
                i += 8
            }
            while i < n {
                let gv = g[i]
                let mv = beta1 * m[i] + (1 - beta1) * gv
                let vv = beta2 * v[i] + (1 - beta2) * gv * gv
                m[i] = mv; v[i] = vv
                p[i] = p[i] * decay - stepSize * (mv / (vv.squareRoot() * invBc2Sqrt + eps))
                i += 1
            }
        }
    }

    /// Drops the moments and step counts (the next step starts fresh).
    public func reset() { state.reset() }
}
