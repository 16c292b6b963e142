import Foundation
import InftopEngine
import InftopTelemetry
import XCTest

/// Structured pruning of a BERT encoder at load: removing half the heads and FFN channels gives
/// the same embeddings as the unpruned encoder whose removed heads' attention-output columns and
/// removed channels' FFN-down columns are zero (what those units add to the residual stream).
final class BertPruningTests: XCTestCase {
    var dir = ""
    override func setUp() { dir = makeTempDir("bertprune") }
    override func tearDown() { removeTree(dir) }

    func buffer(_ name: String, _ shape: [Int], _ values: [Float]) -> WeightBuffer {
        let b = WeightBuffer(name: name, shape: shape)
        values.withUnsafeBufferPointer { b.mutablePointer!.update(from: $0.baseAddress!, count: values.count) }
        return b
    }

    func testRemovedHeadsAndChannelsEqualZeroedOnes() throws {
        var tiny = BertModelTests.Tiny(seed: 21, hidden: 24, heads: 4)
        let h = tiny.hidden, f = tiny.ffn, d = h / tiny.heads
        try FileManager.default.createDirectory(atPath: dir + "/full", withIntermediateDirectories: true)
        try tiny.write(to: dir + "/full")
        let pruned = try SentenceEncoder.load(directory: dir + "/full", pruneUnits: 0.5)
        let full = try SentenceEncoder.load(directory: dir + "/full")
        XCTAssertLessThan(pruned.model.weightBytes, full.model.weightBytes)
        var zeroed = tiny
        for i in 0..<tiny.layers {
            let p = "encoder.layer.\(i)."
            let wo = tiny.w(p + "attention.output.dense.weight"), up = tiny.w(p + "intermediate.dense.weight"), down = tiny.w(p + "output.dense.weight")
            let heads = BertPruning.keptHeads(attentionOutput: buffer("wo", [h, h], wo), hidden: h, heads: tiny.heads, fraction: 0.5)
            let channels = BertPruning.keptChannels(up: buffer("up", [f, h], up), down: buffer("down", [h, f], down), hidden: h, intermediate: f, fraction: 0.5)
            XCTAssertEqual(heads.count, 2)
            XCTAssertEqual(channels.count, f / 2)
            var wo2 = wo, down2 = down
            for r in 0..<h {
                for head in 0..<tiny.heads where !heads.contains(head) { for c in (head * d)..<((head + 1) * d) { wo2[r * h + c] = 0 } }
                for c in 0..<f where !channels.contains(c) { down2[r * f + c] = 0 }
            }
            let iwo = zeroed.weights.firstIndex { $0.0 == p + "attention.output.dense.weight" }!
            let idown = zeroed.weights.firstIndex { $0.0 == p + "output.dense.weight" }!
            zeroed.weights[iwo].2 = wo2
            zeroed.weights[idown].2 = down2
        }
        try FileManager.default.createDirectory(atPath: dir + "/zeroed", withIntermediateDirectories: true)
        try zeroed.write(to: dir + "/zeroed")
        let reference = try SentenceEncoder.load(directory: dir + "/zeroed")
        let texts = ["the cat sat on the mat.", "a dog", "the dogs sat"]
        for backend in [KernelBackend.reference, .simd] {
            let a = pruned.embed(texts, compute: Compute(backend: backend)), b = reference.embed(texts, compute: Compute(backend: backend))
            for (x, y) in zip(a, b) { for (u, v) in zip(x, y) { XCTAssertEqual(u, v, accuracy: 2e-5, "\(backend)") } }
            // And pruning really changed the model.
            let c = full.embed(texts, compute: Compute(backend: backend))
            XCTAssertGreaterThan(zip(a[0], c[0]).map { abs($0 - $1) }.max()!, 1e-3)
        }
    }
}
