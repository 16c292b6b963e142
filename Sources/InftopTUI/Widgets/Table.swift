/// A column of a `TableView`.
public struct TableColumn: Sendable {
    public var title: String
    /// Width in cells; 0 = take what is left (at most one such column).
    public var width: Int
    public var alignRight: Bool

    public init(_ title: String, width: Int, alignRight: Bool = false) {
        self.title = title; self.width = width; self.alignRight = alignRight
    }
}

/// A table cell: text, or a bar with a label after it (the Layers table's share column).
public enum TableCell: Sendable {
    case text(String, Style?)
    case bar(fraction: Double, label: String, style: Style)
}

/// A table with a header row, a sort indicator, a selected row and vertical scrolling.
/// Pure: the caller owns the scroll position and selection (the controller keeps them).
public struct TableView: Sendable {
    public var columns: [TableColumn]
    public var rows: [[TableCell]]
    /// Column showing ▼ (descending) or ▲ (ascending); nil = rows in their natural order.
    public var sortColumn: Int?
    public var descending: Bool
    /// First row shown (clamped when drawn).
    public var scroll: Int
    /// Highlighted row, if any.
    public var selected: Int?

    public init(columns: [TableColumn], rows: [[TableCell]], sortColumn: Int? = nil, descending: Bool = true,
                scroll: Int = 0, selected: Int? = nil) {
        self.columns = columns; self.rows = rows; self.sortColumn = sortColumn; self.descending = descending
        self.scroll = scroll; self.selected = selected
    }

    /// Data rows that fit in a table `height` rows high (one row is the header).
    public static func visibleRows(height: Int) -> Int { max(0, height - 1) }

    /// The first row shown for `scroll`, `selected` and `visible` rows: `scroll` clamped to the
    /// rows there are and moved just enough that the selection is visible.
    public static func clampedScroll(scroll: Int, selected: Int?, rowCount: Int, visible: Int) -> Int {
        guard visible > 0 else { return 0 }
        var s = min(max(scroll, 0), max(0, rowCount - visible))
        if let sel = selected, sel >= 0, sel < rowCount {
            if sel < s { s = sel }
            if sel >= s + visible { s = sel - visible + 1 }
        }
        return s
    }

    /// Widths of the columns for a table `width` wide (1-cell gaps between columns).
    public func columnWidths(for width: Int) -> [Int] {
        let fixed = columns.reduce(0) { $0 + $1.width } + max(0, columns.count - 1)
        return columns.map { $0.width == 0 ? max(0, width - fixed) : $0.width }
    }

    public func draw(into canvas: inout Canvas, rect: Rect, styles: StyleSheet) {
        guard rect.height >= 1, rect.width >= 4 else { return }
        let visible = TableView.visibleRows(height: rect.height)
        let overflow = rows.count > visible
        let body = Rect(x: rect.x, y: rect.y, width: rect.width - (overflow ? 1 : 0), height: rect.height)
        let widths = columnWidths(for: body.width)

        // Header: titles, the sort column marked with ▼/▲.
        var x = body.x
        for (c, col) in columns.enumerated() {
            let w = widths[c]
            var title = col.title
            if c == sortColumn { title = col.alignRight ? (descending ? "▼" : "▲") + title : title + (descending ? "▼" : "▲") }
            let style = c == sortColumn ? styles.key : styles.label.with(.bold)
            canvas.text(Canvas.pad(title, to: w, right: col.alignRight), x: x, y: body.y, style: style, clip: body)
            x += w + 1
        }

        let first = TableView.clampedScroll(scroll: scroll, selected: selected, rowCount: rows.count, visible: visible)
        for r in 0..<min(visible, rows.count - first) {
            let row = rows[first + r]
            let y = body.y + 1 + r
            let isSelected = selected == first + r
            if isSelected { canvas.fill(Rect(x: body.x, y: y, width: body.width, height: 1), style: styles.selected) }
            x = body.x
            for (c, cell) in row.enumerated() where c < columns.count {
                let w = widths[c]
                switch cell {
                case .text(let s, let st):
                    let style = isSelected ? styles.selected : (st ?? styles.text)
                    canvas.text(Canvas.pad(s, to: w, right: columns[c].alignRight), x: x, y: y, style: style, clip: body)
                case .bar(let f, let label, let st):
                    let lw = min(label.count, w)
                    let bw = w - lw - (lw > 0 ? 1 : 0)
                    if bw > 0 { canvas.hbar(x: x, y: y, width: bw, fraction: f, style: st, empty: styles.meterEmpty, clip: body) }
                    canvas.text(Canvas.pad(label, to: lw, right: true), x: x + w - lw, y: y,
                                style: isSelected ? styles.selected : styles.text, clip: body)
                }
                x += w + 1
            }
        }

        if overflow && visible > 0 {
            // A scrollbar in the last column: track ┊, thumb ┃ sized to the visible fraction.
            let sx = rect.maxX - 1
            let track = visible
            let thumb = max(1, track * visible / rows.count)
            let maxFirst = rows.count - visible
            let pos = maxFirst > 0 ? (track - thumb) * first / maxFirst : 0
            for i in 0..<track {
                let on = i >= pos && i < pos + thumb
                canvas.put(on ? "┃" : "┊", x: sx, y: rect.y + 1 + i, style: on ? styles.bold : styles.dim)
            }
            canvas.put(first > 0 ? "▲" : " ", x: sx, y: rect.y, style: styles.dim)
        }
    }
}
