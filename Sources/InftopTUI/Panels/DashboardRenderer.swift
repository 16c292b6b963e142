/// Draws a whole dashboard frame into a canvas. Pure: same context and size, same cells.
public enum DashboardRenderer {
    /// Clears `canvas` to `width` × `height` and draws the frame for `ctx`.
    @discardableResult
    public static func render(_ ctx: RenderContext, into canvas: inout Canvas, width: Int, height: Int) -> RenderResult {
        canvas.reset(width: width, height: height)
        let layout = DashboardLayout.compute(width: width, height: height, expanded: ctx.state.expanded ? ctx.state.focus : nil)
        if layout.tooSmall {
            TooSmallScreen.draw(ctx, into: &canvas, width: width, height: height)
            return RenderResult(layerRowCount: 0, layerViewportRows: 1, tooSmall: true)
        }
        HeaderPanel.draw(ctx, into: &canvas, rect: layout.header)
        for (id, rect) in layout.panels.sorted(by: { $0.key.rawValue < $1.key.rawValue }) {
            let focused = id == ctx.state.focus
            switch id {
            case .training: TrainingPanel.draw(ctx, into: &canvas, rect: rect, focused: focused)
            case .latency: LatencyPanel.draw(ctx, into: &canvas, rect: rect, focused: focused)
            case .layers:
                // `inftop --tune`: the search's leaderboard where the layer table would be.
                if let t = ctx.snapshot.tuning { TuningPanel.draw(ctx, tuning: t, into: &canvas, rect: rect, focused: focused) }
                else { LayersPanel.draw(ctx, into: &canvas, rect: rect, focused: focused) }
            case .memory: MemoryPanel.draw(ctx, into: &canvas, rect: rect, focused: focused)
            }
        }
        FooterPanel.draw(ctx, into: &canvas, rect: layout.footer)
        if ctx.state.helpVisible { HelpOverlay.draw(ctx, into: &canvas, area: layout.body) }

        let rows = LayersPanel.rows(ctx).1.count
        let viewport = layout.panels[.layers].map { LayersPanel.viewportRows($0) } ?? 1
        return RenderResult(layerRowCount: rows, layerViewportRows: max(1, viewport), tooSmall: false)
    }
}
