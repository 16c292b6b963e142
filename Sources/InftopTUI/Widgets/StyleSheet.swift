/// The styles widgets and panels draw with. With colour, roles do the work; without
/// (`monochrome`: NO_COLOR, --no-color, a mono terminal) bold/dim/reverse must carry every
/// distinction that matters: the focused panel, the selected row, badges, "coming" keys.
public struct StyleSheet: Sendable, Equatable {
    public var monochrome: Bool

    public init(monochrome: Bool = false) { self.monochrome = monochrome }

    public var text: Style { Style() }
    public var bold: Style { Style(fg: .text, [.bold]) }
    /// Secondary text: units, labels, disabled things.
    public var dim: Style { monochrome ? Style(fg: .text, [.dim]) : Style(fg: .inactive) }
    public var label: Style { monochrome ? Style() : Style(fg: .graphText) }
    public var title: Style { Style(fg: .title, [.bold]) }
    public var key: Style { Style(fg: .hotkey, [.bold]) }
    public var selected: Style {
        monochrome ? Style(fg: .text, [.reverse]) : Style(fg: .selectedFg, bg: .selectedBg, [.bold])
    }
    /// PAUSED / FROZEN badges: reverse video reads in every mode.
    public var badge: Style { Style(fg: .hotkey, [.bold, .reverse]) }
    public var error: Style { monochrome ? Style(fg: .text, [.bold, .reverse]) : Style(fg: .gradient(.used, 1), [.bold]) }
    public var good: Style { Style(fg: .gradient(.cpu, 0)) }
    /// The empty part of meters.
    public var meterEmpty: Cell { monochrome ? Cell("·", Style(fg: .text, [.dim])) : Cell(" ", Style(fg: .meterBg, bg: .meterBg)) }

    /// A panel's border: heavy + bold + hi_fg when focused.
    public func border(_ role: ColorRole, focused: Bool) -> Style {
        focused ? Style(fg: .hotkey, [.bold]) : (monochrome ? Style(fg: .text, [.dim]) : Style(fg: role))
    }

    /// A series line colour: in monochrome, the primary series bold and the others plain.
    public func series(_ role: ColorRole, emphasis: Bool = true) -> Style {
        monochrome ? Style(fg: .text, emphasis ? [.bold] : [.dim]) : Style(fg: role)
    }
}
