import Foundation
import XCTest

/// Compares `actual` with Tests/InftopTUITests/Snapshots/`name`.txt. With INFTOP_RECORD=1 the
/// file is (re)written instead and the test fails once, saying so, so a recording run is
/// never mistaken for a pass. On a mismatch the failure shows the differing lines.
func assertSnapshot(_ actual: String, named name: String, file: StaticString = #filePath, line: UInt = #line) {
    let dir = URL(fileURLWithPath: "\(file)").deletingLastPathComponent().appendingPathComponent("Snapshots")
    let url = dir.appendingPathComponent(name + ".txt")
    if ProcessInfo.processInfo.environment["INFTOP_RECORD"] == "1" {
        try? FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        do { try actual.write(to: url, atomically: true, encoding: .utf8) }
        catch { XCTFail("cannot record \(url.path): \(error)", file: file, line: line); return }
        XCTFail("recorded \(url.path); run again without INFTOP_RECORD to compare", file: file, line: line)
        return
    }
    guard let expected = try? String(contentsOf: url, encoding: .utf8) else {
        XCTFail("no snapshot \(url.path); record it with INFTOP_RECORD=1", file: file, line: line)
        return
    }
    guard expected != actual else { return }
    let e = expected.components(separatedBy: "\n"), a = actual.components(separatedBy: "\n")
    var report = ["snapshot \(name) differs (expected from \(url.lastPathComponent), actual from this run):"]
    var shown = 0
    for i in 0..<max(e.count, a.count) where shown < 12 {
        let el = i < e.count ? e[i] : "<missing>", al = i < a.count ? a[i] : "<missing>"
        if el != al {
            report.append(String(format: "line %3d expected: %@", i + 1, el))
            report.append(String(format: "line %3d actual:   %@", i + 1, al))
            shown += 1
        }
    }
    report.append("re-record with INFTOP_RECORD=1 if the change is intended")
    XCTFail(report.joined(separator: "\n"), file: file, line: line)
}
