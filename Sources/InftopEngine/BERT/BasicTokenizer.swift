import Foundation

/// BERT's basic tokenization, with Hugging Face's (slow, Python) `BasicTokenizer` semantics:
/// clean the text (drop NUL, U+FFFD and control/format characters; every whitespace character
/// becomes a space), put spaces around CJK ideographs, NFC-normalise, split on whitespace,
/// lower-case (with Python's final-sigma rule) and strip accents (NFD, drop Mn) when asked, then
/// split every punctuation character into a token of its own.
///
/// Works on Unicode scalars (Python code points), never on Swift's grapheme clusters.
public struct BasicTokenizer: Sendable {
    public var lowercase: Bool
    /// nil: strip accents exactly when lower-casing (as the original BERT).
    public var stripAccents: Bool?
    public var tokenizeChineseChars: Bool
    /// Tokens kept whole (not lower-cased, not split on punctuation), e.g. "[UNK]".
    public var neverSplit: Set<String>

    public init(lowercase: Bool = true, stripAccents: Bool? = nil, tokenizeChineseChars: Bool = true, neverSplit: Set<String> = []) {
        self.lowercase = lowercase
        self.stripAccents = stripAccents
        self.tokenizeChineseChars = tokenizeChineseChars
        self.neverSplit = neverSplit
    }

    /// The basic tokens of `text` (each non-empty, no whitespace in it).
    public func tokenize(_ text: String) -> [String] {
        var cleaned = String.UnicodeScalarView()
        for s in text.unicodeScalars {
            if s.value == 0 || s.value == 0xFFFD || BasicTokenizer.isControl(s) { continue }
            if BasicTokenizer.isWhitespace(s) {
                cleaned.append(" ")
            } else if tokenizeChineseChars && BasicTokenizer.isChineseChar(s) {
                cleaned.append(" "); cleaned.append(s); cleaned.append(" ")
            } else {
                cleaned.append(s)
            }
        }
        // NFC so that the same character written with different code points is one token.
        let normalized = String(cleaned).precomposedStringWithCanonicalMapping
        var out: [String] = []
        for word in BasicTokenizer.whitespaceSplit(normalized.unicodeScalars) {
            var token = String(String.UnicodeScalarView(word))
            if neverSplit.contains(token) { out.append(token); continue }
            if lowercase {
                token = BasicTokenizer.lowercased(token)
                if stripAccents != false { token = BasicTokenizer.strippingAccents(token) }
            } else if stripAccents == true {
                token = BasicTokenizer.strippingAccents(token)
            }
            BasicTokenizer.splitOnPunctuation(token, into: &out)
        }
        return out
    }

    // MARK: character classes (as transformers' _is_whitespace, _is_control, _is_punctuation)

    /// Space, tab, newline, carriage return, or a space separator (Zs).
    public static func isWhitespace(_ s: Unicode.Scalar) -> Bool {
        if s == " " || s == "\t" || s == "\n" || s == "\r" { return true }
        return s.properties.generalCategory == .spaceSeparator
    }

    /// A control, format, surrogate, private-use or unassigned scalar (category C*), except tab,
    /// newline and carriage return (those count as whitespace).
    public static func isControl(_ s: Unicode.Scalar) -> Bool {
        if s == "\t" || s == "\n" || s == "\r" { return false }
        switch s.properties.generalCategory {
        case .control, .format, .surrogate, .privateUse, .unassigned: return true
        default: return false
        }
    }

    /// ASCII non-alphanumerics (33–47, 58–64, 91–96, 123–126, e.g. "$", "^", "`") or category P*.
    public static func isPunctuation(_ s: Unicode.Scalar) -> Bool {
        let v = s.value
        if (33...47).contains(v) || (58...64).contains(v) || (91...96).contains(v) || (123...126).contains(v) { return true }
        switch s.properties.generalCategory {
        case .connectorPunctuation, .dashPunctuation, .openPunctuation, .closePunctuation,
             .initialPunctuation, .finalPunctuation, .otherPunctuation: return true
        default: return false
        }
    }

    /// A CJK Unified Ideograph (the blocks BERT splits into single-character words; not Hangul, kana).
    public static func isChineseChar(_ s: Unicode.Scalar) -> Bool {
        switch s.value {
        case 0x4E00...0x9FFF, 0x3400...0x4DBF, 0x20000...0x2A6DF, 0x2A700...0x2B73F,
             0x2B740...0x2B81F, 0x2B820...0x2CEAF, 0xF900...0xFAFF, 0x2F800...0x2FA1F: return true
        default: return false
        }
    }

    /// Python's `str.isspace` (what `str.split()` splits on): Zs plus the bidi whitespace,
    /// paragraph and segment separators (tab, LF, VT, FF, CR, U+001C–U+001F, U+0085, U+2028, U+2029).
    static func isPythonSpace(_ s: Unicode.Scalar) -> Bool {
        switch s.value {
        case 0x09...0x0D, 0x1C...0x20, 0x85, 0x2028, 0x2029: return true
        default: return s.properties.generalCategory == .spaceSeparator
        }
    }

    /// Python's `text.split()`: runs of scalars between whitespace, empties dropped.
    static func whitespaceSplit(_ text: String.UnicodeScalarView) -> [[Unicode.Scalar]] {
        var words: [[Unicode.Scalar]] = []
        var cur: [Unicode.Scalar] = []
        for s in text {
            if isPythonSpace(s) {
                if !cur.isEmpty { words.append(cur); cur.removeAll(keepingCapacity: true) }
            } else {
                cur.append(s)
            }
        }
        if !cur.isEmpty { words.append(cur) }
        return words
    }

    /// Python's `str.lower()`: full lower-case mappings, and capital sigma becomes final sigma (ς)
    /// at the end of a word (Swift's `lowercased()` does not apply that rule).
    static func lowercased(_ token: String) -> String {
        let scalars = Array(token.unicodeScalars)
        var out = String.UnicodeScalarView()
        for (i, s) in scalars.enumerated() {
            if s.value == 0x3A3 {
                out.append(isFinalSigma(scalars, i) ? "\u{3C2}" : "\u{3C3}")
            } else if s.properties.changesWhenLowercased {
                out.append(contentsOf: s.properties.lowercaseMapping.unicodeScalars)
            } else {
                out.append(s)
            }
        }
        return String(out)
    }

    /// CPython's `handle_capital_sigma`: cased (case-ignorable)* Σ not followed by (case-ignorable)* cased.
    private static func isFinalSigma(_ s: [Unicode.Scalar], _ i: Int) -> Bool {
        var j = i - 1
        while j >= 0 && s[j].properties.isCaseIgnorable { j -= 1 }
        guard j >= 0 && s[j].properties.isCased else { return false }
        j = i + 1
        while j < s.count && s[j].properties.isCaseIgnorable { j += 1 }
        return j == s.count || !s[j].properties.isCased
    }

    /// NFD, then drop non-spacing marks (Mn): "café" → "cafe".
    static func strippingAccents(_ token: String) -> String {
        var out = String.UnicodeScalarView()
        for s in token.decomposedStringWithCanonicalMapping.unicodeScalars where s.properties.generalCategory != .nonspacingMark {
            out.append(s)
        }
        return String(out)
    }

    /// Appends the pieces of `token`: each punctuation scalar alone, runs of others together.
    static func splitOnPunctuation(_ token: String, into out: inout [String]) {
        var cur = String.UnicodeScalarView()
        for s in token.unicodeScalars {
            if isPunctuation(s) {
                if !cur.isEmpty { out.append(String(cur)); cur = String.UnicodeScalarView() }
                out.append(String(String.UnicodeScalarView([s])))
            } else {
                cur.append(s)
            }
        }
        if !cur.isEmpty { out.append(String(cur)) }
    }
}
