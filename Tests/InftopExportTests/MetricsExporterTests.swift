import Foundation
import InftopExport
import InftopTelemetry
import InftopWorkloads
import XCTest

final class MetricsExporterTests: XCTestCase {
    func testHistogramsCountEveryStepAndRequest() {
        let p = StepProfiler(track: "unit")
        let a = p.site("alpha"), b = p.site("beta")
        let exporter = MetricsExporter(knobs: Knobs(), snapshot: { syntheticSnapshot(3) })
        let pump = TelemetryPump()
        pump.add(exporter)
        p.tap.want(.metrics, true)
        for _ in 0..<3 {
            p.beginStep()
            p.buffer.lap(site: a, phase: .forward); p.buffer.lap(site: b, phase: .forward); p.buffer.lap(site: a, phase: .backward)
            p.endStep(wallNanos: 1_000_000)
        }
        p.tap.request(at: monotonicNanos(), latencyNanos: 2_000_000, queueNanos: 500_000)
        pump.drainNow()
        let text = exporter.render()
        XCTAssertTrue(text.contains(#"inftop_node_duration_seconds_count{workload="unit",node="alpha",phase="forward"} 3"#), text)
        XCTAssertTrue(text.contains(#"inftop_node_duration_seconds_count{workload="unit",node="alpha",phase="backward"} 3"#))
        XCTAssertTrue(text.contains(#"inftop_step_duration_seconds_count{workload="unit"} 3"#))
        XCTAssertTrue(text.contains(#"inftop_request_latency_seconds_count{part="total"} 1"#))
        XCTAssertTrue(text.contains(#"inftop_request_latency_seconds_sum{part="queue"} 0.0005"#), text)
        XCTAssertTrue(text.contains("inftop_items_per_second 993"))
        XCTAssertTrue(text.contains(#"inftop_memory_bytes{owner="weights fp32"} 940000"#))
        XCTAssertTrue(text.contains(#"inftop_knobs_info{model="mlp",batch="64""#))
        XCTAssertTrue(text.contains(#"inftop_loss{set="train"}"#))
    }

    func testGeneratorAndCacheGauges() {
        var snap = syntheticSnapshot(3)
        let g = GenerationSnapshot(
            ttft: PhaseStat(calls: 5, lastMs: 200, meanMs: 210, p50Ms: 205, p90Ms: 300, p99Ms: 350), prefillTokensPerSecond: 310,
            decodeTokensPerSecond: 64.5, timePerTokenMs: 15.5, kvCacheEnabled: false, kvPositions: 0, kvCapacity: 512,
            kvBytes: 23_592_960, threads: 2, completed: 5, generatedTokens: 640, maxNewTokens: 128, sampling: "greedy", streams: [])
        snap.inference?.generation = g
        snap.inference?.floor = ServingFloorSnapshot(
            scenario: .server, verdict: ScenarioVerdict(valid: true, reason: "", queries: 100, seconds: 10), workers: 1, threadsPerWorker: 1,
            maxQueueDelayMs: 2, repeatFraction: 0.5, p99BoundMs: 10, total: nil, queueWait: nil, compute: nil, itemsPerSecond: 10,
            cache: CacheStat(entries: 12, bytes: 4096, capacityBytes: 524_288, lookups: 100, hits: 40, hitMeanMs: 0.1, missMeanMs: 1))
        let knobs = Knobs(KnobValues(served: .generator))
        knobs.update { $0.kvCache = false }
        let fixed = snap
        let text = MetricsExporter(knobs: knobs, snapshot: { fixed }).render()
        for line in [#"inftop_tokens_per_second{phase="decode"} 64.5"#, #"inftop_tokens_per_second{phase="prefill"} 310"#,
                     #"inftop_ttft_seconds{quantile="0.99"} 0.35"#, "inftop_time_per_output_token_seconds 0.0155",
                     "inftop_kv_cache_bytes 23592960", "inftop_kv_cache_enabled 0", "inftop_generated_tokens 640",
                     #"served="generator",kv_cache="false""#] {
            XCTAssertTrue(text.contains(line), "missing \(line)")
        }
        for line in ["inftop_cache_hits 40", "inftop_cache_misses 60", "inftop_cache_lookups 100", "inftop_cache_entries 12"] {
            XCTAssertTrue(text.contains(line), "missing \(line)")
        }
    }

    func testAddressesAreLoopbackUnlessAskedOtherwise() throws {
        XCTAssertEqual(try MetricsAddress.parse("", allowPublic: false).description, "127.0.0.1:9464")
        XCTAssertEqual(try MetricsAddress.parse(":9999", allowPublic: false).description, "127.0.0.1:9999")
        XCTAssertEqual(try MetricsAddress.parse("localhost:80", allowPublic: false).description, "127.0.0.1:80")
        XCTAssertThrowsError(try MetricsAddress.parse("0.0.0.0:9464", allowPublic: false)) { e in
            XCTAssertTrue("\(e)".contains("--metrics-public"), "\(e)")
        }
        XCTAssertFalse(try MetricsAddress.parse("0.0.0.0:9464", allowPublic: true).isLoopback)
        XCTAssertThrowsError(try MetricsAddress.parse("127.0.0.1:99999", allowPublic: false))
        XCTAssertThrowsError(try MetricsAddress.parse("example:1", allowPublic: true))
    }

    func testServerAnswersAndAnAddressInUseIsOneClearError() throws {
        let port = UInt16(20000 + Int(getpid() % 20000))
        let a = MetricsAddress(host: "127.0.0.1", port: port)
        let first = try MetricsServer(address: a, render: { Array("inftop_up 1\n".utf8) })
        try first.start()
        defer { first.stop() }
        let body = httpGet(port: port, path: "/metrics")
        XCTAssertEqual(body, "inftop_up 1\n")
        let second = try MetricsServer(address: a, render: { [] })
        XCTAssertThrowsError(try second.start()) { e in
            XCTAssertTrue("\(e)".contains("address in use"), "\(e)")
        }
    }
}
