import XCTest
import InftopTelemetry

final class StepProfilerTests: XCTestCase {
    /// Busy-waits `nanos` so a span has a known minimum length.
    private func spin(_ nanos: UInt64) {
        let end = monotonicNanos() + nanos
        while monotonicNanos() < end {}
    }

    func testLapsTileTheStepAndSumToWallTime() {
        let p = StepProfiler()
        let a = p.site("fc1"), b = p.site("fc2")
        for _ in 0..<20 {
            let t0 = monotonicNanos()
            p.beginStep()
            spin(200_000); p.buffer.lap(site: a, phase: .forward)
            spin(100_000); p.buffer.lap(site: b, phase: .forward)
            spin(50_000); p.buffer.lap(site: b, phase: .backward)
            p.endStep(wallNanos: monotonicNanos() - t0)
        }
        // Laps leave no gap: their sum is the step's wall time up to the two clock reads at the edges.
        let gap = Double(p.lastStepWallNanos) - Double(p.lastStepSpanNanos)
        XCTAssertGreaterThanOrEqual(gap, 0)
        XCTAssertLessThan(gap / Double(p.lastStepWallNanos), 0.05, "spans must add up to the step within 5 %")

        let stats = p.layerStats()
        XCTAssertEqual(stats.map(\.name), ["fc1", "fc2"])
        let fc1 = try! XCTUnwrap(stats[0].forward)
        XCTAssertEqual(fc1.calls, 20)
        XCTAssertGreaterThanOrEqual(fc1.p50Ms, 0.19)
        XCTAssertNil(stats[0].backward)
        XCTAssertNotNil(stats[1].backward)
        // Shares are each site's total over all span time (timing itself is not asserted: the
        // machine may preempt a spin).
        let fc2 = try! XCTUnwrap(stats[1].forward), fc2b = try! XCTUnwrap(stats[1].backward)
        let totals = [fc1.meanMs * 20, (fc2.meanMs + fc2b.meanMs) * 20]
        XCTAssertEqual(stats[0].share, totals[0] / totals.reduce(0, +), accuracy: 1e-6)
        XCTAssertEqual(stats.map(\.share).reduce(0, +), 1, accuracy: 1e-9)
        XCTAssertEqual(p.stepStat()?.calls, 20)
    }

    /// Between refreshes percentiles are reused (they cost); `fresh` recomputes them, as a final
    /// report and a finished run's snapshot need.
    func testFreshStatsRecomputeCachedPercentiles() {
        let p = StepProfiler()
        p.percentileRefreshNanos = 60_000_000_000
        let a = p.site("fc1")
        func steps(_ n: Int, spinNanos: UInt64) {
            for _ in 0..<n {
                let t0 = monotonicNanos()
                p.beginStep()
                spin(spinNanos); p.buffer.lap(site: a, phase: .forward)
                p.endStep(wallNanos: monotonicNanos() - t0)
            }
        }
        steps(5, spinNanos: 2_000_000)
        let early = try! XCTUnwrap(p.layerStats()[0].forward), earlyStep = try! XCTUnwrap(p.stepStat())
        XCTAssertGreaterThanOrEqual(early.p50Ms, 1.9)
        steps(60, spinNanos: 50_000)
        let cached = try! XCTUnwrap(p.layerStats()[0].forward), fresh = try! XCTUnwrap(p.layerStats(fresh: true)[0].forward)
        XCTAssertEqual(cached.p50Ms, early.p50Ms, "within the refresh interval the percentiles are reused")
        XCTAssertEqual(cached.calls, 65, "counts and means are always current")
        XCTAssertLessThan(fresh.p50Ms, early.p50Ms / 4, "fresh: the median of 65 steps, 60 of them short")
        XCTAssertEqual(p.stepStat()?.p50Ms, earlyStep.p50Ms)
        XCTAssertLessThan(try! XCTUnwrap(p.stepStat(fresh: true)).p50Ms, earlyStep.p50Ms / 4)
    }

    func testDisabledBufferRecordsNothing() {
        let p = StepProfiler(enabled: false)
        let a = p.site("x")
        p.beginStep()
        p.buffer.lap(site: a, phase: .forward)
        XCTAssertEqual(p.buffer.count, 0)
        XCTAssertEqual(p.buffer.clockReads, 0)
        p.endStep(wallNanos: 1000)
        XCTAssertNil(p.layerStats()[0].forward)
    }

    func testFullBufferCountsDroppedSpans() {
        let b = SpanBuffer(capacity: 2)
        b.start()
        for _ in 0..<5 { b.lap(site: 0, phase: .forward) }
        XCTAssertEqual(b.count, 2)
        XCTAssertEqual(b.dropped, 3)
        b.reset()
        XCTAssertEqual(b.count, 0)
    }

    func testSiteRegistrationIsIdempotent() {
        let p = StepProfiler()
        XCTAssertEqual(p.site("a"), 0)
        XCTAssertEqual(p.site("b"), 1)
        XCTAssertEqual(p.site("a"), 0)
        XCTAssertEqual(p.siteNames, ["a", "b"])
    }
}

final class MemoryTests: XCTestCase {
    func testLedgerTracksBytesAndPeak() {
        let l = MemoryLedger()
        l.add(1000, to: .activations)
        l.add(500, to: .activations)
        l.add(-1200, to: .activations)
        XCTAssertEqual(l.bytes(.activations), 300)
        XCTAssertEqual(l.peak(.activations), 1500)
        XCTAssertEqual(l.bytes(.gradients), 0)
        XCTAssertEqual(l.all().count, MemoryOwner.allCases.count)
        XCTAssertEqual(l.inUse(.activations), 300, "in use follows the bytes unless told otherwise")
        l.add(0, inUse: -200, to: .activations)  // a tensor shrank within its room
        XCTAssertEqual(l.bytes(.activations), 300)
        XCTAssertEqual(l.inUse(.activations), 100)
        XCTAssertEqual(l.allInUse()[MemoryOwner.activations.rawValue], 100)
    }

    func testResidentMemoryIsReadFromProc() {
        let rss = ProcessMemory.shared.residentBytes()
        XCTAssertGreaterThan(rss, 1 << 20, "a Swift test process holds more than 1 MiB")
        XCTAssertGreaterThanOrEqual(ProcessMemory.shared.peakResidentBytes(), rss / 2)
    }

    func testSnapshotSlotPublishesLatest() {
        let s = SnapshotSlot<Int>()
        XCTAssertNil(s.latest())
        s.publish(1); s.publish(2)
        XCTAssertEqual(s.latest(), 2)
        XCTAssertEqual(s.publishCount, 2)
    }
}
