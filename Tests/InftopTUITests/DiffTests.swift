import InftopTUI
import XCTest

final class DiffTests: XCTestCase {
    func testOnlyChangedCellsAreEmitted() {
        var a = Canvas(width: 10, height: 3)
        a.text("hello", x: 0, y: 0, style: .plain)
        var b = a
        b.put("J", x: 0, y: 0, style: .plain)
        b.text("xy", x: 4, y: 2, style: .plain)
        b.restyle(x: 8, y: 2) { $0.attributes = .bold }
        let runs = CanvasDiff.changes(from: a, to: b)
        XCTAssertEqual(runs.map { "\($0.x),\($0.y),\($0.cells.count)" }, ["0,0,1", "4,2,2", "8,2,1"])
        XCTAssertEqual(runs[1].cells.map(\.character), ["x", "y"])
        XCTAssertEqual(CanvasDiff.cellCount(runs), 4)
        XCTAssertEqual(CanvasDiff.changes(from: b, to: b), [])
    }

    func testEverythingIsEmittedWithoutAPreviousFrameOrAfterAResize() {
        let a = Canvas(width: 4, height: 2)
        XCTAssertEqual(CanvasDiff.cellCount(CanvasDiff.changes(from: nil, to: a)), 8)
        XCTAssertEqual(CanvasDiff.cellCount(CanvasDiff.changes(from: Canvas(width: 3, height: 2), to: a)), 8)
    }

    func testVirtualTerminalWritesOnlyWhatChangedAndEndsUpWithTheFrame() {
        let term = VirtualTerminal(width: 80, height: 24)
        var ctl = DashboardController(config: DashboardConfig())
        var canvas = Canvas(width: 0, height: 0)
        func frame() -> Canvas {
            DashboardRenderer.render(RenderContext(snapshot: Fixtures.snapshot, knobs: Fixtures.knobs, state: ctl.state,
                                                   status: ctl.status(at: 0)),
                                     into: &canvas, width: 80, height: 24)
            return canvas
        }
        term.present(frame())
        XCTAssertEqual(term.lastWriteCount, 80 * 24)
        term.present(frame())
        XCTAssertEqual(term.lastWriteCount, 0, "an identical frame writes nothing")
        var k = Fixtures.knobs
        ctl.handle(.char("e"), knobs: &k, now: 0)   // expand Training and back: same frame again
        ctl.handle(.char("e"), knobs: &k, now: 0)
        term.present(frame())
        XCTAssertEqual(term.lastWriteCount, 0)
        ctl.handle(.char("t"), knobs: &k, now: 0)   // the footer shows a status, nothing else moves
        let f = frame()
        term.present(f)
        XCTAssertGreaterThan(term.lastWriteCount, 0)
        XCTAssertLessThan(term.lastWriteCount, 80 * 2)
        XCTAssertEqual(term.screen, f)
    }
}
