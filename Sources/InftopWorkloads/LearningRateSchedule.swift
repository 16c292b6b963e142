import InftopEngine
#if canImport(Glibc)
import Glibc
#endif

/// How the learning rate moves over a run, chosen at start (`--schedule`). The schedule
/// multiplies the base rate (`--lr`, or what `<`/`>`/`l` set) by a factor of the run's
/// progress p = samples trained ÷ (epochs × training-set size), so a batch-size change does
/// not bend it:
///
///     constant   1
///     step       1, then ×0.1 from p = 1/2, ×0.01 from p = 3/4 (MultiStepLR at 50 % and 75 %)
///     cosine     (1 + cos πp) / 2                                (CosineAnnealingLR to 0)
///     one-cycle  p < 0.3: from 1/25 up to 1, then down to 1/(25·10⁴), both halves cosine
///                (PyTorch's OneCycleLR defaults; its momentum cycling is not done)
public enum LRSchedule: String, CaseIterable, Sendable, Codable {
    case constant, step, cosine
    case oneCycle = "one-cycle"

    /// The factor at progress `p` (clamped to 0…1).
    public func factor(progress p: Double) -> Double {
        let p = min(max(p, 0), 1)
        switch self {
        case .constant:
            return 1
        case .step:
            return p < 0.5 ? 1 : (p < 0.75 ? 0.1 : 0.01)
        case .cosine:
            return (1 + cos(Double.pi * p)) / 2
        case .oneCycle:
            let warm = 0.3, initial = 1.0 / 25, final = initial / 1e4
            func cosineFrom(_ a: Double, to b: Double, _ f: Double) -> Double { b + (a - b) * (1 + cos(Double.pi * f)) / 2 }
            return p < warm ? cosineFrom(initial, to: 1, p / warm) : cosineFrom(1, to: final, (p - warm) / (1 - warm))
        }
    }

    /// The rate at `step` of a run of `totalSteps` (progress = step ÷ totalSteps).
    public func learningRate(base: Float, step: Int, totalSteps: Int) -> Float {
        Float(Double(base) * factor(progress: totalSteps > 0 ? Double(step) / Double(totalSteps) : 0))
    }

    /// Parses a `--schedule` value; throws `EngineError.invalid` naming the flag and the known ones.
    public static func parse(_ s: String) throws -> LRSchedule {
        guard let v = LRSchedule(rawValue: s) else {
            throw EngineError.invalid(what: "--schedule \(s)", reason: "unknown; known: \(allCases.map(\.rawValue).joined(separator: ", "))")
        }
        return v
    }
}
