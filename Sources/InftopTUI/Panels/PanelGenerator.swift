import InftopTelemetry

/// The Latency panel while the generative model is served: TTFT p50/p99, decode and prefill
/// tokens/s, time per output token, the KV cache (positions, bytes, `K`), the sampling, then
/// each concurrent generation's prompt and the tail of its answer as it streams, and TTFT /
/// tokens-per-second charts when there is room.
public enum GeneratorView {
    static func note(_ g: GenerationSnapshot) -> String {
        "\(Format.grouped(g.completed)) answers · \(Format.grouped(g.generatedTokens)) tok"
    }

    static func draw(_ ctx: RenderContext, _ inf: InferenceSnapshot, _ g: GenerationSnapshot, into canvas: inout Canvas, rect inner: Rect) {
        let st = ctx.styles
        let p50 = st.series(.seriesPrimary), p99 = st.series(.seriesSecondary, emphasis: false), tput = st.series(.seriesThroughput)
        guard inner.height >= 1 else { return }
        var w = LineWriter(inner)
        if let t = g.ttft {
            w.write("TTFT p50 ", st.label, into: &canvas); w.write(Format.ms(t.p50Ms), p50, into: &canvas)
            w.write("  p99 ", st.label, into: &canvas); w.write(Format.ms(t.p99Ms), p99, into: &canvas)
            w.write(" ms", st.label, into: &canvas)
            w.writeIfFits(" (\(t.calls))", st.dim, into: &canvas)
        } else {
            w.write("TTFT –", st.label, into: &canvas)
        }
        w.write("  decode ", st.label, into: &canvas)
        w.write(Format.compact(g.decodeTokensPerSecond), tput, into: &canvas)
        w.write(" tok/s", st.label, into: &canvas)
        w.writeIfFits("  prefill \(Format.compact(g.prefillTokensPerSecond)) tok/s", st.label, into: &canvas)
        if let tpot = g.timePerTokenMs { w.writeIfFits("  \(Format.ms(tpot)) ms/token", st.label, into: &canvas) }

        guard inner.height >= 2 else { return }
        w = LineWriter(inner, row: 1)
        w.write("KV cache ", st.label, into: &canvas)
        w.write(g.kvCacheEnabled ? "on" : "off", g.kvCacheEnabled ? st.good : st.error, into: &canvas)
        w.write(" \(Format.grouped(g.kvPositions))/\(Format.grouped(g.kvCapacity)) pos · \(Format.bytes(g.kvBytes))", st.label, into: &canvas)
        w.writeIfFits(g.kvCacheEnabled ? "  (K: off)" : "  (K: on — now every step recomputes the prefix)", st.dim, into: &canvas)
        w.writeIfFits("  \(inf.batchSize) stream\(inf.batchSize == 1 ? "" : "s") (+/-)", st.label, into: &canvas)
        w.writeIfFits("  \(g.threads) thread\(g.threads == 1 ? "" : "s") (a)", st.label, into: &canvas)

        guard inner.height >= 3 else { return }
        w = LineWriter(inner, row: 2)
        w.write("\(Format.grouped(g.completed)) answers · \(Format.grouped(g.generatedTokens)) tokens · ≤ \(g.maxNewTokens) per answer",
                st.label, into: &canvas)
        w.writeIfFits(" · \(g.sampling)", st.dim, into: &canvas)

        var area = inner.inset(top: 3)
        guard area.height >= 1 else { return }
        if area.height >= 12 {
            let chartRows = min(8, area.height / 3)
            let (streams, charts) = area.splitTop(area.height - chartRows)
            drawCharts(ctx, inf, into: &canvas, rect: charts, p50: p50, p99: p99, tput: tput)
            area = streams
        }
        drawStreams(ctx, g.streams, into: &canvas, rect: area)
    }

    /// Each stream: a header row (number, phase, tokens, speed, prompt) and the tail of its
    /// answer wrapped over the rows it gets.
    static func drawStreams(_ ctx: RenderContext, _ streams: [GenerationStreamSnapshot], into canvas: inout Canvas, rect: Rect) {
        let st = ctx.styles
        guard !streams.isEmpty, rect.height >= 1, rect.width >= 8 else { return }
        let shown = min(streams.count, max(1, rect.height / 2))
        let per = rect.height / shown
        for (i, s) in streams.prefix(shown).enumerated() {
            let r = Rect(x: rect.x, y: rect.y + i * per, width: rect.width, height: i == shown - 1 ? rect.height - i * per : per)
            var w = LineWriter(r)
            w.write("#\(i + 1) ", st.key, into: &canvas)
            w.write(s.phase == "done" ? (s.stop ?? "done") : s.phase, s.phase == "done" ? st.dim : st.bold, into: &canvas)
            w.write(" \(s.generatedTokens) tok", st.label, into: &canvas)
            if let r = s.decodeTokensPerSecond { w.writeIfFits(" · \(Format.compact(r)) tok/s", st.label, into: &canvas) }
            w.write(" ▸ ", st.dim, into: &canvas)
            w.write(s.prompt, st.text, into: &canvas)
            let rows = r.height - 1
            guard rows >= 1 else { continue }
            let lines = tail(of: s.text, width: r.width - 2, rows: rows)
            for (j, line) in lines.enumerated() {
                canvas.text(line, x: r.x + 2, y: r.y + 1 + j, style: st.text, clip: r)
            }
        }
        if streams.count > shown {
            canvas.textRight("+\(streams.count - shown) more", rightX: rect.maxX, y: rect.maxY - 1, style: st.dim, clip: rect)
        }
    }

    /// The last `rows` display lines of `text` wrapped at `width` columns (at the last space
    /// when there is one in the line's last third, else mid-word); line breaks kept, other
    /// control characters shown as spaces.
    public static func tail(of text: String, width: Int, rows: Int) -> [String] {
        guard width >= 1, rows >= 1 else { return [] }
        var lines: [String] = []
        var current: [Character] = []
        for ch in text {
            if ch == "\n" || ch == "\r\n" { lines.append(String(current)); current = []; continue }
            let c: Character = ch.unicodeScalars.allSatisfy { $0.value < 0x20 || $0.value == 0x7F } ? " " : ch
            if current.count == width {
                if c != " ", let space = current.lastIndex(of: " "), space >= width * 2 / 3 {
                    lines.append(String(current[..<space]))
                    current = Array(current[(space + 1)...])
                } else {
                    lines.append(String(current))
                    current = []
                    if c == " " { continue }
                }
            }
            current.append(c)
        }
        lines.append(String(current))
        return Array(lines.suffix(rows))
    }

    static func drawCharts(_ ctx: RenderContext, _ inf: InferenceSnapshot, into canvas: inout Canvas, rect: Rect,
                           p50: Style, p99: Style, tput: Style) {
        let window = ctx.state.timeWindow
        var ttft: [ChartSeries] = []
        if let s = inf.series("latency_p99_ms") { ttft.append(ChartSeries(times: s.times, values: s.values, style: p99)) }
        if let s = inf.series("latency_p50_ms") { ttft.append(ChartSeries(times: s.times, values: s.values, style: p50)) }
        var a = BrailleChart(series: ttft, window: window, endTime: ctx.endTime, includeZero: true, title: "TTFT ms", format: { Format.ms($0) })
        a.markers = inf.markers?.map(\.time) ?? []  // where K, +/-, a, I or k changed the generator
        var rate: [ChartSeries] = []
        if let s = inf.series("items_per_sec") { rate.append(ChartSeries(times: s.times, values: s.values, style: tput)) }
        var b = BrailleChart(series: rate, window: window, endTime: ctx.endTime, includeZero: true, title: "decode tok/s",
                             format: { Format.compact($0) })
        b.markers = a.markers
        if rect.width >= 60 {
            let (l, r) = rect.splitLeft(rect.width / 2)
            a.draw(into: &canvas, rect: l.inset(right: 1), styles: ctx.styles)
            b.draw(into: &canvas, rect: r.inset(left: 1), styles: ctx.styles)
        } else {
            b.draw(into: &canvas, rect: rect, styles: ctx.styles)
        }
    }
}
