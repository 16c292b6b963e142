#if canImport(Glibc)
import Glibc
#endif

/// What inftop tells the user once, wherever it is noticed: a config key it does not know, a
/// theme it cannot use, a knob value it clamped, a kernel tier it fell back from. Every line is
/// said once (the same text posted again is dropped), on stderr and in the dashboard's footer.
///
/// While the dashboard owns the screen its stderr is a temporary file, copied to the terminal
/// when the screen is restored (the TUI's `StderrCapture`), so lines said then are the last
/// thing the user reads on the way out. The footer shows the newest line for `footerSeconds`
/// after it was posted.
public final class Notices: Sendable {
    /// The process's notices (what the CLI prints and the dashboard's footer reads).
    public static let shared = Notices()

    /// Seconds the footer shows a new notice.
    public static let footerSeconds = 10.0

    struct State {
        var said: Set<String> = []
        /// In the order posted, with the time each came (monotonic ns).
        var lines: [(text: String, at: UInt64)] = []
    }
    private let state = Locked(State())
    private let write: @Sendable (String) -> Void

    /// `write` gets each line for stderr, newline included (tests pass a collector).
    public init(write: @escaping @Sendable (String) -> Void = { text in _ = text.withCString { Glibc.write(2, $0, strlen($0)) } }) {
        self.write = write
    }

    /// Says `line` ("inftop: " is put before it on stderr) unless it was said already; `at`
    /// is when (monotonic ns). Returns whether it was new.
    @discardableResult
    public func post(_ line: String, at: UInt64 = monotonicNanos()) -> Bool {
        let new = state.withLock { s in
            guard s.said.insert(line).inserted else { return false }
            s.lines.append((line, at))
            return true
        }
        if new { write("inftop: \(line)\n") }
        return new
    }

    /// Every line said so far, oldest first.
    public var all: [String] { state.withLock { s in s.lines.map(\.text) } }

    /// The footer's text at `now`: the newest notice if it came less than `footerSeconds`
    /// ago ("(+N more)" when others came in that window too), else nil.
    public func footer(now: UInt64 = monotonicNanos()) -> String? {
        state.withLock { s in
            let window = UInt64(Self.footerSeconds * 1e9)
            let recent = s.lines.filter { now >= $0.at && now - $0.at < window }
            guard let last = recent.last else { return nil }
            return recent.count == 1 ? last.text : "\(last.text) (+\(recent.count - 1) more on stderr)"
        }
    }
}
