import InftopTelemetry

/// The leaderboard of `inftop --tune` in the Layers panel's place (the search's trials are the
/// training that runs; the dashboard's own is paused): a line on the search — rung r of R, each
/// trial's training seconds at this rung, the wall time so far (training, evaluations and
/// set-up) and the search's training budget — then one row per trial
/// in leaderboard order: place, configuration, state (▶ running, ✓ ran this rung, ▲ kept, ✗ cut,
/// · waiting), the last rung it finished, test accuracy there, time to the target where reached,
/// and the wall seconds of all its runs.
enum TuningPanel {
    static func draw(_ ctx: RenderContext, tuning t: TuningSnapshot, into canvas: inout Canvas, rect: Rect, focused: Bool) {
        let note = t.finished ? (t.error.map { $0 == "stopped" ? "stopped" : "failed" } ?? "done") : "rung \(t.rung + 1)/\(t.rungCount)"
        let inner = PanelFrame.draw(.layers, ctx, into: &canvas, rect: rect, focused: focused, note: "tune \(t.model) · \(note)")
        guard inner.height >= 3, inner.width >= 30 else { return }
        let st = ctx.styles
        var head = LineWriter(inner, row: 0)
        head.write("rung ", st.label, into: &canvas)
        head.write("\(min(t.rung + 1, t.rungCount))/\(t.rungCount)", st.bold, into: &canvas)
        head.write(" · ", st.label, into: &canvas)
        head.write(Format.fixed(t.rungBudgetSeconds, 1) + " s", st.bold, into: &canvas)
        head.write(" each · wall ", st.label, into: &canvas)
        head.write(Format.duration(t.elapsedSeconds), st.bold, into: &canvas)
        if let goal = t.target { head.writeIfFits(" · target \(Format.percent(goal, decimals: 1))", st.label, into: &canvas) }
        head.writeIfFits(" · budget \(Format.duration(t.budgetSeconds))", st.label, into: &canvas)
        if let e = t.error, e != "stopped" {
            var w = LineWriter(inner, row: 1)
            w.write(e, st.error, into: &canvas)
        }

        func mark(_ s: TuningSnapshot.TrialState) -> TableCell {
            switch s {
            case .running: .text("▶ run", st.bold)
            case .ran: .text("✓ ran", st.text)
            case .kept: .text("▲ kept", st.good)
            case .cut: .text("✗ cut", st.dim)
            case .waiting: .text("· wait", st.dim)
            }
        }
        // The trial column takes what the others leave (at least 12); wall goes first when short.
        let longest = min(max(t.rows.map(\.label.count).max() ?? 5, 5), 26)
        var fixed: [(TableColumn, (Int, TuningSnapshot.Row) -> TableCell)] = [
            (TableColumn("state", width: 6), { _, r in mark(r.state) }),
            (TableColumn("rung", width: 4, alignRight: true), { _, r in .text(r.rung.map { "\($0 + 1)" } ?? "–", r.rung == nil ? st.dim : nil) }),
            (TableColumn("acc", width: 6, alignRight: true), { _, r in .text(r.testAccuracy.map { Format.percent($0, decimals: 1) } ?? "–", r.testAccuracy == nil ? st.dim : nil) }),
        ]
        if t.target != nil {
            fixed.append((TableColumn("to tgt", width: 7, alignRight: true), { _, r in .text(r.timeToTarget.map { Format.fixed($0, 1) + " s" } ?? "–", r.timeToTarget == nil ? st.dim : st.good) }))
        }
        let wall: (TableColumn, (Int, TuningSnapshot.Row) -> TableCell) =
            (TableColumn("wall", width: 7, alignRight: true), { _, r in .text(r.seconds > 0 ? Format.fixed(r.seconds, 1) + " s" : "–", r.seconds > 0 ? nil : st.dim) })
        func room(_ c: [(TableColumn, (Int, TuningSnapshot.Row) -> TableCell)]) -> Int { inner.width - 3 - c.reduce(0) { $0 + $1.0.width + 1 } }
        if room(fixed + [wall]) >= 12 { fixed.append(wall) }
        let trialWidth = max(min(longest, room(fixed)), 5)
        let cols: [(TableColumn, (Int, TuningSnapshot.Row) -> TableCell)] = [
            (TableColumn("#", width: 2, alignRight: true), { i, _ in .text("\(i + 1)", nil) }),
            (TableColumn("trial", width: trialWidth), { _, r in .text(r.label, nil) }),
        ] + fixed
        let top = t.error.map { $0 == "stopped" ? 1 : 2 } ?? 1
        let table = TableView(columns: cols.map(\.0), rows: t.rows.enumerated().map { i, r in cols.map { $0.1(i, r) } })
        table.draw(into: &canvas, rect: inner.inset(top: top), styles: st)
    }
}
