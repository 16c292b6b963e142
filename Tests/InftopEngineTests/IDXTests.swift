import XCTest
import InftopEngine
#if canImport(Glibc)
import Glibc
#endif

/// A fresh temporary folder for one test, removed afterwards.
func makeTempDir(_ tag: String) -> String {
    var template = Array("/tmp/inftop-\(tag)-XXXXXX".utf8CString)
    let p = template.withUnsafeMutableBufferPointer { mkdtemp($0.baseAddress!) }
    precondition(p != nil, "mkdtemp failed")
    return String(cString: p!)
}

func removeTree(_ dir: String) {
    _ = system("rm -rf '\(dir)'")
}

func writeFile(_ path: String, _ bytes: [UInt8]) {
    let f = fopen(path, "wb")!
    _ = bytes.withUnsafeBytes { fwrite($0.baseAddress, 1, $0.count, f) }
    fclose(f)
}

final class IDXTests: XCTestCase {
    var dir = ""
    override func setUp() { dir = makeTempDir("idx") }
    override func tearDown() { removeTree(dir) }

    /// n images of 28×28 whose pixels encode (sample, position), labels i % 10.
    func images(_ n: Int, rows: Int = 28, cols: Int = 28) -> [UInt8] {
        IDXFile.encode(magic: IDXFile.imagesMagic, dims: [n, rows, cols],
                       payload: (0..<(n * rows * cols)).map { UInt8(truncatingIfNeeded: $0 &* 7 &+ $0 / 784) })
    }
    func labels(_ n: Int) -> [UInt8] {
        IDXFile.encode(magic: IDXFile.labelsMagic, dims: [n], payload: (0..<n).map { UInt8($0 % 10) })
    }

    func testReadsPlainAndGzipFilesAlike() throws {
        let raw = images(5)
        writeFile("\(dir)/plain", raw)
        writeFile("\(dir)/packed.gz", Gzip.compress(raw))
        let a = try IDXFile.readImages(path: "\(dir)/plain")
        let b = try IDXFile.readImages(path: "\(dir)/packed.gz")
        XCTAssertEqual(a.dims, [5, 28, 28])
        XCTAssertEqual(b.dims, [5, 28, 28])
        XCTAssertEqual(a.payload, Array(raw[16...]))
        XCTAssertEqual(b.payload, a.payload)
    }

    func testGzipRoundTripOfLargeAndEmptyishData() throws {
        let big = (0..<300_000).map { UInt8(truncatingIfNeeded: $0 * 31 + $0 / 1000) }
        XCTAssertEqual(try Gzip.decompress(Gzip.compress(big), path: "big"), big)
        XCTAssertEqual(try Gzip.decompress(Gzip.compress([42]), path: "one"), [42])
        // Two concatenated members decode to the concatenation, as gzip -d does.
        XCTAssertEqual(try Gzip.decompress(Gzip.compress([1, 2]) + Gzip.compress([3]), path: "two"), [1, 2, 3])
    }

    func testCorruptAndTruncatedGzipAreErrors() {
        let packed = Gzip.compress(images(3))
        writeFile("\(dir)/cut.gz", Array(packed.prefix(packed.count / 2)))
        XCTAssertThrowsError(try IDXFile.readImages(path: "\(dir)/cut.gz")) { e in
            XCTAssertTrue("\(e)".contains("cut.gz"), "\(e)")
            XCTAssertTrue("\(e)".contains("truncated"), "\(e)")
        }
        var bad = packed
        for i in 20..<60 { bad[i] ^= 0x5a }
        writeFile("\(dir)/bad.gz", bad)
        XCTAssertThrowsError(try IDXFile.readImages(path: "\(dir)/bad.gz")) { e in
            XCTAssertTrue("\(e)".contains("bad.gz"), "\(e)")
        }
        writeFile("\(dir)/stray.gz", packed + [1, 2, 3])
        XCTAssertThrowsError(try IDXFile.readImages(path: "\(dir)/stray.gz")) { e in
            XCTAssertTrue("\(e)".contains("stray bytes"), "\(e)")
        }
    }

    func testWrongMagicIsAnError() {
        writeFile("\(dir)/labels-as-images", labels(4))
        XCTAssertThrowsError(try IDXFile.readImages(path: "\(dir)/labels-as-images")) { e in
            XCTAssertEqual("\(e)", "\(dir)/labels-as-images: bad magic 0x00000801 (expected 0x00000803, an idx3-ubyte image file)")
        }
        writeFile("\(dir)/junk", Array("hello, world".utf8))
        XCTAssertThrowsError(try IDXFile.readLabels(path: "\(dir)/junk", classes: 10)) { e in
            XCTAssertTrue("\(e)".contains("bad magic"), "\(e)")
        }
        writeFile("\(dir)/tiny", [0, 0])
        XCTAssertThrowsError(try IDXFile.readLabels(path: "\(dir)/tiny", classes: 10)) { e in
            XCTAssertTrue("\(e)".contains("too short"), "\(e)")
        }
    }

    func testTruncatedBodyAndHeaderAreErrors() {
        let raw = images(3)
        writeFile("\(dir)/short", Array(raw.dropLast(5)))
        XCTAssertThrowsError(try IDXFile.readImages(path: "\(dir)/short")) { e in
            XCTAssertEqual("\(e)", "\(dir)/short: truncated: header says 3×28×28 = 2352 bytes of data, file has 2347")
        }
        writeFile("\(dir)/header", Array(raw.prefix(10)))
        XCTAssertThrowsError(try IDXFile.readImages(path: "\(dir)/header")) { e in
            XCTAssertTrue("\(e)".contains("truncated header"), "\(e)")
        }
    }

    func testWrongCountAndTrailingBytesAreErrors() {
        // Header claims 4 images, body holds 3.
        var raw = images(3)
        raw[7] = 4
        writeFile("\(dir)/count", raw)
        XCTAssertThrowsError(try IDXFile.readImages(path: "\(dir)/count")) { e in
            XCTAssertTrue("\(e)".contains("truncated"), "\(e)")
        }
        writeFile("\(dir)/trailing", labels(6) + [0])
        XCTAssertThrowsError(try IDXFile.readLabels(path: "\(dir)/trailing", classes: 10)) { e in
            XCTAssertEqual("\(e)", "\(dir)/trailing: 1 trailing bytes after the 6 = 6 bytes of data")
        }
        var zero = images(1)
        zero[7] = 0
        writeFile("\(dir)/zero", zero)
        XCTAssertThrowsError(try IDXFile.readImages(path: "\(dir)/zero")) { e in
            XCTAssertTrue("\(e)".contains("dimension 0 is 0"), "\(e)")
        }
        // Sizes whose product overflows must not be trusted.
        writeFile("\(dir)/huge", IDXFile.encode(magic: IDXFile.imagesMagic, dims: [0xffff_ffff, 0xffff_ffff, 0xffff_ffff], payload: [1, 2]))
        XCTAssertThrowsError(try IDXFile.readImages(path: "\(dir)/huge")) { e in
            XCTAssertTrue("\(e)".contains("absurdly large"), "\(e)")
        }
    }

    func testLabelOutOfRangeIsAnError() {
        var raw = labels(12)
        raw[8 + 7] = 10
        writeFile("\(dir)/labels", raw)
        XCTAssertThrowsError(try IDXFile.readLabels(path: "\(dir)/labels", classes: 10)) { e in
            XCTAssertEqual("\(e)", "\(dir)/labels: label 10 at index 7 is outside 0…9")
        }
    }

    func testMissingFileAndFolder() {
        XCTAssertThrowsError(try IDXFile.readImages(path: "\(dir)/nope")) { e in
            XCTAssertEqual(e as? EngineError, .missing(path: "\(dir)/nope", hint: "no such file"))
        }
        XCTAssertThrowsError(try FashionMNIST.load(directory: "\(dir)/absent")) { e in
            XCTAssertTrue("\(e)".contains("apt-get install dataset-fashion-mnist"), "\(e)")
            XCTAssertTrue("\(e)".contains("--data DIR"), "\(e)")
        }
        // A folder with only some of the files names the first missing one.
        writeFile("\(dir)/train-images-idx3-ubyte", images(2))
        XCTAssertThrowsError(try FashionMNIST.load(directory: dir)) { e in
            XCTAssertTrue("\(e)".contains("train-labels-idx1-ubyte"), "\(e)")
        }
    }

    func testFashionMNISTFolderWithMixedPlainAndGzip() throws {
        writeFile("\(dir)/train-images-idx3-ubyte.gz", Gzip.compress(images(20)))
        writeFile("\(dir)/train-labels-idx1-ubyte", labels(20))
        writeFile("\(dir)/t10k-images-idx3-ubyte", images(7))
        writeFile("\(dir)/t10k-labels-idx1-ubyte.gz", Gzip.compress(labels(7)))
        let (train, test) = try FashionMNIST.load(directory: dir)
        XCTAssertEqual(train.count, 20)
        XCTAssertEqual(test.count, 7)
        XCTAssertEqual((0..<7).map { test.label($0) }, [0, 1, 2, 3, 4, 5, 6])
        // Conversion is x/255 exactly as the peers' numpy does it.
        let x = UnsafeMutablePointer<Float>.allocate(capacity: 784 * 2); defer { x.deallocate() }
        let y = UnsafeMutablePointer<Int32>.allocate(capacity: 2); defer { y.deallocate() }
        var idx: [Int32] = [19, 3]
        train.gather(indices: &idx, n: 2, x: x, labels: y)
        XCTAssertEqual(y[0], 9); XCTAssertEqual(y[1], 3)
        for j in [0, 100, 783] {
            XCTAssertEqual(x[j], Float(train.pixels[19 * 784 + j]) / 255)
            XCTAssertEqual(x[784 + j], Float(train.pixels[3 * 784 + j]) / 255)
        }
    }

    func testImagesAndLabelsMustAgreeAndBe28x28() {
        writeFile("\(dir)/train-images-idx3-ubyte", images(5))
        writeFile("\(dir)/train-labels-idx1-ubyte", labels(4))
        writeFile("\(dir)/t10k-images-idx3-ubyte", images(2, rows: 27, cols: 28))
        writeFile("\(dir)/t10k-labels-idx1-ubyte", labels(2))
        XCTAssertThrowsError(try FashionMNIST.load(directory: dir)) { e in
            XCTAssertTrue("\(e)".contains("4 labels for 5 images"), "\(e)")
        }
        XCTAssertThrowsError(try FashionMNIST.split(directory: dir, prefix: "t10k", name: "t")) { e in
            XCTAssertTrue("\(e)".contains("27×28, expected 28×28"), "\(e)")
        }
    }
}
