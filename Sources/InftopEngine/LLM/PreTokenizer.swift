/// Splits text into the pieces byte-level BPE merges within, as llama.cpp does for the
/// pre-tokenizer a GGUF file declares (`tokenizer.ggml.pre`): for `smollm` (and starcoder, refact, …)
/// first every numeric code point on its own (`\p{N}`), then GPT-2's pattern
/// `'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)` inside each piece;
/// for `gpt2` / `default` only the GPT-2 pattern. Hand-written scanners, not a regex engine, with
/// Unicode categories from the standard library (L*, N*, White_Space).
public struct PreTokenizer: Sendable, Equatable {
    public enum Kind: String, Sendable { case gpt2, digitsThenGPT2 }
    public let kind: Kind

    /// The pre-tokenizer names inftop knows, by `tokenizer.ggml.pre`.
    public static func named(_ name: String) -> PreTokenizer? {
        switch name {
        case "gpt2", "default", "gpt-2": PreTokenizer(kind: .gpt2)
        case "smollm", "starcoder", "refact", "codeshell", "command-r", "exaone", "minerva-7b": PreTokenizer(kind: .digitsThenGPT2)
        default: nil
        }
    }

    public init(kind: Kind) { self.kind = kind }

    /// The pieces of `text`, as arrays of Unicode scalars.
    public func split(_ text: String) -> [[Unicode.Scalar]] {
        let cps = Array(text.unicodeScalars)
        var out: [[Unicode.Scalar]] = []
        switch kind {
        case .gpt2: Self.gpt2(cps[...], into: &out)
        case .digitsThenGPT2:
            var start = 0
            for (i, c) in cps.enumerated() where Self.flags(c) == .number {
                if start < i { Self.gpt2(cps[start..<i], into: &out) }
                out.append([c])
                start = i + 1
            }
            if start < cps.count { Self.gpt2(cps[start...], into: &out) }
        }
        return out
    }

    enum Class { case letter, number, space, other, undefined }

    static func flags(_ c: Unicode.Scalar) -> Class {
        if c.properties.isWhitespace { return .space }
        switch c.properties.generalCategory {
        case .uppercaseLetter, .lowercaseLetter, .titlecaseLetter, .modifierLetter, .otherLetter: return .letter
        case .decimalNumber, .letterNumber, .otherNumber: return .number
        case .unassigned: return .undefined
        default: return .other
        }
    }

    /// llama.cpp's hand-written GPT-2 split (unicode_regex_split_custom_gpt2) over one piece.
    static func gpt2(_ s: ArraySlice<Unicode.Scalar>, into out: inout [[Unicode.Scalar]]) {
        let lo = s.startIndex, hi = s.endIndex
        var pos = lo, start = lo
        func cls(_ i: Int) -> Class? { i < hi ? flags(s[i]) : nil }
        func emit(_ end: Int) { if end > start { out.append(Array(s[start..<end])) }; start = end; pos = end }
        while pos < hi {
            let c = s[pos]
            if c == "'" && pos + 1 < hi {
                let n = s[pos + 1]
                if n == "s" || n == "t" || n == "m" || n == "d" { emit(pos + 2); continue }
                if pos + 2 < hi {
                    let nn = s[pos + 2]
                    if (n == "r" && nn == "e") || (n == "v" && nn == "e") || (n == "l" && nn == "l") { emit(pos + 3); continue }
                }
            }
            let c2 = c == " " ? cls(pos + 1) : cls(pos)
            let lead = c == " " ? 1 : 0
            if c2 == .letter {
                var p = pos + lead
                while cls(p) == .letter { p += 1 }
                emit(p); continue
            }
            if c2 == .number {
                var p = pos + lead
                while cls(p) == .number { p += 1 }
                emit(p); continue
            }
            if let k = c2, k == .other {
                var p = pos + lead
                while cls(p) == .other { p += 1 }
                emit(p); continue
            }
            var spaces = 0
            while cls(pos + spaces) == .space { spaces += 1 }
            if spaces > 1 && pos + spaces < hi { emit(pos + spaces - 1); continue }
            if spaces > 0 { emit(pos + spaces); continue }
            emit(pos + 1)
        }
    }
}
