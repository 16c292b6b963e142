import XCTest
import InftopTelemetry
import InftopWorkloads

final class RequestQueueTests: XCTestCase {
    func testFIFOAndDropWhenFull() {
        let q = RequestQueue(capacity: 3)
        for i in 0..<5 { q.push(Request(sample: Int32(i), arrivalNanos: UInt64(i))) }
        XCTAssertEqual(q.count, 3)
        XCTAssertEqual(q.dropped, 2)
        XCTAssertEqual(q.oldestArrival(), 0)
        var out: [Request] = []
        XCTAssertEqual(q.pop(max: 2, into: &out), 2)
        XCTAssertEqual(out.map(\.sample), [0, 1])
        q.push(Request(sample: 9, arrivalNanos: 9))
        XCTAssertEqual(q.pop(max: 10, into: &out), 2)
        XCTAssertEqual(out.map(\.sample), [2, 9], "wraps around the ring in order")
        XCTAssertNil(q.oldestArrival())
    }

    func testLoadGeneratorOffersAboutTheRate() throws {
        let q = RequestQueue()
        let g = LoadGenerator(queue: q, sampleCount: 100, ratePerSecond: 2000)
        g.start()
        usleep(500_000)
        g.stop()
        usleep(20_000)
        // Poisson with mean 1000 in 0.5 s: ±5 σ is ±160; allow scheduling slack on a busy machine.
        XCTAssertGreaterThan(q.count, 600)
        XCTAssertLessThan(q.count, 1300)
    }
}

final class LatencyWindowTests: XCTestCase {
    func testWindowClosesIntoSeries() {
        let t0 = monotonicNanos()
        var w = LatencyWindow(origin: t0, windowSeconds: 0.001)
        for i in 1...100 { w.record(latencyNanos: UInt64(i) * 1_000_000, now: t0) }
        XCTAssertNil(w.recent, "window not over yet")
        w.closeWindowIfDue(now: t0 + 2_000_000_000)
        let r = try! XCTUnwrap(w.recent)
        XCTAssertEqual(r.calls, 100)
        XCTAssertEqual(r.p50Ms, 50, accuracy: 1)
        XCTAssertEqual(r.p99Ms, 99, accuracy: 1.5)
        XCTAssertEqual(w.p50Series.count, 1)
        XCTAssertEqual(w.cumulativeStat?.calls, 100)
        w.reset()
        XCTAssertNil(w.cumulativeStat)
    }
}
