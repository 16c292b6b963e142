import XCTest
import InftopEngine
import InftopTelemetry
import InftopWorkloads

/// The serving floor's parts, each exact or statistical with a seeded generator (no sleeps
/// for timing; the service test runs on a `ManualClock`).
final class ServingFloorTests: XCTestCase {
    func testCacheEvictsLeastRecentlyUsedByBytes() {
        // 4 floats + 64 B overhead = 80 B per entry; 250 B hold 3 entries.
        let cache = ResponseCache(width: 4, capacityBytes: 250)
        var out = [Float](repeating: 0, count: 4)
        for k in UInt64(1)...3 { cache.insert(k, answer: [Float](repeating: Float(k), count: 4), score: Double(k)) }
        XCTAssertEqual(cache.counts.bytes, 240)
        XCTAssertEqual(cache.lookup(1, into: &out), 1)  // 1 becomes most recent
        XCTAssertEqual(out, [1, 1, 1, 1])
        cache.insert(4, answer: [4, 4, 4, 4], score: 4)  // evicts 2, the least recently used
        XCTAssertEqual(cache.keysByRecency, [4, 1, 3])
        XCTAssertNil(cache.lookup(2, into: &out))
        XCTAssertEqual(cache.counts.lookups, 2)
        XCTAssertEqual(cache.counts.hits, 1)
        cache.resize(capacityBytes: 100)  // one entry left: the most recent
        XCTAssertEqual(cache.keysByRecency, [4])
        cache.resize(capacityBytes: 50)
        cache.insert(5, answer: [5, 5, 5, 5], score: 5)
        XCTAssertEqual(cache.counts.entries, 0, "an entry larger than the capacity is not stored")
    }

    func testRepeatsComeFromTheHotSetAtTheRequestedRatio() {
        for fraction in [0.0, 0.25, 0.5, 0.9] {
            var rng = SeededRandom(seed: 3)
            var mix = RequestMix(sampleCount: 10_000, repeatFraction: fraction, hotCount: 64, rng: &rng)
            let hot = Set(mix.hot)
            var repeats = 0, fromHot = 0, rankOne = 0
            var coldSeen = Set<Int32>()
            var coldRepeatedInFirstPass = 0, coldDraws = 0
            let n = 20_000
            for _ in 0..<n {
                let (s, isRepeat) = mix.next(&rng)
                if isRepeat { repeats += 1 }
                if hot.contains(s) { fromHot += 1 }
                if s == mix.hot[0] { rankOne += 1 }
                if !isRepeat && coldDraws < 10_000 - 64 {
                    coldDraws += 1
                    if !coldSeen.insert(s).inserted { coldRepeatedInFirstPass += 1 }
                }
            }
            let r = Double(repeats) / Double(n)
            // Binomial σ at n = 20 000 is ≤ 0.0036; 4σ.
            XCTAssertEqual(r, fraction, accuracy: 0.015, "repeat ratio at \(fraction)")
            XCTAssertEqual(fromHot, repeats, "repeats come from the hot set only, and only repeats do")
            XCTAssertEqual(coldRepeatedInFirstPass, 0, "a cold sample repeats only after a whole pass")
            if fraction > 0 {
                // Zipf over 64 ranks: rank 1 has weight 1/H(64) = 0.21 of the repeats.
                XCTAssertEqual(Double(rankOne) / Double(repeats), 1 / 4.7439, accuracy: 0.03)
            }
        }
    }

    func testPoissonGapsAreExponential() {
        var rng = SeededRandom(seed: 11)
        let rate = 250.0, n = 200_000
        var sum = 0.0, sq = 0.0, longer = 0
        for _ in 0..<n {
            let g = LoadGenerator.exponentialGap(&rng, rate: rate)
            sum += g; sq += g * g
            if g > 1 / rate { longer += 1 }
        }
        let mean = sum / Double(n), variance = sq / Double(n) - mean * mean
        XCTAssertEqual(mean * rate, 1, accuracy: 0.01, "mean gap 1/rate")
        XCTAssertEqual(variance.squareRoot() / mean, 1, accuracy: 0.02, "coefficient of variation 1")
        XCTAssertEqual(Double(longer) / Double(n), exp(-1), accuracy: 0.005, "P(gap > mean) = 1/e")
    }

    func testVerdictRules() {
        let rules = ScenarioRules.live
        func stat(p90: Double, p99: Double) -> PhaseStat {
            PhaseStat(calls: 2000, lastMs: p99, meanMs: p90 / 2, p50Ms: p90 / 2, p90Ms: p90, p99Ms: p99)
        }
        let ok = rules.verdict(scenario: .server, queries: 2000, seconds: 12, stat: stat(p90: 5, p99: 8), dropped: 0, boundMs: 10)
        XCTAssertTrue(ok.valid, ok.reason)
        let slow = rules.verdict(scenario: .server, queries: 2000, seconds: 12, stat: stat(p90: 5, p99: 12), dropped: 0, boundMs: 10)
        XCTAssertFalse(slow.valid)
        XCTAssertEqual(slow.reason, "p99 12.0 ms > bound 10.0 ms")
        let few = rules.verdict(scenario: .server, queries: 412, seconds: 12, stat: stat(p90: 5, p99: 8), dropped: 0, boundMs: 10)
        XCTAssertEqual(few.reason, "too few queries (412 < 1024)")
        let short = rules.verdict(scenario: .offline, queries: 5000, seconds: 4, stat: stat(p90: 5, p99: 8), dropped: 0, boundMs: 10)
        XCTAssertEqual(short.reason, "too short (4.00 s < 10.0 s)")
        let dropped = rules.verdict(scenario: .single, queries: 5000, seconds: 20, stat: stat(p90: 5, p99: 80), dropped: 3, boundMs: 10)
        XCTAssertEqual(dropped.reason, "3 queries dropped (queue full)")
        let single = rules.verdict(scenario: .single, queries: 300, seconds: 20, stat: stat(p90: 5, p99: 80), dropped: 0, boundMs: 10)
        XCTAssertTrue(single.valid, "SingleStream is judged on p90, not on the Server bound")
    }

    /// Offline blocks through two workers with the cache on at 50 % repeats, on a manual clock:
    /// every query answered once, hits ≈ repeats, hits have no queue/compute split.
    func testServiceAnswersEveryQueryAndTheCacheHitsTheRepeats() throws {
        let clock = ManualClock()
        var rng = SeededRandom(seed: 5)
        let images = try ImageDataset(name: "tiny", rows: 28, cols: 28, classes: 10,
                                      pixels: (0..<(400 * 784)).map { _ in UInt8(truncatingIfNeeded: rng.next()) },
                                      labels: (0..<400).map { UInt8($0 % 10) })
        let knobs = Knobs(KnobValues(inferenceBatchSize: 16, backend: .simd, responseCache: true, maxQueueDelayMs: 0,
                                     servingWorkers: 2, repeatPercent: 50, scenario: .offline,
                                     cacheBytes: 200 * (10 * 4 + ResponseCache.entryOverhead)))
        let service = try InferenceService(makeTask: { i in try ImageServingTask(model: try ModelZoo.make(name: "mlp", seed: 1), dataset: images) },
                                           knobs: knobs, clock: clock)
        service.start()
        defer { service.stop() }
        let deadline = Date().addingTimeInterval(60)
        while service.generator.counts.answered < 4096 && Date() < deadline { usleep(2_000) }
        service.stop()
        let counts = service.generator.counts
        XCTAssertGreaterThanOrEqual(counts.answered, 4096)
        XCTAssertEqual(counts.answered + service.queue.count, counts.issued, "every queued query answered once or still queued")
        XCTAssertEqual(service.workerCount, min(2, ProcessInfo.processInfo.activeProcessorCount))
        let floor = try XCTUnwrap(service.snapshots.latest()?.floor)
        let cache = try XCTUnwrap(floor.cache)
        let hitRate = try XCTUnwrap(cache.hitRate)
        // 200 entries: the 64 hot samples fit, a cold pass (336 samples) does not, so only
        // repeats hit; the hot set's first sightings and its rarest ranks (evicted between
        // sightings) miss.
        let repeats = Double(counts.repeats) / Double(counts.issued)
        XCTAssertEqual(repeats, 0.5, accuracy: 0.04)
        XCTAssertLessThanOrEqual(hitRate, repeats + 0.01)
        XCTAssertGreaterThan(hitRate, repeats - 0.1)
        XCTAssertEqual(floor.scenario, .offline)
        XCTAssertEqual(floor.workers, min(2, ProcessInfo.processInfo.activeProcessorCount))
        XCTAssertEqual(floor.compute?.calls, counts.answered - cache.hits, "compute is split out for misses only")
        XCTAssertEqual(floor.total?.calls, counts.answered)
        XCTAssertFalse(floor.verdict.valid, "a manual clock that never moves measures 0 s: too short")
    }

    /// A knob change that restarts the serving figures leaves a marker at that moment of the
    /// series, naming the new configuration; the first configuration leaves none.
    func testKnobChangesLeaveMarkersOnTheServingSeries() throws {
        let clock = ManualClock()
        var rng = SeededRandom(seed: 6)
        let images = try ImageDataset(name: "tiny", rows: 28, cols: 28, classes: 10,
                                      pixels: (0..<(64 * 784)).map { _ in UInt8(truncatingIfNeeded: rng.next()) },
                                      labels: (0..<64).map { UInt8($0 % 10) })
        let knobs = Knobs(KnobValues(inferenceBatchSize: 8, backend: .simd, scenario: .offline))
        let service = try InferenceService(makeTask: { _ in try ImageServingTask(model: try ModelZoo.make(name: "mlp", seed: 1), dataset: images) },
                                           knobs: knobs, clock: clock)
        XCTAssertEqual(service.snapshots.latest()?.markers ?? [], [])
        service.start()
        defer { service.stop() }
        clock.advance(3_000_000_000)
        knobs.update { $0.inferenceBatchSize = 16 }
        // The marker reaches the series with the next publication, which the manual clock must
        // make due: if the control thread published at 3 s just before it applied the change
        // (seen under TSan on a slow machine), nothing is due again until the clock moves. Move
        // it 0.1 s at a time; the change's own time stays 3 s unless it was applied later.
        var advanced = 0.0
        let deadline = Date().addingTimeInterval(60)
        while (service.snapshots.latest()?.markers ?? []).isEmpty && Date() < deadline {
            usleep(50_000)
            clock.advance(100_000_000); advanced += 0.1
        }
        let markers = try XCTUnwrap(service.snapshots.latest()?.markers)
        guard markers.count == 1 else { return XCTFail("one marker, not \(markers.count)") }
        XCTAssertGreaterThanOrEqual(markers[0].time, 3, "at the change, on the series' clock")
        XCTAssertLessThanOrEqual(markers[0].time, 3 + advanced + 1e-9, "at the change, on the series' clock")
        XCTAssertTrue(markers[0].label.contains("b16"), markers[0].label)
    }
}
