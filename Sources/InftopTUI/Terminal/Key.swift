/// A key press, as the controller sees it (terminal-independent).
public enum Key: Hashable, Sendable, CustomStringConvertible {
    /// A printable character, or a control character (Ctrl-C is `.char("\u{3}")`).
    case char(Character)
    /// F1 … F12.
    case function(Int)
    case up, down, left, right, pageUp, pageDown, home, end
    case tab, backTab, enter, escape, backspace, delete
    /// The terminal changed size (ncurses' KEY_RESIZE).
    case resize
    /// A key code nothing here knows.
    case other(Int32)

    public static let ctrlC = Key.char("\u{3}")

    public var description: String {
        switch self {
        case .char(" "): return "space"
        case .char("\u{3}"): return "Ctrl-C"
        case .char(let c):
            if let a = c.asciiValue, a < 0x20 { return "Ctrl-\(Character(UnicodeScalar(a + 0x40)))" }
            return String(c)
        case .function(let n): return "F\(n)"
        case .up: return "↑"
        case .down: return "↓"
        case .left: return "←"
        case .right: return "→"
        case .pageUp: return "PgUp"
        case .pageDown: return "PgDn"
        case .home: return "Home"
        case .end: return "End"
        case .tab: return "Tab"
        case .backTab: return "Shift-Tab"
        case .enter: return "Enter"
        case .escape: return "Esc"
        case .backspace: return "Backspace"
        case .delete: return "Delete"
        case .resize: return "resize"
        case .other(let code): return "key \(code)"
        }
    }
}
