import InftopTelemetry

/// The Layers table: per site forward/backward mean ms, (the served model's format and sparsity
/// per node once pruned,) (other ms,) forward p99 (and backward p99 when wide), and a
/// share-of-step bar; sortable, filterable, scrollable.
enum LayersPanel {
    /// The rows the table shows for `ctx` (source workload, sorted, filtered).
    /// While a distillation student trains (`d`), the training table lists its nodes after the
    /// teacher's, named "student …" (its `teacher.*` rows are the teacher's forward inside the
    /// student's step), so both models' per-layer timings sit side by side; `/student` filters them.
    static func rows(_ ctx: RenderContext) -> (WorkloadKind, [LayerStat]) {
        var (kind, layers) = LayerRows.source(ctx.snapshot, workload: ctx.state.workload)
        if kind == .training, let student = ctx.snapshot.student?.layers {
            layers += student.map { var l = $0; l.name = "student " + l.name; return l }
        }
        return (kind, LayerRows.arrange(layers, sort: ctx.state.layerSort, descending: ctx.state.layerSortDescending,
                                        filter: ctx.state.layerFilter))
    }

    /// Data rows that fit in the panel at `rect` (border and header row excluded).
    static func viewportRows(_ rect: Rect) -> Int { TableView.visibleRows(height: rect.height - 2) }

    static func draw(_ ctx: RenderContext, into canvas: inout Canvas, rect: Rect, focused: Bool) {
        let (kind, rows) = rows(ctx)
        var note = kind.label
        if !ctx.state.layerFilter.isEmpty { note += " · /\(ctx.state.layerFilter)" }
        if ctx.state.layerSort != .order || ctx.state.layerSortDescending {
            note += " · \(ctx.state.layerSort.label)\(ctx.state.layerSortDescending ? "▼" : "▲")"
        }
        let inner = PanelFrame.draw(.layers, ctx, into: &canvas, rect: rect, focused: focused, note: note)
        guard inner.height >= 2, inner.width >= 20 else { return }
        if rows.isEmpty {
            PanelFrame.placeholder(ctx.state.layerFilter.isEmpty ? "no layer timings yet" : "no layer matches \"\(ctx.state.layerFilter)\"",
                                   ctx, into: &canvas, rect: inner)
            return
        }
        let st = ctx.styles
        let hasBackward = rows.contains { $0.backward != nil }
        let hasOther = rows.contains { $0.other != nil }
        let nameWidth = min(max(rows.map(\.name.count).max() ?? 4, 6), ctx.snapshot.student == nil ? 18 : 22)
        let num = 7, minShare = 9

        // Columns by priority: name, fwd, (bwd), fwd p99, share; then other, bwd p99 if room.
        var cols: [(TableColumn, LayerSortKey?, (LayerStat) -> TableCell)] = []
        func ms(_ v: Double?) -> TableCell { .text(v.map { Format.ms($0) } ?? "–", v == nil ? st.dim : nil) }
        cols.append((TableColumn("name", width: nameWidth), .name, { .text($0.name, nil) }))
        cols.append((TableColumn("fwd ms", width: num, alignRight: true), .forward, { ms($0.forward?.meanMs) }))
        if hasBackward { cols.append((TableColumn("bwd ms", width: num, alignRight: true), .backward, { ms($0.backward?.meanMs) })) }
        // A pruned served model: each weight-bearing node's format at the serving batch and sparsity.
        let plans = kind == .inference ? (ctx.snapshot.inference?.nodePlans ?? []) : []
        if plans.contains(where: { ($0.sparsity ?? 0) > 0 }) {
            let byName = Dictionary(plans.map { ($0.name, $0) }, uniquingKeysWith: { a, _ in a })
            cols.append((TableColumn("format", width: 10), nil, { l in
                guard let p = byName[l.name], let f = p.format else { return .text("", nil) }
                return .text("\(f.rawValue) \(Format.percent(p.sparsity ?? 0))", f == .dense ? st.dim : st.good)
            }))
        }
        // The served model's precision per row (weight-bearing nodes run the plan's; the rest
        // stays fp32) once int8 is or was in play, and each row against the configuration before
        // the last change: which rows got faster.
        if kind == .inference, let inf = ctx.snapshot.inference {
            let weighted = Set(inf.nodeMemory.filter { $0.weights > 0 }.map(\.name))
            let precision = inf.plan?.precision ?? .fp32
            if precision == .int8 || inf.baseline?.label.hasPrefix("int8") == true {
                cols.append((TableColumn("prec", width: 4), nil, { l in
                    weighted.contains(l.name) && precision == .int8 ? .text("int8", st.good) : .text("fp32", st.dim)
                }))
            }
            if let base = inf.baseline {
                let before = Dictionary(base.layers.map { ($0.name, $0.forward?.meanMs) }, uniquingKeysWith: { a, _ in a })
                cols.append((TableColumn("vs " + String(base.label.split(separator: " ").first ?? "before"), width: 8, alignRight: true), nil, { l in
                    guard let b = before[l.name] ?? nil, let a = l.forward?.meanMs, a > 0, b > 0 else { return .text("", nil) }
                    let r = b / a
                    return .text(Format.fixed(r, r >= 10 ? 0 : 2) + "×", r >= 1.1 ? st.good : (r <= 0.9 ? st.error : st.dim))
                }))
            }
        }
        var used = cols.reduce(0) { $0 + $1.0.width + 1 }
        let avail = inner.width - 1   // leave room for a scrollbar
        if hasOther && used + num + 1 + num + 1 + minShare <= avail {
            cols.append((TableColumn("other", width: num, alignRight: true), nil, { ms($0.other?.meanMs) })); used += num + 1
        }
        if used + num + 1 + minShare <= avail {
            cols.append((TableColumn("fwd p99", width: num, alignRight: true), .p99, { ms($0.forward?.p99Ms) })); used += num + 1
        }
        if hasBackward && used + num + 1 + minShare + 6 <= avail {
            cols.append((TableColumn("bwd p99", width: num, alignRight: true), nil, { ms($0.backward?.p99Ms) })); used += num + 1
        }
        cols.append((TableColumn("share", width: 0), .share, { l in
            .bar(fraction: l.share, label: Format.percent(l.share), style: Style(fg: .gradient(.cpu, l.share)))
        }))

        // A summary under the table when there is room: do the sites add up to the step?
        var tableRect = inner
        if rows.count + 2 <= inner.height, let line = summary(ctx, kind: kind) {
            tableRect = inner.inset(bottom: 1)
            var w = LineWriter(inner, row: inner.height - 1)
            for (text, dim) in line { w.write(text, dim ? st.label : st.bold, into: &canvas) }
        }

        let sortIndex = cols.firstIndex { $0.1 == ctx.state.layerSort }
        let table = TableView(columns: cols.map(\.0), rows: rows.map { r in cols.map { $0.2(r) } },
                              sortColumn: ctx.state.layerSort == .order ? nil : sortIndex,
                              descending: ctx.state.layerSortDescending, scroll: ctx.state.layerScroll,
                              selected: focused ? ctx.state.layerSelection : nil)
        table.draw(into: &canvas, rect: tableRect, styles: st)
    }

    /// "sites 1.33 ms/step of 1.41 (94%) · step p99 2.20 ms · profiler 1.2%", as (text, dim) pieces.
    static func summary(_ ctx: RenderContext, kind: WorkloadKind) -> [(String, Bool)]? {
        let (_, layers) = LayerRows.source(ctx.snapshot, workload: kind)
        guard !layers.isEmpty else { return nil }
        let sum = layers.reduce(0.0) { $0 + ($1.forward?.meanMs ?? 0) + ($1.backward?.meanMs ?? 0) + ($1.other?.meanMs ?? 0) }
        var out: [(String, Bool)] = [("sites ", true), (Format.ms(sum), false), (" ms", true)]
        if kind == .training, let t = ctx.snapshot.training {
            if let step = t.stepTime, step.meanMs > 0 {
                out += [(" of step ", true), (Format.ms(step.meanMs), false), (" ms (", true),
                        (Format.percent(sum / step.meanMs), false), (") · step p99 ", true), (Format.ms(step.p99Ms), false), (" ms", true)]
            }
            out += [(" · profiler ", true), (Format.percent(t.profilerOverhead, decimals: 1), false)]
        } else if let i = ctx.snapshot.inference {
            out += [(i.generation != nil ? " per token · profiler " : " per batch · profiler ", true), (Format.percent(i.profilerOverhead, decimals: 1), false)]
        }
        return out
    }
}
