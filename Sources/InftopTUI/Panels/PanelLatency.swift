import InftopTelemetry

/// Inference: p50/p90/p99 latency, items/s, batch, requests, cache hit rate; latency (p50,
/// p99) and throughput as braille charts.
enum LatencyPanel {
    static func note(_ ctx: RenderContext, width: Int) -> String? {
        guard let i = ctx.snapshot.inference else { return nil }
        if let g = i.generation { return GeneratorView.note(g) }
        return "\(Format.grouped(i.requests)) req" + (width >= 70 ? " · \(Format.grouped(i.batches)) batches" : "")
    }

    static func draw(_ ctx: RenderContext, into canvas: inout Canvas, rect: Rect, focused: Bool) {
        guard let (inner, inf) = PanelFrame.open(.latency, ctx, into: &canvas, rect: rect, focused: focused,
                                                note: note(ctx, width: rect.width), part: ctx.snapshot.inference,
                                                missing: "inference not running") else { return }
        if let g = inf.generation {
            GeneratorView.draw(ctx, inf, g, into: &canvas, rect: inner)
            return
        }
        let st = ctx.styles
        let p50 = st.series(.seriesPrimary), p99 = st.series(.seriesSecondary, emphasis: false)

        var w = LineWriter(inner)
        if let l = inf.latency {
            w.write("p50 ", st.label, into: &canvas); w.write(Format.ms(l.p50Ms), p50, into: &canvas)
            w.write("  p90 ", st.label, into: &canvas); w.write(Format.ms(l.p90Ms), st.text, into: &canvas)
            w.write("  p99 ", st.label, into: &canvas); w.write(Format.ms(l.p99Ms), p99, into: &canvas)
            w.write(" ms", st.label, into: &canvas)
        } else {
            w.write("latency –", st.label, into: &canvas)
        }
        w.write("  ", st.text, into: &canvas)
        w.write(Format.compact(inf.itemsPerSecond), st.series(.seriesThroughput), into: &canvas)
        w.write(" items/s", st.label, into: &canvas)
        w.writeIfFits("  batch \(inf.batchSize)", st.label, into: &canvas)
        if let a = inf.servedAccuracy {
            // Encoders: mean cosine to the fp32 reference; classifiers: share of right answers.
            let text = inf.accuracyLabel.hasPrefix("cosine") ? "  cos \(Format.fixed(a, 4))" : "  acc \(Format.percent(a, decimals: 1))"
            w.writeIfFits(text, st.label, into: &canvas)
        }
        if let h = inf.cacheHitRate { w.writeIfFits("  cache hits \(Format.percent(h))", st.label, into: &canvas) }

        let floorRows = min(ServingFloorLines.rows(inf, ab: ctx.state.abBaseline), max(0, inner.height - 3))
        ServingFloorLines.draw(ctx, inf, into: &canvas, rect: inner.inset(top: 1).splitTop(floorRows).0)
        var area = inner.inset(top: 1 + floorRows)
        guard area.height >= 2 else { return }
        if ctx.state.expanded, let points = inf.tradeoff, area.height >= 12 {
            let (charts, view) = area.splitTop(area.height / 2)
            TradeoffView.draw(ctx, points: points, into: &canvas, rect: view.inset(top: 1))
            area = charts
        }
        let window = ctx.state.timeWindow
        var latencySeries: [ChartSeries] = []
        if let s = inf.series("latency_p99_ms") { latencySeries.append(ChartSeries(times: s.times, values: s.values, style: p99)) }
        if let s = inf.series("latency_p50_ms") { latencySeries.append(ChartSeries(times: s.times, values: s.values, style: p50)) }
        var latency = BrailleChart(series: latencySeries, window: window, endTime: ctx.endTime, includeZero: true,
                                   title: "latency ms", format: { Format.ms($0) })
        // Dotted lines where a knob change restarted the serving figures.
        latency.markers = inf.markers?.map(\.time) ?? []
        var tput: [ChartSeries] = []
        if let s = inf.series("items_per_sec") { tput.append(ChartSeries(times: s.times, values: s.values, style: st.series(.seriesThroughput))) }
        var throughput = BrailleChart(series: tput, window: window, endTime: ctx.endTime, includeZero: true,
                                      title: "items/s", format: { Format.compact($0) })
        throughput.markers = latency.markers
        if area.width >= 90 {
            let (a, b) = area.splitLeft(area.width / 2)
            latency.draw(into: &canvas, rect: a.inset(right: 1), styles: st)
            throughput.draw(into: &canvas, rect: b.inset(left: 1), styles: st)
        } else if area.height >= 6 {
            let (a, b) = area.splitTop((area.height + 1) / 2)
            latency.draw(into: &canvas, rect: a, styles: st)
            throughput.draw(into: &canvas, rect: b, styles: st)
        } else {
            latency.draw(into: &canvas, rect: area, styles: st)
        }
    }
}
