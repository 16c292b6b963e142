/// Stochastic gradient descent with momentum and L2 weight decay, matching `torch.optim.SGD`
/// (dampening 0, no Nesterov):
///
///     g = grad + weightDecay·p
///     buf = g                     (first step of a parameter)
///     buf = momentum·buf + g      (later steps)
///     p -= lr · buf               (p -= lr · g when momentum == 0; no buffer is kept then)
public final class SGD: Optimizer {
    public var learningRate: Float
    public var momentum: Float
    public var weightDecay: Float
    var state = OptimizerStateStore()

    public init(learningRate: Float, momentum: Float = 0, weightDecay: Float = 0) {
        precondition(learningRate >= 0 && momentum >= 0 && weightDecay >= 0,
                     "SGD: negative learningRate \(learningRate) / momentum \(momentum) / weightDecay \(weightDecay)")
        self.learningRate = learningRate
        self.momentum = momentum
        self.weightDecay = weightDecay
    }

    public func step(_ params: [Parameter]) {
        let lr = learningRate, wd = weightDecay, mu = momentum
        for param in params {
            param.value.markChanged()
            let p = param.value.data, g = param.grad.data, n = param.value.count
            let lrV = SIMD8<Float>(repeating: -lr), wdV = SIMD8<Float>(repeating: wd), muV = SIMD8<Float>(repeating: mu)
            if mu == 0 {
                var i = 0
                while i + 8 <= n {
                    let pv = p.loadV8(at: i)
                    p.storeV8(pv.addingProduct(lrV, g.loadV8(at: i).addingProduct(wdV, pv)), at: i)
                    i += 8
                }
                while i < n { p[i] -= lr * (g[i] + wd * p[i]); i += 1 }
                continue
            }
            let (tensors, previous) = state.state(for: param, count: 1, label: "momentum")
            let buf = tensors[0].data
            // First step: buf = g, which is the general rule with buf = 0 and momentum ignored.
            let keep = previous == 0 ? SIMD8<Float>() : muV
            let keepS = previous == 0 ? Float(0) : mu
            var i = 0
            while i + 8 <= n {
                let pv = p.loadV8(at: i)
                let gv = g.loadV8(at: i).addingProduct(wdV, pv)
                let b = gv.addingProduct(keep, buf.loadV8(at: i))
                buf.storeV8(b, at: i)
                p.storeV8(pv.addingProduct(lrV, b), at: i)
                i += 8
            }
            while i < n {
                let gv = g[i] + wd * p[i]
                let b = keepS * buf[i] + gv
                buf[i] = b
                p[i] -= lr * b
                i += 1
            }
        }
    }

    /// Drops the momentum buffers (the next step is a "first step" again).
    public func reset() { state.reset() }
}
