import Foundation
import InftopEngine
import InftopExport
import InftopTelemetry
import InftopWorkloads
import XCTest

/// A Chrome trace of 20 real training steps: valid JSON, events nested per thread without
/// overlap, node durations adding up to each step, the file under its cap.
final class TraceCaptureTests: XCTestCase {
    struct Event { var name: String; var cat: String; var tid: Int; var ts: Double; var dur: Double }

    /// Trains an MLP for one short epoch with a capture of its first `steps` steps; returns the file.
    func captureTraining(steps: Int, cap: Int = TraceCapture.defaultCapBytes) throws -> (path: String, outcome: TraceCapture.Outcome) {
        let train = try separableDataset(64 * 30, seed: 1, name: "sep-train")
        let test = try separableDataset(200, seed: 2, name: "sep-test")
        var config = TrainingConfig(model: "mlp", epochs: 1, optimizer: .sgd, learningRate: 0.05, momentum: 0.9, seed: 1)
        config.snapshotIntervalNanos = 0
        let loop = try TrainingLoop(config: config, train: train, test: test, knobs: Knobs(KnobValues(batchSize: 64)))
        let path = temporaryFolder("trace") + "/train.json"
        let capture = try TraceCapture(path: path, steps: steps, tracks: ["training"], capBytes: cap)
        let pump = TelemetryPump()
        pump.add(capture)
        _ = loop.run()           // on this thread: every step's records wait in the ring
        pump.drainNow()
        return (path, capture.finish())
    }

    func events(_ path: String) throws -> (all: [Event], other: [String: Any]) {
        let data = try XCTUnwrap(FileManager.default.contents(atPath: path))
        let root = try XCTUnwrap(try JSONSerialization.jsonObject(with: data) as? [String: Any], "not a JSON object")
        let list = try XCTUnwrap(root["traceEvents"] as? [[String: Any]])
        let xs = list.compactMap { e -> Event? in
            guard e["ph"] as? String == "X" else { return nil }
            return Event(name: e["name"] as! String, cat: e["cat"] as! String, tid: e["tid"] as! Int,
                         ts: (e["ts"] as! NSNumber).doubleValue, dur: (e["dur"] as! NSNumber).doubleValue)
        }
        return (xs, root["otherData"] as? [String: Any] ?? [:])
    }

    /// Per thread: sorted by start (longer first on ties), each event either inside the one
    /// enclosing it or after it ends — what Perfetto requires of complete events.
    func assertNests(_ events: [Event], file: StaticString = #filePath, line: UInt = #line) {
        let eps = 0.0005   // µs printed with 3 decimals: exact, this only absorbs float parsing
        for tid in Set(events.map(\.tid)) {
            let list = events.filter { $0.tid == tid }.sorted { $0.ts != $1.ts ? $0.ts < $1.ts : $0.dur > $1.dur }
            var stack: [Event] = []
            for e in list {
                while let top = stack.last, e.ts >= top.ts + top.dur - eps { stack.removeLast() }
                if let top = stack.last {
                    XCTAssertLessThanOrEqual(e.ts + e.dur, top.ts + top.dur + eps,
                                             "\(e.name) [\(e.ts), +\(e.dur)] overlaps \(top.name) [\(top.ts), +\(top.dur)] on tid \(tid)", file: file, line: line)
                }
                stack.append(e)
            }
        }
    }

    func testTwentyTrainingStepsNestAndAddUp() throws {
        let (path, outcome) = try captureTraining(steps: 20)
        guard case .written(_, let bytes, let steps) = outcome else { return XCTFail("\(outcome)") }
        XCTAssertEqual(steps, 20)
        XCTAssertLessThan(bytes, TraceCapture.defaultCapBytes)
        XCTAssertEqual(try FileManager.default.attributesOfItem(atPath: path)[.size] as? Int, bytes)
        let (all, _) = try events(path)
        let stepEvents = all.filter { $0.cat == "step" }
        XCTAssertEqual(stepEvents.count, 20)
        XCTAssertEqual(Set(all.map(\.tid)).count, 1, "one training thread, one track")
        assertNests(all)
        for s in stepEvents {
            let inside = all.filter { $0.cat != "step" && $0.ts >= s.ts && $0.ts < s.ts + s.dur }
            XCTAssertTrue(inside.contains { $0.name == "fc1" && $0.cat == "forward" }, "\(s.name) has fc1 forward")
            XCTAssertTrue(inside.contains { $0.name == "fc1" && $0.cat == "backward" }, "\(s.name) has fc1 backward")
            let sum = inside.reduce(0) { $0 + $1.dur }
            XCTAssertEqual(sum / s.dur, 1, accuracy: 0.05, "\(s.name): nodes sum to \(sum) µs of \(s.dur) µs")
        }
        // No file left under the temporary name.
        XCTAssertFalse(FileManager.default.fileExists(atPath: path + ".tmp-\(getpid())"))
    }

    func testASmallCapTruncatesAtAStepAndStaysValid() throws {
        let cap = 12 * 1024
        let (path, outcome) = try captureTraining(steps: 20, cap: cap)
        guard case .written(_, let bytes, let steps) = outcome else { return XCTFail("\(outcome)") }
        XCTAssertLessThanOrEqual(bytes, cap)
        XCTAssertLessThan(steps, 20)
        XCTAssertGreaterThan(steps, 0)
        let (all, other) = try events(path)
        XCTAssertEqual(other["truncated"] as? Bool, true)
        XCTAssertEqual(all.filter { $0.cat == "step" }.count, steps)
        assertNests(all)
    }

    func testAnUnwritablePathFailsBeforeCapturing() {
        XCTAssertThrowsError(try TraceCapture(path: "/nonexistent-dir/t.json", steps: 5)) { e in
            XCTAssertTrue("\(e)".hasPrefix("/nonexistent-dir/t.json: "), "\(e)")
        }
    }

    func testTapIsOffUntilAnExporterWantsIt() {
        let p = StepProfiler(track: "probe")
        let site = p.site("a")
        p.beginStep(); p.buffer.lap(site: site, phase: .forward); p.endStep(wallNanos: 10)
        XCTAssertEqual(p.tap.drain { _ in }, 0, "nothing goes into the ring while off")
        p.tap.want(.trace, true)
        p.beginStep(); p.buffer.lap(site: site, phase: .forward); p.endStep(wallNanos: 10)
        var kinds: [TapRecord.Kind] = []
        p.tap.drain { kinds.append($0.kind) }
        XCTAssertEqual(kinds, [.step, .span])
    }
}
