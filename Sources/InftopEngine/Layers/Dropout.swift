/// Inverted dropout, PyTorch's `nn.Dropout(p)`: in training each element is zeroed with
/// probability `p` and the survivors scaled by 1/(1−p), so the expected value is unchanged and
/// evaluation is the identity (`training == false` copies X through).
///
/// The mask comes from the layer's own `SeededRandom(seed)`, advanced every training forward, so
/// a run is reproducible. `p` may be changed between steps (0 ≤ p < 1).
public final class Dropout: Layer {
    public let name: String
    public var kind: NodeKind { .activation }
    public var buffers: [Tensor] { [y, mask, dX] }
    /// Drop probability, 0 ≤ p < 1.
    public var p: Float {
        didSet { precondition(p >= 0 && p < 1, "Dropout '\(name)': p must be in [0, 1), got \(p)") }
    }
    private var rng: SeededRandom
    /// Same shape as the input; owned.
    private let y: Tensor
    /// Same shape as the input: 0 or 1/(1−p) per element; owned.
    private let mask: Tensor
    /// Same shape as the input; owned.
    private let dX: Tensor
    /// Whether the last forward applied a mask (training with p > 0).
    private var masked = false

    public init(name: String, p: Float, seed: UInt64) {
        precondition(p >= 0 && p < 1, "Dropout '\(name)': p must be in [0, 1), got \(p)")
        self.name = name
        self.p = p
        rng = SeededRandom(seed: seed)
        y = Tensor([0], name: name + ".y")
        mask = Tensor([0], name: name + ".mask")
        dX = Tensor([0], name: name + ".dX")
    }

    public func outputShape(_ input: [Int]) -> [Int] { input }

    public func forward(_ x: Tensor, _ compute: Compute, training: Bool) -> Tensor {
        y.resize(x.shape)
        masked = training && p > 0
        guard masked else { y.copy(from: x); return y }
        mask.resize(x.shape)
        let m = mask.data, n = mask.count
        let scale = 1 / (1 - p)
        // Keep when u ≥ p with u uniform in [0, 1): P(keep) = 1 − p. Two 24-bit uniforms per
        // 64-bit draw halve the generator's cost.
        let threshold = UInt64((Double(p) * 16_777_216).rounded(.up))
        var i = 0
        while i + 1 < n {
            let r = rng.next()
            m[i] = (r >> 40) >= threshold ? scale : 0
            m[i + 1] = ((r >> 16) & 0xFF_FFFF) >= threshold ? scale : 0
            i += 2
        }
        if i < n { m[i] = (rng.next() >> 40) >= threshold ? scale : 0 }
        Elementwise.multiply(x.data, m, y.data, count: n)
        return y
    }

    public func backward(_ dY: Tensor, _ compute: Compute) -> Tensor {
        dY.expectShape(y.shape, "Dropout '\(name)' backward dY")
        dX.resize(y.shape)
        if masked {
            Elementwise.multiply(dY.data, mask.data, dX.data, count: dX.count)
        } else {
            dX.copy(from: dY)
        }
        return dX
    }
}
