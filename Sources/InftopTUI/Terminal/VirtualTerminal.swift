/// A terminal in memory: renders canvases to text for tests, applying only the changed cells
/// (as NCursesTerminal does), and plays a script of keys.
public final class VirtualTerminal: DashboardTerminal {
    public private(set) var width: Int
    public private(set) var height: Int
    /// What the screen shows after the presents so far.
    public private(set) var screen: Canvas
    /// Cells written by the last `present`.
    public private(set) var lastWriteCount = 0
    public private(set) var presentCount = 0
    public private(set) var theme: Theme?
    public let colorDepth: ColorDepth
    private var previous: Canvas?
    private var script: [Key]

    /// - Parameter keys: returned by `readKey` in order; when they run out `readKey` returns
    ///   Ctrl-C, so a dashboard driven by a script always ends.
    public init(width: Int, height: Int, keys: [Key] = [], colorDepth: ColorDepth = .direct) {
        self.width = width; self.height = height; self.colorDepth = colorDepth
        screen = Canvas(width: width, height: height)
        script = keys
    }

    public var size: (width: Int, height: Int) { (width, height) }

    /// Changes the size; the next key read is `.resize`.
    public func resize(width w: Int, height h: Int) {
        width = w; height = h
        script.insert(.resize, at: 0)
    }

    /// Appends keys to the script.
    public func type(_ keys: [Key]) { script.append(contentsOf: keys) }

    public func apply(theme: Theme) { self.theme = theme; previous = nil }

    public func present(_ canvas: Canvas) {
        let runs = CanvasDiff.changes(from: previous, to: canvas)
        if screen.width != canvas.width || screen.height != canvas.height {
            screen = Canvas(width: canvas.width, height: canvas.height)
        }
        for run in runs {
            for (i, c) in run.cells.enumerated() { screen[run.x + i, run.y] = c }
        }
        lastWriteCount = CanvasDiff.cellCount(runs)
        presentCount += 1
        previous = canvas
    }

    public func readKey(timeoutMs: Int) -> Key? {
        script.isEmpty ? .ctrlC : script.removeFirst()
    }

    /// The screen as text lines (trailing spaces kept).
    public var lines: [String] { VirtualTerminal.lines(screen) }

    /// The screen as text, trailing spaces trimmed, lines joined by "\n".
    public var text: String { VirtualTerminal.text(screen) }

    /// A canvas's rows as strings, trailing spaces kept.
    public static func lines(_ canvas: Canvas) -> [String] { (0..<canvas.height).map { canvas.row($0) } }

    /// A canvas as text: rows with trailing spaces trimmed, joined by "\n", ending in "\n".
    public static func text(_ canvas: Canvas) -> String {
        lines(canvas).map { l in
            var s = Substring(l)
            while s.last == " " { s.removeLast() }
            return String(s)
        }.joined(separator: "\n") + "\n"
    }

    /// A canvas's styles as a map: one letter per cell ("." = the plain style), rows joined by
    /// "\n", then a legend "a = fg hi_fg bold", one per line.
    public static func styleMap(_ canvas: Canvas) -> String {
        var codes: [Style: Character] = [Style.plain: "."]
        var order: [Style] = []
        let letters = Array("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789")
        var rows: [String] = []
        for y in 0..<canvas.height {
            var r = ""
            for x in 0..<canvas.width {
                let s = canvas[x, y].style
                if codes[s] == nil {
                    codes[s] = order.count < letters.count ? letters[order.count] : "*"
                    order.append(s)
                }
                r.append(codes[s]!)
            }
            rows.append(r)
        }
        let legend = order.map { s -> String in
            var d = "\(codes[s]!) = fg \(s.fg)"
            if s.bg != .background { d += " bg \(s.bg)" }
            if s.attributes.contains(.bold) { d += " bold" }
            if s.attributes.contains(.dim) { d += " dim" }
            if s.attributes.contains(.reverse) { d += " reverse" }
            if s.attributes.contains(.underline) { d += " underline" }
            return d
        }
        return rows.joined(separator: "\n") + "\n" + legend.joined(separator: "\n") + "\n"
    }
}
