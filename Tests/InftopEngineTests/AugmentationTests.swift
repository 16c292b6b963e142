import XCTest
import InftopEngine

/// Random crop with zero padding + horizontal flip, and the cached-preprocessing loader.
final class AugmentationTests: XCTestCase {
    /// A 5×4 image with pixel value = 1 + index: each output is the input shifted by at most
    /// `padding` (zeros shifted in) and possibly mirrored; some draw shifts, some flips.
    func testEachSampleIsAShiftedPossiblyMirroredCopy() {
        let rows = 5, cols = 4, n = 64
        let img = (0..<(rows * cols)).map { Float($0 + 1) }
        var x = [Float](repeating: 0, count: n * rows * cols)
        for b in 0..<n { for i in 0..<(rows * cols) { x[b * rows * cols + i] = img[i] } }
        let a = Augmentation(padding: 1, flip: true)
        x.withUnsafeMutableBufferPointer { a.apply($0.baseAddress!, n: n, rows: rows, cols: cols, seed: 7, epoch: 0, start: 0) }
        var shifted = 0, mirrored = 0
        for b in 0..<n {
            let out = Array(x[(b * rows * cols)..<((b + 1) * rows * cols)])
            var found = false
            for dy in -1...1 { for dx in -1...1 { for m in [false, true] {
                let expect = (0..<(rows * cols)).map { i -> Float in
                    let r = i / cols, c = i % cols
                    let sr = r + dy, sc = (m ? cols - 1 - c : c) + dx
                    return sr >= 0 && sr < rows && sc >= 0 && sc < cols ? img[sr * cols + sc] : 0
                }
                if expect == out { found = true; if dx != 0 || dy != 0 { shifted += 1 }; if m { mirrored += 1 } }
            } } }
            XCTAssertTrue(found, "sample \(b) is not a padded crop / flip of the image")
        }
        XCTAssertGreaterThan(shifted, 20)
        XCTAssertGreaterThan(mirrored, 10)
        XCTAssertLessThan(mirrored, 54)
        // Same seed, epoch and position: the same draw (whoever fills the batch).
        var y = img + img
        y.withUnsafeMutableBufferPointer { a.apply($0.baseAddress!, n: 2, rows: rows, cols: cols, seed: 7, epoch: 0, start: 0) }
        XCTAssertEqual(y, Array(x[0..<(2 * rows * cols)]))
    }

    /// Cached preprocessing hands out exactly the batches the on-the-fly loader does.
    func testCachedPreprocessingGivesTheSameBatches() throws {
        var px = [UInt8](repeating: 0, count: 37 * 784), labels = [UInt8](repeating: 0, count: 37)
        for i in 0..<px.count { px[i] = UInt8((i * 7919) % 251) }
        for i in 0..<37 { labels[i] = UInt8(i % 10) }
        let ds = try ImageDataset(name: "t", rows: 28, cols: 28, classes: 10, pixels: px, labels: labels)
        let plain = BatchLoader(dataset: ds, batchSize: 8, seed: 3, loaderThreads: 0)
        let cached = BatchLoader(dataset: ds, batchSize: 8, seed: 3, loaderThreads: 0, cachePreprocessed: true)
        for _ in 0..<12 {
            let a = try XCTUnwrap(plain.next(batchSize: 8)), b = try XCTUnwrap(cached.next(batchSize: 8))
            XCTAssertEqual(a.x.toArray(), b.x.toArray())
            XCTAssertEqual(a.labelArray, b.labelArray)
            plain.recycle(a); cached.recycle(b)
        }
    }
}
