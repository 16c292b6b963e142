/// A grid of braille cells, each 2 dots wide and 4 dots high, with one style per cell
/// (the last series that put a dot there).
public struct BrailleRaster: Sendable {
    /// Size in cells.
    public let width: Int
    public let height: Int
    /// Dot bits per cell, row-major (`y * width + x`), as the low byte of U+2800 + bits.
    public private(set) var bits: [UInt8]
    public private(set) var styles: [Style?]

    public init(width: Int, height: Int) {
        self.width = max(0, width); self.height = max(0, height)
        bits = Array(repeating: 0, count: self.width * self.height)
        styles = Array(repeating: nil, count: self.width * self.height)
    }

    /// Dots across (2 per cell) and down (4 per cell).
    public var dotWidth: Int { width * 2 }
    public var dotHeight: Int { height * 4 }

    /// Braille bit for dot column dx (0…1) and dot row dy (0…3) inside a cell: dots 1-2-3-7
    /// down the left column, 4-5-6-8 down the right (Unicode's numbering).
    static let dotBit: [[UInt8]] = [[0x01, 0x08], [0x02, 0x10], [0x04, 0x20], [0x40, 0x80]]

    /// Sets the dot at (x, y) in dot coordinates, (0, 0) = top-left; outside is ignored.
    public mutating func set(x: Int, y: Int, style: Style) {
        guard x >= 0, y >= 0, x < dotWidth, y < dotHeight else { return }
        let i = (y / 4) * width + x / 2
        bits[i] |= BrailleRaster.dotBit[y % 4][x % 2]
        styles[i] = style
    }

    /// A straight line of dots from (x0, y0) to (x1, y1) inclusive (Bresenham), clipped.
    public mutating func line(x0: Int, y0: Int, x1: Int, y1: Int, style: Style) {
        var x = x0, y = y0
        let dx = abs(x1 - x0), dy = -abs(y1 - y0)
        let sx = x0 < x1 ? 1 : -1, sy = y0 < y1 ? 1 : -1
        var err = dx + dy
        while true {
            set(x: x, y: y, style: style)
            if x == x1 && y == y1 { break }
            let e2 = 2 * err
            if e2 >= dy { err += dy; x += sx }
            if e2 <= dx { err += dx; y += sy }
        }
    }

    /// The braille character of cell (x, y): U+2800 (blank) + its dot bits.
    public func character(x: Int, y: Int) -> Character {
        Character(UnicodeScalar(0x2800 + UInt32(bits[y * width + x]))!)
    }

    /// Each row as a string of braille characters (for tests and the text snapshot).
    public func rows() -> [String] {
        (0..<height).map { y in String((0..<width).map { character(x: $0, y: y) }) }
    }
}

/// One line on a chart.
public struct ChartSeries: Sendable {
    /// Seconds (same clock as `BrailleChart.endTime`), ascending.
    public var times: [Double]
    public var values: [Double]
    public var style: Style

    public init(times: [Double], values: [Double], style: Style) {
        self.times = times; self.values = values; self.style = style
    }
}

/// A braille line chart of one or more series over a time window, with y-axis labels (top,
/// middle, bottom) and an optional time axis. Later series draw over earlier ones.
public struct BrailleChart: Sendable {
    public var series: [ChartSeries]
    /// Seconds shown, ending at `endTime`; nil shows everything from the first point.
    public var window: Double?
    /// The time at the right edge.
    public var endTime: Double
    /// Fixed y range; nil scales to the visible points.
    public var yRange: ClosedRange<Double>?
    /// With auto range, keep 0 on the axis (rates, latencies).
    public var includeZero: Bool
    /// Formats y-axis labels (include the unit).
    public var format: @Sendable (Double) -> String
    /// Drawn in the top-left of the plot.
    public var title: String?
    /// A bottom row with "-60s … now".
    public var showTimeAxis: Bool
    /// Times marked with a dotted vertical line on the plot's empty cells (events: pruning).
    public var markers: [Double] = []

    public init(series: [ChartSeries], window: Double?, endTime: Double, yRange: ClosedRange<Double>? = nil,
                includeZero: Bool = false, title: String? = nil, showTimeAxis: Bool = true,
                format: @escaping @Sendable (Double) -> String = { Format.compact($0) }) {
        self.series = series; self.window = window; self.endTime = endTime; self.yRange = yRange
        self.includeZero = includeZero; self.title = title; self.showTimeAxis = showTimeAxis; self.format = format
    }

    /// The time at the left edge.
    public var startTime: Double {
        if let w = window { return endTime - w }
        let first = series.compactMap { $0.times.first }.min() ?? endTime
        return min(first, endTime - 1)
    }

    /// The y range the chart uses: `yRange`, or the visible points' min…max (padded when flat).
    public func effectiveRange() -> ClosedRange<Double> {
        if let r = yRange { return r }
        let t0 = startTime
        var lo = Double.infinity, hi = -Double.infinity
        for s in series {
            let n = min(s.times.count, s.values.count)
            var i = BrailleChart.firstIndex(s.times, atOrAfter: t0, count: n)
            while i < n && s.times[i] <= endTime {
                let v = s.values[i]
                if v.isFinite { lo = min(lo, v); hi = max(hi, v) }
                i += 1
            }
        }
        if !lo.isFinite { return 0...1 }
        if includeZero { lo = min(lo, 0); hi = max(hi, 0) }
        if hi - lo < 1e-12 {
            let pad = max(abs(hi) * 0.1, 1e-3)
            return includeZero && lo >= 0 ? lo...(hi + pad) : (lo - pad)...(hi + pad)
        }
        return lo...hi
    }

    /// Plots the series into a raster of `width` × `height` cells.
    public func rasterize(width: Int, height: Int) -> BrailleRaster {
        var r = BrailleRaster(width: width, height: height)
        guard width > 0, height > 0 else { return r }
        let range = effectiveRange()
        let ySpan = range.upperBound - range.lowerBound
        var t0 = startTime, t1 = endTime
        if let w = window, r.dotWidth > 1 {
            // Snap the right edge up to a whole dot column: the plot then moves in column steps
            // (between steps only the newest column changes, so the terminal rewrites a few
            // cells, not the whole chart, and the curve does not shimmer).
            let dt = w / Double(r.dotWidth - 1)
            t1 = (endTime / dt).rounded(.up) * dt
            t0 = t1 - w
        }
        let span = max(t1 - t0, 1e-9)
        let W = r.dotWidth, H = r.dotHeight
        // Points are bucketed per dot column (first, last, lowest, highest row), then each
        // column is a vertical run and consecutive columns are joined by a line: the same dots
        // as joining every point, at a cost that does not grow with points per column.
        var firstY = [Int](repeating: -1, count: W), lastY = firstY, minY = firstY, maxY = firstY
        for s in series {
            for k in 0..<W { firstY[k] = -1 }
            var prevOutside: (Int, Int)?     // the last point left of the window, to enter from
            var breaks = Set<Int>()          // columns after a non-finite value: do not join into them
            var pendingBreak = false
            let n = min(s.times.count, s.values.count)
            // From the last point before the window (binary search: series hold thousands).
            var i = max(0, BrailleChart.firstIndex(s.times, atOrAfter: t0, count: n) - 1)
            while i < n {
                let t = s.times[i], v = s.values[i]
                i += 1
                if t > t1 { break }
                guard v.isFinite else { pendingBreak = true; prevOutside = nil; continue }
                let x = Int(((t - t0) / span * Double(W - 1)).rounded())
                let fy = ySpan > 0 ? (v - range.lowerBound) / ySpan : 0.5
                let y = (H - 1) - Int((min(max(fy, 0), 1) * Double(H - 1)).rounded())
                if x < 0 { prevOutside = (x, y); continue }
                let c = min(x, W - 1)
                if firstY[c] < 0 {
                    firstY[c] = y; lastY[c] = y; minY[c] = y; maxY[c] = y
                    if pendingBreak { breaks.insert(c) }
                } else {
                    lastY[c] = y; minY[c] = min(minY[c], y); maxY[c] = max(maxY[c], y)
                    if pendingBreak { breaks.insert(c) }
                }
                pendingBreak = false
            }
            var prev: (Int, Int)? = prevOutside
            for c in 0..<W where firstY[c] >= 0 {
                if let (px, py) = prev, !breaks.contains(c) { r.line(x0: px, y0: py, x1: c, y1: firstY[c], style: s.style) }
                for y in minY[c]...maxY[c] { r.set(x: c, y: y, style: s.style) }
                prev = (c, lastY[c])
            }
        }
        return r
    }

    /// Draws labels, plot and time axis into `rect`.
    public func draw(into canvas: inout Canvas, rect: Rect, styles: StyleSheet) {
        guard rect.width >= 4, rect.height >= 1 else { return }
        let axisRows = showTimeAxis && rect.height >= 4 ? 1 : 0
        let plotHeight = rect.height - axisRows
        let range = effectiveRange()
        // Labels on evenly spaced rows: top and bottom always, one more per ~3 rows (at most 6).
        let count = plotHeight >= 2 ? min(6, max(2, 1 + (plotHeight - 1) / 3)) : 1
        let labelRows: [(row: Int, text: String)] = (0..<count).map { i in
            let row = count == 1 ? 0 : i * (plotHeight - 1) / (count - 1)
            let f = plotHeight > 1 ? 1 - Double(row) / Double(plotHeight - 1) : 1
            return (row, format(range.lowerBound + f * (range.upperBound - range.lowerBound)))
        }
        let labelWidth = min(labelRows.map(\.text.count).max() ?? 0, max(0, rect.width / 3))
        let labelStyle = styles.label
        let plot = Rect(x: rect.x + labelWidth + (labelWidth > 0 ? 1 : 0), y: rect.y,
                        width: rect.width - labelWidth - (labelWidth > 0 ? 1 : 0), height: plotHeight)
        if labelWidth > 0 {
            for yy in 0..<plotHeight { canvas.putTrusted("│", x: plot.x - 1, y: rect.y + yy, style: styles.dim) }
            for l in labelRows {
                canvas.text(Canvas.pad(l.text, to: labelWidth, right: true), x: rect.x, y: rect.y + l.row, style: labelStyle)
                canvas.putTrusted("┤", x: plot.x - 1, y: rect.y + l.row, style: styles.dim)
            }
        }
        let raster = rasterize(width: plot.width, height: plot.height)
        for cy in 0..<raster.height {
            for cx in 0..<raster.width {
                let i = cy * raster.width + cx
                guard raster.bits[i] != 0 else { continue }
                canvas.putTrusted(raster.character(x: cx, y: cy), x: plot.x + cx, y: plot.y + cy, style: raster.styles[i] ?? styles.text)
            }
        }
        if !markers.isEmpty, plot.width > 1 {
            let t0 = startTime, span = max(endTime - t0, 1e-9)
            for t in markers where t >= t0 && t <= endTime {
                let x = plot.x + Int(((t - t0) / span * Double(plot.width - 1)).rounded())
                for cy in 0..<raster.height where raster.bits[cy * raster.width + (x - plot.x)] == 0 {
                    canvas.putTrusted("┆", x: x, y: plot.y + cy, style: styles.key)
                }
            }
        }
        if let t = title, plot.width > t.count + 2 {
            canvas.text(t, x: plot.x + 1, y: plot.y, style: labelStyle.with(.bold))
        }
        if axisRows == 1 {
            let y = rect.y + plotHeight
            let spanText = "-" + BrailleChart.formatSpan(endTime - startTime)
            canvas.text(spanText, x: plot.x, y: y, style: labelStyle)
            canvas.textRight("now", rightX: plot.maxX, y: y, style: labelStyle)
            if plot.width >= 24 {
                let half = "-" + BrailleChart.formatSpan((endTime - startTime) / 2)
                canvas.text(half, x: plot.x + (plot.width - half.count) / 2, y: y, style: labelStyle)
            }
        }
    }

    /// The first index in ascending `times[0..<count]` whose time is ≥ `t` (count if none).
    static func firstIndex(_ times: [Double], atOrAfter t: Double, count: Int) -> Int {
        var lo = 0, hi = count
        while lo < hi {
            let mid = (lo + hi) / 2
            if times[mid] < t { lo = mid + 1 } else { hi = mid }
        }
        return lo
    }

    /// "45s", "2m", "1m30s", "1h".
    public static func formatSpan(_ s: Double) -> String {
        let v = Int(s.rounded())
        if v < 60 { return "\(v)s" }
        if v < 3600 { return v % 60 == 0 ? "\(v / 60)m" : "\(v / 60)m\(v % 60)s" }
        return v % 3600 == 0 ? "\(v / 3600)h" : "\(v / 3600)h\((v % 3600) / 60)m"
    }
}
