/// The help overlay: every key of DESIGN.md's table with what it does and whether it is
/// built or coming, in a box centred over the panels.
enum HelpOverlay {
    static func draw(_ ctx: RenderContext, into canvas: inout Canvas, area: Rect) {
        let st = ctx.styles
        let entries = KeyMap.help
        let w = min(area.width - 2, 78), h = min(area.height, entries.count + 4)
        let box = area.centered(width: w, height: h)
        canvas.fill(box, style: .plain)
        canvas.box(box, style: st.border(.hotkey, focused: true), chars: .heavy, title: "Help — keys",
                   titleStyle: st.title, note: "Esc closes", noteStyle: st.label)
        let inner = box.inset(top: 1, left: 2, bottom: 1, right: 2)
        guard inner.height >= 1 else { return }
        let visible = inner.height - 1
        let first = min(ctx.state.helpScroll, max(0, entries.count - visible))
        let keyWidth = 14, stateWidth = 7
        for (row, e) in entries.dropFirst(first).prefix(visible).enumerated() {
            let y = inner.y + row
            let built = e.isBuilt(ctx.builtFeatures)
            canvas.text(Canvas.pad(e.keys, to: keyWidth), x: inner.x, y: y, style: built ? st.key : st.dim, clip: inner)
            canvas.text(Canvas.truncate(e.action, to: inner.width - keyWidth - stateWidth - 2), x: inner.x + keyWidth + 1, y: y,
                        style: built ? st.text : st.dim, clip: inner)
            canvas.textRight(built ? "built" : "coming", rightX: inner.maxX, y: y, style: built ? st.good : st.dim, clip: inner)
        }
        let more = entries.count - first - visible
        let footer = more > 0 ? "↓ \(more) more · ↑↓ scroll · any other key closes" : "q quits · any other key closes"
        canvas.text(Canvas.truncate(footer, to: inner.width), x: inner.x, y: inner.maxY - 1, style: st.label, clip: inner)
    }
}

/// Below 80×24: a centred message, nothing else.
enum TooSmallScreen {
    static func draw(_ ctx: RenderContext, into canvas: inout Canvas, width: Int, height: Int) {
        let st = ctx.styles
        let lines = ["terminal too small: need \(DashboardLayout.minimumWidth)×\(DashboardLayout.minimumHeight), have \(width)×\(height)",
                     "q quits"]
        let top = max(0, (height - lines.count) / 2)
        for (i, l) in lines.enumerated() {
            let t = Canvas.truncate(l, to: width)
            canvas.text(t, x: max(0, (width - t.count) / 2), y: top + i, style: i == 0 ? st.bold : st.dim)
        }
    }
}
