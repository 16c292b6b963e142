/// GPT-2-style byte-level BPE from a GGUF file's `tokenizer.ggml.*` metadata: the token strings
/// (bytes mapped to printable code points, `Ġ` for a space), merges by rank, token types
/// (control tokens such as `<|im_start|>`), and the declared pre-tokenizer. Matches
/// llama.cpp's `llama_tokenize` (tested against ids llama.cpp wrote).
public final class BPETokenizer: @unchecked Sendable {
    public let tokens: [String]
    /// Token type per id (1 normal, 3 control, 4 user-defined, …; llama.cpp's numbering).
    public let types: [Int]
    public let preTokenizer: PreTokenizer
    public let bos: Int32?
    public let eos: Int32?
    public let addBOS: Bool
    private let ids: [String: Int32]
    private let ranks: [String: Int]
    /// Control and user-defined tokens by text, longest first (what `special` parsing splits on).
    private let specials: [(text: [UInt8], id: Int32, control: Bool)]
    private let byteToChar: [Character]
    private var charToByte: [Character: UInt8] = [:]
    private var cache: [String: [Int32]] = [:]

    /// - Throws: `EngineError.badFile` naming what is missing or not supported.
    public init(file: GGUFFile) throws {
        let path = file.path
        guard let model = file["tokenizer.ggml.model"]?.string else { throw EngineError.badFile(path: path, reason: "no tokenizer.ggml.model in the metadata") }
        guard model == "gpt2" else { throw EngineError.badFile(path: path, reason: "tokenizer model '\(model)' is not supported (inftop reads byte-level BPE, 'gpt2')") }
        let pre = file["tokenizer.ggml.pre"]?.string ?? "default"
        guard let p = PreTokenizer.named(pre) else { throw EngineError.badFile(path: path, reason: "pre-tokenizer '\(pre)' is not supported (inftop knows gpt2, smollm, starcoder, refact)") }
        preTokenizer = p
        guard let toks = file["tokenizer.ggml.tokens"]?.array, !toks.isEmpty else { throw EngineError.badFile(path: path, reason: "no tokenizer.ggml.tokens in the metadata") }
        tokens = try toks.map { v in guard let s = v.string else { throw EngineError.badFile(path: path, reason: "tokenizer.ggml.tokens holds a non-string") }; return s }
        let typeValues = file["tokenizer.ggml.token_type"]?.array ?? []
        let tokenTypes = toks.indices.map { i in i < typeValues.count ? (typeValues[i].int ?? 1) : 1 }
        types = tokenTypes
        var idMap: [String: Int32] = [:]
        idMap.reserveCapacity(tokens.count)
        for (i, t) in tokens.enumerated() where idMap[t] == nil { idMap[t] = Int32(i) }
        ids = idMap
        guard let merges = file["tokenizer.ggml.merges"]?.array else { throw EngineError.badFile(path: path, reason: "no tokenizer.ggml.merges in the metadata") }
        var r: [String: Int] = [:]
        r.reserveCapacity(merges.count)
        for (i, m) in merges.enumerated() { if let s = m.string, r[s] == nil { r[s] = i } }
        ranks = r
        func tokenID(_ key: String) -> Int32? {
            guard let v = file[key]?.int, v >= 0, v < toks.count else { return nil }
            return Int32(v)
        }
        bos = tokenID("tokenizer.ggml.bos_token_id")
        eos = tokenID("tokenizer.ggml.eos_token_id")
        addBOS = file["tokenizer.ggml.add_bos_token"]?.bool ?? false
        let strings = tokens
        specials = strings.indices.filter { tokenTypes[$0] == 3 || tokenTypes[$0] == 4 }
            .map { (Array(strings[$0].utf8), Int32($0), tokenTypes[$0] == 3) }
            .sorted { $0.text.count > $1.text.count }
        byteToChar = Self.bytesToUnicode()
        for (b, c) in byteToChar.enumerated() { charToByte[c] = UInt8(b) }
    }

    /// GPT-2's reversible byte → printable code point map.
    static func bytesToUnicode() -> [Character] {
        var map = [Character](repeating: " ", count: 256)
        var n: UInt32 = 0
        for b in 0..<256 {
            let printable = (33...126).contains(b) || (161...172).contains(b) || (174...255).contains(b)
            if printable { map[b] = Character(Unicode.Scalar(UInt32(b))!) } else { map[b] = Character(Unicode.Scalar(256 + n)!); n += 1 }
        }
        return map
    }

    /// Token ids of `text` (no BOS unless the file asks for it, as llama.cpp with add_special).
    /// With `special`, control tokens written in the text (`<|im_start|>`) become their ids;
    /// user-defined tokens always do (llama.cpp's rule).
    public func encode(_ text: String, special: Bool = false) -> [Int32] {
        var out: [Int32] = []
        if addBOS, let bos { out.append(bos) }
        let bytes = Array(text.utf8)
        var start = 0, i = 0
        let active = specials.filter { special || !$0.control }
        while i < bytes.count {
            var matched: (text: [UInt8], id: Int32, control: Bool)?
            if !active.isEmpty {
                for s in active where s.text.count <= bytes.count - i && bytes[i] == s.text[0] {
                    if bytes[i..<(i + s.text.count)].elementsEqual(s.text) { matched = s; break }
                }
            }
            if let m = matched {
                if start < i { encodePlain(bytes[start..<i], into: &out) }
                out.append(m.id)
                i += m.text.count
                start = i
            } else {
                i += 1
            }
        }
        if start < bytes.count { encodePlain(bytes[start...], into: &out) }
        return out
    }

    private func encodePlain(_ bytes: ArraySlice<UInt8>, into out: inout [Int32]) {
        let text = String(decoding: bytes, as: UTF8.self)
        for piece in preTokenizer.split(text) {
            var word = ""
            for b in String(String.UnicodeScalarView(piece)).utf8 { word.append(byteToChar[Int(b)]) }
            if let hit = cache[word] { out += hit; continue }
            let ids = bpe(word)
            if cache.count < 100_000 { cache[word] = ids }
            out += ids
        }
    }

    /// Merges the symbols of one byte-mapped word by rank (lowest first), then maps them to ids.
    private func bpe(_ word: String) -> [Int32] {
        var syms = word.map { String($0) }
        while syms.count > 1 {
            var best = Int.max, at = -1
            for j in 0..<(syms.count - 1) {
                if let r = ranks[syms[j] + " " + syms[j + 1]], r < best { best = r; at = j }
            }
            if at < 0 { break }
            let a = syms[at], b = syms[at + 1]
            var merged: [String] = []
            merged.reserveCapacity(syms.count)
            var j = 0
            while j < syms.count {
                if j + 1 < syms.count && syms[j] == a && syms[j + 1] == b { merged.append(a + b); j += 2 } else { merged.append(syms[j]); j += 1 }
            }
            syms = merged
        }
        var out: [Int32] = []
        for s in syms {
            if let id = ids[s] { out.append(id); continue }
            for c in s { if let id = ids[String(c)] { out.append(id) } }
        }
        return out
    }

    /// Whether `id` is a control token (not text; `decode` leaves it out unless `special`).
    public func isControl(_ id: Int32) -> Bool { id >= 0 && Int(id) < types.count && types[Int(id)] == 3 }

    /// The bytes token `id` stands for (control tokens: their text when `special`, else none).
    public func bytes(of id: Int32, special: Bool = false) -> [UInt8] {
        guard id >= 0, Int(id) < tokens.count else { return [] }
        let t = tokens[Int(id)]
        if types[Int(id)] == 3 || types[Int(id)] == 4 { return special || types[Int(id)] == 4 ? Array(t.utf8) : [] }
        var out: [UInt8] = []
        for c in t { if let b = charToByte[c] { out.append(b) } else { out += Array(String(c).utf8) } }
        return out
    }

    /// The text of `ids` (invalid UTF-8 replaced).
    public func decode(_ ids: [Int32], special: Bool = false) -> String {
        String(decoding: ids.flatMap { bytes(of: $0, special: special) }, as: UTF8.self)
    }
}
