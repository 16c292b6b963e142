#if canImport(Glibc)
import Glibc
#endif

/// Carries the first moment (the running direction of the gradients) from one optimizer to
/// another when the user switches between SGD-momentum and AdamW mid-run, so the switch does
/// not throw away what the run has learned about where it is going:
///
///     SGD → AdamW:  m = (1 − μ)·buf            SGD's buffer is Σ μʲ·g, ≈ g/(1 − μ); Adam's m is
///                                               (1 − β1)·Σ β1ʲ·g — the same sum when μ = β1
///                   v = m²                      no second-moment history exists: the squared
///                                               mean is its closest estimate (steps then start
///                                               near Adam's own first step, ≈ lr·sign)
///                   t = the SGD buffer's steps  bias corrections as long as the history
///     AdamW → SGD:  buf = m̂ / (1 − μ)           m̂ = m / (1 − β1ᵗ), the steady-state buffer
///                                               SGD would have built from the same gradients
///
/// With SGD momentum 0 there is no buffer: AdamW starts fresh, and AdamW's moments are dropped
/// on the way to plain SGD. Parameters without state start fresh.
public enum OptimizerHandover {
    /// Installs in `new` the state `old` holds, converted as above. `old` is left as it was.
    public static func carry(from old: any Optimizer, to new: any Optimizer) {
        if let sgd = old as? SGD, let adam = new as? AdamW {
            let keep = 1 - sgd.momentum
            for (param, tensors, steps) in sgd.state.all {
                let buf = tensors[0].data, n = param.value.count
                let m = Tensor(param.value.shape, name: "\(param.name).adam0", owner: .optimizerState)
                let v = Tensor(param.value.shape, name: "\(param.name).adam1", owner: .optimizerState)
                for i in 0..<n { let mi = keep * buf[i]; m.data[i] = mi; v.data[i] = mi * mi }
                adam.state.install([m, v], steps: steps, for: param)
            }
        } else if let adam = old as? AdamW, let sgd = new as? SGD, sgd.momentum > 0 {
            for (param, tensors, steps) in adam.state.all where steps > 0 {
                let m = tensors[0].data, n = param.value.count
                let scale = Float(1 / ((1 - pow(Double(adam.beta1), Double(steps))) * Double(1 - sgd.momentum)))
                let buf = Tensor(param.value.shape, name: "\(param.name).momentum0", owner: .optimizerState)
                for i in 0..<n { buf.data[i] = scale * m[i] }
                sgd.state.install([buf], steps: steps, for: param)
            }
        }
    }

    /// The first-moment tensor `optimizer` holds for `param` (SGD's buffer, AdamW's m), for tests.
    public static func firstMoment(of optimizer: any Optimizer, for param: Parameter) -> [Float]? {
        let t = (optimizer as? SGD)?.state.existing(for: param)?.tensors[0] ?? (optimizer as? AdamW)?.state.existing(for: param)?.tensors[0]
        return t?.toArray()
    }
}
