/// Where everything goes on a screen of a given size.
///
/// - Header: 2 rows on top; footer: 1 row at the bottom; panels share the rest.
/// - Under 160 columns, two columns: Training over Latency on the left, Layers over Memory on
///   the right (left half under 100 columns, 55% from 100).
/// - From 160 columns, three: Training | Latency | Layers over Memory.
/// - Expanded: the focused panel takes the whole body.
/// - Below 80×24: `tooSmall`, nothing but a message is drawn.
public struct DashboardLayout: Equatable, Sendable {
    public static let minimumWidth = 80
    public static let minimumHeight = 24

    public var width: Int
    public var height: Int
    public var header: Rect
    public var body: Rect
    public var footer: Rect
    /// Panel rectangles (borders included); empty when `tooSmall`.
    public var panels: [PanelID: Rect]
    public var tooSmall: Bool

    public static func compute(width: Int, height: Int, expanded: PanelID? = nil) -> DashboardLayout {
        let full = Rect(x: 0, y: 0, width: width, height: height)
        guard width >= minimumWidth, height >= minimumHeight else {
            return DashboardLayout(width: width, height: height, header: Rect(x: 0, y: 0, width: 0, height: 0),
                                   body: full, footer: Rect(x: 0, y: 0, width: 0, height: 0), panels: [:], tooSmall: true)
        }
        let (header, rest) = full.splitTop(2)
        let (body, footerArea) = rest.splitTop(rest.height - 1)
        var panels: [PanelID: Rect] = [:]
        if let e = expanded {
            panels[e] = body
        } else if width >= 160 {
            let c1 = width * 2 / 5, c2 = (width - c1) / 2
            let (training, r1) = body.splitLeft(c1)
            let (latency, right) = r1.splitLeft(c2)
            let (layers, memory) = right.splitTop(right.height - memoryHeight(right.height))
            panels = [.training: training, .latency: latency, .layers: layers, .memory: memory]
        } else {
            let leftWidth = width < 100 ? width / 2 : width * 55 / 100
            let (left, right) = body.splitLeft(leftWidth)
            let (training, latency) = left.splitTop((left.height * 55 + 50) / 100)
            let (layers, memory) = right.splitTop(right.height - memoryHeight(right.height))
            panels = [.training: training, .latency: latency, .layers: layers, .memory: memory]
        }
        return DashboardLayout(width: width, height: height, header: header, body: body, footer: footerArea,
                               panels: panels, tooSmall: false)
    }

    /// Memory needs a bar, a line of totals and a legend; more rows show an RSS sparkline.
    static func memoryHeight(_ columnHeight: Int) -> Int { min(max(columnHeight * 2 / 5, 9), 14) }
}
