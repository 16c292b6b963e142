/// A btop colour gradient (`NAME_start`, `NAME_mid`, `NAME_end` in a theme file).
public enum Gradient: Int, CaseIterable, Sendable {
    case temp, cpu, free, cached, available, used, download, upload, process

    /// The btop key prefix (`cpu` for `cpu_start` …).
    public var key: String { String(describing: self) }

    /// Steps a gradient is sampled at; a role names one step.
    public static let steps = 8
}

/// What a colour is FOR, not which colour it is: a canvas stores roles and the terminal
/// resolves them through the current theme, so switching themes never redraws the widgets.
public struct ColorRole: Hashable, Sendable, CustomStringConvertible {
    /// Index into a theme's resolved palette (0 ..< `ColorRole.count`).
    public let raw: UInt8

    public init(raw: UInt8) { self.raw = raw }

    /// The terminal's own default colour (fg or bg).
    public static let terminalDefault = ColorRole(raw: 0)
    /// btop `main_bg`: the background of every cell unless a widget says otherwise.
    public static let background = ColorRole(raw: 1)
    /// btop `main_fg`.
    public static let text = ColorRole(raw: 2)
    /// btop `title`: panel titles.
    public static let title = ColorRole(raw: 3)
    /// btop `hi_fg`: key names in hints, the focused border.
    public static let hotkey = ColorRole(raw: 4)
    public static let selectedBg = ColorRole(raw: 5)
    public static let selectedFg = ColorRole(raw: 6)
    /// btop `inactive_fg`: disabled text, raw (unsmoothed) curves, "coming" keys.
    public static let inactive = ColorRole(raw: 7)
    /// btop `graph_text`: axis labels.
    public static let graphText = ColorRole(raw: 8)
    /// btop `meter_bg`: the empty part of bars.
    public static let meterBg = ColorRole(raw: 9)
    /// btop `proc_misc`.
    public static let misc = ColorRole(raw: 10)
    /// btop `cpu_box`.
    public static let trainingBox = ColorRole(raw: 11)
    /// btop `mem_box`.
    public static let memoryBox = ColorRole(raw: 12)
    /// btop `net_box`.
    public static let latencyBox = ColorRole(raw: 13)
    /// btop `proc_box`.
    public static let layersBox = ColorRole(raw: 14)
    /// btop `div_line`.
    public static let divLine = ColorRole(raw: 15)

    static let fixedCount = 16
    /// Number of distinct roles (fixed roles + every gradient step).
    public static let count = fixedCount + Gradient.allCases.count * Gradient.steps

    /// The step of `gradient` nearest to `t` (0 = start … 1 = end; clamped).
    public static func gradient(_ gradient: Gradient, _ t: Double) -> ColorRole {
        let tt = t.isFinite ? min(max(t, 0), 1) : 0
        let step = Int((tt * Double(Gradient.steps - 1)).rounded())
        return ColorRole(raw: UInt8(fixedCount + gradient.rawValue * Gradient.steps + step))
    }

    /// For a gradient role: which gradient and step; nil for a fixed role.
    public var gradientStep: (gradient: Gradient, step: Int)? {
        let r = Int(raw) - ColorRole.fixedCount
        guard r >= 0, let g = Gradient(rawValue: r / Gradient.steps) else { return nil }
        return (g, r % Gradient.steps)
    }

    public var description: String {
        if let (g, s) = gradientStep { return "\(g.key)[\(s)]" }
        return ["default", "main_bg", "main_fg", "title", "hi_fg", "selected_bg", "selected_fg", "inactive_fg",
                "graph_text", "meter_bg", "proc_misc", "cpu_box", "mem_box", "net_box", "proc_box", "div_line"][Int(raw)]
    }

    // Semantic aliases used by the panels (one place to change what looks like what).
    /// Training-set curves (smoothed) and the p50 latency line.
    public static let seriesPrimary = ColorRole.gradient(.download, 1)
    /// Test-set curves and the p99 latency line.
    public static let seriesSecondary = ColorRole.gradient(.upload, 1)
    /// Throughput curves and sparklines.
    public static let seriesThroughput = ColorRole.gradient(.cpu, 0)
}

/// Text attributes a cell can carry; the only styling a monochrome terminal shows.
public struct TextAttributes: OptionSet, Hashable, Sendable {
    public let rawValue: UInt8
    public init(rawValue: UInt8) { self.rawValue = rawValue }
    public static let bold = TextAttributes(rawValue: 1)
    public static let dim = TextAttributes(rawValue: 2)
    public static let reverse = TextAttributes(rawValue: 4)
    public static let underline = TextAttributes(rawValue: 8)
}

/// How a cell looks: foreground and background roles plus attributes.
public struct Style: Hashable, Sendable {
    public var fg: ColorRole
    public var bg: ColorRole
    public var attributes: TextAttributes

    public init(fg: ColorRole = .text, bg: ColorRole = .background, _ attributes: TextAttributes = []) {
        self.fg = fg; self.bg = bg; self.attributes = attributes
    }

    public static let plain = Style()

    public func with(_ extra: TextAttributes) -> Style {
        var s = self; s.attributes.formUnion(extra); return s
    }

    public func on(_ bg: ColorRole) -> Style { var s = self; s.bg = bg; return s }
}
