import CNCurses
#if canImport(Glibc)
import Glibc
#endif

/// The one place that talks to ncurses (ncursesw). Sets the terminal up (locale, cbreak,
/// noecho, keypad, no cursor, default colours), picks the colour depth (direct colour,
/// a redefinable 256 palette, 256, 16, 8, or none), maps theme roles onto colour pairs, and
/// writes only the cells that changed since the previous frame.
public final class NCursesTerminal: DashboardTerminal {
    public private(set) var colorDepth: ColorDepth
    private var previous: Canvas?
    private var screen: OpaquePointer?
    private var ended = false
    /// Terminal colour number per `ColorRole.raw` (-1 = default).
    private var roleColor = [Int](repeating: -1, count: ColorRole.count)
    /// (fg, bg) → pair number, allocated as cells need them.
    private var pairs: [Int: Int32] = [:]
    private var nextPair: Int32 = 1
    private let maxPairs: Int32
    private var wbuf = [wchar_t](repeating: 0, count: 8)

    public struct InitError: Error, CustomStringConvertible {
        public var description: String
    }

    /// Takes over the terminal (alternate screen).
    /// - Parameters:
    ///   - noColor: attributes only (NO_COLOR / --no-color).
    ///   - maxDepth: never use more colour than this (nil = what the terminal reports).
    /// - Throws: `InitError` when $TERM names no usable terminal.
    public init(noColor: Bool, maxDepth: ColorDepth? = nil) throws {
        setlocale(LC_ALL, "")   // before ncurses starts, or braille/box characters come out garbled
        guard let scr = inftop_newterm() else {
            let term = getenv("TERM").map { String(cString: $0) } ?? "unset"
            throw InitError(description: "cannot start the terminal (TERM=\(term))")
        }
        screen = scr
        set_term(scr)
        let win = inftop_stdscr()
        cbreak()
        noecho()
        nonl()
        keypad(win, true)
        intrflush(win, false)
        set_escdelay(25)
        curs_set(0)
        var depth = ColorDepth.mono
        if !noColor && has_colors() {
            start_color()
            use_default_colors()
            let n = Int(inftop_colors())
            if n >= 1 << 24 { depth = .direct }
            else if n >= 256 { depth = can_change_color() ? .redefinable256 : .palette256 }
            else if n >= 16 { depth = .ansi16 }
            else if n >= 8 { depth = .ansi8 }
            if let cap = maxDepth, cap < depth { depth = cap }
        }
        colorDepth = depth
        maxPairs = Int32(max(0, min(Int(inftop_color_pairs()), 65_536)))
    }

    deinit { shutdown() }

    /// Restores the terminal (leaves the alternate screen, shows the cursor). Idempotent.
    public func shutdown() {
        guard !ended else { return }
        ended = true
        curs_set(1)
        endwin()
        if let s = screen { delscreen(s); screen = nil }
    }

    public var size: (width: Int, height: Int) { (Int(inftop_cols()), Int(inftop_lines())) }

    public func apply(theme: Theme) {
        pairs.removeAll()
        nextPair = 1
        previous = nil
        guard colorDepth != .mono else { roleColor = roleColor.map { _ in -1 }; return }
        var slots: [RGB: Int] = [:]
        var nextSlot = 16
        let limit = Int(inftop_colors())
        for i in 0..<ColorRole.count {
            let c = theme.palette[i]
            if colorDepth == .redefinable256, case .rgb(let rgb) = c {
                // Load the exact colour into a palette entry above the 16 the user's scheme owns.
                if let s = slots[rgb] { roleColor[i] = s; continue }
                if nextSlot < limit {
                    init_extended_color(Int32(nextSlot), Int32(rgb.r) * 1000 / 255, Int32(rgb.g) * 1000 / 255,
                                        Int32(rgb.b) * 1000 / 255)
                    slots[rgb] = nextSlot; roleColor[i] = nextSlot; nextSlot += 1
                    continue
                }
            }
            roleColor[i] = ColorMapping.terminalColor(c, depth: colorDepth)
        }
    }

    /// The colour pair for a style's roles (0 = default colours).
    private func pair(_ s: Style) -> Int32 {
        guard colorDepth != .mono else { return 0 }
        var fg = roleColor[Int(s.fg.raw)]
        let bg = roleColor[Int(s.bg.raw)]
        // Two different roles that land on one palette entry (few colours) would hide the text:
        // use the terminal's own foreground instead.
        if fg == bg && fg != -1 && s.fg != s.bg { fg = -1 }
        if fg == -1 && bg == -1 { return 0 }
        let key = (fg + 1) << 25 | (bg + 1)
        if let p = pairs[key] { return p }
        guard nextPair < maxPairs else { return 0 }
        let p = nextPair
        nextPair += 1
        init_extended_pair(p, Int32(fg), Int32(bg))
        pairs[key] = p
        return p
    }

    private func attributes(_ s: Style) -> attr_t {
        var a = inftop_a_normal()
        if s.attributes.contains(.bold) { a |= inftop_a_bold() }
        if s.attributes.contains(.dim) { a |= inftop_a_dim() }
        if s.attributes.contains(.reverse) { a |= inftop_a_reverse() }
        if s.attributes.contains(.underline) { a |= inftop_a_underline() }
        return a
    }

    public func present(_ canvas: Canvas) {
        guard !ended else { return }
        let (w, h) = size
        let runs = CanvasDiff.changes(from: previous, to: canvas)
        for run in runs where run.y < h {
            var x = run.x
            for cell in run.cells {
                if x >= w { break }
                var n = 0
                for u in cell.character.unicodeScalars where n < wbuf.count - 1 {
                    wbuf[n] = wchar_t(bitPattern: u.value); n += 1
                }
                wbuf[n] = 0
                // The bottom-right cell returns ERR (the cursor cannot advance) but is written.
                _ = inftop_put_cell(Int32(run.y), Int32(x), wbuf, attributes(cell.style), pair(cell.style))
                x += 1
            }
        }
        wrefresh(inftop_stdscr())
        previous = canvas
    }

    public func readKey(timeoutMs: Int) -> Key? {
        guard !ended else { return nil }
        wtimeout(inftop_stdscr(), Int32(max(0, timeoutMs)))
        var ch: wint_t = 0
        let r = wget_wch(inftop_stdscr(), &ch)
        if r == inftop_err() { return nil }
        let code = Int32(bitPattern: UInt32(ch))
        if r == inftop_key_code_yes() {
            if code == inftop_key_resize() { previous = nil; return .resize }
            switch code {
            case inftop_key_up(): return .up
            case inftop_key_down(): return .down
            case inftop_key_left(): return .left
            case inftop_key_right(): return .right
            case inftop_key_npage(): return .pageDown
            case inftop_key_ppage(): return .pageUp
            case inftop_key_home(): return .home
            case inftop_key_end(): return .end
            case inftop_key_btab(): return .backTab
            case inftop_key_enter(): return .enter
            case inftop_key_backspace(): return .backspace
            case inftop_key_dc(): return .delete
            default:
                for n in 1...24 where code == inftop_key_f(Int32(n)) { return .function(n) }
                return .other(code)
            }
        }
        switch code {
        case 9: return .tab
        case 10, 13: return .enter
        case 27: return .escape
        case 8, 127: return .backspace
        default:
            guard let u = UnicodeScalar(UInt32(ch)) else { return .other(code) }
            return .char(Character(u))
        }
    }
}
