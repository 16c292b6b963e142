import Foundation
import InftopEngine
import XCTest

/// The BERT tokenizer against Hugging Face's (Fixtures/tokenizer_cases.json, written by
/// Fixtures/make_tokenizer_cases.py with transformers' pure-Python BertTokenizer on the
/// all-MiniLM-L6-v2 vocab.txt, copied to Fixtures/minilm_vocab.txt), plus hand-checked cases.
final class WordPieceTokenizerTests: XCTestCase {
    struct Cases: Decodable {
        struct Case: Decodable { let text: String; let ids: [Int] }
        struct Long: Decodable { let text: String; let max_length: Int; let ids: [Int]; let untruncated_count: Int }
        let cases: [Case]
        let long: Long
    }

    static func fixture(_ name: String) throws -> URL {
        try XCTUnwrap(Bundle.module.url(forResource: "Fixtures/" + name, withExtension: nil))
    }

    static func vocab() throws -> [String] {
        let text = try String(contentsOf: fixture("minilm_vocab.txt"), encoding: .utf8)
        var lines = text.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        if lines.last == "" { lines.removeLast() }
        return lines
    }

    func tokenizer(maxLength: Int = 512) throws -> WordPieceTokenizer {
        try WordPieceTokenizer(vocab: Self.vocab(), lowercase: true, maxLength: maxLength)
    }

    func testMatchesHuggingFaceOnEdgeCases() throws {
        let tok = try tokenizer()
        let cases = try JSONDecoder().decode(Cases.self, from: Data(contentsOf: Self.fixture("tokenizer_cases.json")))
        XCTAssertGreaterThan(cases.cases.count, 40)
        for c in cases.cases {
            XCTAssertEqual(tok.encode(c.text), c.ids, "text: \(c.text.debugDescription) → \(tok.tokens(tok.encode(c.text)))")
        }
    }

    func testTruncatesToMaxLength() throws {
        let cases = try JSONDecoder().decode(Cases.self, from: Data(contentsOf: Self.fixture("tokenizer_cases.json")))
        let tok = try tokenizer(maxLength: cases.long.max_length)
        let ids = tok.encode(cases.long.text)
        XCTAssertEqual(ids.count, 256)
        XCTAssertEqual(ids, cases.long.ids)
        XCTAssertEqual(ids.last, tok.sepId)
        XCTAssertEqual(try tokenizer().tokenIds(cases.long.text).count + 2, cases.long.untruncated_count)
    }

    func testBasicTokenizerRules() {
        let lower = BasicTokenizer()
        XCTAssertEqual(lower.tokenize("Héllo, WORLD!"), ["hello", ",", "world", "!"])
        XCTAssertEqual(lower.tokenize(""), [])
        XCTAssertEqual(lower.tokenize(" \t\n "), [])
        XCTAssertEqual(lower.tokenize("a\u{0}b\u{7}c\u{200B}d"), ["abcd"], "NUL, BEL and zero-width space are removed")
        XCTAssertEqual(lower.tokenize("x\u{3000}y\u{A0}z"), ["x", "y", "z"], "Zs is whitespace")
        XCTAssertEqual(lower.tokenize("中文abc"), ["中", "文", "abc"])
        XCTAssertEqual(lower.tokenize("$5^`~"), ["$", "5", "^", "`", "~"], "ASCII symbols count as punctuation")
        XCTAssertEqual(lower.tokenize("«a»—b"), ["«", "a", "»", "—", "b"])
        XCTAssertEqual(lower.tokenize("\u{39F}\u{394}\u{39F}\u{3A3} \u{3A3}"), ["\u{3BF}\u{3B4}\u{3BF}\u{3C2}", "\u{3C3}"], "final sigma as Python's str.lower")
        XCTAssertEqual(BasicTokenizer(neverSplit: ["[UNK]"]).tokenize("[UNK] x"), ["[UNK]", "x"], "never-split tokens stay whole")
        XCTAssertEqual(lower.tokenize("[UNK]"), ["[", "unk", "]"])

        let cased = BasicTokenizer(lowercase: false)
        XCTAssertEqual(cased.tokenize("Héllo, WORLD!"), ["Héllo", ",", "WORLD", "!"])
        XCTAssertEqual(cased.tokenize("e\u{301}"), ["\u{E9}"], "NFC joins the accent")
        let stripOnly = BasicTokenizer(lowercase: false, stripAccents: true)
        XCTAssertEqual(stripOnly.tokenize("Héllo"), ["Hello"])
        let keepAccents = BasicTokenizer(lowercase: true, stripAccents: false)
        XCTAssertEqual(keepAccents.tokenize("Héllo"), ["héllo"])
        let noCJK = BasicTokenizer(tokenizeChineseChars: false)
        XCTAssertEqual(noCJK.tokenize("中文abc"), ["中文abc"])
    }

    func testWordPieceRules() throws {
        let tok = try WordPieceTokenizer(vocab: ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "un", "##aff", "##able", "a", "##a", "##aa"],
                                         maxLength: 8)
        XCTAssertEqual(tok.tokens(tok.tokenIds("unaffable")), ["un", "##aff", "##able"])
        XCTAssertEqual(tok.tokens(tok.tokenIds("unaffablex")), ["[UNK]"], "no split → the whole word is [UNK]")
        XCTAssertEqual(tok.tokens(tok.tokenIds("aaaaa")), ["a", "##aa", "##aa"], "greedy longest match")
        XCTAssertEqual(tok.tokenIds(String(repeating: "a", count: 100)).count, 51, "a + 49 × ##aa + ##a")
        XCTAssertEqual(tok.tokens(tok.tokenIds(String(repeating: "a", count: 101))), ["[UNK]"], "over 100 scalars → [UNK]")
        XCTAssertEqual(tok.encode(""), [2, 3])
        XCTAssertEqual(tok.encode("a a a a a a a a a"), [2, 7, 7, 7, 7, 7, 7, 3], "truncated to 8 with [SEP] kept")
        XCTAssertEqual(tok.encode("a [SEP] a"), [2, 7, 3, 7, 3], "special tokens in text are kept")
        XCTAssertThrowsError(try WordPieceTokenizer(vocab: ["[PAD]", "[CLS]", "[SEP]"], source: "v.txt")) { e in
            XCTAssertEqual("\(e)", "v.txt: the vocabulary has no [UNK] token")
        }
    }

    func testBatchPadsAndMasks() throws {
        let tok = try tokenizer()
        let b = tok.batch(["Hello world.", "", "The cat sat on the mat."])
        XCTAssertEqual(b.batch, 3)
        XCTAssertEqual(b.seq, 9)
        XCTAssertEqual(b.lengths, [5, 2, 9])
        XCTAssertEqual(Array(b.ids[0..<9]), [101, 7592, 2088, 1012, 102, 0, 0, 0, 0].map(Int32.init))
        XCTAssertEqual(Array(b.mask[0..<9]), [1, 1, 1, 1, 1, 0, 0, 0, 0])
        XCTAssertEqual(Array(b.ids[9..<18]), [101, 102, 0, 0, 0, 0, 0, 0, 0].map(Int32.init))
        XCTAssertEqual(b.typeIds, [Int32](repeating: 0, count: 27))
        XCTAssertEqual(tok.batch(["a"], padTo: 6).seq, 6)
    }

    func testLoadsFolderSettings() throws {
        let dir = makeTempDir("tok")
        defer { removeTree(dir) }
        try (["[PAD]", "[UNK]", "[CLS]", "[SEP]", "Hello", "hello"].joined(separator: "\r\n") + "\r\n")
            .write(toFile: dir + "/vocab.txt", atomically: true, encoding: .utf8)
        var tok = try WordPieceTokenizer.load(directory: dir, maxPositions: 64)
        XCTAssertEqual(tok.maxLength, 64)
        XCTAssertEqual(tok.vocabSize, 6)
        XCTAssertEqual(tok.encode("HELLO"), [2, 5, 3], "lower-cases by default")
        try #"{"do_lower_case": false}"#.write(toFile: dir + "/tokenizer_config.json", atomically: true, encoding: .utf8)
        try #"{"max_seq_length": 16, "do_lower_case": false}"#.write(toFile: dir + "/sentence_bert_config.json", atomically: true, encoding: .utf8)
        tok = try WordPieceTokenizer.load(directory: dir, maxPositions: 64)
        XCTAssertEqual(tok.encode("Hello"), [2, 4, 3])
        XCTAssertEqual(tok.maxLength, 16)
        try "not json".write(toFile: dir + "/tokenizer_config.json", atomically: true, encoding: .utf8)
        XCTAssertThrowsError(try WordPieceTokenizer.load(directory: dir)) { e in
            XCTAssertEqual("\(e)", dir + "/tokenizer_config.json: not a JSON object")
        }
        XCTAssertThrowsError(try WordPieceTokenizer.load(directory: dir + "/none")) { e in
            XCTAssertTrue("\(e)".hasPrefix(dir + "/none/vocab.txt: not found"), "\(e)")
        }
    }
}
