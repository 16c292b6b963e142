/// One terminal cell: a single-column grapheme and its style.
public struct Cell: Equatable, Sendable {
    public var character: Character
    public var style: Style

    public init(_ character: Character = " ", _ style: Style = .plain) {
        self.character = character; self.style = style
    }

    public static let blank = Cell()
}

/// A grid of cells that widgets draw into. Pure data: nothing here touches a terminal.
/// Row-major, `width` × `height`; every drawing call clips to the grid (and to an optional
/// clip rectangle), so a widget can never write outside what it was given.
///
/// Every cell is one column wide. A grapheme that a terminal would draw two columns wide
/// (CJK, most emoji) or a control character is stored as `?` so the grid and the screen
/// never disagree about where a column is.
public struct Canvas: Equatable, Sendable {
    public private(set) var width: Int
    public private(set) var height: Int
    /// Cells, row-major: cell (x, y) is at `y * width + x`.
    public private(set) var cells: [Cell]

    public init(width: Int, height: Int, fill: Cell = .blank) {
        self.width = max(0, width); self.height = max(0, height)
        cells = Array(repeating: fill, count: self.width * self.height)
    }

    public var bounds: Rect { Rect(x: 0, y: 0, width: width, height: height) }

    /// Resizes to `width` × `height` and clears every cell to `fill`.
    public mutating func reset(width w: Int, height h: Int, fill: Cell = .blank) {
        if w == width && h == height {
            cells.withUnsafeMutableBufferPointer { $0.update(repeating: fill) }
        } else {
            self = Canvas(width: w, height: h, fill: fill)
        }
    }

    /// The cell at (x, y); a blank cell outside the grid.
    public subscript(x: Int, y: Int) -> Cell {
        get { x >= 0 && x < width && y >= 0 && y < height ? cells[y * width + x] : .blank }
        set { if x >= 0 && x < width && y >= 0 && y < height { cells[y * width + x] = newValue } }
    }

    /// Writes one character, clipped to the grid and to `clip`.
    public mutating func put(_ ch: Character, x: Int, y: Int, style: Style, clip: Rect? = nil) {
        guard x >= 0, x < width, y >= 0, y < height else { return }
        if let c = clip, !c.contains(x: x, y: y) { return }
        cells[y * width + x] = Cell(Canvas.singleColumn(ch), style)
    }

    /// `put` for characters known to be one column wide (box, block and braille characters
    /// the widgets choose themselves): skips the width check, which costs more than the write.
    @inline(__always)
    mutating func putTrusted(_ ch: Character, x: Int, y: Int, style: Style, clip: Rect? = nil) {
        guard x >= 0, x < width, y >= 0, y < height else { return }
        if let c = clip, !c.contains(x: x, y: y) { return }
        cells[y * width + x] = Cell(ch, style)
    }

    /// Changes only the style of the cell at (x, y).
    public mutating func restyle(x: Int, y: Int, _ body: (inout Style) -> Void) {
        guard x >= 0, x < width, y >= 0, y < height else { return }
        body(&cells[y * width + x].style)
    }

    /// Writes `text` from (x, y) rightwards, clipped to the grid, to `clip` and to `maxWidth`
    /// columns. Returns the number of columns the text takes (clipped or not, at most maxWidth).
    @discardableResult
    public mutating func text(_ text: String, x: Int, y: Int, style: Style, clip: Rect? = nil,
                              maxWidth: Int = Int.max) -> Int {
        var cx = x, n = 0
        for ch in text {
            if n >= maxWidth { break }
            put(ch, x: cx, y: y, style: style, clip: clip)
            cx += 1; n += 1
        }
        return n
    }

    /// Writes `text` so that it ends at column `rightX` (exclusive); returns its start column.
    @discardableResult
    public mutating func textRight(_ text: String, rightX: Int, y: Int, style: Style, clip: Rect? = nil) -> Int {
        let start = rightX - text.count
        self.text(text, x: start, y: y, style: style, clip: clip)
        return start
    }

    /// Fills `rect` (clipped) with `ch` in `style`.
    public mutating func fill(_ rect: Rect, _ ch: Character = " ", style: Style = .plain) {
        let r = rect.intersection(bounds)
        guard !r.isEmpty else { return }
        let cell = Cell(ch == " " ? ch : Canvas.singleColumn(ch), style)
        for yy in r.y..<r.maxY {
            let base = yy * width
            for xx in r.x..<r.maxX { cells[base + xx] = cell }
        }
    }

    /// The characters of row `y` as a string (no styles), trailing spaces kept.
    public func row(_ y: Int) -> String {
        guard y >= 0, y < height else { return "" }
        var s = ""
        s.reserveCapacity(width)
        for x in 0..<width { s.append(cells[y * width + x].character) }
        return s
    }

    /// `ch` if a terminal draws it in exactly one column, else `?`.
    public static func singleColumn(_ ch: Character) -> Character {
        let utf8 = ch.utf8
        if utf8.count == 1 { let b = utf8.first!; return b >= 0x20 && b != 0x7F ? ch : "?" }
        guard let first = ch.unicodeScalars.first else { return "?" }
        let v = first.value
        // Fast path for what the dashboard draws all the time: box drawing, blocks, braille.
        if v >= 0x2500 && v <= 0x28FF { return ch }
        if v < 0x20 || (v >= 0x7F && v < 0xA0) { return "?" }
        if isWide(v) { return "?" }
        if first.properties.generalCategory == .nonspacingMark || first.properties.generalCategory == .enclosingMark {
            return "?"
        }
        return ch
    }

    /// East Asian Wide/Fullwidth ranges and emoji presentation blocks (the ones terminals draw
    /// two columns wide).
    static func isWide(_ v: UInt32) -> Bool {
        switch v {
        case 0x1100...0x115F, 0x2E80...0x303E, 0x3041...0x33FF, 0x3400...0x4DBF, 0x4E00...0x9FFF,
             0xA000...0xA4CF, 0xAC00...0xD7A3, 0xF900...0xFAFF, 0xFE30...0xFE4F, 0xFF00...0xFF60,
             0xFFE0...0xFFE6, 0x1F300...0x1F64F, 0x1F900...0x1F9FF, 0x20000...0x3FFFD:
            return true
        default:
            return false
        }
    }
}
