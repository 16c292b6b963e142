import Foundation
import InftopExport
import InftopTelemetry
import InftopWorkloads
import XCTest

/// The record's JSON writer: what it writes, JSONDecoder reads back as the value written, and
/// a record of the previous schema (points inside the snapshot) still reads.
final class JSONStreamEncoderTests: XCTestCase {
    func decoder() -> JSONDecoder {
        let d = JSONDecoder()
        d.nonConformingFloatDecodingStrategy = .convertFromString(positiveInfinity: "inf", negativeInfinity: "-inf", nan: "nan")
        return d
    }

    func text<T: Encodable>(_ v: T) throws -> String {
        var out: [UInt8] = []
        try JSONStreamEncoder.encode(v, into: &out)
        return String(decoding: out, as: UTF8.self)
    }

    func roundTrip<T: Codable & Equatable>(_ v: T, file: StaticString = #filePath, line: UInt = #line) throws {
        var out: [UInt8] = []
        try JSONStreamEncoder.encode(v, into: &out)
        XCTAssertEqual(try decoder().decode(T.self, from: Data(out)), v, String(decoding: out, as: UTF8.self), file: file, line: line)
    }

    func testSnapshotsAndKnobsComeBackEqual() throws {
        for i in [0, 1, 7, 60] { try roundTrip(syntheticSnapshot(i)) }
        var k = KnobValues(batchSize: 17, threads: 2, model: "cnn")
        k.learningRate = 0.0125
        try roundTrip(k)
        // The same value through JSONEncoder and through this writer decodes alike.
        let s = syntheticSnapshot(12)
        XCTAssertEqual(try decoder().decode(DashboardSnapshot.self, from: JSONEncoder().encode(s)),
                       try decoder().decode(DashboardSnapshot.self, from: Data(text(s).utf8)))
    }

    func testEnumsOptionalsNestingAndEscapes() throws {
        try roundTrip([WorkloadState.running, .failed("a \"quoted\"\n\\ reason"), .paused])
        try roundTrip(["x": [1, 2], "": [], "é\t": [3]])
        try roundTrip([[Double?]]([[1.5, nil], [], [nil]]))
        struct Inner: Codable, Equatable { var a: Int8; var b: UInt64; var c: Float; var d: String? }
        struct Outer: Codable, Equatable { var inner: Inner; var list: [Inner]; var none: Inner?; var flag: Bool }
        let o = Outer(inner: Inner(a: -3, b: .max, c: 0.1, d: nil), list: [Inner(a: 1, b: 2, c: -0.0, d: "z")], none: nil, flag: true)
        try roundTrip(o)
        XCTAssertEqual(try text(o.inner), #"{"a":-3,"b":18446744073709551615,"c":0.1}"#)
        XCTAssertEqual(try text([String: Int]()), "{}")
        XCTAssertEqual(try text([Int]()), "[]")
    }

    func testNumbersAreExactAndNonFiniteAreStrings() throws {
        let xs: [Double] = [0.1, 1 / 3, -0.0, 1e-300, 5e-324, 1.7976931348623157e308, 123456789012345680, .nan, .infinity, -.infinity]
        XCTAssertEqual(try text(Array(xs.suffix(3))), #"["nan","inf","-inf"]"#)
        let back = try decoder().decode([Double].self, from: Data(text(xs).utf8))
        XCTAssertEqual(back.count, xs.count)
        for (a, b) in zip(xs, back) { XCTAssertTrue(a.bitPattern == b.bitPattern || (a.isNaN && b.isNaN), "\(a) → \(b)") }
    }

    /// A schema 1 line as the previous writer made it: JSONEncoder, the series' new points
    /// inside the snapshot, no points in the line's series entries.
    func testASchemaOneRecordStillReads() throws {
        struct Count: Codable { var key: String; var n: Int; var full: Bool }
        struct V1: Codable { var schema_version = 1; var tick: Int; var t: Double; var knobs: KnobValues; var snapshot: DashboardSnapshot; var series: [Count] }
        let a = syntheticSnapshot(3, keep: 4), b = syntheticSnapshot(5, keep: 4)
        var delta = b   // tick 1 sends only the points after a's last: two a series
        delta.training!.series = b.training!.series.map { s in
            SeriesSnapshot(name: s.name, unit: s.unit, times: Array(s.times.suffix(2)), values: Array(s.values.suffix(2)))
        }
        delta.inference!.series = b.inference!.series.map { s in
            SeriesSnapshot(name: s.name, unit: s.unit, times: Array(s.times.suffix(2)), values: Array(s.values.suffix(2)))
        }
        delta.memorySeries = b.memorySeries.map { s in SeriesSnapshot(name: s.name, unit: s.unit, times: Array(s.times.suffix(2)), values: Array(s.values.suffix(2))) }
        func counts(_ s: DashboardSnapshot, full: Bool) -> [Count] {
            s.training!.series.map { Count(key: "training/" + $0.name, n: $0.times.count, full: full) }
                + s.inference!.series.map { Count(key: "inference/" + $0.name, n: $0.times.count, full: full) }
                + [Count(key: "memory/" + s.memorySeries!.name, n: s.memorySeries!.times.count, full: full)]
        }
        var lines = Data()
        lines.append(try JSONEncoder().encode(V1(tick: 0, t: 0, knobs: KnobValues(), snapshot: a, series: counts(a, full: true))))
        lines.append(0x0A)
        lines.append(try JSONEncoder().encode(V1(tick: 1, t: 0.1, knobs: KnobValues(), snapshot: delta, series: counts(b, full: false))))
        lines.append(0x0A)
        let path = temporaryFolder("v1") + "/old.jsonl"
        try lines.write(to: URL(fileURLWithPath: path))
        let record = try Record.read(path: path)
        XCTAssertEqual(record.notes, [])
        XCTAssertEqual(record.frames.map(\.snapshot), [a, b])
    }

    func testRecordLinesCarryTheirPointsOutsideTheSnapshot() throws {
        var e = RecordEncoder()
        let line = try e.line(RecordFrame(tick: 0, time: 0, knobs: KnobValues(), snapshot: syntheticSnapshot(2)))
        let object = try XCTUnwrap(JSONSerialization.jsonObject(with: line) as? [String: Any])
        XCTAssertEqual(object["schema_version"] as? Int, 2)
        let series = try XCTUnwrap(object["series"] as? [[String: Any]])
        XCTAssertEqual((series.first { $0["key"] as? String == "training/train_loss" }?["times"] as? [Double])?.count, 3)
        let snapshot = try XCTUnwrap(object["snapshot"] as? [String: Any])
        let training = try XCTUnwrap(snapshot["training"] as? [String: Any])
        XCTAssertEqual(((training["series"] as? [[String: Any]])?.first?["times"] as? [Double])?.count, 0)
    }
}
