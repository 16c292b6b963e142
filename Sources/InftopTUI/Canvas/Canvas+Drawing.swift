/// Line-drawing character sets for boxes.
public struct BoxChars: Sendable {
    public let topLeft, topRight, bottomLeft, bottomRight, horizontal, vertical: Character
    public let titleLeft, titleRight: Character

    /// Rounded thin lines (btop's look): unfocused panels.
    public static let rounded = BoxChars(topLeft: "╭", topRight: "╮", bottomLeft: "╰", bottomRight: "╯",
                                         horizontal: "─", vertical: "│", titleLeft: "┤", titleRight: "├")
    /// Heavy lines: the focused panel, visible without colour.
    public static let heavy = BoxChars(topLeft: "┏", topRight: "┓", bottomLeft: "┗", bottomRight: "┛",
                                       horizontal: "━", vertical: "┃", titleLeft: "┫", titleRight: "┣")
}

/// Left-to-right fractional blocks, 1/8 … 7/8 of a cell.
let eighthBlocks: [Character] = ["▏", "▎", "▍", "▌", "▋", "▊", "▉"]

extension Canvas {
    /// A box around `rect` with an optional title on the top edge (left) and an optional
    /// note on the top edge (right). Titles are clipped to fit between the corners.
    public mutating func box(_ rect: Rect, style: Style, chars: BoxChars = .rounded, title: String? = nil,
                             titleStyle: Style? = nil, note: String? = nil, noteStyle: Style? = nil) {
        guard rect.width >= 2, rect.height >= 2 else { return }
        let x0 = rect.x, y0 = rect.y, x1 = rect.maxX - 1, y1 = rect.maxY - 1
        for x in (x0 + 1)..<x1 {
            putTrusted(chars.horizontal, x: x, y: y0, style: style)
            putTrusted(chars.horizontal, x: x, y: y1, style: style)
        }
        for y in (y0 + 1)..<y1 {
            putTrusted(chars.vertical, x: x0, y: y, style: style)
            putTrusted(chars.vertical, x: x1, y: y, style: style)
        }
        putTrusted(chars.topLeft, x: x0, y: y0, style: style)
        putTrusted(chars.topRight, x: x1, y: y0, style: style)
        putTrusted(chars.bottomLeft, x: x0, y: y1, style: style)
        putTrusted(chars.bottomRight, x: x1, y: y1, style: style)

        // "╭─┤ Title ├──…──┤ note ├─╮": each label needs its text plus framing around it.
        var used = x0 + 1
        if let t = title, !t.isEmpty, rect.width >= 10 {
            let label = " " + Canvas.truncate(t, to: rect.width - 8) + " "
            putTrusted(chars.titleLeft, x: x0 + 2, y: y0, style: style)
            text(label, x: x0 + 3, y: y0, style: titleStyle ?? style)
            putTrusted(chars.titleRight, x: x0 + 3 + label.count, y: y0, style: style)
            used = x0 + 3 + label.count
        }
        if let n = note, !n.isEmpty {
            let end = x1 - 2                      // titleRight goes here, one "─" before the corner
            let avail = end - used - 5            // note text room: framing plus ≥1 "─" after the title
            if avail >= 3 {
                let label = " " + Canvas.truncate(n, to: avail) + " "
                let start = end - label.count
                putTrusted(chars.titleLeft, x: start - 1, y: y0, style: style)
                text(label, x: start, y: y0, style: noteStyle ?? style)
                putTrusted(chars.titleRight, x: end, y: y0, style: style)
            }
        }
    }

    /// A horizontal line of `ch` from (x, y), `length` cells.
    public mutating func hline(x: Int, y: Int, length: Int, _ ch: Character = "─", style: Style, clip: Rect? = nil) {
        guard length > 0 else { return }
        for i in 0..<length { put(ch, x: x + i, y: y, style: style, clip: clip) }
    }

    /// A vertical line of `ch` from (x, y) downwards, `length` cells.
    public mutating func vline(x: Int, y: Int, length: Int, _ ch: Character = "│", style: Style, clip: Rect? = nil) {
        guard length > 0 else { return }
        for i in 0..<length { put(ch, x: x, y: y + i, style: style, clip: clip) }
    }

    /// A horizontal bar filling `fraction` (0…1, clamped) of `width` cells from (x, y), with
    /// eighth-block resolution. The empty part is drawn with `empty` (cell char, style).
    public mutating func hbar(x: Int, y: Int, width: Int, fraction: Double, style: Style,
                              empty: Cell = Cell(" ", .plain), clip: Rect? = nil) {
        guard width > 0 else { return }
        let f = fraction.isFinite ? min(max(fraction, 0), 1) : 0
        let eighths = Int((f * Double(width * 8)).rounded())
        let full = eighths / 8, part = eighths % 8
        for i in 0..<width {
            if i < full {
                putTrusted("█", x: x + i, y: y, style: style, clip: clip)
            } else if i == full && part > 0 {
                // A partial block: the bar colour in front, the empty part's colour behind it.
                var s = style; s.bg = empty.style.bg
                putTrusted(eighthBlocks[part - 1], x: x + i, y: y, style: s, clip: clip)
            } else {
                put(empty.character, x: x + i, y: y, style: empty.style, clip: clip)
            }
        }
    }

    /// `s` cut to `n` columns, with "…" as the last column when it had to be cut.
    public static func truncate(_ s: String, to n: Int) -> String {
        guard n > 0 else { return "" }
        if s.count <= n { return s }
        if n == 1 { return "…" }
        return String(s.prefix(n - 1)) + "…"
    }

    /// `s` padded with spaces (or cut) to exactly `n` columns; right-aligned when `right`.
    public static func pad(_ s: String, to n: Int, right: Bool = false) -> String {
        guard n > 0 else { return "" }
        let c = s.count
        if c >= n { return c == n ? s : truncate(s, to: n) }
        let spaces = String(repeating: " ", count: n - c)
        return right ? spaces + s : s + spaces
    }
}
