import Foundation
import InftopEngine
import InftopTelemetry
import XCTest

/// The decoder's small kernels against hand-computed values, and the whole decoder on the tiny
/// fixture model: KV cache on and off give the same logits, the fast tiers match the reference
/// backend, and seeded sampling is reproducible.
final class DecoderTests: XCTestCase {
    func testRMSNormByHand() {
        // x = [1, 2, 3, 4]: mean of squares 7.5, so y = x / sqrt(7.5 + eps) · gamma.
        let x: [Float] = [1, 2, 3, 4, 0, 0, 0, 0, 0, 5], g: [Float] = [1, 0.5, 2, 1, 1, 1, 1, 1, 1, 3]
        let rms = (Float(1 + 4 + 9 + 16 + 25) / 10 + 1e-5).squareRoot()
        var y = [Float](repeating: 0, count: 10), yr = y
        DecoderKernels.rmsNorm(x, g, &y, n: 10, eps: 1e-5)
        DecoderKernels.rmsNormReference(x, g, &yr, n: 10, eps: 1e-5)
        for i in 0..<10 {
            XCTAssertEqual(y[i], x[i] / rms * g[i], accuracy: 1e-6)
            XCTAssertEqual(yr[i], x[i] / rms * g[i], accuracy: 1e-6)
        }
    }

    func testRoPEByHand() {
        // headDim 4, base 100: pair 0 rotates by pos rad, pair 1 by pos / 10 rad.
        let table = DecoderKernels.ropeTable(positions: 3, dims: 4, base: 100)
        var x: [Float] = [1, 0, 0, 2]
        table.withUnsafeBufferPointer { DecoderKernels.rope(&x, heads: 1, headDim: 4, dims: 4, pos: 2, table: $0.baseAddress!) }
        XCTAssertEqual(x[0], Float(cos(2.0)), accuracy: 1e-6)
        XCTAssertEqual(x[1], Float(sin(2.0)), accuracy: 1e-6)
        XCTAssertEqual(x[2], Float(-2 * sin(0.2)), accuracy: 1e-6)
        XCTAssertEqual(x[3], Float(2 * cos(0.2)), accuracy: 1e-6)
        var y: [Float] = [3, 4, 5, 6]
        table.withUnsafeBufferPointer { DecoderKernels.rope(&y, heads: 1, headDim: 4, dims: 4, pos: 0, table: $0.baseAddress!) }
        XCTAssertEqual(y, [3, 4, 5, 6])
    }

    func testAttentionTiersMatchReference() {
        var rng = SeededRandom(seed: 3)
        for isa in CPUFeatures.host.availableISAs {
            for (hd, n, cap) in [(64, 1, 8), (64, 37, 40), (16, 70, 80), (64, 129, 130)] {
                let q = (0..<hd).map { _ in rng.uniform(-1, 1) }
                let kt = (0..<(hd * cap)).map { _ in rng.uniform(-1, 1) }, v = (0..<(cap * hd)).map { _ in rng.uniform(-1, 1) }
                var out = [Float](repeating: 0, count: hd), ref = out, scores = [Float](repeating: 0, count: cap + 16)
                DecoderKernels.attend(q: q, kt: kt, ldk: cap, v: v, ldv: hd, hd: hd, n: n, scale: 0.125, scores: &scores, out: &out, isa: isa, backend: .simd)
                DecoderKernels.attendReference(q: q, kt: kt, ldk: cap, v: v, ldv: hd, hd: hd, n: n, scale: 0.125, out: &ref)
                for d in 0..<hd { XCTAssertEqual(out[d], ref[d], accuracy: 2e-5, "\(isa) hd \(hd) n \(n)") }
            }
        }
        if !CPUFeatures.host.hasAVX512 { print("DecoderTests: AVX-512 attention skipped: this CPU lacks it") }
    }

    func testGroupedAttentionMatchesThePerHeadReference() {
        // nq 1…5 covers the 3-query blocks and their remainders; n covers 1, primes and the 24/8-key
        // blocks' remainders; hd 20 the context's 16-dimension remainder.
        var rng = SeededRandom(seed: 5)
        for isa in CPUFeatures.host.availableISAs {
            for (hd, n, cap) in [(64, 1, 8), (64, 23, 24), (64, 37, 40), (20, 70, 80), (64, 131, 140)] {
                for nq in 1...5 {
                    let ldq = hd + 3, ldo = hd + 1, lds = cap + 16
                    let q = (0..<(nq * ldq)).map { _ in rng.uniform(-1, 1) }
                    let kt = (0..<(hd * cap)).map { _ in rng.uniform(-1, 1) }, v = (0..<(cap * hd)).map { _ in rng.uniform(-1, 1) }
                    var out = [Float](repeating: 0, count: nq * ldo), scores = [Float](repeating: 0, count: nq * lds)
                    DecoderKernels.attendGroup(q: q, ldq: ldq, nq: nq, kt: kt, ldk: cap, v: v, ldv: hd, hd: hd, n: n, scale: 0.125,
                                               scores: &scores, lds: lds, out: &out, ldo: ldo, isa: isa, backend: .simd)
                    for i in 0..<nq {
                        var ref = [Float](repeating: 0, count: hd)
                        q.withUnsafeBufferPointer { qb in
                            DecoderKernels.attendReference(q: qb.baseAddress! + i * ldq, kt: kt, ldk: cap, v: v, ldv: hd, hd: hd, n: n,
                                                           scale: 0.125, out: &ref)
                        }
                        for d in 0..<hd { XCTAssertEqual(out[i * ldo + d], ref[d], accuracy: 2e-5, "\(isa) hd \(hd) n \(n) nq \(nq) head \(i)") }
                    }
                }
            }
        }
    }

    static func tiny(threads: Int = 1, backend: KernelBackend = .simd, isa: KernelISA = CPUFeatures.host.bestISA, chunk: Int = 512) throws -> LanguageModel {
        try LanguageModel(path: try GGUFReaderTests.tinyPath(), contextCapacity: 64,
                          compute: Compute(backend: backend, threads: threads, isa: isa), chunk: chunk)
    }

    static func maxRelDiff(_ a: [Float], _ b: [Float]) -> Float {
        let scale = max(a.map { abs($0) }.max() ?? 1, 1e-3)
        return zip(a, b).map { abs($0 - $1) }.max()! / scale
    }

    func testKVCacheAndRecomputeGiveTheSameLogits() throws {
        let prompt: [Int32] = [1, 10, 11, 12, 40, 5]
        let cont: [Int32] = [7, 8, 9, 30, 31]
        for threads in [1, 2] {
            let a = try Self.tiny(threads: threads), b = try Self.tiny(threads: threads)
            b.kvCacheEnabled = false
            var la = Array(try a.prefill(prompt)), lb = Array(try b.prefill(prompt))
            XCTAssertLessThan(Self.maxRelDiff(la, lb), 1e-5)
            for t in cont {
                la = Array(try a.decode(t)); lb = Array(try b.decode(t))
                XCTAssertLessThan(Self.maxRelDiff(la, lb), 2e-3, "threads \(threads), after token \(t)")
            }
            XCTAssertEqual(a.positions, prompt.count + cont.count)
            XCTAssertEqual(b.positions, 0)
        }
    }

    func testChunkedPrefillAndEveryTierMatchTheReference() throws {
        let prompt: [Int32] = (0..<23).map { Int32(3 + ($0 * 7) % 50) }
        // The logits point into the model's workspace: the model must outlive the copy (a
        // temporary model was freed before `Array` read them, ASan said).
        let reference = try Self.tiny(backend: .reference)
        let ref = try withExtendedLifetime(reference) { Array(try reference.prefill(prompt)) }
        for isa in CPUFeatures.host.availableISAs {
            for (threads, chunk) in [(1, 512), (2, 512), (2, 5)] {
                let model = try Self.tiny(threads: threads, isa: isa, chunk: chunk)
                let got = try withExtendedLifetime(model) { Array(try model.prefill(prompt)) }
                XCTAssertLessThan(Self.maxRelDiff(ref, got), 2e-3, "\(isa), \(threads) thread(s), chunk \(chunk)")
            }
        }
    }

    func testProfilerSitesTileTheStep() throws {
        let lm = try Self.tiny()
        let profiler = StepProfiler()
        let sites = lm.registerSites(in: profiler, prefix: "gen.")
        XCTAssertEqual(profiler.siteNames.first, "gen.embed")
        XCTAssertTrue(profiler.siteNames.contains("gen.L1.ffn_down"))
        XCTAssertEqual(profiler.siteNames.last, "gen.head")
        lm.spans = profiler.buffer
        profiler.beginStep()
        try lm.prefill([1, 2, 3])
        XCTAssertEqual(profiler.buffer.count, sites.count)
        profiler.endStep(wallNanos: 1)
        XCTAssertEqual(profiler.layerStats().filter { $0.forward != nil }.count, sites.count)
    }

    func testSeededSamplingIsReproducible() throws {
        var rng = SeededRandom(seed: 11)
        let logits = (0..<500).map { _ in rng.uniform(-3, 3) }
        func draw(_ seed: UInt64, _ t: Float, _ k: Int, _ p: Float) throws -> [Int32] {
            var s = try Sampler(temperature: t, topK: k, topP: p, seed: seed)
            return logits.withUnsafeBufferPointer { l in (0..<50).map { _ in s.sample(l) } }
        }
        XCTAssertEqual(try draw(5, 0.8, 40, 0.95), try draw(5, 0.8, 40, 0.95))
        XCTAssertNotEqual(try draw(5, 0.8, 40, 0.95), try draw(6, 0.8, 40, 0.95))
        // top-k 3: only the three largest logits ever come out.
        let top3 = Set(logits.enumerated().sorted { $0.element > $1.element }.prefix(3).map { Int32($0.offset) })
        XCTAssertTrue(Set(try draw(1, 1.0, 3, 1.0)).isSubset(of: top3))
        // Greedy is the argmax, whatever the seed.
        let best = Int32(logits.indices.max { logits[$0] < logits[$1] }!)
        XCTAssertEqual(Set(try draw(9, 0, 40, 0.95)), [best])
        XCTAssertThrowsError(try Sampler(temperature: 1, topK: 40, topP: 2)) { e in
            XCTAssertEqual("\(e)", "--top-p: 2.0: must be in (0, 1]")
        }
    }

    func testTinyTokenizerAndChatTemplate() throws {
        let lm = try Self.tiny()
        let ids = lm.tokenizer.encode("hello world")
        XCTAssertEqual(lm.tokenizer.decode(ids), "hello world")
        XCTAssertEqual(ids.map { lm.tokenizer.tokens[Int($0)] }, ["hello", "\u{120}wor", "l", "d"])
        XCTAssertEqual(lm.tokenizer.encode("<|im_start|>hi", special: true).first, 1)
        XCTAssertNotEqual(lm.tokenizer.encode("<|im_start|>hi", special: false).first, 1)
        XCTAssertEqual(lm.chatTemplate?.render(user: "hi"), "<|im_start|>system\nYou are tiny.<|im_end|>\n<|im_start|>user\nhi<|im_end|>\n<|im_start|>assistant\n")
        XCTAssertThrowsError(try lm.prefill(Array(repeating: 5, count: 65))) { e in
            XCTAssertEqual("\(e)", "prompt: 65 tokens do not fit the context of 64 positions")
        }
    }
}
