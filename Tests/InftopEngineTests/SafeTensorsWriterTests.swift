import XCTest
import Foundation
import InftopEngine

final class SafeTensorsWriterTests: XCTestCase {
    /// Every string survives JSONText.quote → Foundation's parser unchanged, control characters
    /// and non-ASCII included; and the escapes are the short ones where JSON has them.
    func testJSONQuoteRoundTrips() throws {
        let texts = ["", "plain", "a \"quoted\" word", "back\\slash", "tab\tnew\nline\rcr", "\u{01}\u{1f}\u{7f}",
                     "café ☕ 日本語", "emoji 👍🏽", "/slash/"]
        for t in texts {
            let q = JSONText.quote(t)
            let back = try JSONSerialization.jsonObject(with: Data("[\(q)]".utf8)) as? [String]
            XCTAssertEqual(back, [t], "quote(\(t.debugDescription)) = \(q)")
        }
        XCTAssertEqual(JSONText.quote("a\"b\\c\nd\u{01}"), #""a\"b\\c\nd\u0001""#)
    }

    func testWritesAValidFileAtomically() throws {
        let dir = makeTempDir("st")
        defer { removeTree(dir) }
        let w = Tensor([3, 2], values: [1, 2, 3, 4, 5, -6.5], name: "w")
        let b = Tensor([5], values: [0.25, 0, 0, 0, 1e-3], name: "b")
        let path = "\(dir)/model.safetensors"
        try SafeTensorsWriter.write(path: path, tensors: [("fc1.weight", w), ("fc1.bias", b)],
                                    metadata: ["epoch": "3", "note": "a \"quoted\"\nline"])
        let bytes = try FileBytes.read(path: path)
        var n = 0
        for i in 0..<8 { n |= Int(bytes[i]) << (8 * i) }
        XCTAssertEqual(n % 8, 0, "header padded to 8 bytes")
        XCTAssertEqual(bytes.count, 8 + n + (6 + 5) * 4, "file is header + exactly the data")
        let header = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(bytes[8..<(8 + n)])) as? [String: Any])
        let meta = try XCTUnwrap(header["__metadata__"] as? [String: String])
        XCTAssertEqual(meta, ["epoch": "3", "note": "a \"quoted\"\nline"])
        let fw = try XCTUnwrap(header["fc1.weight"] as? [String: Any])
        XCTAssertEqual(fw["dtype"] as? String, "F32")
        XCTAssertEqual(fw["shape"] as? [Int], [3, 2])
        XCTAssertEqual(fw["data_offsets"] as? [Int], [0, 24])
        let fb = try XCTUnwrap(header["fc1.bias"] as? [String: Any])
        XCTAssertEqual(fb["data_offsets"] as? [Int], [24, 44])
        // The data, little-endian fp32.
        let data = Array(bytes[(8 + n)...])
        let floats = data.withUnsafeBytes { raw in (0..<11).map { raw.loadUnaligned(fromByteOffset: $0 * 4, as: Float.self) } }
        XCTAssertEqual(floats, [1, 2, 3, 4, 5, -6.5, 0.25, 0, 0, 0, 1e-3])
        // No temporary is left behind; rewriting replaces the file and removes the temporary a
        // dead process left (a pid above any pid_max), not a live one's (pid 1).
        FileManager.default.createFile(atPath: path + ".tmp-2147483646", contents: Data([1]))
        FileManager.default.createFile(atPath: path + ".tmp-1", contents: Data([1]))
        try SafeTensorsWriter.write(path: path, tensors: [("only", b)])
        let names = try FileManager.default.contentsOfDirectory(atPath: dir).sorted()
        XCTAssertEqual(names, ["model.safetensors", "model.safetensors.tmp-1"])
        unlink(path + ".tmp-1")
        XCTAssertEqual(try FileBytes.read(path: path).count, 8 + (try SafeTensorsWriter.encodeHeader(tensors: [("only", [5])])).count + 20)
    }

    func testBadNamesAndUnwritablePath() {
        let t = Tensor([1], name: "t")
        XCTAssertThrowsError(try SafeTensorsWriter.write(path: "/tmp/x.st", tensors: [("a", t), ("a", t)])) { e in
            XCTAssertTrue("\(e)".contains("'a' appears twice"), "\(e)")
        }
        XCTAssertThrowsError(try SafeTensorsWriter.write(path: "/nonexistent-dir/x.safetensors", tensors: [("a", t)])) { e in
            XCTAssertTrue("\(e)".hasPrefix("/nonexistent-dir/x.safetensors: cannot create"), "\(e)")
        }
    }
}
