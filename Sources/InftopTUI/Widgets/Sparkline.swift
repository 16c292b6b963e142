import InftopTelemetry
/// A one-row chart of the most recent values: one cell per value, ▁ … █ by height.
public struct Sparkline: Sendable {
    public var values: [Double]
    public var style: Style
    /// Scale from 0 (true) or from the minimum shown (false).
    public var fromZero: Bool

    static let levels: [Character] = ["▁", "▂", "▃", "▄", "▅", "▆", "▇", "█"]

    public init(values: [Double], style: Style, fromZero: Bool = true) {
        self.values = values; self.style = style; self.fromZero = fromZero
    }

    /// The characters for the last `width` values, right-aligned (blank where there is no data).
    public func characters(width: Int) -> [Character] {
        guard width > 0 else { return [] }
        let shown = Array(values.suffix(width))
        let finite = shown.filter(\.isFinite)
        guard let hi = finite.max(), let lo0 = finite.min() else { return Array(repeating: " ", count: width) }
        let lo = fromZero ? min(0, lo0) : lo0
        var out = Array(repeating: Character(" "), count: width - shown.count)
        for v in shown {
            guard v.isFinite else { out.append(" "); continue }
            let f = hi > lo ? (v - lo) / (hi - lo) : (hi > 0 ? 1 : 0)
            out.append(Sparkline.levels[min(7, max(0, Int((f * 7).rounded())))])
        }
        return out
    }

    public func draw(into canvas: inout Canvas, x: Int, y: Int, width: Int) {
        for (i, ch) in characters(width: width).enumerated() where ch != " " {
            canvas.putTrusted(ch, x: x + i, y: y, style: style)
        }
    }
}

/// A horizontal progress bar: "▕█████▌    ▏ 62%", followed by whatever the caller adds.
public struct ProgressBar: Sendable {
    public var fraction: Double
    public var style: Style

    public init(fraction: Double, style: Style) { self.fraction = fraction; self.style = style }

    /// Draws the bar and the percentage into `width` cells from (x, y); returns columns used.
    @discardableResult
    public func draw(into canvas: inout Canvas, x: Int, y: Int, width: Int, styles: StyleSheet) -> Int {
        let pct = " " + Canvas.pad(Format.percent(fraction), to: 4, right: true)
        let barWidth = width - 2 - pct.count
        guard barWidth >= 3 else {
            return canvas.text(Canvas.truncate(String(pct.drop(while: { $0 == " " })), to: width), x: x, y: y, style: styles.text)
        }
        canvas.put("▕", x: x, y: y, style: styles.dim)
        canvas.hbar(x: x + 1, y: y, width: barWidth, fraction: fraction, style: style, empty: styles.meterEmpty)
        canvas.put("▏", x: x + 1 + barWidth, y: y, style: styles.dim)
        canvas.text(pct, x: x + 2 + barWidth, y: y, style: styles.bold)
        return width
    }
}
