/// A screen the dashboard can run on: the real one (`NCursesTerminal`) or a virtual one
/// (`VirtualTerminal`, for tests).
public protocol DashboardTerminal: AnyObject {
    /// Current size in cells.
    var size: (width: Int, height: Int) { get }
    /// What colours it shows (`.mono` under NO_COLOR / --no-color).
    var colorDepth: ColorDepth { get }
    /// Resolves colour roles through `theme` from now on (redraws everything on the next present).
    func apply(theme: Theme)
    /// Shows `canvas`, writing only the cells that differ from the previous one.
    func present(_ canvas: Canvas)
    /// The next key, waiting at most `timeoutMs` (0 = do not wait); nil when none came.
    func readKey(timeoutMs: Int) -> Key?
}
