import Foundation
import InftopEngine
import InftopTelemetry
import XCTest

/// A small random BERT written as a Hugging Face folder, against a plain-loop forward written
/// here from the definitions (so sizes other than MiniLM, prefixes, F16 weights, pooling modes,
/// padding and spans are checked without the real model).
final class BertModelTests: XCTestCase {
    var dir = ""
    override func setUp() { dir = makeTempDir("bert") }
    override func tearDown() { removeTree(dir) }

    struct Tiny {
        var hidden = 24, layers = 2, heads = 3, ffn = 40, maxPos = 16, vocab = 30, types = 2
        var act = "gelu"
        var weights: [(String, [Int], [Float])] = []

        init(seed: UInt64, hidden: Int = 24, heads: Int = 3, act: String = "gelu") {
            self.hidden = hidden; self.heads = heads; self.act = act
            var rng = TestRandom(seed)
            func add(_ n: String, _ shape: [Int], scale: Float = 0.3, offset: Float = 0) {
                weights.append((n, shape, rng.floats(shape.reduce(1, *), -scale, scale).map { $0 + offset }))
            }
            let h = hidden, f = ffn
            add("embeddings.word_embeddings.weight", [vocab, h], scale: 1)
            add("embeddings.position_embeddings.weight", [maxPos, h], scale: 0.5)
            add("embeddings.token_type_embeddings.weight", [types, h], scale: 0.5)
            add("embeddings.LayerNorm.weight", [h], scale: 0.2, offset: 1)
            add("embeddings.LayerNorm.bias", [h], scale: 0.1)
            for i in 0..<layers {
                let p = "encoder.layer.\(i)."
                for part in ["query", "key", "value"] {
                    add(p + "attention.self.\(part).weight", [h, h]); add(p + "attention.self.\(part).bias", [h], scale: 0.2)
                }
                add(p + "attention.output.dense.weight", [h, h]); add(p + "attention.output.dense.bias", [h], scale: 0.1)
                add(p + "attention.output.LayerNorm.weight", [h], scale: 0.2, offset: 1); add(p + "attention.output.LayerNorm.bias", [h], scale: 0.1)
                add(p + "intermediate.dense.weight", [f, h]); add(p + "intermediate.dense.bias", [f], scale: 0.1)
                add(p + "output.dense.weight", [h, f]); add(p + "output.dense.bias", [h], scale: 0.1)
                add(p + "output.LayerNorm.weight", [h], scale: 0.2, offset: 1); add(p + "output.LayerNorm.bias", [h], scale: 0.1)
            }
        }

        func w(_ n: String) -> [Float] { weights.first { $0.0 == n }!.2 }

        /// Writes config.json, vocab.txt, model.safetensors (dtype, optional name prefix; values
        /// rounded through the dtype so the reference sees the same numbers) and pooling config.
        mutating func write(to dir: String, dtype: String = "F32", prefix: String = "", pooling: String? = nil,
                            skip: String? = nil, reshape: String? = nil) throws {
            let config = """
                {"architectures":["BertModel"],"model_type":"bert","hidden_size":\(hidden),"num_hidden_layers":\(layers),
                 "num_attention_heads":\(heads),"intermediate_size":\(ffn),"max_position_embeddings":\(maxPos),
                 "vocab_size":\(vocab),"type_vocab_size":\(types),"layer_norm_eps":1e-12,"hidden_act":"\(act)"}
                """
            try config.write(toFile: dir + "/config.json", atomically: true, encoding: .utf8)
            let words = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", "the", "cat", "sat", "on", "mat", "a", "dog", "##s", "."]
            try (words.joined(separator: "\n") + "\n").write(toFile: dir + "/vocab.txt", atomically: true, encoding: .utf8)
            if let pooling {
                try FileManager.default.createDirectory(atPath: dir + "/1_Pooling", withIntermediateDirectories: true)
                try "{\"pooling_mode_\(pooling)\": true}".write(toFile: dir + "/1_Pooling/config.json", atomically: true, encoding: .utf8)
            }
            var entries: [String] = []
            var data: [UInt8] = []
            for (i, (n, shape, v)) in weights.enumerated() where n != skip {
                let bytes = floatBytes(v, dtype)
                if dtype != "F32" {
                    // Round the reference's copy exactly as the file stores it.
                    weights[i].2 = v.map { dtype == "F16" ? Float(Float16($0)) : Float(bitPattern: $0.bitPattern & 0xFFFF_0000) }
                }
                let s = n == reshape ? [shape.reduce(1, *)] : shape
                entries.append("\"\(prefix)\(n)\":{\"dtype\":\"\(dtype)\",\"shape\":[\(s.map(String.init).joined(separator: ","))],\"data_offsets\":[\(data.count),\(data.count + bytes.count)]}")
                data += bytes
            }
            entries.append("\"\(prefix)embeddings.position_ids\":{\"dtype\":\"I64\",\"shape\":[1],\"data_offsets\":[\(data.count),\(data.count + 8)]}")
            data += [UInt8](repeating: 0, count: 8)
            var header = "{\"__metadata__\":{\"format\":\"pt\"}," + entries.joined(separator: ",") + "}"
            while header.utf8.count % 8 != 0 { header += " " }
            writeFile(dir + "/model.safetensors", safetensorsBytes(header: header, data: data))
        }

        /// Plain-loop forward of one unpadded sequence → pooled, L2-normalised [hidden].
        func reference(_ ids: [Int], pooling: String = "mean_tokens") -> [Float] {
            let h = hidden, d = hidden / heads, S = ids.count
            func ln(_ v: [Double], _ g: [Float], _ b: [Float]) -> [Double] {
                let mean = v.reduce(0, +) / Double(v.count)
                let varc = v.reduce(0) { $0 + ($1 - mean) * ($1 - mean) } / Double(v.count)
                return v.indices.map { (v[$0] - mean) / (varc + 1e-12).squareRoot() * Double(g[$0]) + Double(b[$0]) }
            }
            func linear(_ x: [Double], _ W: [Float], _ bias: [Float], out: Int) -> [Double] {
                (0..<out).map { o in (0..<x.count).reduce(Double(bias[o])) { $0 + x[$1] * Double(W[o * x.count + $1]) } }
            }
            let we = w("embeddings.word_embeddings.weight"), pe = w("embeddings.position_embeddings.weight")
            let te = w("embeddings.token_type_embeddings.weight")
            var x: [[Double]] = (0..<S).map { t in
                ln((0..<h).map { Double(we[ids[t] * h + $0]) + Double(pe[t * h + $0]) + Double(te[$0]) },
                   w("embeddings.LayerNorm.weight"), w("embeddings.LayerNorm.bias"))
            }
            for i in 0..<layers {
                let p = "encoder.layer.\(i)."
                let q = x.map { linear($0, w(p + "attention.self.query.weight"), w(p + "attention.self.query.bias"), out: h) }
                let k = x.map { linear($0, w(p + "attention.self.key.weight"), w(p + "attention.self.key.bias"), out: h) }
                let v = x.map { linear($0, w(p + "attention.self.value.weight"), w(p + "attention.self.value.bias"), out: h) }
                var ctx = [[Double]](repeating: [Double](repeating: 0, count: h), count: S)
                for hd in 0..<heads {
                    for a in 0..<S {
                        let sc = (0..<S).map { j in (0..<d).reduce(0.0) { $0 + q[a][hd * d + $1] * k[j][hd * d + $1] } / Double(d).squareRoot() }
                        let mx = sc.max()!
                        let e = sc.map { Foundation.exp($0 - mx) }
                        let sum = e.reduce(0, +)
                        for c in 0..<d { ctx[a][hd * d + c] = (0..<S).reduce(0.0) { $0 + e[$1] / sum * v[$1][hd * d + c] } }
                    }
                }
                for t in 0..<S {
                    let o = linear(ctx[t], w(p + "attention.output.dense.weight"), w(p + "attention.output.dense.bias"), out: h)
                    x[t] = ln((0..<h).map { o[$0] + x[t][$0] }, w(p + "attention.output.LayerNorm.weight"), w(p + "attention.output.LayerNorm.bias"))
                    var u = linear(x[t], w(p + "intermediate.dense.weight"), w(p + "intermediate.dense.bias"), out: ffn)
                    u = u.map { act == "relu" ? max($0, 0) : 0.5 * $0 * (1 + Foundation.erf($0 / 2.0.squareRoot())) }
                    let dn = linear(u, w(p + "output.dense.weight"), w(p + "output.dense.bias"), out: h)
                    x[t] = ln((0..<h).map { dn[$0] + x[t][$0] }, w(p + "output.LayerNorm.weight"), w(p + "output.LayerNorm.bias"))
                }
            }
            var pooled: [Double]
            switch pooling {
            case "cls_token": pooled = x[0]
            case "max_tokens": pooled = (0..<h).map { c in x.map { $0[c] }.max()! }
            default: pooled = (0..<h).map { c in x.reduce(0) { $0 + $1[c] } / Double(S) }
            }
            let norm = pooled.reduce(0) { $0 + $1 * $1 }.squareRoot()
            return pooled.map { Float($0 / norm) }
        }
    }

    func testMatchesPlainForwardForOtherSizesDtypesAndPooling() throws {
        let texts = ["the cat sat on the mat.", "a dog", "", "the dogs sat"]
        // (dtype, prefix, pooling, hidden, heads, activation)
        let variants: [(String, String, String?, Int, Int, String)] = [
            ("F32", "", nil, 24, 3, "gelu"), ("F16", "bert.", "cls_token", 20, 4, "gelu"),
            ("BF16", "", "max_tokens", 16, 2, "relu"), ("F32", "bert.", "mean_tokens", 9, 1, "gelu"),
        ]
        for (n, (dtype, prefix, pooling, hidden, heads, act)) in variants.enumerated() {
            let sub = dir + "/m\(n)"
            try FileManager.default.createDirectory(atPath: sub, withIntermediateDirectories: true)
            var tiny = Tiny(seed: UInt64(10 + n), hidden: hidden, heads: heads, act: act)
            try tiny.write(to: sub, dtype: dtype, prefix: prefix, pooling: pooling)
            let enc = try SentenceEncoder.load(directory: sub)
            XCTAssertEqual(enc.config.hiddenSize, hidden)
            XCTAssertEqual(enc.tokenizer.maxLength, 16)
            for backend in [KernelBackend.reference, .blas, .simd] {
                for threads in [1, 2, 3] {
                    let got = enc.embed(texts, batchSize: 3, compute: Compute(backend: backend, threads: threads))
                    for (t, e) in zip(texts, got) {
                        let want = tiny.reference(enc.tokenizer.encode(t), pooling: pooling ?? "mean_tokens")
                        assertClose(e, want, abs: 2e-5, "\(dtype) \(prefix) \(pooling ?? "mean") h\(hidden) \(backend) t\(threads): '\(t)'")
                    }
                }
            }
        }
    }

    func testPaddedBatchEqualsEachTextAlone() throws {
        var tiny = Tiny(seed: 7)
        try tiny.write(to: dir, pooling: "mean_tokens")
        let enc = try SentenceEncoder.load(directory: dir)
        let texts = ["the cat sat on the mat . the dog sat", "a", "", "the dogs", "cat cat cat cat cat"]
        let compute = Compute(backend: .blas, threads: 2)
        let alone = texts.map { enc.embed([$0], compute: compute)[0] }
        let together = enc.embed(texts, batchSize: texts.count, compute: compute)
        for (a, b) in zip(alone, together) { assertClose(b, a, abs: 1e-5, "padded vs alone") }
        // Growing and shrinking batches reuse the buffers: no growth after the largest.
        let bytes = enc.model.activationBytes
        _ = enc.embed(Array(texts.prefix(2)), batchSize: 2, compute: compute)
        XCTAssertEqual(enc.model.activationBytes, bytes)
    }

    func testSpansLapEveryStageAndCostNothingWhenDisabled() throws {
        var tiny = Tiny(seed: 8)
        try tiny.write(to: dir)
        let enc = try SentenceEncoder.load(directory: dir)
        let batch = enc.tokenizer.batch(["the cat sat", "a dog"])
        let profiler = StepProfiler()
        let sites = enc.model.registerSites(in: profiler)
        XCTAssertEqual(BertModel.nodeNames(layers: 2), profiler.siteNames)
        XCTAssertEqual(profiler.siteNames.prefix(3), ["embeddings", "L0.qkv", "L0.attention"])
        XCTAssertEqual(profiler.siteNames.last, "pooling")
        profiler.beginStep()
        _ = enc.model.forward(tokens: batch, spans: profiler.buffer, sites: sites)
        var seen: [Int32] = []
        profiler.buffer.forEach { site, phase, _ in seen.append(site); XCTAssertEqual(phase, .forward) }
        XCTAssertEqual(seen, sites)
        let off = SpanBuffer(enabled: false)
        off.start()
        _ = enc.model.forward(tokens: batch, spans: off, sites: sites)
        XCTAssertEqual(off.count, 0)
        XCTAssertEqual(off.clockReads, 0)
    }

    func testClearErrorsForBadFolders() throws {
        var tiny = Tiny(seed: 9)
        try tiny.write(to: dir, skip: "encoder.layer.1.intermediate.dense.bias")
        XCTAssertThrowsError(try BertModel.load(directory: dir)) { e in
            XCTAssertEqual("\(e)", dir + "/model.safetensors: missing tensor 'encoder.layer.1.intermediate.dense.bias' (expected [40] for this config)")
        }
        try tiny.write(to: dir, prefix: "bert.", reshape: "encoder.layer.0.attention.self.key.weight")
        XCTAssertThrowsError(try BertModel.load(directory: dir)) { e in
            XCTAssertEqual("\(e)", dir + "/model.safetensors: tensor 'bert.encoder.layer.0.attention.self.key.weight' has shape [576], config.json implies [24, 24]")
        }
        try #"{"hidden_size": 30, "num_hidden_layers": 1, "num_attention_heads": 4, "intermediate_size": 8, "vocab_size": 5}"#
            .write(toFile: dir + "/config.json", atomically: true, encoding: .utf8)
        XCTAssertThrowsError(try BertModel.load(directory: dir)) { e in
            XCTAssertEqual("\(e)", dir + "/config.json: hidden_size 30 is not divisible by num_attention_heads 4")
        }
        try #"{"hidden_size": 8, "num_hidden_layers": "two", "num_attention_heads": 2, "intermediate_size": 8, "vocab_size": 5}"#
            .write(toFile: dir + "/config.json", atomically: true, encoding: .utf8)
        XCTAssertThrowsError(try BertModel.load(directory: dir)) { e in XCTAssertTrue("\(e)".contains("'num_hidden_layers' has the wrong type"), "\(e)") }
        try #"{"hidden_size": 8, "num_attention_heads": 2, "intermediate_size": 8, "vocab_size": 5}"#
            .write(toFile: dir + "/config.json", atomically: true, encoding: .utf8)
        XCTAssertThrowsError(try BertModel.load(directory: dir)) { e in XCTAssertEqual("\(e)", dir + "/config.json: missing 'num_hidden_layers'") }
        try #"{"hidden_size": 8, "num_hidden_layers": 1, "num_attention_heads": 2, "intermediate_size": 8, "vocab_size": 5, "hidden_act": "swish"}"#
            .write(toFile: dir + "/config.json", atomically: true, encoding: .utf8)
        XCTAssertThrowsError(try BertModel.load(directory: dir)) { e in XCTAssertTrue("\(e)".contains("hidden_act 'swish' is not supported"), "\(e)") }
        try "[]".write(toFile: dir + "/config.json", atomically: true, encoding: .utf8)
        XCTAssertThrowsError(try BertModel.load(directory: dir)) { e in XCTAssertTrue("\(e)".hasPrefix(dir + "/config.json: "), "\(e)") }
        try FileManager.default.removeItem(atPath: dir + "/config.json")
        XCTAssertThrowsError(try BertModel.load(directory: dir)) { e in XCTAssertTrue("\(e)".hasPrefix(dir + "/config.json: not found"), "\(e)") }
        // Two pooling modes at once are refused.
        try tiny.write(to: dir, pooling: "cls_token")
        try #"{"pooling_mode_cls_token": true, "pooling_mode_mean_tokens": true}"#
            .write(toFile: dir + "/1_Pooling/config.json", atomically: true, encoding: .utf8)
        XCTAssertThrowsError(try BertModel.load(directory: dir)) { e in XCTAssertTrue("\(e)".contains("only one pooling mode"), "\(e)") }
    }
}
