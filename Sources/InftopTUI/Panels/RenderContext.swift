import InftopTelemetry
import InftopWorkloads

/// Everything one frame is drawn from. Widgets and panels are pure functions of this.
public struct RenderContext: Sendable {
    public var snapshot: DashboardSnapshot
    /// Knob values as the user set them; nil hides knob-only fields (threads, backend …).
    public var knobs: KnobValues?
    public var state: DashboardState
    public var styles: StyleSheet
    /// Status message to show (already checked for expiry), if any.
    public var status: StatusMessage?
    /// The UI thread's CPU time as a fraction of wall time, when measured.
    public var uiCPUFraction: Double?
    /// Frames per second the app aims at, when known.
    public var refreshHz: Double?
    public var themeName: String?
    public var maxThreads: Int?
    public var builtFeatures: Set<DashboardFeature>
    /// The CPU (header: model and the ISA `auto` means); nil hides them.
    public var cpu: HostCPU?
    /// Extra badges for the header (exports: " REC ", the metrics address).
    public var headerBadges: [String]

    public init(snapshot: DashboardSnapshot, knobs: KnobValues?, state: DashboardState = DashboardState(),
                styles: StyleSheet = StyleSheet(), status: StatusMessage? = nil, uiCPUFraction: Double? = nil,
                refreshHz: Double? = nil, themeName: String? = nil, maxThreads: Int? = nil,
                builtFeatures: Set<DashboardFeature> = [], cpu: HostCPU? = nil, headerBadges: [String] = []) {
        self.snapshot = snapshot; self.knobs = knobs; self.state = state; self.styles = styles; self.status = status
        self.uiCPUFraction = uiCPUFraction; self.refreshHz = refreshHz; self.themeName = themeName
        self.maxThreads = maxThreads; self.builtFeatures = builtFeatures; self.cpu = cpu; self.headerBadges = headerBadges
    }

    /// The chart end time: the snapshot's uptime (series times count from the same start).
    var endTime: Double { snapshot.uptimeSeconds }
}

/// Facts a frame learned that the controller needs (see `DashboardController.noteLayers`).
public struct RenderResult: Equatable, Sendable {
    public var layerRowCount: Int
    public var layerViewportRows: Int
    public var tooSmall: Bool
}

/// The frame around a panel: a box in the panel's colour (heavy when focused), the title,
/// and a note on the right of the top edge. Returns the inside.
enum PanelFrame {
    static func draw(_ panel: PanelID, _ ctx: RenderContext, into canvas: inout Canvas, rect: Rect,
                     focused: Bool, note: String?) -> Rect {
        let role: ColorRole
        switch panel {
        case .training: role = .trainingBox
        case .latency: role = .latencyBox
        case .layers: role = .layersBox
        case .memory: role = .memoryBox
        }
        let style = ctx.styles.border(role, focused: focused)
        canvas.fill(rect, style: .plain)
        canvas.box(rect, style: style, chars: focused ? .heavy : .rounded, title: panel.title,
                   titleStyle: ctx.styles.title, note: note, noteStyle: ctx.styles.label)
        return rect.inset(by: 1)
    }

    /// A panel that shows one part of the snapshot: draws the frame, then returns the inner
    /// area and `part`; nil, with nothing more drawn, when the inner area is under 1×10, and nil
    /// after centring `missing` in it when the snapshot has no such part.
    static func open<Part>(_ panel: PanelID, _ ctx: RenderContext, into canvas: inout Canvas, rect: Rect, focused: Bool,
                           note: String?, part: Part?, missing: String) -> (inner: Rect, part: Part)? {
        let inner = draw(panel, ctx, into: &canvas, rect: rect, focused: focused, note: note)
        guard inner.height >= 1, inner.width >= 10 else { return nil }
        guard let part else { placeholder(missing, ctx, into: &canvas, rect: inner); return nil }
        return (inner, part)
    }

    /// A dim message centred in `rect` (e.g. "training not running").
    static func placeholder(_ text: String, _ ctx: RenderContext, into canvas: inout Canvas, rect: Rect) {
        guard rect.height > 0 else { return }
        let t = Canvas.truncate(text, to: rect.width)
        canvas.text(t, x: rect.x + (rect.width - t.count) / 2, y: rect.y + (rect.height - 1) / 2, style: ctx.styles.dim)
    }
}

/// Writes coloured segments left to right on one row, clipped; returns the next column.
struct LineWriter {
    var x: Int
    let y: Int
    let clip: Rect

    init(_ rect: Rect, row: Int = 0) { x = rect.x; y = rect.y + row; clip = rect }

    var remaining: Int { clip.maxX - x }

    mutating func write(_ s: String, _ style: Style, into canvas: inout Canvas) {
        x += canvas.text(s, x: x, y: y, style: style, clip: clip)
    }

    /// Writes `s` only if it fits entirely; returns whether it did.
    @discardableResult
    mutating func writeIfFits(_ s: String, _ style: Style, into canvas: inout Canvas) -> Bool {
        guard s.count <= remaining else { return false }
        write(s, style, into: &canvas); return true
    }
}
