/// Flattens every dimension after the batch: `[B, C, H, W]` (or any `[B, …]`) → `[B, C·H·W]`,
/// PyTorch's `nn.Flatten()`. Row-major storage is unchanged, so both directions are one copy
/// into a layer-owned tensor (tensors have no views).
public final class Flatten: Layer {
    public let name: String
    public var kind: NodeKind { .layout }
    public var buffers: [Tensor] { [y, dX] }
    /// `[B, C·H·W]`; owned.
    private let y: Tensor
    /// The last input's shape; owned.
    private let dX: Tensor
    private var inputShape: [Int] = []

    public init(name: String) {
        self.name = name
        y = Tensor([0, 0], name: name + ".y")
        dX = Tensor([0], name: name + ".dX")
    }

    public func outputShape(_ input: [Int]) -> [Int] {
        precondition(input.count >= 2, "Flatten '\(name)': input shape \(input) has no dimension after the batch")
        return [input[0], input.dropFirst().reduce(1, *)]
    }

    public func forward(_ x: Tensor, _ compute: Compute, training: Bool) -> Tensor {
        y.resize(outputShape(x.shape))
        inputShape = x.shape
        y.copy(from: x)
        return y
    }

    public func backward(_ dY: Tensor, _ compute: Compute) -> Tensor {
        dY.expectShape(y.shape, "Flatten '\(name)' backward dY")
        dX.resize(inputShape)
        dX.copy(from: dY)
        return dX
    }
}
