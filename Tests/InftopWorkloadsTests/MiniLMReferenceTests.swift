import InftopTelemetry
import Foundation
import InftopEngine
import InftopWorkloads
import XCTest

/// all-MiniLM-L6-v2 against sentence-transformers' own output (Tests/InftopEngineTests/Fixtures/
/// minilm_reference.json): identical token ids and cosine ≥ 0.9999 for every sentence, each run
/// alone and all in one padded batch. Needs the model (scripts/setup.sh installs it); skipped
/// with a message when it is not installed.
final class MiniLMReferenceTests: XCTestCase {
    struct Reference: Decodable {
        struct Sentence: Decodable { let text: String; let token_ids: [Int]; let embedding: [Float] }
        let sentences: [Sentence]
    }

    static let fixture = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("InftopEngineTests/Fixtures/minilm_reference.json")

    func load() throws -> (SentenceEncoder, Reference) {
        guard let dir = ModelLocator.defaultMiniLM() else {
            throw XCTSkip("all-MiniLM-L6-v2 is not installed: \(ModelLocator.installHint)")
        }
        let ref = try JSONDecoder().decode(Reference.self, from: Data(contentsOf: Self.fixture))
        XCTAssertEqual(ref.sentences.count, 16)
        return (try SentenceEncoder.load(directory: dir), ref)
    }

    static func cosine(_ a: [Float], _ b: [Float]) -> Double {
        var d = 0.0, na = 0.0, nb = 0.0
        for (x, y) in zip(a, b) { d += Double(x) * Double(y); na += Double(x) * Double(x); nb += Double(y) * Double(y) }
        return d / (na.squareRoot() * nb.squareRoot())
    }

    func testTokenIdsAndEmbeddingsMatchSentenceTransformers() throws {
        let (enc, ref) = try load()
        XCTAssertEqual(enc.config.hiddenSize, 384)
        XCTAssertEqual(enc.pooling, .mean)
        XCTAssertEqual(enc.tokenizer.maxLength, 256)
        for s in ref.sentences { XCTAssertEqual(enc.tokenizer.encode(s.text), s.token_ids, s.text) }
        // The reference GEMM (plain loops) is slow on this model: three sentences are enough for it.
        let runs: [(KernelBackend, Int, Int)] = [(.blas, 1, 16), (.blas, 2, 16), (.simd, 2, 16), (.reference, 1, 3)]
        for (backend, threads, count) in runs {
            for s in ref.sentences.prefix(count) {
                let e = enc.embed([s.text], compute: Compute(backend: backend, threads: threads))[0]
                XCTAssertGreaterThanOrEqual(Self.cosine(e, s.embedding), 0.9999, "\(backend) t\(threads): \(s.text)")
            }
        }
    }

    func testPaddedBatchMatchesReference() throws {
        let (enc, ref) = try load()
        let all = enc.embed(ref.sentences.map(\.text), batchSize: 16, compute: Compute(backend: .blas, threads: 2))
        for (e, s) in zip(all, ref.sentences) {
            XCTAssertGreaterThanOrEqual(Self.cosine(e, s.embedding), 0.9999, s.text)
        }
    }
}
