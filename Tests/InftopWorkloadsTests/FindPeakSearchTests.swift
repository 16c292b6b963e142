import XCTest
import InftopWorkloads

/// `--find-peak`'s search over a pass/fail probe: it brackets a sharp threshold to 5 %, and a
/// lucky pass above the threshold does not become the answer (the confirmation probe).
final class FindPeakSearchTests: XCTestCase {
    func testBracketsASharpThresholdWithinFivePercentAndConfirmsIt() {
        // The ceiling is the Offline throughput: above the Server peak, within a few times it.
        for (threshold, ceiling) in [(700.0, 2_000.0), (7_000, 12_000), (93_000, 100_000), (20_000, 100_000)] {
            var rates: [Double] = []
            let peak = ServingBenchmark.searchPeak(ceiling: ceiling) { rate in rates.append(rate); return rate <= threshold }
            let p = try! XCTUnwrap(peak, "\(threshold)")
            XCTAssertLessThanOrEqual(p, threshold)
            XCTAssertGreaterThan(p, threshold / 1.05 / 1.05, "\(threshold): probes \(rates)")
            XCTAssertEqual(rates.last, p, "the answer is the last rate probed: it passed twice")
            XCTAssertEqual(rates.filter { $0 == p }.count, 2)
        }
    }

    func testALuckyPassAboveTheThresholdIsNotTheAnswer() {
        // Rates ≤ 50 000 always pass; the first probe above it passes once by chance, never again.
        var lucky = true, rates: [Double] = []
        let peak = ServingBenchmark.searchPeak(ceiling: 100_000) { rate in
            rates.append(rate)
            if rate <= 50_000 { return true }
            if lucky && rate < 80_000 { lucky = false; return true }
            return false
        }
        let p = try! XCTUnwrap(peak, "probes \(rates)")
        XCTAssertLessThanOrEqual(p, 50_000, "probes \(rates)")
        XCTAssertGreaterThan(p, 50_000 / 1.05 / 1.05 / 1.05)
    }

    func testALuckyFirstProbeIsNotTheAnswerEither() {
        // The first probe (0.9 × ceiling) passes by chance; the real edge is at 100 000.
        var first = true, rates: [Double] = []
        let peak = ServingBenchmark.searchPeak(ceiling: 148_000) { rate in
            rates.append(rate)
            if first { first = false; return true }
            return rate <= 100_000
        }
        let p = try! XCTUnwrap(peak, "probes \(rates)")
        XCTAssertLessThanOrEqual(p, 100_000, "probes \(rates)")
        XCTAssertGreaterThan(p, 100_000 / 1.05 / 1.05, "probes \(rates)")
    }

    func testNoPassingRateGivesNil() {
        XCTAssertNil(ServingBenchmark.searchPeak(ceiling: 1_000) { _ in false })
        var n = 0
        XCTAssertNil(ServingBenchmark.searchPeak(ceiling: 1_000, confirmations: 2) { _ in n += 1; return n == 1 }, "passed once, never again")
    }

    /// A slow model's probe must last long enough for the Server minimum query count, or every
    /// probe is INVALID for too few queries whatever its latency.
    func testAProbeRunsLongEnoughForTheServerQueryMinimum() {
        let rules = ScenarioRules.live
        XCTAssertEqual(ServingBenchmark.probeSeconds(20, rate: 100_000, rules: rules), 20, "a fast model keeps --duration")
        let s = ServingBenchmark.probeSeconds(20, rate: 10, rules: rules)
        XCTAssertGreaterThanOrEqual(s * 10, Double(rules.minQueries[.server]!), "10/s for \(s) s")
        XCTAssertEqual(s, 1024 / 10 * 1.05, accuracy: 1e-9)
    }
}
