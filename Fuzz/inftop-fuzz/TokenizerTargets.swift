import InftopEngine

/// Tokenizer files and the text they tokenize.
enum TokenizerTargets {
    /// `WordPieceTokenizer.load(directory:)` over a vocab.txt (the input up to its first NUL),
    /// then the rest of the input encoded, mapped back to tokens and batched.
    static func wordPiece(_ input: UnsafeRawBufferPointer) {
        let cut = input.firstIndex(of: 0) ?? input.count
        _ = Scratch.write(UnsafeRawBufferPointer(rebasing: input[..<cut]), name: "vocab.txt")
        guard let tokenizer = try? WordPieceTokenizer.load(directory: Scratch.directory) else { return }
        let text = String(decoding: input[min(cut + 1, input.count)...], as: UTF8.self)
        let ids = tokenizer.encode(text)
        _ = tokenizer.tokens(ids + [-1, tokenizer.vocabSize])
        _ = tokenizer.batch([text, "", text], padTo: 8)
    }

    /// Byte-level BPE: token lines, a `#merges` line, merge lines, a `#text` line, then text.
    /// The tokens and merges are written into a GGUF (`tokenizer.ggml.*`, as llama.cpp writes
    /// them; tokens starting `<|` are control tokens), read back through `GGUFFile` and
    /// `BPETokenizer`, and the text is encoded (with and without special tokens) and decoded.
    static func bpe(_ input: UnsafeRawBufferPointer) {
        let text = String(decoding: input, as: UTF8.self)
        var tokens: [String] = [], merges: [String] = [], body = ""
        var section = 0
        var lines = text.split(separator: "\n", omittingEmptySubsequences: false)[...]
        while let line = lines.popFirst() {
            if section == 0, line == "#merges" { section = 1; continue }
            if section <= 1, line == "#text" { body = lines.joined(separator: "\n"); break }
            if section == 0 { tokens.append(String(line)) } else { merges.append(String(line)) }
        }
        var g = GGUFBytes()
        g.string("tokenizer.ggml.model", "gpt2")
        g.string("tokenizer.ggml.pre", "smollm")
        g.strings("tokenizer.ggml.tokens", tokens)
        g.strings("tokenizer.ggml.merges", merges)
        g.int32s("tokenizer.ggml.token_type", tokens.map { $0.hasPrefix("<|") ? 3 : 1 })
        g.uint32("tokenizer.ggml.eos_token_id", 0)
        let path = Scratch.write(g.file(), name: "tokenizer.gguf")
        guard let file = try? GGUFFile(path: path), let bpe = try? BPETokenizer(file: file) else { return }
        for special in [false, true] {
            let ids = bpe.encode(body, special: special)
            _ = bpe.decode(ids + [-1, Int32(tokens.count)], special: special)
            for id in ids.prefix(8) { _ = bpe.bytes(of: id, special: special); _ = bpe.isControl(id) }
        }
    }
}

/// A GGUF v3 file with metadata only (no tensors): the writer the BPE target needs.
struct GGUFBytes {
    private var entries: [UInt8] = []
    private var count: UInt64 = 0

    private mutating func u32(_ v: UInt32) { withUnsafeBytes(of: v.littleEndian) { entries += $0 } }
    private mutating func u64(_ v: UInt64) { withUnsafeBytes(of: v.littleEndian) { entries += $0 } }
    private mutating func str(_ s: String) { u64(UInt64(s.utf8.count)); entries += s.utf8 }
    private mutating func key(_ k: String, type: UInt32) { str(k); u32(type); count += 1 }

    mutating func string(_ k: String, _ v: String) { key(k, type: 8); str(v) }
    mutating func uint32(_ k: String, _ v: UInt32) { key(k, type: 4); u32(v) }
    mutating func strings(_ k: String, _ v: [String]) { key(k, type: 9); u32(8); u64(UInt64(v.count)); v.forEach { str($0) } }
    mutating func int32s(_ k: String, _ v: [Int32]) { key(k, type: 9); u32(5); u64(UInt64(v.count)); v.forEach { u32(UInt32(bitPattern: $0)) } }

    /// Magic, version 3, 0 tensors, the entries.
    func file() -> [UInt8] {
        var out: [UInt8] = Array("GGUF".utf8)
        withUnsafeBytes(of: UInt32(3).littleEndian) { out += $0 }
        withUnsafeBytes(of: UInt64(0).littleEndian) { out += $0 }
        withUnsafeBytes(of: count.littleEndian) { out += $0 }
        return out + entries
    }
}
