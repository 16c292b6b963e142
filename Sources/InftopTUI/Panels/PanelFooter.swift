/// The bottom row: a prompt, else a status message, else key hints.
enum FooterPanel {
    static func draw(_ ctx: RenderContext, into canvas: inout Canvas, rect: Rect) {
        guard rect.height >= 1 else { return }
        let st = ctx.styles
        canvas.fill(rect, style: .plain)
        var w = LineWriter(rect)
        if let p = ctx.state.prompt {
            w.write(" " + p.label, st.key, into: &canvas)
            w.write(p.text, st.bold, into: &canvas)
            w.write("█", st.text, into: &canvas)
            let hint = p.hint + " "
            if w.remaining > hint.count + 2 { canvas.textRight(hint, rightX: rect.maxX, y: rect.y, style: st.dim) }
            return
        }
        if let s = ctx.status {
            w.write(" " + s.text, s.isError ? st.error : st.bold, into: &canvas)
            return
        }
        w.write(" ", st.text, into: &canvas)
        for (i, h) in KeyMap.footerHints.enumerated() {
            let piece = (i > 0 ? " " : "") + h.key + ":" + h.label
            guard piece.count <= w.remaining else { break }
            if i > 0 { w.write(" ", st.text, into: &canvas) }
            w.write(h.key, st.key, into: &canvas)
            w.write(":" + h.label, st.dim, into: &canvas)
        }
    }
}
