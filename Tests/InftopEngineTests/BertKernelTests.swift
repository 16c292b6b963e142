import InftopTelemetry
import Foundation
import InftopEngine
import XCTest

/// Deterministic pseudo-random floats in [lo, hi) (SplitMix64).
struct TestRandom {
    var state: UInt64
    init(_ seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
    mutating func float(_ lo: Float = -1, _ hi: Float = 1) -> Float { lo + (hi - lo) * Float(next() >> 40) / Float(1 << 24) }
    mutating func floats(_ n: Int, _ lo: Float = -1, _ hi: Float = 1) -> [Float] { (0..<n).map { _ in float(lo, hi) } }
}

func assertClose(_ a: [Float], _ b: [Float], abs: Float, rel: Float = 0, _ what: String, file: StaticString = #filePath, line: UInt = #line) {
    XCTAssertEqual(a.count, b.count, what, file: file, line: line)
    var worst: Float = 0, at = -1
    for i in 0..<min(a.count, b.count) {
        let err = Swift.abs(a[i] - b[i]) - rel * Swift.abs(b[i])
        if !(err <= worst) { worst = err; at = i }
    }
    XCTAssertTrue(worst <= abs, "\(what): element \(at): \(at >= 0 ? a[at] : 0) vs \(at >= 0 ? b[at] : 0)", file: file, line: line)
}

/// Each fused BERT kernel against its plain reference twin, over shapes with 1, primes and
/// sizes that are not multiples of the vector width.
final class BertKernelTests: XCTestCase {
    func testBiasActivationMatchesReference() {
        var rng = TestRandom(1)
        for act in BertActivation.allCases {
            for (rows, cols) in [(1, 1), (1, 7), (3, 8), (5, 17), (2, 31), (16, 1536), (37, 40)] {
                let x = rng.floats(rows * cols, -7, 7), bias = rng.floats(cols, -1, 1)
                var fast = x, ref = x
                for threads in [1, 2] {
                    fast = x
                    fast.withUnsafeMutableBufferPointer { f in
                        BertKernels.biasActivation(f.baseAddress!, bias: bias, rows: rows, cols: cols, activation: act, threads: threads)
                    }
                    ref.withUnsafeMutableBufferPointer { r in
                        _ = r.update(from: x)  // reset
                        BertKernels.biasActivationReference(r.baseAddress!, bias: bias, rows: rows, cols: cols, activation: act)
                    }
                    assertClose(fast, ref, abs: 2e-6, rel: 2e-6, "\(act) \(rows)×\(cols) t\(threads)")
                }
            }
        }
    }

    func testBiasResidualLayerNormMatchesReference() {
        var rng = TestRandom(2)
        for (rows, cols) in [(1, 1), (1, 2), (3, 7), (2, 8), (5, 19), (33, 384), (4, 1000)] {
            for withBias in [true, false] {
                let y = rng.floats(rows * cols, -3, 3), res = rng.floats(rows * cols, -30, 30)
                let bias = rng.floats(cols), g = rng.floats(cols, 0.5, 1.5), b = rng.floats(cols)
                for threads in [1, 2] {
                    var fast = res, ref = res
                    bias.withUnsafeBufferPointer { bp in
                        let bptr = withBias ? bp.baseAddress : nil
                        BertKernels.biasResidualLayerNorm(y, bias: bptr, residual: &fast, gamma: g, beta: b, rows: rows, cols: cols,
                                                          eps: 1e-12, threads: threads)
                        BertKernels.biasResidualLayerNormReference(y, bias: bptr, residual: &ref, gamma: g, beta: b, rows: rows,
                                                                   cols: cols, eps: 1e-12)
                    }
                    assertClose(fast, ref, abs: 2e-5, rel: 1e-5, "\(rows)×\(cols) bias \(withBias) t\(threads)")
                }
            }
        }
    }

    func testAttentionMatchesReference() {
        checkAttention(isa: .avx2)
    }

    /// The 512-bit tile in both per-head products (scores and context), A and B read in place.
    func testAVX512AttentionMatchesReference() throws {
        try XCTSkipUnless(CPUFeatures.host.hasAVX512, "this CPU lacks AVX-512 (\(CPUFeatures.host.flagList)): the avx512 attention tier is not tested here")
        checkAttention(isa: .avx512)
    }

    private func checkAttention(isa: KernelISA) {
        var rng = TestRandom(3)
        // (batch, seq, heads, headSize): 1, primes, seq over one 64-column panel (67, 131).
        for (batch, seq, heads, d) in [(1, 1, 1, 1), (1, 5, 2, 8), (2, 13, 3, 17), (3, 8, 1, 32), (2, 37, 2, 16), (1, 128, 2, 32), (2, 23, 4, 6),
                                       (1, 67, 2, 16), (1, 131, 1, 13)] {
            let H = heads * d, M = batch * seq
            let qkv = rng.floats(3 * H * M, -2, 2), bias = rng.floats(3 * H, -0.5, 0.5)
            var masks: [(String, [Int32])] = [("all", [Int32](repeating: 1, count: M))]
            var padded = [Int32](repeating: 1, count: M)
            for b in 0..<batch { for t in max(1, seq - 1 - b * 3)..<seq { padded[b * seq + t] = 0 } }
            masks.append(("right padding", padded))
            var holes = [Int32](repeating: 1, count: M)
            for t in stride(from: 1, to: M, by: 3) { holes[t] = 0 }
            masks.append(("holes", holes))
            var none = [Int32](repeating: 1, count: M)
            for t in 0..<seq { none[t] = 0 }  // first sequence fully masked
            masks.append(("fully masked", none))
            for (what, mask) in masks {
                var ref = [Float](repeating: .nan, count: H * M)
                BertKernels.attentionReference(qkvT: qkv, bias: bias, mask: mask, contextT: &ref, batch: batch, seq: seq, heads: heads, headSize: d)
                for threads in [1, 2, 3] {
                    var out = [Float](repeating: .nan, count: H * M)
                    let scratch = AttentionScratch()
                    BertKernels.attention(qkvT: qkv, bias: bias, mask: mask, contextT: &out, batch: batch, seq: seq, heads: heads,
                                          headSize: d, scratch: scratch, threads: threads, isa: isa)
                    assertClose(out, ref, abs: 2e-5, rel: 1e-5, "\(batch)×\(seq) h\(heads)×\(d) \(what) t\(threads) \(isa)")
                }
            }
        }
    }

    /// The scratch is reused when shapes shrink and grows when they grow.
    func testAttentionScratchReuse() {
        var rng = TestRandom(4)
        let scratch = AttentionScratch()
        for (seq, d) in [(16, 8), (4, 8), (33, 16), (2, 4)] {
            let H = 2 * d, qkv = rng.floats(3 * H * seq), bias = rng.floats(3 * H), mask = [Int32](repeating: 1, count: seq)
            var out = [Float](repeating: 0, count: H * seq), ref = out
            BertKernels.attention(qkvT: qkv, bias: bias, mask: mask, contextT: &out, batch: 1, seq: seq, heads: 2, headSize: d, scratch: scratch, threads: 2)
            BertKernels.attentionReference(qkvT: qkv, bias: bias, mask: mask, contextT: &ref, batch: 1, seq: seq, heads: 2, headSize: d)
            assertClose(out, ref, abs: 2e-5, rel: 1e-5, "seq \(seq) d \(d)")
        }
    }
}

extension BertKernelTests {
    func testMaskedSoftmaxColumnsMatchesReference() {
        var rng = TestRandom(5)
        for (rows, cols) in [(1, 8), (2, 8), (7, 16), (33, 24), (128, 128)] {
            let p = rng.floats(rows * cols, -20, 20)
            var masks: [[Int32]?] = [nil]
            masks.append((0..<rows).map { $0 % 3 == 1 ? 0 : 1 })
            var last = [Int32](repeating: 0, count: rows)
            last[rows - 1] = 1
            masks.append(last)
            for mask in masks {
                var fast = p, ref = p
                var inv = [Float](repeating: 0, count: cols), invRef = inv, colMax = inv
                mask.withUnsafeBufferPointerIfPresent { m in
                    BertKernels.maskedSoftmaxColumns(&fast, rows: rows, cols: cols, mask: m, colMax: &colMax, inverseSums: &inv)
                    BertKernels.maskedSoftmaxColumnsReference(&ref, rows: rows, cols: cols, mask: m, inverseSums: &invRef)
                }
                let what = "\(rows)×\(cols) mask \(mask == nil ? "none" : "\(mask!.prefix(4))…")"
                assertClose(fast, ref, abs: 1e-6, rel: 2e-6, what)
                assertClose(inv, invRef, abs: 0, rel: 2e-6, what + " 1/sums")
                if let mask {
                    for j in 0..<rows where mask[j] == 0 { XCTAssertTrue(fast[(j * cols)..<(j * cols + cols)].allSatisfy { $0 == 0 }, what) }
                }
                // Normalised columns sum to 1.
                for i in 0..<cols {
                    let sum = (0..<rows).reduce(Float(0)) { $0 + fast[$1 * cols + i] } * inv[i]
                    XCTAssertEqual(sum, 1, accuracy: 1e-5, what)
                }
            }
        }
    }
}

extension Optional where Wrapped == [Int32] {
    /// Calls `body` with a pointer to the array's elements, or nil.
    func withUnsafeBufferPointerIfPresent<R>(_ body: (UnsafePointer<Int32>?) -> R) -> R {
        switch self {
        case .some(let a): return a.withUnsafeBufferPointer { body($0.baseAddress) }
        case .none: return body(nil)
        }
    }
}
