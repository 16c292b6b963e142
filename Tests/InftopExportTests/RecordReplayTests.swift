import Foundation
import InftopExport
import InftopTUI
import InftopTelemetry
import InftopWorkloads
import XCTest

/// Record a dashboard on a virtual terminal, replay the record through the same app and
/// widgets: the replayed screen at every tick equals the live one.
final class RecordReplayTests: XCTestCase {
    let options = DashboardOptions(intervalMs: 100, maxThreads: 2, themeDirectories: [], environment: [:])

    /// A dashboard fed `ticks` synthetic snapshots, one per frame (a resize key per frame keeps
    /// the loop drawing without status messages); returns the screens, one per tick.
    func live(ticks: Int, record: RecordWriter) throws -> [String] {
        final class Feed: @unchecked Sendable { var i = 0 }
        let feed = Feed()
        let term = VirtualTerminal(width: 120, height: 40, keys: Array(repeating: .resize, count: ticks - 1))
        let knobs = Knobs(KnobValues(batchSize: 64, model: "mlp"))
        let app = DashboardApp(options: options, knobs: knobs, modelNames: ["mlp"], snapshot: {
            defer { feed.i += 1 }
            return syntheticSnapshot(feed.i, keep: 30)
        })
        var screens: [String] = []
        app.hooks = DashboardHooks(onFrame: { snap, k, frame in
            record.append(snapshot: snap, knobs: k, time: Double(frame) * 0.1)
            screens.append(term.text)
        }, showsUICost: false)
        try app.run(on: term)
        return screens
    }

    func replay(_ record: Record) throws -> [String] {
        final class Cursor: @unchecked Sendable { var player: ReplayPlayer; var next = 0; init(_ p: ReplayPlayer) { player = p } }
        let cursor = Cursor(ReplayPlayer(frames: record.frames, wall: 0))
        let knobs = Knobs(record.frames[0].knobs)
        let term = VirtualTerminal(width: 120, height: 40, keys: Array(repeating: .resize, count: record.frames.count - 1))
        let app = DashboardApp(options: options, knobs: knobs, modelNames: ["mlp"], snapshot: {
            // The app reads one snapshot before its first frame, then one per frame.
            cursor.player.seek(toFrame: max(0, cursor.next - 1))
            cursor.next += 1
            let f = cursor.player.frame
            knobs.update { $0 = f.knobs }
            return f.snapshot
        })
        var screens: [String] = []
        app.hooks = DashboardHooks(onFrame: { _, _, _ in screens.append(term.text) }, showsUICost: false)
        try app.run(on: term)
        return screens
    }

    func testReplayedScreensEqualTheLiveOnesTickByTick() throws {
        let path = temporaryFolder("record") + "/run.jsonl"
        let writer = try RecordWriter(path: path)
        let liveScreens = try live(ticks: 60, record: writer)
        XCTAssertEqual(writer.ticks, liveScreens.count)
        XCTAssertGreaterThanOrEqual(liveScreens.count, 60)
        let record = try Record.read(path: path)
        XCTAssertEqual(record.notes, [])
        XCTAssertEqual(record.frames.count, liveScreens.count)
        // Series went out as deltas and came back whole.
        // (the app reads one snapshot before its first frame: frame k shows snapshot k + 1)
        for (k, f) in record.frames.enumerated() {
            XCTAssertTrue(f.snapshot == syntheticSnapshot(k + 1, keep: 30), "tick \(k): the record gives back the snapshot drawn")
        }
        let replayed = try replay(record)
        XCTAssertEqual(replayed.count, liveScreens.count)
        for k in liveScreens.indices { XCTAssertEqual(replayed[k], liveScreens[k], "tick \(k)") }
        XCTAssertNotEqual(liveScreens[5], liveScreens[50], "the screens move")
    }

    func testATruncatedLastLineIsSkippedWithANote() throws {
        let path = temporaryFolder("cut") + "/run.jsonl"
        let writer = try RecordWriter(path: path)
        for i in 0..<5 { writer.append(snapshot: syntheticSnapshot(i), knobs: KnobValues(), time: Double(i)) }
        let whole = try XCTUnwrap(FileManager.default.contents(atPath: path))
        try whole.prefix(whole.count - 40).write(to: URL(fileURLWithPath: path))   // as a SIGKILL mid-write leaves it
        let record = try Record.read(path: path)
        XCTAssertEqual(record.frames.count, 4)
        XCTAssertEqual(record.notes.count, 1)
        XCTAssertTrue(record.notes[0].contains(":5: the last line is incomplete"), record.notes[0])
        XCTAssertEqual(record.frames[3].snapshot, syntheticSnapshot(3))
    }

    func testACorruptLineIsNamedAndTheRestPlays() throws {
        let path = temporaryFolder("corrupt") + "/run.jsonl"
        let writer = try RecordWriter(path: path)
        for i in 0..<3 { writer.append(snapshot: syntheticSnapshot(i), knobs: KnobValues(), time: Double(i)) }
        var text = try String(contentsOfFile: path, encoding: .utf8)
        text = text.replacingOccurrences(of: "\n{", with: "\n{\"oops\n{", options: [], range: text.range(of: "\n{"))
        try text.write(toFile: path, atomically: true, encoding: .utf8)
        let record = try Record.read(path: path)
        XCTAssertEqual(record.frames.count, 3)
        XCTAssertEqual(record.notes.count, 1)
        XCTAssertTrue(record.notes[0].contains(":2: not a record line"), record.notes[0])
    }

    func testANewerSchemaStopsWithOneLine() throws {
        let path = temporaryFolder("newer") + "/run.jsonl"
        try "{\"schema_version\":99,\"tick\":0,\"whatever\":true}\n".write(toFile: path, atomically: true, encoding: .utf8)
        XCTAssertThrowsError(try Record.read(path: path)) { e in
            XCTAssertEqual("\(e)", "\(path):1: schema_version 99 is newer than this inftop reads (2); use a newer inftop")
        }
        XCTAssertThrowsError(try Record.read(path: path + ".missing")) { e in XCTAssertTrue("\(e)".hasSuffix("no such file")) }
    }

    func testCSVExportWritesEverySeries() throws {
        let dir = temporaryFolder("csv")
        let path = dir + "/run.jsonl"
        let writer = try RecordWriter(path: path)
        for i in 0..<4 { writer.append(snapshot: syntheticSnapshot(i), knobs: KnobValues(), time: Double(i)) }
        let files = try CSVExport.write(try Record.read(path: path), to: dir + "/csv")
        XCTAssertEqual(files.map { ($0.file as NSString).lastPathComponent }, ["training.csv", "serving.csv", "memory.csv", "layers.csv", "knobs.csv"])
        let training = try String(contentsOfFile: dir + "/csv/training.csv", encoding: .utf8).split(separator: "\n")
        XCTAssertEqual(training.count, 5)
        XCTAssertTrue(training[0].hasPrefix("tick,t,model,state,step"))
        XCTAssertTrue(training[2].hasPrefix("1,1.0,mlp,running,10,"), String(training[2]))
        let layers = try String(contentsOfFile: dir + "/csv/layers.csv", encoding: .utf8).split(separator: "\n")
        XCTAssertEqual(layers.count, 1 + 4 * 2 * 3)
    }

    func testPlayerPausesSeeksAndChangesSpeed() {
        let frames = (0..<100).map { RecordFrame(tick: $0, time: Double($0) * 0.1, knobs: KnobValues(), snapshot: syntheticSnapshot(0)) }
        var p = ReplayPlayer(frames: frames, wall: 0)
        p.advance(wall: 1)
        XCTAssertEqual(p.index, 10)
        _ = p.handle(.faster, wall: 1)
        p.advance(wall: 2)
        XCTAssertEqual(p.index, 30)
        _ = p.handle(.pause, wall: 2)
        p.advance(wall: 5)
        XCTAssertEqual(p.index, 30, "paused")
        _ = p.handle(.forward, wall: 5)
        XCTAssertEqual(p.index, 31, "one tick when paused")
        _ = p.handle(.pause, wall: 5)
        _ = p.handle(.back, wall: 5)
        XCTAssertEqual(p.index, 0, "5 s back, clamped at the start")
        _ = p.handle(.end, wall: 5)
        XCTAssertTrue(p.atEnd)
        p.advance(wall: 100)
        XCTAssertTrue(p.atEnd)
        XCTAssertTrue(p.statusText.contains("tick 100/100"), p.statusText)
    }
}
