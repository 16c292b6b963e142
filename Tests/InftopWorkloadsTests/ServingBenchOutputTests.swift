import XCTest
import InftopTelemetry
import InftopWorkloads

/// `inftop bench --scenario` rows read back the same in every format.
final class ServingBenchOutputTests: XCTestCase {
    func testRowsParseBackInEveryFormat() {
        let stat = PhaseStat(calls: 1200, lastMs: 9, meanMs: 2, p50Ms: 1.5, p90Ms: 3.25, p99Ms: 8.125)
        let rows = [
            ServingResult(model: "mlp", config: ServingConfig(batch: 8, rate: 1000, cache: true, repeatPercent: 50, p99BoundMs: 10),
                          workers: 1, total: stat, queueWait: stat, itemsPerSecond: 998.5, peakRSSBytes: 60 << 20, accuracy: 0.8579,
                          accuracyLabel: "test accuracy", hitRate: 0.497,
                          verdict: ScenarioVerdict(valid: true, reason: "p99 8.13 ms ≤ bound 10.0 ms", queries: 12_000, seconds: 12)),
            ServingResult(model: "all-MiniLM-L6-v2", config: ServingConfig(batch: 32, threads: 2, scenario: .offline, rate: 25, p99BoundMs: 500),
                          workers: 2, total: nil, queueWait: nil, itemsPerSecond: 61, peakRSSBytes: 300 << 20, accuracy: nil,
                          accuracyLabel: "cosine to fp32", hitRate: nil,
                          verdict: ScenarioVerdict(valid: false, reason: "too few queries (610 < 1024), \"sic\"", queries: 610, seconds: 10)),
        ]
        for format in ServingResult.OutputFormat.allCases {
            let text = ([ServingResult.header(format)].compactMap { $0 } + rows.map { $0.line(format) }).joined(separator: "\n")
            let parsed = ServingResult.parse(text, format: format)
            XCTAssertEqual(parsed.count, 2, "\(format)")
            for (row, back) in zip(rows, parsed) {
                for (key, value) in zip(ServingResult.columns, row.fields) {
                    let expected = format == .md ? value.replacingOccurrences(of: "|", with: "/") : value
                    if format == .json, let x = Double(expected) {  // JSON numbers lose trailing zeros
                        XCTAssertEqual(Double(back[key] ?? ""), x, "\(format) \(key)")
                    } else {
                        XCTAssertEqual(back[key], expected, "\(format) \(key)")
                    }
                }
            }
        }
        XCTAssertEqual(ServingResult.parse(rows[0].line(.json), format: .json)[0]["p99_ms"], "8.125")
    }
}
