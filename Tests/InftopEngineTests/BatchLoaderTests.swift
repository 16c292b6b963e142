import XCTest
import InftopEngine
import InftopTelemetry

final class BatchLoaderTests: XCTestCase {
    /// `n` 2×2 images whose first pixel is the sample's index mod 256 and label index mod 10.
    func dataset(_ n: Int) throws -> ImageDataset {
        var px = [UInt8](repeating: 0, count: n * 4)
        for i in 0..<n { px[i * 4] = UInt8(i % 256); px[i * 4 + 1] = UInt8(i / 256) }
        return try ImageDataset(name: "toy", rows: 2, cols: 2, classes: 10, pixels: px, labels: (0..<n).map { UInt8($0 % 10) })
    }

    /// The sample index a batch row came from (pixels 0 and 1 encode it).
    func ids(_ b: Batch) -> [Int] {
        (0..<b.count).map { r in Int((b.x.data[r * 4] * 255).rounded()) + 256 * Int((b.x.data[r * 4 + 1] * 255).rounded()) }
    }

    func testEverySampleOncePerEpochAndEpochsDiffer() throws {
        for threads in 1...2 { try everySampleOncePerEpoch(loaderThreads: threads) }
    }

    func everySampleOncePerEpoch(loaderThreads: Int) throws {
        let ds = try dataset(1000)
        let loader = BatchLoader(dataset: ds, batchSize: 64, seed: 7, buffers: 2 + 2 * loaderThreads, loaderThreads: loaderThreads)
        defer { loader.stop() }
        var orders: [[Int]] = []
        for epoch in 0..<3 {
            var seen: [Int] = []
            while true {
                let b = try XCTUnwrap(loader.next(batchSize: 64))
                XCTAssertEqual(b.epoch, epoch)
                XCTAssertEqual(b.start, seen.count)
                let got = ids(b)
                XCTAssertEqual(b.labelArray, got.map { Int32($0 % 10) })
                seen += got
                let ends = b.endsEpoch
                XCTAssertEqual(b.count, ends ? 1000 - 15 * 64 : 64)
                loader.recycle(b)
                if ends { break }
            }
            XCTAssertEqual(seen.sorted(), Array(0..<1000))
            orders.append(seen)
        }
        XCTAssertNotEqual(orders[0], orders[1])
        XCTAssertNotEqual(orders[0], Array(0..<1000), "shuffled")
        // Same seed, same order.
        let again = BatchLoader(dataset: ds, batchSize: 1000, seed: 7)
        let b = try XCTUnwrap(again.next(batchSize: 1000))
        XCTAssertEqual(ids(b), orders[0])
        again.recycle(b)
        again.stop()
    }

    func testBatchSizeChangesMidEpochSkipAndRepeatNothing() throws {
        for threads in 1...2 { try batchSizeChanges(loaderThreads: threads, buffers: 3) }
        try batchSizeChanges(loaderThreads: 2, buffers: 8)
    }

    func batchSizeChanges(loaderThreads: Int, buffers: Int) throws {
        let ds = try dataset(777)
        let loader = BatchLoader(dataset: ds, batchSize: 32, seed: 1, buffers: buffers, loaderThreads: loaderThreads)
        defer { loader.stop() }
        let sizes = [32, 32, 5, 5, 200, 1, 64, 64, 1024, 3]
        var step = 0
        for epoch in 0..<3 {
            var seen: [Int] = []
            while true {
                let want = sizes[step % sizes.count]
                step += 1
                // Let the loader fill its queue at the old size before asking for the new one.
                if step % 3 == 0 { usleep(2000) }
                let b = try XCTUnwrap(loader.next(batchSize: want))
                XCTAssertEqual(b.epoch, epoch)
                XCTAssertEqual(b.start, seen.count, "no gap, no overlap")
                XCTAssertEqual(b.count, min(want, 777 - seen.count))
                XCTAssertEqual(b.x.shape, [b.count, 4])
                seen += ids(b)
                let ends = b.endsEpoch
                loader.recycle(b)
                if ends { break }
            }
            XCTAssertEqual(seen.sorted(), Array(0..<777), "epoch \(epoch)")
        }
    }

    func testWithoutPrefetchTheConsumerFillsEveryBatch() throws {
        let ds = try dataset(300)
        let loader = BatchLoader(dataset: ds, batchSize: 64, seed: 7, buffers: 2, loaderThreads: 0)
        let threaded = BatchLoader(dataset: ds, batchSize: 64, seed: 7)
        let two = BatchLoader(dataset: ds, batchSize: 64, seed: 7, buffers: 6, loaderThreads: 2)
        var prev: Batch? = nil, prevT: Batch? = nil, prev2: Batch? = nil
        for step in 0..<12 {
            let size = [64, 64, 7, 100][step % 4]
            let b = try XCTUnwrap(loader.next(batchSize: size, recycling: prev))
            let t = try XCTUnwrap(threaded.next(batchSize: size, recycling: prevT))
            let t2 = try XCTUnwrap(two.next(batchSize: size, recycling: prev2))
            XCTAssertEqual(ids(b), ids(t), "same order with and without the loader thread")
            XCTAssertEqual(ids(b), ids(t2), "same order with two loader threads")
            XCTAssertEqual(b.epoch, t.epoch); XCTAssertEqual(b.start, t.start)
            XCTAssertEqual(b.start, t2.start)
            prev = b; prevT = t; prev2 = t2
        }
        loader.stop(); threaded.stop(); two.stop()
    }

    func testSlowFillsAreTakenOverWithoutLosingOrder() throws {
        // 256×256 images: a batch of 16 takes about a millisecond to convert, longer than the
        // consumer's patience, so it takes over the loader's fills; order and coverage must hold.
        let n = 150, side = 256
        var px = [UInt8](repeating: 0, count: n * side * side)
        for i in 0..<n { px[i * side * side] = UInt8(i % 256); px[i * side * side + 1] = UInt8(i / 256) }
        let ds = try ImageDataset(name: "big", rows: side, cols: side, classes: 10, pixels: px, labels: (0..<n).map { UInt8($0 % 10) })
        func idsOf(_ b: Batch) -> [Int] {
            (0..<b.count).map { Int((b.x.data[$0 * side * side] * 255).rounded()) + 256 * Int((b.x.data[$0 * side * side + 1] * 255).rounded()) }
        }
        let sizes = [16, 16, 16, 16, 16, 16, 9, 16, 16, 16, 16, 16, 16, 30]
        func drain(_ loader: BatchLoader, epochs: Int) throws -> [[Int]] {
            var out: [[Int]] = [], prev: Batch? = nil, step = 0, epoch = 0
            while epoch < epochs {
                let b = try XCTUnwrap(loader.next(batchSize: sizes[step % sizes.count], recycling: prev))
                step += 1
                prev = b
                out.append(idsOf(b))
                if b.endsEpoch { epoch += 1 }
            }
            return out
        }
        let reference = BatchLoader(dataset: ds, batchSize: 16, seed: 5, loaderThreads: 0)
        let want = try drain(reference, epochs: 3)
        XCTAssertEqual(reference.consumerFills.stolen, 0)
        var takenOver = 0
        for (patience, threads, buffers) in [(UInt64(0), 1, 3), (200_000, 1, 3), (0, 2, 3), (200_000, 2, 8), (2_000_000, 2, 8)] {
            // Patience 0: every fill a loader has in progress when the consumer arrives is taken
            // over. Two threads with 8 buffers: fills finish out of order and must be reordered.
            let loader = BatchLoader(dataset: ds, batchSize: 16, seed: 5, buffers: buffers, loaderThreads: threads, patienceNanos: patience)
            let got = try drain(loader, epochs: 3)
            XCTAssertEqual(got, want, "same batches as the single-threaded loader (patience \(patience), \(threads) loader threads)")
            for e in 0..<3 {
                let epochIDs = got.flatMap { $0 }[(e * n)..<((e + 1) * n)]
                XCTAssertEqual(epochIDs.sorted(), Array(0..<n))
            }
            takenOver += loader.consumerFills.stolen
            loader.stop()
        }
        // How often each path runs depends on the scheduler (on a loaded machine the loader
        // thread may not run for milliseconds); what must hold on every path is checked above.
        print("slow fills: \(takenOver) fills taken over from the loader")
        reference.stop()
    }

    func testUnshuffledLoaderAndSampleShape() throws {
        let ds = try dataset(10)
        let loader = BatchLoader(dataset: ds, sampleShape: [1, 2, 2], batchSize: 4, seed: 0, shuffled: false)
        let b = try XCTUnwrap(loader.next(batchSize: 4))
        XCTAssertEqual(b.x.shape, [4, 1, 2, 2])
        XCTAssertEqual(ids(b), [0, 1, 2, 3])
        loader.recycle(b)
        loader.stop()
        XCTAssertNil(loader.next(batchSize: 4), "stopped loader returns nil")
        loader.stop()  // idempotent
    }

    func testStopWhileTheLoaderWaitsAndDeinitJoin() throws {
        let ds = try dataset(100)
        for _ in 0..<20 {
            // Holding every buffer leaves the loader thread waiting; stop must still wake and join it.
            let loader = BatchLoader(dataset: ds, batchSize: 8, seed: 3, buffers: 2)
            let a = loader.next(batchSize: 8)
            XCTAssertNotNil(a)
            loader.stop()
        }
        for _ in 0..<20 { _ = BatchLoader(dataset: ds, batchSize: 8, seed: 3) }  // deinit joins
        for _ in 0..<20 {
            // Two loader threads, one of them with no buffer to fill: both are woken and joined.
            let loader = BatchLoader(dataset: ds, batchSize: 8, seed: 3, buffers: 2, loaderThreads: 2)
            XCTAssertNotNil(loader.next(batchSize: 8))
            loader.stop()
        }
        for _ in 0..<20 { _ = BatchLoader(dataset: ds, batchSize: 8, seed: 3, loaderThreads: 2) }
    }

    func testSequentialBatchesCoverTheSetInOrder() throws {
        let ds = try dataset(103)
        let it = SequentialBatches(dataset: ds, batchSize: 25)
        var seen: [Int] = []
        var counts: [Int] = []
        while let b = it.next() { seen += ids(b); counts.append(b.count) }
        XCTAssertEqual(seen, Array(0..<103))
        XCTAssertEqual(counts, [25, 25, 25, 25, 3])
        it.reset()
        XCTAssertEqual(it.next()?.start, 0)
    }

    func testConversionIsExactlyXOver255ForEveryByte() throws {
        // 17×17 = 289 pixels: every byte value, and a tail that is not a multiple of 8.
        let px = (0..<289).map { UInt8($0 % 256) }
        let ds = try ImageDataset(name: "all", rows: 17, cols: 17, classes: 2, pixels: px + px.reversed(), labels: [1, 0])
        let x = UnsafeMutablePointer<Float>.allocate(capacity: 2 * 289); defer { x.deallocate() }
        let y = UnsafeMutablePointer<Int32>.allocate(capacity: 2); defer { y.deallocate() }
        var idx: [Int32] = [1, 0]
        ds.gather(indices: &idx, n: 2, x: x, labels: y)
        for j in 0..<289 {
            XCTAssertEqual(x[j], Float(px[288 - j]) / 255)
            XCTAssertEqual(x[289 + j], Float(px[j]) / 255)
        }
        XCTAssertEqual([y[0], y[1]], [0, 1])
        ds.gather(start: 0, n: 2, x: x, labels: y)
        for j in 0..<289 { XCTAssertEqual(x[j], Float(px[j]) / 255) }
    }

    func testDatasetChecksAndLedger() throws {
        XCTAssertThrowsError(try ImageDataset(name: "x", rows: 2, cols: 2, classes: 10, pixels: [1, 2, 3], labels: [1]))
        XCTAssertThrowsError(try ImageDataset(name: "x", rows: 1, cols: 1, classes: 3, pixels: [1], labels: [3])) { e in
            XCTAssertEqual("\(e)", "x: label 3 at index 0 is outside 0…2")
        }
        let before = MemoryLedger.shared.bytes(.data)
        var ds: ImageDataset? = try dataset(50)
        XCTAssertEqual(MemoryLedger.shared.bytes(.data) - before, 50 * 5)
        XCTAssertEqual(ds?.prefix(20).count, 20)
        ds = nil
        XCTAssertEqual(MemoryLedger.shared.bytes(.data), before)
    }
}
