import Foundation
import InftopEngine
import XCTest

/// The GGUF reader on the committed tiny fixture (Fixtures/tiny_llama.gguf, written by
/// Fixtures/make_tiny_gguf.py) and on corrupt, truncated and hostile variants of it: every one
/// must give one EngineError naming the file (and the tensor or key), never a crash.
final class GGUFReaderTests: XCTestCase {
    static func tinyPath() throws -> String {
        try XCTUnwrap(Bundle.module.url(forResource: "Fixtures/tiny_llama.gguf", withExtension: nil)).path
    }

    static func tinyBytes() throws -> [UInt8] { Array(try Data(contentsOf: URL(fileURLWithPath: tinyPath()))) }

    /// Writes `bytes` to a fresh temporary file and returns its path.
    static func write(_ bytes: [UInt8], name: String = "t.gguf") throws -> String {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("inftop-gguf-\(getpid())-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        let url = dir.appendingPathComponent(name)
        try Data(bytes).write(to: url)
        return url.path
    }

    func testReadsTheTinyFixture() throws {
        let f = try GGUFFile(path: Self.tinyPath())
        XCTAssertEqual(f.version, 3)
        XCTAssertEqual(f["general.architecture"]?.string, "llama")
        XCTAssertEqual(f["llama.block_count"]?.int, 2)
        XCTAssertEqual(f["tokenizer.ggml.tokens"]?.array?.count, 64)
        XCTAssertEqual(f.tensors.count, 1 + 2 * 9 + 1)
        let q = try XCTUnwrap(f.tensor("blk.0.attn_q.weight"))
        XCTAssertEqual(q.dims, [64, 64])
        XCTAssertEqual(q.type, .q4_1)
        XCTAssertEqual(q.rowBytes, 2 * 20)
        XCTAssertEqual(f.tensor("blk.1.ffn_down.weight")?.type, .f16)
        let c = try LlamaConfig(file: f)
        XCTAssertEqual(c, LlamaConfig(layers: 2, hidden: 64, ffn: 96, heads: 4, kvHeads: 2, ropeDim: 16, ropeBase: 10000,
                                      rmsEpsilon: 1e-5, vocab: 64, contextLength: 64))
    }

    func testEveryTruncationIsOneClearError() throws {
        let bytes = try Self.tinyBytes()
        let path = try Self.write([])
        // Every prefix of the header, every 7th through the metadata and tensor infos, then a stride through the data.
        var cuts = Array(0..<400) + Array(stride(from: 400, to: 4000, by: 7))
        cuts += stride(from: 4000, to: bytes.count, by: 997)
        for n in cuts {
            try Data(bytes[0..<n]).write(to: URL(fileURLWithPath: path))
            do {
                _ = try GGUFFile(path: path)
                XCTFail("a \(n)-byte prefix was accepted")
            } catch let e as EngineError {
                XCTAssertTrue(e.description.hasPrefix(path + ": "), "\(e)")
            }
        }
    }

    func testHostileHeadersAreRejected() throws {
        let good = try Self.tinyBytes()
        func expect(_ bytes: [UInt8], _ fragment: String, file: StaticString = #filePath, line: UInt = #line) throws {
            let path = try Self.write(bytes)
            XCTAssertThrowsError(try GGUFFile(path: path), file: file, line: line) { e in
                XCTAssertTrue("\(e)".contains(fragment), "\(e) lacks '\(fragment)'", file: file, line: line)
            }
        }
        func patch64(_ b: [UInt8], at o: Int, _ v: UInt64) -> [UInt8] {
            var b = b
            for i in 0..<8 { b[o + i] = UInt8((v >> (8 * UInt64(i))) & 0xff) }
            return b
        }
        var bad = good; bad[0] = UInt8(ascii: "X")
        try expect(bad, "bad magic")
        bad = good; bad[4] = 1
        try expect(bad, "version 1")
        try expect(patch64(good, at: 8, 1 << 40), "more than")           // tensor count
        try expect(patch64(good, at: 16, UInt64.max), "more than")       // metadata count
        try expect(patch64(good, at: 24, 1 << 50), "truncated")          // first key's length
        // The first key is general.architecture (20 bytes): its value type sits after it.
        bad = good; bad[24 + 8 + 20] = 99
        try expect(bad, "unknown value type")
        // A tensor whose offset points past the end, and one with 5 dimensions.
        let f = try GGUFFile(path: Self.tinyPath())
        let infoStart = try Self.tensorInfoOffset(good, name: "output_norm.weight")
        var b2 = good
        let nameLen = "output_norm.weight".utf8.count
        let dimsAt = infoStart + 8 + nameLen
        b2[dimsAt] = 5
        try expect(b2, "dimensions")
        let offsetAt = dimsAt + 4 + 8 + 4
        try expect(patch64(good, at: offsetAt, UInt64(f.size) * 2), "past the end")
        try expect(patch64(good, at: offsetAt, UInt64(f.size - f.dataOffset - 64)), "truncated: tensor 'output_norm.weight'")
        try expect(patch64(good, at: offsetAt, 33), "not a multiple of the alignment")
    }

    func testUnsupportedTensorTypeAndArchitectureAreNamed() throws {
        var bytes = try Self.tinyBytes()
        let at = try Self.tensorInfoOffset(bytes, name: "blk.0.attn_q.weight") + 8 + "blk.0.attn_q.weight".utf8.count + 4 + 16
        bytes[at] = 14  // Q6_K
        let path = try Self.write(bytes)
        XCTAssertThrowsError(try LanguageModel(path: path)) { e in
            XCTAssertEqual("\(e)", "\(path): tensor 'blk.0.attn_q.weight' has type Q6_K, which is not supported (inftop runs F32, F16, Q4_0, Q4_1, Q8_0)")
        }
        var arch = try Self.tinyBytes()
        let r = try XCTUnwrap(Self.find(Array("llama".utf8), in: arch))
        arch.replaceSubrange(r..<(r + 5), with: Array("gpt2x".utf8))
        let p2 = try Self.write(arch)
        XCTAssertThrowsError(try LanguageModel(path: p2)) { e in
            XCTAssertEqual("\(e)", "\(p2): architecture 'gpt2x' is not supported (inftop runs llama decoders)")
        }
    }

    func testMissingFileIsNamed() {
        XCTAssertThrowsError(try GGUFFile(path: "/nonexistent/x.gguf")) { e in
            XCTAssertEqual("\(e)", "/nonexistent/x.gguf: not found (no such file)")
        }
    }

    static func find(_ needle: [UInt8], in hay: [UInt8]) -> Int? {
        guard needle.count <= hay.count else { return nil }
        for i in 0...(hay.count - needle.count) where hay[i] == needle[0] && Array(hay[i..<(i + needle.count)]) == needle { return i }
        return nil
    }

    /// Byte offset of the tensor info of `name` (its name's length field).
    static func tensorInfoOffset(_ bytes: [UInt8], name: String) throws -> Int {
        var key = [UInt8](repeating: 0, count: 8)
        let n = name.utf8.count
        for i in 0..<8 { key[i] = UInt8((n >> (8 * i)) & 0xff) }
        key += Array(name.utf8)
        return try XCTUnwrap(find(key, in: bytes), "no tensor info for \(name)")
    }
}
