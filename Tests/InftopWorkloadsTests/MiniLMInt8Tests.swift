import InftopTelemetry
import Foundation
import InftopEngine
import InftopWorkloads
import XCTest

/// all-MiniLM-L6-v2 with int8 projections (Q/K/V, attention output, FFN up and down; attention,
/// softmax, LayerNorm and GELU in fp32) against sentence-transformers' fp32 embeddings: cosine
/// ≥ 0.99 for every sentence of the fixture, alone and in one padded batch, on every int8 tier
/// the CPU has (the zmm VNNI one under isa avx512, AVX2/AVX-VNNI under avx2) and the reference
/// twin, which must agree with the fast tier to float rounding.
final class MiniLMInt8Tests: XCTestCase {
    func testInt8EmbeddingsStayWithinCosine099() throws {
        guard let dir = ModelLocator.defaultMiniLM() else {
            throw XCTSkip("all-MiniLM-L6-v2 is not installed: \(ModelLocator.installHint)")
        }
        let ref = try JSONDecoder().decode(MiniLMReferenceTests.Reference.self, from: Data(contentsOf: MiniLMReferenceTests.fixture))
        let enc = try SentenceEncoder.load(directory: dir)
        var worst = 1.0
        for isa in CPUFeatures.host.availableISAs {
            let compute = Compute(backend: .simd, threads: 2, isa: isa, precision: .int8)
            let alone = ref.sentences.map { enc.embed([$0.text], compute: compute)[0] }
            let batched = enc.embed(ref.sentences.map(\.text), batchSize: 16, compute: compute)
            for (s, (a, b)) in zip(ref.sentences, zip(alone, batched)) {
                let ca = MiniLMReferenceTests.cosine(a, s.embedding), cb = MiniLMReferenceTests.cosine(b, s.embedding)
                worst = min(worst, ca, cb)
                XCTAssertGreaterThanOrEqual(ca, 0.99, "\(isa) \(Int8Kernel.select(isa: isa)) alone: \(s.text)")
                XCTAssertGreaterThanOrEqual(cb, 0.99, "\(isa) \(Int8Kernel.select(isa: isa)) batched: \(s.text)")
            }
            // The reference twin of the same tier (slow: two sentences).
            var refCompute = compute
            refCompute.backend = .reference
            for s in ref.sentences.prefix(2) {
                let fast = enc.embed([s.text], compute: compute)[0], slow = enc.embed([s.text], compute: refCompute)[0]
                XCTAssertGreaterThanOrEqual(MiniLMReferenceTests.cosine(fast, slow), 0.99999, "\(isa) reference twin: \(s.text)")
            }
        }
        print("MiniLMInt8Tests: worst cosine to sentence-transformers fp32 = \(worst)")
        XCTAssertGreaterThan(enc.model.int8WeightBytes, 0)
    }
}
