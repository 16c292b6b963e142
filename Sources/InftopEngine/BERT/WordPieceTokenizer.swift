import Foundation

/// BERT's tokenizer from a model folder's `vocab.txt`, with Hugging Face `BertTokenizer`
/// semantics: special tokens written in the text ("[SEP]") are kept as such, the rest goes
/// through `BasicTokenizer` and then greedy longest-match-first WordPiece ("##" marks a
/// continuation; a word with no split into vocabulary pieces, or longer than 100 scalars,
/// becomes `[UNK]`). `encode` adds `[CLS]` … `[SEP]` and truncates to `maxLength`.
public struct WordPieceTokenizer: Sendable {
    public let basic: BasicTokenizer
    /// Sequence length limit including [CLS] and [SEP].
    public var maxLength: Int
    /// Words with more scalars than this become [UNK].
    public let maxCharsPerWord = 100

    /// Token strings by id (vocab.txt line order).
    public let idToToken: [String]
    /// Ids by token, keyed by Unicode scalars (Python compares code points, Swift's String
    /// equality would merge canonically equivalent spellings).
    private let vocab: [[Unicode.Scalar]: Int]
    /// Special tokens present in the vocabulary, longest first (matched in raw text).
    private let specials: [(scalars: [Unicode.Scalar], id: Int)]

    public let unkId: Int, clsId: Int, sepId: Int, padId: Int

    /// A tokenizer over `vocab` (one token per entry, the id is its index; a repeated token
    /// keeps its last index, as Hugging Face's `load_vocab`). Throws `EngineError.badFile`
    /// (naming `source`) when [UNK], [CLS], [SEP] or [PAD] is missing or `maxLength` < 2.
    public init(vocab tokens: [String], lowercase: Bool = true, stripAccents: Bool? = nil,
                tokenizeChineseChars: Bool = true, maxLength: Int = 512, source: String = "vocab") throws {
        var v: [[Unicode.Scalar]: Int] = [:]
        v.reserveCapacity(tokens.count)
        for (i, t) in tokens.enumerated() { v[Array(t.unicodeScalars)] = i }
        func id(_ t: String) throws -> Int {
            guard let i = v[Array(t.unicodeScalars)] else {
                throw EngineError.badFile(path: source, reason: "the vocabulary has no \(t) token")
            }
            return i
        }
        guard maxLength >= 2 else { throw EngineError.badFile(path: source, reason: "maximum length \(maxLength) leaves no room for [CLS] and [SEP]") }
        unkId = try id("[UNK]"); clsId = try id("[CLS]"); sepId = try id("[SEP]"); padId = try id("[PAD]")
        let specialNames = ["[UNK]", "[SEP]", "[PAD]", "[CLS]", "[MASK]"]
        specials = specialNames.compactMap { n in v[Array(n.unicodeScalars)].map { (Array(n.unicodeScalars), $0) } }
            .sorted { $0.0.count > $1.0.count }
        vocab = v
        idToToken = tokens
        self.maxLength = maxLength
        basic = BasicTokenizer(lowercase: lowercase, stripAccents: stripAccents, tokenizeChineseChars: tokenizeChineseChars,
                               neverSplit: Set(specialNames))
    }

    /// Loads `vocab.txt` and `tokenizer_config.json` (do_lower_case, default true; strip_accents;
    /// tokenize_chinese_chars) from a model folder. The maximum length is
    /// `sentence_bert_config.json`'s `max_seq_length` when present, else `maxPositions`.
    public static func load(directory: String, maxPositions: Int = 512) throws -> WordPieceTokenizer {
        let vocabPath = directory + "/vocab.txt"
        guard let data = FileManager.default.contents(atPath: vocabPath) else {
            throw EngineError.missing(path: vocabPath, hint: "a BERT model folder needs vocab.txt")
        }
        guard let text = String(data: data, encoding: .utf8) else {
            throw EngineError.badFile(path: vocabPath, reason: "not UTF-8 text")
        }
        // Python's readlines() + rstrip("\n") in universal-newline mode: "\r\n" and "\r" end lines too.
        var lines = text.replacingOccurrences(of: "\r\n", with: "\n").replacingOccurrences(of: "\r", with: "\n")
            .split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        if lines.last == "" { lines.removeLast() }
        guard !lines.isEmpty else { throw EngineError.badFile(path: vocabPath, reason: "empty vocabulary") }

        var lowercase = true, strip: Bool? = nil, chinese = true
        let tcPath = directory + "/tokenizer_config.json"
        if let d = FileManager.default.contents(atPath: tcPath) {
            guard let obj = (try? JSONSerialization.jsonObject(with: d)) as? [String: Any] else {
                throw EngineError.badFile(path: tcPath, reason: "not a JSON object")
            }
            if let b = obj["do_lower_case"] as? Bool { lowercase = b }
            if let b = obj["strip_accents"] as? Bool { strip = b }
            if let b = obj["tokenize_chinese_chars"] as? Bool { chinese = b }
        }
        var maxLen = maxPositions
        let sbPath = directory + "/sentence_bert_config.json"
        if let d = FileManager.default.contents(atPath: sbPath) {
            guard let obj = (try? JSONSerialization.jsonObject(with: d)) as? [String: Any] else {
                throw EngineError.badFile(path: sbPath, reason: "not a JSON object")
            }
            if let n = obj["max_seq_length"] as? Int {
                guard n >= 2 else { throw EngineError.badFile(path: sbPath, reason: "max_seq_length \(n) is below 2") }
                maxLen = min(n, maxPositions)
            }
        }
        return try WordPieceTokenizer(vocab: lines, lowercase: lowercase, stripAccents: strip,
                                      tokenizeChineseChars: chinese, maxLength: maxLen, source: vocabPath)
    }

    /// Number of entries in vocab.txt (the largest id + 1).
    public var vocabSize: Int { idToToken.count }

    /// Token ids of `text` without [CLS]/[SEP] and without truncation.
    public func tokenIds(_ text: String) -> [Int] {
        var ids: [Int] = []
        for segment in splitOnSpecials(text) {
            switch segment {
            case .special(let id): ids.append(id)
            case .text(let t):
                for word in basic.tokenize(t) { wordPiece(word, into: &ids) }
            }
        }
        return ids
    }

    /// `[CLS] ids [SEP]`, the ids truncated so the whole fits in `maxLength`.
    public func encode(_ text: String) -> [Int] {
        let ids = tokenIds(text)
        return [clsId] + ids.prefix(maxLength - 2) + [sepId]
    }

    /// The token strings of ids (e.g. for showing wordpieces).
    public func tokens(_ ids: [Int]) -> [String] { ids.map { $0 >= 0 && $0 < idToToken.count ? idToToken[$0] : "[?]" } }

    /// Encodes texts and pads them into one batch (length of the longest, or `padTo` if larger).
    public func batch(_ texts: [String], padTo: Int = 0) -> TokenBatch {
        TokenBatch(sequences: texts.map(encode), padId: padId, padTo: padTo)
    }

    // MARK: internals

    private enum Segment { case text(String), special(Int) }

    /// Splits raw text at special tokens written in it ("a [SEP] b"), leftmost-longest first.
    private func splitOnSpecials(_ text: String) -> [Segment] {
        let s = Array(text.unicodeScalars)
        guard s.contains("[") else { return [.text(text)] }
        var out: [Segment] = []
        var start = 0, i = 0
        outer: while i < s.count {
            if s[i] == "[" {
                for sp in specials where i + sp.scalars.count <= s.count && Array(s[i..<(i + sp.scalars.count)]) == sp.scalars {
                    if start < i { out.append(.text(String(String.UnicodeScalarView(s[start..<i])))) }
                    out.append(.special(sp.id))
                    i += sp.scalars.count
                    start = i
                    continue outer
                }
            }
            i += 1
        }
        if start < s.count { out.append(.text(String(String.UnicodeScalarView(s[start..<s.count])))) }
        return out
    }

    /// Greedy longest-match-first WordPiece of one basic token.
    private func wordPiece(_ word: String, into ids: inout [Int]) {
        if basic.neverSplit.contains(word) {
            ids.append(vocab[Array(word.unicodeScalars)] ?? unkId)
            return
        }
        let chars = Array(word.unicodeScalars)
        if chars.count > maxCharsPerWord { ids.append(unkId); return }
        var pieces: [Int] = []
        var start = 0
        var key: [Unicode.Scalar] = []
        key.reserveCapacity(chars.count + 2)
        while start < chars.count {
            var end = chars.count
            var found: Int? = nil
            while start < end {
                key.removeAll(keepingCapacity: true)
                if start > 0 { key.append("#"); key.append("#") }
                key.append(contentsOf: chars[start..<end])
                if let id = vocab[key] { found = id; break }
                end -= 1
            }
            guard let id = found else { ids.append(unkId); return }
            pieces.append(id)
            start = end
        }
        ids.append(contentsOf: pieces)
    }
}

/// Token ids of several sequences padded to one length, as the encoder takes them.
public struct TokenBatch: Sendable, Equatable {
    /// Number of sequences.
    public let batch: Int
    /// Padded length of every sequence.
    public let seq: Int
    /// [batch × seq] token ids, row-major.
    public var ids: [Int32]
    /// [batch × seq] token type (segment) ids, 0 for single sentences.
    public var typeIds: [Int32]
    /// [batch × seq] 1 for a real token, 0 for padding.
    public var mask: [Int32]
    /// Real tokens per sequence.
    public let lengths: [Int]

    /// Pads `sequences` with `padId` to the longest (at least `padTo`, and at least 1).
    public init(sequences: [[Int]], padId: Int, padTo: Int = 0) {
        batch = sequences.count
        seq = max(1, padTo, sequences.map(\.count).max() ?? 0)
        ids = [Int32](repeating: Int32(padId), count: batch * seq)
        mask = [Int32](repeating: 0, count: batch * seq)
        typeIds = [Int32](repeating: 0, count: batch * seq)
        lengths = sequences.map(\.count)
        for (b, s) in sequences.enumerated() {
            for (t, id) in s.enumerated() {
                ids[b * seq + t] = Int32(truncatingIfNeeded: id)
                mask[b * seq + t] = 1
            }
        }
    }

    /// A batch from explicit arrays (each [batch × seq]); lengths count the mask's ones per row.
    public init(batch: Int, seq: Int, ids: [Int32], mask: [Int32], typeIds: [Int32]? = nil) {
        precondition(batch >= 0 && seq >= 1 && ids.count == batch * seq && mask.count == batch * seq,
                     "TokenBatch: ids/mask need \(batch)×\(seq) entries, got \(ids.count)/\(mask.count)")
        self.batch = batch
        self.seq = seq
        self.ids = ids
        self.mask = mask
        self.typeIds = typeIds ?? [Int32](repeating: 0, count: batch * seq)
        precondition(self.typeIds.count == batch * seq, "TokenBatch: typeIds needs \(batch)×\(seq) entries")
        lengths = (0..<batch).map { b in (0..<seq).reduce(0) { $0 + (mask[b * seq + $1] != 0 ? 1 : 0) } }
    }
}
