/// Updates parameters from their accumulated gradients, one step at a time.
///
/// Optimizers keep per-parameter state (momentum, moments) in tensors owned by
/// `.optimizerState`, allocated lazily on the first step that sees a parameter and keyed by the
/// parameter's identity, so the same optimizer can serve any set of parameters. `learningRate`
/// may change between steps (schedules, the user's knob).
public protocol Optimizer: AnyObject {
    var learningRate: Float { get set }
    /// One update of every parameter in `params` from its current `grad`. Gradients are read,
    /// never cleared: call `zeroGrad` before the next backward.
    func step(_ params: [Parameter])
}

extension Optimizer {
    /// Sets every gradient in `params` to zero (layers accumulate into them).
    public func zeroGrad(_ params: [Parameter]) { zeroGradients(params) }
}

/// Sets every gradient in `params` to zero (layers accumulate into them).
public func zeroGradients(_ params: [Parameter]) {
    for p in params { p.grad.fill(0) }
}

/// Per-parameter optimizer state tensors, created on first use, keyed by parameter identity.
/// Keeps the parameter alive alongside (so an identifier is never reused by a new object).
struct OptimizerStateStore {
    private var slots: [ObjectIdentifier: (param: Parameter, tensors: [Tensor], steps: Int)] = [:]

    /// The `count` state tensors of `param` (zero-filled on creation) and how many steps it has taken before this one;
    /// increments the step count.
    mutating func state(for param: Parameter, count: Int, label: String) -> (tensors: [Tensor], previousSteps: Int) {
        let key = ObjectIdentifier(param)
        if var slot = slots[key] {
            precondition(slot.tensors[0].count == param.value.count,
                         "\(label): parameter '\(param.name)' changed size from \(slot.tensors[0].count) to \(param.value.count)")
            let prev = slot.steps
            slot.steps += 1
            slots[key] = slot
            return (slot.tensors, prev)
        }
        let tensors = (0..<count).map { i in
            Tensor(param.value.shape, name: "\(param.name).\(label)\(i)", owner: .optimizerState)
        }
        slots[key] = (param, tensors, 1)
        return (tensors, 0)
    }

    /// The state of `param`, if it has any (without counting a step).
    func existing(for param: Parameter) -> (tensors: [Tensor], steps: Int)? {
        slots[ObjectIdentifier(param)].map { ($0.tensors, $0.steps) }
    }

    /// Every parameter with state, with its tensors and step count.
    var all: [(param: Parameter, tensors: [Tensor], steps: Int)] { Array(slots.values) }

    /// Installs `tensors` as `param`'s state, as if it had taken `steps` steps (a hand-over
    /// from another optimizer, `OptimizerHandover`).
    mutating func install(_ tensors: [Tensor], steps: Int, for param: Parameter) {
        slots[ObjectIdentifier(param)] = (param, tensors, steps)
    }

    /// Forgets all state (the next step starts fresh, as a new optimizer would).
    mutating func reset() { slots.removeAll() }

    /// Number of parameters with state.
    var count: Int { slots.count }
}
