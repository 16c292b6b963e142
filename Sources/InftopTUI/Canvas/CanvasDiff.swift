/// A run of adjacent cells in one row that differ from the previous frame.
public struct CellRun: Equatable, Sendable {
    public var x: Int
    public var y: Int
    public var cells: [Cell]
}

/// What must be written to turn the screen showing `old` into one showing `new`.
public enum CanvasDiff {
    /// Runs of changed cells, top to bottom, left to right. Every cell of `new` is returned
    /// when there is no previous frame or its size differs (after a resize the terminal's
    /// contents are unknown).
    public static func changes(from old: Canvas?, to new: Canvas) -> [CellRun] {
        var runs: [CellRun] = []
        let w = new.width
        guard let old, old.width == new.width, old.height == new.height else {
            for y in 0..<new.height where w > 0 {
                runs.append(CellRun(x: 0, y: y, cells: Array(new.cells[(y * w)..<(y * w + w)])))
            }
            return runs
        }
        old.cells.withUnsafeBufferPointer { o in
            new.cells.withUnsafeBufferPointer { n in
                for y in 0..<new.height {
                    let base = y * w
                    var x = 0
                    while x < w {
                        if o[base + x] == n[base + x] { x += 1; continue }
                        let start = x
                        while x < w && o[base + x] != n[base + x] { x += 1 }
                        runs.append(CellRun(x: start, y: y, cells: Array(n[(base + start)..<(base + x)])))
                    }
                }
            }
        }
        return runs
    }

    /// Number of cells in `runs`.
    public static func cellCount(_ runs: [CellRun]) -> Int { runs.reduce(0) { $0 + $1.cells.count } }
}
