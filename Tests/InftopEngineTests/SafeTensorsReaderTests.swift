import Foundation
import InftopEngine
import XCTest

/// A safetensors file's bytes: u64 LE header length, the header text as given, then `data`.
func safetensorsBytes(header: String, data: [UInt8]) -> [UInt8] {
    let h = Array(header.utf8)
    var out: [UInt8] = []
    var n = UInt64(h.count).littleEndian
    withUnsafeBytes(of: &n) { out += $0 }
    return out + h + data
}

/// Little-endian bytes of floats as F32, F16 or BF16 (BF16 truncates: values chosen exact).
func floatBytes(_ v: [Float], _ dtype: String) -> [UInt8] {
    var out: [UInt8] = []
    for x in v {
        switch dtype {
        case "F16": let b = Float16(x).bitPattern; out += [UInt8(b & 0xFF), UInt8(b >> 8)]
        case "BF16": let b = UInt16(x.bitPattern >> 16); out += [UInt8(b & 0xFF), UInt8(b >> 8)]
        default: let b = x.bitPattern; out += [0, 8, 16, 24].map { UInt8((b >> $0) & 0xFF) }
        }
    }
    return out
}

final class SafeTensorsReaderTests: XCTestCase {
    var dir = ""
    override func setUp() { dir = makeTempDir("str") }
    override func tearDown() { removeTree(dir) }

    func write(_ header: String, _ data: [UInt8], name: String = "m.safetensors") -> String {
        let path = dir + "/" + name
        writeFile(path, safetensorsBytes(header: header, data: data))
        return path
    }

    /// Opening `path` fails with one line naming the file and containing every `parts`.
    func assertBad(_ path: String, _ parts: String..., file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertThrowsError(try SafeTensorsFile(path: path), file: file, line: line) { e in
            let s = "\(e)"
            XCTAssertTrue(s.hasPrefix(path + ": "), "names the file: \(s)", file: file, line: line)
            XCTAssertFalse(s.contains("\n"), "one line: \(s)", file: file, line: line)
            for p in parts { XCTAssertTrue(s.contains(p), "'\(p)' in: \(s)", file: file, line: line) }
        }
    }

    func testReadsF32F16BF16AndSkipsMetadata() throws {
        let a: [Float] = [1, -2.5, 0.1, 3e5, -0, 7]
        let h: [Float] = [1.5, -2, 65504, 6.1035156e-05, 5.9604645e-08, 0.333251953125]  // exact in fp16 (incl. a subnormal)
        let b: [Float] = [3.140625, -1, 8_589_934_592, 0.0078125]  // exact in bf16
        var data = floatBytes(a, "F32")
        let ha = data.count
        data += floatBytes(h, "F16")
        let hb = data.count
        data += floatBytes(b, "BF16")
        let end = data.count
        data += [1, 0, 0, 0, 0, 0, 0, 0]  // one I64
        let header = """
            {"__metadata__":{"format":"pt","n":"1"},"a":{"dtype":"F32","shape":[2,3],"data_offsets":[0,\(ha)]},
             "h":{"dtype":"F16","shape":[6],"data_offsets":[\(ha),\(hb)]},"b":{"dtype":"BF16","shape":[2,2],"data_offsets":[\(hb),\(end)]},
             "ids":{"dtype":"I64","shape":[1],"data_offsets":[\(end),\(end + 8)]}}
            """
        let f = try SafeTensorsFile(path: write(header, data))
        XCTAssertEqual(f.metadata, ["format": "pt", "n": "1"])
        XCTAssertEqual(f.names, ["a", "h", "b", "ids"])
        XCTAssertEqual(f.info("a")?.shape, [2, 3])
        XCTAssertEqual(f.info("ids")?.dtype, .i64)
        XCTAssertEqual(try f.floats("a"), a)
        XCTAssertEqual(try f.floats("h"), h)
        XCTAssertEqual(try f.floats("b"), b)
        let wa = try f.float32("a"), wh = try f.float32("h")
        XCTAssertEqual(wa.toArray(), a)
        XCTAssertEqual(wa.shape, [2, 3])
        XCTAssertEqual(wh.toArray(), h)
        XCTAssertFalse(wh.isMapped, "F16 is converted into an owned buffer")
        XCTAssertThrowsError(try f.float32("ids")) { e in
            XCTAssertTrue("\(e)".contains("tensor 'ids' has dtype I64"), "\(e)")
        }
        XCTAssertThrowsError(try f.float32("nope")) { e in XCTAssertTrue("\(e)".contains("no tensor named 'nope'"), "\(e)") }
        XCTAssertEqual(try f.bytes("ids").count, 8)
    }

    func testAlignedF32IsViewedInPlaceAndUnalignedIsCopied() throws {
        // Header of 8 bytes keeps the data 8-aligned; a 2-byte tensor first makes the next F32 unaligned.
        let data = [UInt8](repeating: 0, count: 2) + floatBytes([4, 5], "F32")
        let header = #"{"p":{"dtype":"U8","shape":[2],"data_offsets":[0,2]},"x":{"dtype":"F32","shape":[2],"data_offsets":[2,10]},"y":{"dtype":"F32","shape":[0],"data_offsets":[10,10]}}"#
        let padded = header + String(repeating: " ", count: (8 - header.utf8.count % 8) % 8)
        let f = try SafeTensorsFile(path: write(padded, data))
        let x = try f.float32("x")
        XCTAssertFalse(x.isMapped)
        XCTAssertEqual(x.toArray(), [4, 5])
        XCTAssertEqual(try f.float32("y").count, 0)
        var gh = #"{"x":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}}"#
        while gh.utf8.count % 8 != 0 { gh += " " }
        let g = try SafeTensorsFile(path: write(gh, floatBytes([4, 5], "F32"), name: "g.st"))
        let gx = try g.float32("x")
        XCTAssertTrue(gx.isMapped, "aligned F32 is not copied")
        XCTAssertEqual(gx.toArray(), [4, 5])
    }

    func testHostileAndCorruptHeaders() throws {
        let ok = #"{"x":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}}"#
        let eight = floatBytes([1, 2], "F32")

        // Too short for the length field; empty file.
        let short = dir + "/short.st"
        writeFile(short, [1, 2, 3])
        assertBad(short, "too short")
        let empty = dir + "/empty.st"
        writeFile(empty, [])
        assertBad(empty, "too short")

        // Huge header lengths: 2⁶⁴−1, past the end of the file, above the 100 MB cap.
        for n in [UInt64.max, 1 << 40, 1000] {
            var bytes: [UInt8] = []
            var le = n.littleEndian
            withUnsafeBytes(of: &le) { bytes += $0 }
            let p = dir + "/huge\(n).st"
            writeFile(p, bytes + Array(ok.utf8) + eight)
            assertBad(p, "header length \(n)")
        }
        let big = dir + "/big.st"
        var bigBytes: [UInt8] = []
        var len = UInt64(150_000_000).littleEndian
        withUnsafeBytes(of: &len) { bigBytes += $0 }
        writeFile(big, bigBytes)
        _ = truncate(big, 150_000_100)  // sparse: the length fits the file but exceeds the cap
        assertBad(big, "exceeds the 100000000-byte limit")

        assertBad(write("{\"x\":", eight), "not valid JSON")
        assertBad(write("[1,2,3]", eight), "header")
        assertBad(write("\u{FF}\u{FE}garbage", eight), "not valid JSON")
        assertBad(write(#"{"x":{"dtype":"F12","shape":[2],"data_offsets":[0,8]}}"#, eight), "tensor 'x' has unknown dtype 'F12'")
        assertBad(write(#"{"x":{"dtype":"F32","shape":[-2],"data_offsets":[0,8]}}"#, eight), "tensor 'x'", "negative")
        assertBad(write(#"{"x":{"dtype":"F32","shape":[3],"data_offsets":[0,8]}}"#, eight), "tensor 'x' holds 8 bytes but F32 [3] needs 12")
        assertBad(write(#"{"x":{"dtype":"F16","shape":[2],"data_offsets":[0,8]}}"#, eight), "tensor 'x' holds 8 bytes but F16 [2] needs 4")
        assertBad(write(#"{"x":{"dtype":"F32","shape":[4],"data_offsets":[0,16]}}"#, eight), "tensor 'x'", "past the end")
        assertBad(write(#"{"x":{"dtype":"F32","shape":[2],"data_offsets":[8,0]}}"#, eight), "tensor 'x'", "out of order")
        assertBad(write(#"{"x":{"dtype":"F32","shape":[1],"data_offsets":[-4,0]}}"#, eight), "tensor 'x'")
        assertBad(write(#"{"x":{"dtype":"F32","shape":[2],"data_offsets":[0,8,9]}}"#, eight), "tensor 'x' data_offsets has 3 values")
        assertBad(write(#"{"x":{"shape":[2],"data_offsets":[0,8]}}"#, eight), "tensor 'x' has no 'dtype'")
        assertBad(write(#"{"x":{"dtype":"F32","shape":"2","data_offsets":[0,8]}}"#, eight), "tensor 'x' field shape")
        assertBad(write(#"{"x":{"dtype":"F32","shape":[4611686018427387904,4],"data_offsets":[0,8]}}"#, eight), "tensor 'x'", "overflows")
        assertBad(write(#"{"x":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"y":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}}"#, eight),
                  "'x' and 'y' overlap")
        assertBad(write(#"{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"b":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}}"#, eight),
                  "overlap")

        // A truncated copy of a valid file: the header now points past the end.
        let good = write(ok, eight, name: "good.st")
        XCTAssertNoThrow(try SafeTensorsFile(path: good))
        let bytes = try Data(contentsOf: URL(fileURLWithPath: good))
        let cut = dir + "/cut.st"
        writeFile(cut, Array(bytes.prefix(bytes.count - 3)))
        assertBad(cut, "tensor 'x'", "past the end")

        // Metadata that is not all strings is ignored, not fatal.
        XCTAssertNoThrow(try SafeTensorsFile(path: write(#"{"__metadata__":{"n":1},"x":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}}"#, eight, name: "meta.st")))
    }

    func testMissingFileAndDirectory() {
        XCTAssertThrowsError(try SafeTensorsFile(path: dir + "/absent.safetensors")) { e in
            XCTAssertTrue("\(e)".hasPrefix(dir + "/absent.safetensors: not found"), "\(e)")
        }
        XCTAssertThrowsError(try SafeTensorsFile(path: dir)) { e in
            XCTAssertTrue("\(e)".contains("not a regular file"), "\(e)")
        }
    }

    /// Random bytes after a plausible header length never crash the reader.
    func testFuzzedHeadersNeverCrash() throws {
        var rng = SystemRandomNumberGenerator()
        let base = Array(#"{"x":{"dtype":"F32","shape":[2,2],"data_offsets":[0,16]},"y":{"dtype":"BF16","shape":[2],"data_offsets":[16,20]}}"#.utf8)
        for i in 0..<300 {
            var h = base
            for _ in 0..<(1 + i % 4) {
                let at = Int.random(in: 0..<h.count, using: &rng)
                h[at] = UInt8.random(in: 32...126, using: &rng)
            }
            let p = write(String(decoding: h, as: UTF8.self), [UInt8](repeating: 0, count: 20), name: "fuzz.st")
            if let f = try? SafeTensorsFile(path: p) {
                for n in f.names { _ = try? f.floats(n) }
            }
        }
    }
}
