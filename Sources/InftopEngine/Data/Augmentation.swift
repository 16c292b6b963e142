/// Training-time augmentation of image samples, done where a batch is filled (on the loader
/// thread with prefetch): a random crop of the image padded with `padding` zero pixels on every
/// side (a shift of −padding…+padding in each direction) and a horizontal flip with
/// probability ½, as torchvision's RandomCrop(28, padding) + RandomHorizontalFlip.
///
/// Each sample's draw is seeded by (seed, epoch, position in the epoch's order), so a run is
/// the same whichever thread fills a batch and whatever the batch size.
public struct Augmentation: Sendable, Equatable {
    public var padding: Int
    public var flip: Bool

    public init(padding: Int = 2, flip: Bool = true) {
        precondition(padding >= 0, "Augmentation: padding must be ≥ 0")
        self.padding = padding; self.flip = flip
    }

    /// Augments `n` images `[n, rows·cols]` in place at `x`; sample b is position `start + b`
    /// of `epoch`'s order.
    public func apply(_ x: UnsafeMutablePointer<Float>, n: Int, rows: Int, cols: Int, seed: UInt64, epoch: Int, start: Int) {
        let size = rows * cols
        withUnsafeTemporaryAllocation(of: Float.self, capacity: size) { scratch in
            let tmp = scratch.baseAddress!
            for b in 0..<n {
                var rng = SeededRandom(seed: seed ^ 0xA5A5_5A5A_0F0F_F0F0 &+ UInt64(truncatingIfNeeded: epoch) &* 0x9E37_79B9_7F4A_7C15
                                       &+ UInt64(truncatingIfNeeded: start + b) &* 0xBF58_476D_1CE4_E5B9)
                let dy = rng.nextInt(below: 2 * padding + 1) - padding
                let dx = rng.nextInt(below: 2 * padding + 1) - padding
                let mirror = flip && rng.nextInt(below: 2) == 1
                let img = x + b * size
                tmp.update(from: img, count: size)
                // Output pixel (r, c) reads input (r + dy, c' + dx), c' the mirrored column; zero outside.
                for r in 0..<rows {
                    let sr = r + dy
                    for c in 0..<cols {
                        let sc = (mirror ? cols - 1 - c : c) + dx
                        img[r * cols + c] = sr >= 0 && sr < rows && sc >= 0 && sc < cols ? tmp[sr * cols + sc] : 0
                    }
                }
            }
        }
    }
}
