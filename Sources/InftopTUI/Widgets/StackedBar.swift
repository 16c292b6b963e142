/// One part of a stacked bar.
public struct BarSegment: Sendable {
    public var value: Double
    public var style: Style
    /// The fill character (█ with colour; shades tell segments apart in monochrome).
    public var fill: Character

    public init(value: Double, style: Style, fill: Character = "█") {
        self.value = value; self.style = style; self.fill = fill
    }
}

/// Segments laid end to end on one row against a scale, at eighth-of-a-cell resolution, plus
/// markers (e.g. the peak) drawn on top.
public struct StackedBar: Sendable {
    public var segments: [BarSegment]
    /// The value the whole width stands for.
    public var scale: Double
    public var empty: Cell
    public var markers: [(value: Double, character: Character, style: Style)]

    public init(segments: [BarSegment], scale: Double, empty: Cell,
                markers: [(value: Double, character: Character, style: Style)] = []) {
        self.segments = segments; self.scale = scale; self.empty = empty; self.markers = markers
    }

    /// The cells of a bar `width` wide.
    public func cells(width: Int) -> [Cell] {
        guard width > 0 else { return [] }
        let total = Double(width * 8)
        let s = scale > 0 && scale.isFinite ? scale : 1
        // Segment end positions in eighths, cumulative (rounded once, so ends never drift).
        var ends: [Int] = []
        var acc = 0.0
        for seg in segments {
            acc += max(0, seg.value.isFinite ? seg.value : 0)
            ends.append(min(Int(total), Int((acc / s * total).rounded())))
        }
        func segmentAt(_ eighth: Int) -> Int? { ends.firstIndex { eighth < $0 } }
        var out: [Cell] = []
        out.reserveCapacity(width)
        for i in 0..<width {
            let a = i * 8
            let first = segmentAt(a), last = segmentAt(a + 7)
            guard let f = first else { out.append(empty); continue }
            if first == last {
                out.append(Cell(segments[f].fill, segments[f].style))
                continue
            }
            // The cell holds a boundary: the left part in the first segment's colour, the
            // rest in the colour behind it (the next segment, or the empty bar).
            let k = ends[f] - a   // eighths of the cell covered by segment f, 1…7
            var st = segments[f].style
            if let l = last { st.bg = segments[l].style.fg } else { st.bg = empty.style.bg }
            out.append(Cell(k >= 8 ? segments[f].fill : eighthBlocks[max(0, min(6, k - 1))], st))
        }
        for m in markers where m.value.isFinite {
            let i = min(width - 1, max(0, Int((m.value / s * Double(width)).rounded()) - 1))
            out[i] = Cell(m.character, m.style)
        }
        return out
    }

    public func draw(into canvas: inout Canvas, x: Int, y: Int, width: Int) {
        for (i, c) in cells(width: width).enumerated() { canvas.put(c.character, x: x + i, y: y, style: c.style) }
    }
}
