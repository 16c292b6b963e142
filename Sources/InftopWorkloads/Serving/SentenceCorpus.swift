import Foundation
import InftopEngine

/// The English sentences served to a text encoder: `Resources/sentences.txt`, 2 400 sentences
/// split from Debian's `fortunes` package (BSD licence; Resources/SENTENCES-SOURCE.md, made by
/// scripts/make-sentences.py).
public enum SentenceCorpus {
    /// The bundled sentences, in file order.
    /// - Throws: `EngineError.missing` when the resource is not next to the binary.
    public static func bundled() throws -> [String] {
        guard let url = Bundle.module.url(forResource: "sentences", withExtension: "txt") else {
            throw EngineError.missing(path: "sentences.txt", hint: "the bundled sentence corpus is not beside the binary (rebuild inftop)")
        }
        return try load(path: url.path)
    }

    /// One sentence per non-empty line of `path`.
    public static func load(path: String) throws -> [String] {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw EngineError.missing(path: path, hint: "a sentence file has one sentence per line")
        }
        let lines = String(decoding: data, as: UTF8.self).split(whereSeparator: \.isNewline).map(String.init).filter { !$0.isEmpty }
        guard !lines.isEmpty else { throw EngineError.badFile(path: path, reason: "no sentences") }
        return lines
    }
}
