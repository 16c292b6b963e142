import Foundation
import InftopTelemetry
import InftopWorkloads

/// The serving floor's lines in the Latency panel: scenario and verdict with the batching and
/// worker settings, the queue/compute split, the cache, and — after `x` — the A/B compare.
enum ServingFloorLines {
    /// Rows `draw` needs for `inf` (0 when there is no serving floor).
    static func rows(_ inf: InferenceSnapshot, ab: ABBaseline?) -> Int {
        guard inf.floor != nil else { return 0 }
        return 2 + (inf.floor?.cache != nil ? 1 : 0) + (ab != nil ? 2 : 0)
    }

    static func draw(_ ctx: RenderContext, _ inf: InferenceSnapshot, into canvas: inout Canvas, rect: Rect) {
        guard let f = inf.floor, rect.height >= 1 else { return }
        let st = ctx.styles
        var row = 0
        var w = LineWriter(rect, row: row)
        let load = f.scenario == .server ? "\(f.scenario.title) \(Format.compact(inf.offeredPerSecond))/s" : f.scenario.title
        w.write(load + " ", st.label, into: &canvas)
        w.write(f.verdict.label, f.verdict.valid ? st.good : st.error, into: &canvas)
        w.write(" \(f.verdict.reason)", st.dim, into: &canvas)
        row += 1
        if row < rect.height {
            var w = LineWriter(rect, row: row)
            if let q = f.queueWait, let c = f.compute {
                w.write("queue p50 \(Format.ms(q.p50Ms)) p99 \(Format.ms(q.p99Ms)) · compute p50 \(Format.ms(c.p50Ms)) ms", st.label, into: &canvas)
            } else {
                w.write("queue – · compute –", st.label, into: &canvas)
            }
            w.writeIfFits("  \(f.workers)×\(f.threadsPerWorker) workers", st.label, into: &canvas)
            w.writeIfFits("  delay \(Format.compact(f.maxQueueDelayMs)) ms", st.label, into: &canvas)
            if f.repeatFraction > 0 { w.writeIfFits("  repeats \(Format.percent(f.repeatFraction))", st.label, into: &canvas) }
            row += 1
        }
        if let c = f.cache, row < rect.height {
            var w = LineWriter(rect, row: row)
            w.write("cache ", st.label, into: &canvas)
            w.write(c.hitRate.map { Format.percent($0) } ?? "–", st.text, into: &canvas)
            w.write(" hits", st.label, into: &canvas)
            w.writeIfFits("  \(Format.grouped(c.entries)) entries \(Format.bytes(c.bytes))/\(Format.bytes(c.capacityBytes))", st.label, into: &canvas)
            if let h = c.hitMeanMs, let m = c.missMeanMs {
                w.writeIfFits("  hit \(Format.ms(h)) vs miss \(Format.ms(m)) ms", st.label, into: &canvas)
            }
            if let s = c.savedMs { w.writeIfFits("  saved \(Format.duration(s / 1000))", st.label, into: &canvas) }
            row += 1
        }
        if let a = ctx.state.abBaseline, row + 1 < rect.height, let b = ABBaseline.capture(ctx.snapshot) {
            var w = LineWriter(rect, row: row)
            w.write("A/B ", st.title, into: &canvas)
            w.write("A \(a.label)", st.dim, into: &canvas)
            w = LineWriter(rect, row: row + 1)
            w.write("  ", st.text, into: &canvas)
            for r in a.compare(with: b) {
                guard let x = r.a, let y = r.b else { continue }
                let change = x != 0 ? (y - x) / abs(x) : 0
                let mark: String
                switch r.result?.verdict {
                case .real?: mark = "real"
                case .noise?: mark = "noise"
                case .unknown?: mark = "?"
                case nil: mark = ""
                }
                let text = "\(r.name) \(Self.value(x, r.name))→\(Self.value(y, r.name)) \(change >= 0 ? "+" : "")\(Format.percent(change))"
                if !w.writeIfFits(text, st.text, into: &canvas) { break }
                if !mark.isEmpty { w.writeIfFits(" \(mark)", r.result?.verdict == .real ? st.bold : st.dim, into: &canvas) }
                w.writeIfFits("  ", st.text, into: &canvas)
            }
        }
    }

    static func value(_ v: Double, _ name: String) -> String {
        switch name {
        case "accuracy": Format.percent(v, decimals: 1)
        case "cosine": Format.fixed(v, 4)
        case "items/s": Format.compact(v)
        case "RSS MB": Format.fixed(v, 0)
        default: Format.ms(v)
        }
    }
}

/// The speed-vs-accuracy view (the expanded Latency panel): every configuration the session
/// served as a point of p99 (x, log scale) against served accuracy (y); the Pareto front as ●,
/// other points as ○, the current one as ◆; beside it the list, front first.
enum TradeoffView {
    static func draw(_ ctx: RenderContext, points: [TradeoffPoint], into canvas: inout Canvas, rect: Rect) {
        let st = ctx.styles
        guard rect.height >= 4, rect.width >= 40 else { return }
        canvas.text("speed vs accuracy — p99 ms (log) →, accuracy ↑; ● Pareto front ◆ current", x: rect.x, y: rect.y, style: st.title, clip: rect)
        let scored = points.filter { $0.accuracy != nil && $0.p99Ms > 0 }
        guard !scored.isEmpty else {
            canvas.text("no configuration with figures yet", x: rect.x, y: rect.y + 1, style: st.dim, clip: rect)
            return
        }
        let front = TradeoffPoint.paretoFront(scored)
        let listWidth = min(rect.width / 2, 64)
        let plot = Rect(x: rect.x + 7, y: rect.y + 1, width: rect.width - listWidth - 9, height: rect.height - 2)
        let xs = scored.map { log10($0.p99Ms) }, ys = scored.compactMap(\.accuracy)
        var x0 = xs.min()!, x1 = xs.max()!, y0 = ys.min()!, y1 = ys.max()!
        if x1 - x0 < 0.1 { x0 -= 0.05; x1 += 0.05 }
        if y1 - y0 < 1e-3 { y0 -= 5e-4; y1 += 5e-4 }
        if plot.width >= 8 && plot.height >= 2 {
            canvas.text(Format.fixed(y1, 3), x: rect.x, y: plot.y, style: st.label, clip: rect)
            canvas.text(Format.fixed(y0, 3), x: rect.x, y: plot.maxY - 1, style: st.label, clip: rect)
            canvas.vline(x: plot.x - 1, y: plot.y, length: plot.height, style: st.dim)
            canvas.hline(x: plot.x, y: plot.maxY, length: plot.width, style: st.dim)
            canvas.text(Format.ms(pow(10, x0)), x: plot.x, y: plot.maxY, style: st.label, clip: rect)
            _ = canvas.textRight(Format.ms(pow(10, x1)), rightX: plot.maxX, y: plot.maxY, style: st.label, clip: rect)
            for (i, p) in scored.enumerated() {
                let cx = plot.x + Int(((log10(p.p99Ms) - x0) / (x1 - x0) * Double(plot.width - 1)).rounded())
                let cy = plot.maxY - 1 - Int(((p.accuracy! - y0) / (y1 - y0) * Double(plot.height - 1)).rounded())
                let ch: Character = p.current ? "◆" : (front.contains(i) ? "●" : "○")
                canvas.put(ch, x: cx, y: cy, style: p.current ? st.bold : (front.contains(i) ? st.series(.seriesPrimary) : st.dim), clip: plot)
            }
        }
        let list = Rect(x: rect.maxX - listWidth, y: rect.y + 1, width: listWidth, height: rect.height - 1)
        let order = scored.indices.sorted { (front.contains($0) ? 0 : 1, scored[$0].p99Ms) < (front.contains($1) ? 0 : 1, scored[$1].p99Ms) }
        for (row, i) in order.prefix(list.height).enumerated() {
            let p = scored[i]
            let mark = p.current ? "◆" : (front.contains(i) ? "●" : "○")
            let acc = Format.fixed(p.accuracy!, 3)
            canvas.text("\(mark) \(Format.ms(p.p99Ms)) ms \(acc) \(p.label)", x: list.x, y: list.y + row,
                        style: p.current ? st.bold : (front.contains(i) ? st.text : st.dim), clip: list)
        }
    }
}
