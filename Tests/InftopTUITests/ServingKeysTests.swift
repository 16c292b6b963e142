import InftopTelemetry
import InftopTUI
import InftopWorkloads
import XCTest

/// The serving floor's keys write their knobs, and the A/B compare takes its A side from a
/// snapshot and compares with a stated test.
final class ServingKeysTests: XCTestCase {
    var c = DashboardController(config: DashboardConfig(modelNames: ["mlp"], maxThreads: 2, builtFeatures: [.responseCache]))
    var k = KnobValues()

    func press(_ keys: Key...) { for key in keys { c.handle(key, knobs: &k, now: 0) } }
    var status: String? { c.status(at: 0)?.text }

    func testScenarioDelayWorkersRepeatsAndCacheKeysCycle() {
        XCTAssertEqual(k.scenario, .server)
        press(.char("L")); XCTAssertEqual(k.scenario, .offline)
        press(.char("L")); XCTAssertEqual(k.scenario, .single)
        press(.char("L")); XCTAssertEqual(k.scenario, .server)
        XCTAssertEqual(k.maxQueueDelayMs, 2)
        press(.char("w")); XCTAssertEqual(k.maxQueueDelayMs, 5)
        press(.char("w"), .char("w")); XCTAssertEqual(k.maxQueueDelayMs, 0)
        press(.char("a")); XCTAssertEqual(k.servingWorkers, 2)
        press(.char("a")); XCTAssertEqual(k.servingWorkers, 1, "wraps at the cores")
        for expected in [25, 50, 90, 0] { press(.char("z")); XCTAssertEqual(k.repeatPercent, expected) }
        press(.char("c")); XCTAssertTrue(k.responseCache)
    }

    func testRateKeysActOnTheServingPanelOnly() {
        press(.char(">"))
        XCTAssertNil(k.offeredRate, "with Training focused, > is the learning rate's key")
        XCTAssertNotNil(k.learningRate)
        press(.tab)  // Latency
        c.noteOfferedRate(1000)
        press(.char(">")); XCTAssertEqual(k.offeredRate, 2000)
        press(.char("<"), .char("<")); XCTAssertEqual(k.offeredRate, 500)
        XCTAssertEqual(status, "Poisson rate → 500/s (Server scenario)")
    }

    func testABTakesTheASideAndXAgainClears() throws {
        press(.char("x"))
        XCTAssertTrue(c.takeABRequest())
        XCTAssertFalse(c.takeABRequest(), "taken once")
        let series = [SeriesSnapshot(name: "latency_p50_ms", unit: "ms", times: [1, 2, 3, 4], values: [1, 1.1, 0.9, 1]),
                      SeriesSnapshot(name: "latency_p99_ms", unit: "ms", times: [1, 2, 3, 4], values: [3, 3, 3, 3]),
                      SeriesSnapshot(name: "items_per_sec", unit: "/s", times: [1, 2, 3, 4], values: [100, 100, 100, 100])]
        let floor = ServingFloorSnapshot(scenario: .server, verdict: ScenarioVerdict(valid: true, reason: "", queries: 400, seconds: 4.2),
                                         workers: 1, threadsPerWorker: 1, maxQueueDelayMs: 2, repeatFraction: 0, p99BoundMs: 10,
                                         total: nil, queueWait: nil, compute: nil, itemsPerSecond: 100, cache: nil)
        let inf = InferenceSnapshot(model: "mlp", state: .running, requests: 400, batches: 50, batchSize: 8, latency: nil,
                                    itemsPerSecond: 100, cacheHitRate: nil, layers: [], profilerOverhead: 0, series: series,
                                    servedAccuracy: 0.8, floor: floor)
        let snap = DashboardSnapshot(uptimeSeconds: 5, training: nil, inference: inf, memory: MemorySnapshot.now(), memorySeries: nil)
        c.captureAB(snap, now: 0)
        let a = try XCTUnwrap(c.state.abBaseline)
        XCTAssertEqual(a.p50, [1, 1.1, 0.9, 1], "the windows since the configuration started")
        XCTAssertEqual(a.queries, 400)
        press(.char("x"))
        XCTAssertNil(c.state.abBaseline)
        XCTAssertEqual(status, "A/B compare cleared")
    }
}

final class ABComparisonTests: XCTestCase {
    func testBootstrapSeparatesARealChangeFromNoise() {
        let a = [10.0, 10.4, 9.8, 10.1, 10.2, 9.9, 10.0, 10.3]
        let faster = a.map { $0 * 0.7 }
        let same = [10.1, 9.9, 10.2, 10.0, 10.3, 9.8, 10.1, 10.0]
        let real = ABComparison.compare(a, faster)
        XCTAssertEqual(real.verdict, .real)
        XCTAssertEqual(real.delta, -0.3 * a.reduce(0, +) / Double(a.count), accuracy: 1e-9)
        XCTAssertLessThan(real.high!, 0)
        let noise = ABComparison.compare(a, same)
        XCTAssertEqual(noise.verdict, .noise)
        XCTAssertLessThan(noise.low!, 0); XCTAssertGreaterThan(noise.high!, 0)
        XCTAssertEqual(ABComparison.compare([1, 2], [3, 4, 5]).verdict, .unknown, "fewer than 3 windows")
        XCTAssertEqual(ABComparison.compare(a, faster), ABComparison.compare(a, faster), "seeded: the same interval every time")
    }

    func testProportionsUseATwoProportionZTest() {
        XCTAssertEqual(ABComparison.compareProportions(0.85, 10_000, 0.80, 10_000).verdict, .real)
        XCTAssertEqual(ABComparison.compareProportions(0.85, 100, 0.84, 100).verdict, .noise)
    }

    func testParetoFront() {
        func p(_ p99: Double, _ acc: Double?) -> TradeoffPoint {
            TradeoffPoint(label: "\(p99)", p99Ms: p99, accuracy: acc, itemsPerSecond: 1, queries: 100, current: false)
        }
        let points = [p(1, 0.80), p(2, 0.85), p(3, 0.84), p(0.5, 0.70), p(4, 0.85), p(5, nil)]
        XCTAssertEqual(TradeoffPoint.paretoFront(points), [0, 1, 3], "3 and 4 are beaten by 2; no accuracy, no point")
    }
}
