import InftopTUI
import InftopTelemetry
import XCTest

final class WidgetTests: XCTestCase {
    func testTensorBoardSmoothingValues() {
        // last = 0.4·v1 = 0.4, debias 1−0.6 = 0.4 → 1; then 1.04/0.64; then 1.824/0.784.
        let s = Smoothing.tensorBoardEMA([1, 2, 3], weight: 0.6)
        XCTAssertEqual(s[0], 1, accuracy: 1e-12)
        XCTAssertEqual(s[1], 1.625, accuracy: 1e-12)
        XCTAssertEqual(s[2], 1.824 / 0.784, accuracy: 1e-12)
        // A constant series stays constant (debiasing removes the pull toward 0).
        for v in Smoothing.tensorBoardEMA(Array(repeating: 0.7, count: 50)) { XCTAssertEqual(v, 0.7, accuracy: 1e-12) }
        // NaN passes through and does not disturb the average.
        let n = Smoothing.tensorBoardEMA([1, .nan, 2])
        XCTAssertTrue(n[1].isNaN)
        XCTAssertEqual(n[2], 1.625, accuracy: 1e-12)
        XCTAssertEqual(Smoothing.tensorBoardEMA([3, 5], weight: 0), [3, 5])
    }

    func testBrailleDotsForAKnownSeries() {
        // 2×1 cells = 4×4 dots. Times 0…3 map to dot columns 0…3, values 0…3 to rows 3…0:
        // a diagonal from bottom-left to top-right.
        let chart = BrailleChart(series: [ChartSeries(times: [0, 1, 2, 3], values: [0, 1, 2, 3], style: .plain)],
                                 window: 3, endTime: 3, yRange: 0...3)
        let r = chart.rasterize(width: 2, height: 1)
        // Cell 0: (0,3) → dot 7 (0x40), (1,2) → dot 6 (0x20): U+2860 "⡠".
        // Cell 1: (2,1) → dot 2 (0x02), (3,0) → dot 4 (0x08): U+280A "⠊".
        XCTAssertEqual(r.rows(), ["⡠⠊"])
        XCTAssertEqual(r.bits, [0x60, 0x0A])
    }

    func testBrailleLineJoinsDistantPointsAndClipsOutsideTheWindow() {
        // A jump from the bottom to the top between two adjacent columns draws a vertical run.
        let chart = BrailleChart(series: [ChartSeries(times: [-5, 0, 1], values: [3, 0, 3], style: .plain)],
                                 window: 1, endTime: 1, yRange: 0...3)
        let r = chart.rasterize(width: 1, height: 1)
        // The segment from t=-5 lies off the left edge except its end (0,3); then (0,3)→(1,0)
        // is drawn as (0,3) (0,2) (1,1) (1,0): dots 7, 3, 5, 4 = 0x40+0x04+0x10+0x08.
        XCTAssertEqual(r.bits, [0x5C])
        XCTAssertEqual(r.rows(), ["⡜"])
    }

    func testBrailleChartAutoRangeAndLabels() {
        var canvas = Canvas(width: 20, height: 5)
        let chart = BrailleChart(series: [ChartSeries(times: [0, 10], values: [2, 4], style: .plain)],
                                 window: 10, endTime: 10, title: nil)
        XCTAssertEqual(chart.effectiveRange(), 2...4)
        chart.draw(into: &canvas, rect: canvas.bounds, styles: StyleSheet())
        let rows = VirtualTerminal.lines(canvas)
        XCTAssertTrue(rows[0].hasPrefix("4┤"))
        XCTAssertTrue(rows[3].hasPrefix("2┤"))
        XCTAssertTrue(rows[4].contains("-10s") && rows[4].hasSuffix("now"))
    }

    func testSparklineLevels() {
        let s = Sparkline(values: [0, 1, 2, 3, 4, 5, 6, 7], style: .plain)
        XCTAssertEqual(String(s.characters(width: 8)), "▁▂▃▄▅▆▇█")
        XCTAssertEqual(String(s.characters(width: 3)), "▆▇█", "the last values, from zero")
        XCTAssertEqual(String(Sparkline(values: s.values, style: .plain, fromZero: false).characters(width: 3)), "▁▅█")
        XCTAssertEqual(String(Sparkline(values: [5], style: .plain).characters(width: 3)), "  █")
        XCTAssertEqual(String(Sparkline(values: [], style: .plain).characters(width: 2)), "  ")
    }

    func testHorizontalBarUsesEighths() {
        var c = Canvas(width: 4, height: 1)
        c.hbar(x: 0, y: 0, width: 4, fraction: 0.5 + 3.0 / 32, style: .plain)   // 2 full cells + 3/8
        XCTAssertEqual(c.row(0), "██▍ ")
        c.hbar(x: 0, y: 0, width: 4, fraction: 2, style: .plain)
        XCTAssertEqual(c.row(0), "████")
    }

    func testStackedBarSegmentsBoundariesAndMarker() {
        let a = Style(fg: .gradient(.used, 1)), b = Style(fg: .gradient(.cached, 1))
        let bar = StackedBar(segments: [BarSegment(value: 3, style: a), BarSegment(value: 2.5, style: b)], scale: 8,
                             empty: Cell("·", .plain), markers: [(value: 8, character: "┃", style: .plain)])
        let cells = bar.cells(width: 8)
        XCTAssertEqual(String(cells.map(\.character)), "█████▌·┃")
        XCTAssertEqual(cells[2].style.fg, a.fg)
        XCTAssertEqual(cells[3].style.fg, b.fg)
        XCTAssertEqual(cells[5].style.fg, b.fg)       // half of cell 5 is segment b …
        XCTAssertEqual(cells[5].style.bg, Cell.blank.style.bg)   // … the rest is the empty bar
    }

    func testTableScrollClamp() {
        XCTAssertEqual(TableView.clampedScroll(scroll: 0, selected: 12, rowCount: 30, visible: 10), 3)
        XCTAssertEqual(TableView.clampedScroll(scroll: 25, selected: nil, rowCount: 30, visible: 10), 20)
        XCTAssertEqual(TableView.clampedScroll(scroll: 5, selected: 2, rowCount: 30, visible: 10), 2)
        XCTAssertEqual(TableView.clampedScroll(scroll: 5, selected: 0, rowCount: 3, visible: 10), 0)
    }

    func testTableDrawsHeaderSortMarkerRowsAndScrollbar() {
        let rows: [[TableCell]] = (0..<6).map { i in [.text("r\(i)", nil), .text("\(i)", nil)] }
        let t = TableView(columns: [TableColumn("name", width: 4), TableColumn("v", width: 0, alignRight: true)],
                          rows: rows, sortColumn: 1, descending: true, scroll: 2, selected: 3)
        var c = Canvas(width: 12, height: 4)
        t.draw(into: &c, rect: c.bounds, styles: StyleSheet())
        XCTAssertEqual(VirtualTerminal.lines(c), ["name     ▼v▲", "r2        2┊", "r3        3┃", "r4        4┊"])
        XCTAssertEqual(c[0, 2].style, StyleSheet().selected)
    }

    func testCanvasClipsAndReplacesWideCharacters() {
        var c = Canvas(width: 5, height: 2)
        c.text("abcdefgh", x: 2, y: 0, style: .plain)
        c.text("x", x: -1, y: 1, style: .plain)
        c.text("日本", x: 0, y: 1, style: .plain)
        XCTAssertEqual(VirtualTerminal.lines(c), ["  abc", "??   "])
        c.box(c.bounds, style: .plain)
        XCTAssertEqual(VirtualTerminal.lines(c), ["╭───╮", "╰───╯"])
    }

    func testBoxTitleAndNote() {
        var c = Canvas(width: 30, height: 3)
        c.box(c.bounds, style: .plain, title: "Layers", note: "training")
        XCTAssertEqual(c.row(0), "╭─┤ Layers ├────┤ training ├─╮")
        var small = Canvas(width: 12, height: 3)
        small.box(small.bounds, style: .plain, title: "Latency / Throughput", note: "x")
        XCTAssertEqual(small.row(0), "╭─┤ Lat… ├─╮")
    }

    func testFormats() {
        XCTAssertEqual(Format.ms(0.0451), "0.045")
        XCTAssertEqual(Format.ms(1.234), "1.23")
        XCTAssertEqual(Format.ms(12.34), "12.3")
        XCTAssertEqual(Format.ms(1234.4), "1,234")
        XCTAssertEqual(Format.duration(41), "0:41")
        XCTAssertEqual(Format.duration(3723), "1:02:03")
        XCTAssertEqual(Format.bytes(512), "512 B")
        XCTAssertEqual(Format.bytes(1_073_448), "1.02 MiB")
        XCTAssertEqual(Format.bytes(219_520_000), "209 MiB")
        XCTAssertEqual(Format.grouped(-1234567), "-1,234,567")
        XCTAssertEqual(Format.compact(18_432), "18.4k")
        XCTAssertEqual(Format.compact(10), "10")
        XCTAssertEqual(Format.compact(0.4123), "0.41")
        XCTAssertEqual(BrailleChart.formatSpan(90), "1m30s")
        let cases: [(Double, Int, String)] = [
            (0, 2, "0.00"), (0.004, 2, "0.00"), (0.125, 2, "0.13"), (1.005, 2, "1.00"), (2.5, 0, "3"), (99.95, 1, "100.0"),
            (-0.04, 2, "-0.04"), (-0.001, 2, "0.00"), (-3.14159, 3, "-3.142"), (12_345.678, 1, "12345.7"), (0.0001, 3, "0.000"),
            (7, 0, "7"), (0.05, 1, "0.1"),
        ]
        for (v, d, want) in cases { XCTAssertEqual(Format.fixed(v, d), want, "\(v) to \(d) places") }
    }
}
