/// A rectangle of cells: `x`, `y` of the top-left cell, `width` × `height` in cells.
public struct Rect: Hashable, Sendable, CustomStringConvertible {
    public var x: Int
    public var y: Int
    public var width: Int
    public var height: Int

    public init(x: Int, y: Int, width: Int, height: Int) {
        self.x = x; self.y = y; self.width = max(0, width); self.height = max(0, height)
    }

    public var maxX: Int { x + width }
    public var maxY: Int { y + height }
    public var isEmpty: Bool { width <= 0 || height <= 0 }

    public func contains(x px: Int, y py: Int) -> Bool { px >= x && px < maxX && py >= y && py < maxY }

    /// The rectangle shrunk by `d` cells on every side.
    public func inset(by d: Int) -> Rect { Rect(x: x + d, y: y + d, width: width - 2 * d, height: height - 2 * d) }

    public func inset(top: Int = 0, left: Int = 0, bottom: Int = 0, right: Int = 0) -> Rect {
        Rect(x: x + left, y: y + top, width: width - left - right, height: height - top - bottom)
    }

    /// The overlap of two rectangles (empty, positioned at self, when they do not overlap).
    public func intersection(_ o: Rect) -> Rect {
        let x0 = max(x, o.x), y0 = max(y, o.y), x1 = min(maxX, o.maxX), y1 = min(maxY, o.maxY)
        guard x1 > x0, y1 > y0 else { return Rect(x: x, y: y, width: 0, height: 0) }
        return Rect(x: x0, y: y0, width: x1 - x0, height: y1 - y0)
    }

    /// Splits off the top `rows` (clamped): (top, rest).
    public func splitTop(_ rows: Int) -> (Rect, Rect) {
        let r = min(max(rows, 0), height)
        return (Rect(x: x, y: y, width: width, height: r), Rect(x: x, y: y + r, width: width, height: height - r))
    }

    /// Splits off the left `cols` (clamped): (left, rest).
    public func splitLeft(_ cols: Int) -> (Rect, Rect) {
        let c = min(max(cols, 0), width)
        return (Rect(x: x, y: y, width: c, height: height), Rect(x: x + c, y: y, width: width - c, height: height))
    }

    /// A `w` × `h` rectangle centred in this one (clamped to fit).
    public func centered(width w: Int, height h: Int) -> Rect {
        let ww = min(w, width), hh = min(h, height)
        return Rect(x: x + (width - ww) / 2, y: y + (height - hh) / 2, width: ww, height: hh)
    }

    public var description: String { "\(width)×\(height)@\(x),\(y)" }
}
