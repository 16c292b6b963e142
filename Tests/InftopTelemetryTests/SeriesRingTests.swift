import XCTest
import InftopTelemetry

final class SeriesRingTests: XCTestCase {
    func testRingDropsOldestWhenFull() {
        var r = SeriesRing(name: "loss", capacity: 3)
        for i in 0..<5 { r.append(time: Double(i), value: Double(i) * 10) }
        let s = r.snapshot()
        XCTAssertEqual(s.times, [2, 3, 4])
        XCTAssertEqual(s.values, [20, 30, 40])
        XCTAssertEqual(r.last, 40)
    }
}
