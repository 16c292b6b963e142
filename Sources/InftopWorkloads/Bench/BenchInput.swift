import InftopTelemetry
import InftopEngine

/// A bench option the user got wrong; `description` is the one line to print.
public struct BenchInputError: Error, CustomStringConvertible, Equatable {
    public let description: String
    public init(_ description: String) { self.description = description }
}

/// Parsers for `inftop bench` option values (comma lists). Each throws `BenchInputError`
/// naming the option and the offending item.
public enum BenchInput {
    /// Largest accepted dimension; bigger is almost certainly a typo (and 3 such matrices
    /// would not fit in memory).
    public static let maxDimension = 16_384
    public static let maxThreads = 256

    /// `"512x512x512,128x384x384"` → shapes (M×N×K). Dimensions are integers in 1…`maxDimension`.
    public static func shapes(_ text: String, option: String = "--gemm") throws -> [GemmShape] {
        try items(text, option: option).map { item in
            let parts = item.lowercased().split(separator: "x", omittingEmptySubsequences: false)
            guard parts.count == 3 else {
                throw BenchInputError("\(option): '\(item)' is not MxNxK (three sizes joined by 'x', e.g. 512x512x512)")
            }
            let dims = try parts.map { p -> Int in
                guard let v = Int(p), v >= 1, v <= maxDimension else {
                    throw BenchInputError("\(option): '\(item)': '\(p)' is not a size in 1…\(maxDimension)")
                }
                return v
            }
            return GemmShape(m: dims[0], n: dims[1], k: dims[2])
        }
    }

    /// `"reference,simd,blas"` → backends, in the order given, duplicates dropped.
    public static func backends(_ text: String, option: String = "--backend") throws -> [KernelBackend] {
        try names(text, option: option, kind: "backend")
    }

    /// Items of a comma list that each name a case of `T` (lowercased), in order, duplicates dropped.
    static func names<T: CaseIterable & RawRepresentable & Equatable>(_ text: String, option: String, kind: String) throws -> [T]
    where T.RawValue == String {
        let known = T.allCases.map(\.rawValue).joined(separator: ", ")
        return unique(try items(text, option: option).map { item in
            guard let v = T(rawValue: item.lowercased()) else { throw BenchInputError("\(option): unknown \(kind) '\(item)' (known: \(known))") }
            return v
        })
    }

    /// `"simd,blas,int8"` → the fp32 backend list without `int8`, and whether `int8` was in it
    /// (the int8 GEMM row of `bench --gemm`, GemmBenchmark+Int8.swift).
    public static func splittingInt8(_ text: String) -> (fp32: String, int8: Bool) {
        let items = text.split(separator: ",", omittingEmptySubsequences: false).map(String.init)
        let isInt8 = { (s: String) in s.filter { $0 != " " }.lowercased() == "int8" }
        return (items.filter { !isInt8($0) }.joined(separator: ","), items.contains(where: isInt8))
    }

    /// `"fp32,int8"` → precisions, in the order given, duplicates dropped.
    public static func precisions(_ text: String, option: String = "--precision") throws -> [Precision] {
        try names(text, option: option, kind: "precision")
    }

    /// `"0,0.5,0.9"` → sparsities, each in [0, 1).
    public static func sparsities(_ text: String, option: String = "--prune") throws -> [Double] {
        unique(try items(text, option: option).map { item in
            guard let v = Double(item), v >= 0, v < 1 else { throw BenchInputError("\(option): '\(item)' is not a sparsity in [0, 1)") }
            return v
        })
    }

    /// `"1,2"` → thread counts in 1…`maxThreads`.
    public static func threads(_ text: String, option: String = "--threads") throws -> [Int] {
        unique(try items(text, option: option).map { item in
            guard let t = Int(item), t >= 1, t <= maxThreads else {
                throw BenchInputError("\(option): '\(item)' is not a thread count in 1…\(maxThreads)")
            }
            return t
        })
    }

    /// `"nn,nt,tn"` → layouts (A then B, n = as stored, t = transposed).
    public static func layouts(_ text: String, option: String = "--layout") throws -> [GemmLayout] {
        unique(try items(text, option: option).map { item in
            guard let l = GemmLayout(rawValue: item.lowercased()) else {
                throw BenchInputError("\(option): unknown layout '\(item)' (known: nn, nt, tn, tt)")
            }
            return l
        })
    }

    /// `"single,server"` → load scenarios.
    public static func scenarios(_ text: String, option: String = "--scenario") throws -> [LoadScenario] {
        try names(text, option: option, kind: "scenario")
    }

    /// `"1,8,32"` → integers in `range`.
    public static func integers(_ text: String, option: String, range: ClosedRange<Int>) throws -> [Int] {
        unique(try items(text, option: option).map { item in
            guard let v = Int(item), range.contains(v) else {
                throw BenchInputError("\(option): '\(item)' is not an integer in \(range.lowerBound)…\(range.upperBound)")
            }
            return v
        })
    }

    /// `"0.5,2"` → numbers in `range` (`open` excludes its lower end: a rate or bound of 0).
    public static func numbers(_ text: String, option: String, range: ClosedRange<Double>, openBelow: Bool = false) throws -> [Double] {
        unique(try items(text, option: option).map { item in
            guard let v = Double(item), v.isFinite, range.contains(v), !(openBelow && v == range.lowerBound) else {
                func n(_ x: Double) -> String { x == x.rounded() ? Format.grouped(Int(x)) : Format.fixed(x, 3) }
                let low = openBelow ? "(\(n(range.lowerBound))" : "[\(n(range.lowerBound))"
                throw BenchInputError("\(option): '\(item)' is not a number in \(low), \(n(range.upperBound))]")
            }
            return v
        })
    }

    /// `"off,on"` → booleans.
    public static func switches(_ text: String, option: String) throws -> [Bool] {
        unique(try items(text, option: option).map { item in
            switch item.lowercased() {
            case "on", "1", "true": return true
            case "off", "0", "false": return false
            default: throw BenchInputError("\(option): '\(item)' is not on or off")
            }
        })
    }

    /// Comma-separated, trimmed, non-empty items.
    static func items(_ text: String, option: String) throws -> [String] {
        let raw = text.split(separator: ",", omittingEmptySubsequences: false)
            .map { $0.trimmingSpaces() }
        guard !raw.isEmpty, raw.allSatisfy({ !$0.isEmpty }) else {
            throw BenchInputError("\(option): empty item in '\(text)' (expected a comma-separated list)")
        }
        return raw
    }

    static func unique<T: Equatable>(_ xs: [T]) -> [T] {
        var out: [T] = []
        for x in xs where !out.contains(x) { out.append(x) }
        return out
    }
}

private extension Substring {
    func trimmingSpaces() -> String {
        var s = self[...]
        while s.first == " " { s = s.dropFirst() }
        while s.last == " " { s = s.dropLast() }
        return String(s)
    }
}
