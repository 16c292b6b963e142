import InftopTelemetry

/// Training: epoch progress with ETA, step, samples/s, loss and accuracy (train smoothed the
/// TensorBoard way over the raw curve, test as evaluated) as braille charts.
enum TrainingPanel {
    static func note(_ ctx: RenderContext, width: Int) -> String? {
        guard let t = ctx.snapshot.training else { return nil }
        return "step \(Format.grouped(t.step))" + (width >= 60 ? " · epoch \(t.epoch)" : "")
    }

    static func draw(_ ctx: RenderContext, into canvas: inout Canvas, rect: Rect, focused: Bool) {
        guard let (inner, t) = PanelFrame.open(.training, ctx, into: &canvas, rect: rect, focused: focused,
                                                note: note(ctx, width: rect.width), part: ctx.snapshot.training,
                                                missing: "training not running") else { return }
        let st = ctx.styles

        // Row 0: "epoch 3 ▕████▌    ▏ 62% ETA 0:41"
        var w = LineWriter(inner)
        w.write("epoch \(t.epoch) ", st.label, into: &canvas)
        let eta = " ETA " + (t.epochETASeconds.map { Format.duration($0) } ?? "–")
        let barWidth = max(0, w.remaining - eta.count)
        ProgressBar(fraction: t.epochProgress, style: Style(fg: .gradient(.process, t.epochProgress)))
            .draw(into: &canvas, x: w.x, y: inner.y, width: barWidth, styles: st)
        canvas.text(eta, x: w.x + barWidth, y: inner.y, style: st.label, clip: inner)
        guard inner.height >= 2 else { return }

        // Row 1: latest numbers in the curves' colours, then a samples/s sparkline.
        let primary = st.series(.seriesPrimary), secondary = st.series(.seriesSecondary, emphasis: false)
        var n = LineWriter(inner, row: 1)
        n.write("loss ", st.label, into: &canvas)
        n.write(t.lastLoss.map { Format.compact($0) } ?? "–", primary, into: &canvas)
        if let tl = t.testLoss { n.write(" test ", st.label, into: &canvas); n.write(Format.compact(tl), secondary, into: &canvas) }
        n.write("  acc ", st.label, into: &canvas)
        n.write(t.lastAccuracy.map { accuracyText($0) } ?? "–", primary, into: &canvas)
        if let ta = t.testAccuracy { n.write(" test ", st.label, into: &canvas); n.write(accuracyText(ta), secondary, into: &canvas) }
        n.writeIfFits("  \(Format.compact(t.samplesPerSecond)) samples/s", st.text, into: &canvas)
        if let sps = t.series("samples_per_sec"), n.remaining >= 8 {
            n.write(" ", st.text, into: &canvas)
            Sparkline(values: sps.values, style: st.series(.seriesThroughput)).draw(into: &canvas, x: n.x, y: n.y, width: min(n.remaining, 24))
        }

        // The distillation student's row, when `d` runs one.
        drawStudentRow(ctx, teacher: t, into: &canvas, inner: inner, row: 2)

        // Charts below.
        let area = inner.inset(top: 2 + studentRows(ctx))
        guard area.height >= 2 else { return }
        var loss = chart(ctx, raw: t.series("train_loss"), test: t.series("test_loss"), title: "loss", accuracy: false)
        // The learning rate in force (the schedule's curve and the user's changes) under the loss chart's time axis.
        if let lr = t.series("lr") {
            loss.axisLine = ChartSeries(times: lr.times, values: lr.values, style: st.series(.seriesThroughput, emphasis: false))
        }
        var acc = chart(ctx, raw: t.series("train_acc"), test: t.series("test_acc"), title: "accuracy", accuracy: true)
        if let s = studentAccuracySeries(ctx) { acc.series.append(s) }
        if area.width >= 90 {
            let (a, b) = area.splitLeft(area.width / 2)
            loss.draw(into: &canvas, rect: a.inset(right: 1), styles: st)
            acc.draw(into: &canvas, rect: b.inset(left: 1), styles: st)
        } else if area.height >= 6 {
            let (a, b) = area.splitTop((area.height + 1) / 2)
            loss.draw(into: &canvas, rect: a, styles: st)
            acc.draw(into: &canvas, rect: b, styles: st)
        } else {
            loss.draw(into: &canvas, rect: area, styles: st)
        }
    }

    /// A chart of a raw training series (dim), its TensorBoard smoothing (bright), the test
    /// series (second colour) and a dotted line where the model was pruned.
    static func chart(_ ctx: RenderContext, raw: SeriesSnapshot?, test: SeriesSnapshot?, title: String, accuracy: Bool) -> BrailleChart {
        let st = ctx.styles
        var series: [ChartSeries] = []
        let scale: (SeriesSnapshot) -> [Double] = { s in accuracy ? s.values.map { accuracyFraction($0, unit: s.unit) } : s.values }
        if let r = raw, !r.values.isEmpty {
            let v = scale(r)
            series.append(ChartSeries(times: r.times, values: v, style: st.monochrome ? Style(fg: .text, [.dim]) : Style(fg: .inactive)))
            series.append(ChartSeries(times: r.times, values: Smoothing.tensorBoardEMA(v, weight: 0.6), style: st.series(.seriesPrimary)))
        }
        if let s = test, !s.values.isEmpty {
            series.append(ChartSeries(times: s.times, values: scale(s), style: st.series(.seriesSecondary, emphasis: false)))
        }
        let format: @Sendable (Double) -> String
        if accuracy { format = { Format.percent($0, decimals: 1) } } else { format = { Format.compact($0) } }
        var chart = BrailleChart(series: series, window: ctx.state.timeWindow, endTime: ctx.endTime, title: title, format: format)
        // Every learning-rate or optimizer change the user made, as a dotted vertical line.
        chart.markers = (ctx.snapshot.training?.markers?.map(\.time) ?? []) + (ctx.snapshot.training?.pruneMarkers ?? [])  // and when p / P pruned
        chart.markerStyle = st.monochrome ? Style(fg: .text, [.dim]) : st.series(.seriesThroughput, emphasis: false)
        return chart
    }

    /// Accuracy as a fraction: values above 1 (or a "%" unit) are percentages.
    static func accuracyFraction(_ v: Double, unit: String = "") -> Double { unit == "%" || v > 1 ? v / 100 : v }

    static func accuracyText(_ v: Double) -> String { Format.percent(accuracyFraction(v), decimals: 1) }
}
