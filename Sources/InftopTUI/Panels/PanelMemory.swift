import InftopTelemetry

/// Memory: bytes by owner stacked against the process's RSS, the peak marked, a legend, and
/// an RSS sparkline when there is room.
enum MemoryPanel {
    /// Colour of each owner's segment (MemoryOwner order).
    static func role(_ o: MemoryOwner) -> ColorRole {
        switch o {
        case .weightsFP32: .gradient(.used, 1)
        case .weightsINT8: .gradient(.used, 0.5)
        case .weightsSparse: .gradient(.used, 0.25)
        case .gradients: .gradient(.available, 1)
        case .optimizerState: .gradient(.available, 0.5)
        case .activations: .gradient(.cached, 1)
        case .caches: .gradient(.cached, 0.5)
        case .data: .gradient(.free, 1)
        case .other: .gradient(.free, 0.5)
        case .weightsQuantized: .gradient(.used, 0.75)
        }
    }

    /// Fill characters that tell owners apart without colour.
    static let monoFills: [Character] = ["█", "▓", "░", "▒", "░", "█", "▓", "▒", "░", "▓"]

    /// The bar's full width stands for 1, 2 or 5 × 10^k MiB, the first not below `bytes`.
    public static func niceScale(_ bytes: Int) -> Double {
        let mib = max(Double(bytes) / 1_048_576, 1)
        var p = 1.0
        while p * 10 < mib { p *= 10 }
        for m in [1.0, 2.0, 5.0, 10.0] where p * m >= mib { return p * m * 1_048_576 }
        return p * 10 * 1_048_576
    }

    static func draw(_ ctx: RenderContext, into canvas: inout Canvas, rect: Rect, focused: Bool) {
        let mem = ctx.snapshot.memory
        let rss = mem.residentBytes, peak = max(mem.peakResidentBytes, rss)
        let inner = PanelFrame.draw(.memory, ctx, into: &canvas, rect: rect, focused: focused,
                                    note: "RSS \(Format.bytes(rss))")
        guard inner.height >= 1, inner.width >= 10 else { return }
        let st = ctx.styles
        let owners = MemoryOwner.allCases.map { ($0, mem.bytes($0)) }
        let tracked = owners.reduce(0) { $0 + max(0, $1.1) }
        let untracked = max(0, rss - tracked)
        let scale = niceScale(max(peak, tracked))

        var segments = owners.map { o, b in
            BarSegment(value: Double(max(0, b)), style: st.series(role(o)), fill: st.monochrome ? monoFills[o.rawValue] : "█")
        }
        segments.append(BarSegment(value: Double(untracked), style: st.monochrome ? Style(fg: .text, [.dim]) : Style(fg: .inactive),
                                   fill: st.monochrome ? "·" : "▒"))
        let peakMarker = peak > rss ? [(value: Double(peak), character: Character("┃"), style: st.key)] : []
        StackedBar(segments: segments, scale: scale, empty: st.meterEmpty, markers: peakMarker)
            .draw(into: &canvas, x: inner.x, y: inner.y, width: inner.width)
        guard inner.height >= 2 else { return }

        var w = LineWriter(inner, row: 1)
        w.write("RSS ", st.label, into: &canvas); w.write(Format.bytes(rss), st.bold, into: &canvas)
        w.write(" · peak ", st.label, into: &canvas); w.write(Format.bytes(peak), st.key, into: &canvas)
        w.writeIfFits(" · tracked \(Format.bytes(tracked))" + (rss > 0 ? " (\(Format.percent(Double(tracked) / Double(rss))))" : ""),
                      st.label, into: &canvas)
        w.writeIfFits(" · bar = \(Format.bytes(Int(scale)))", st.dim, into: &canvas)

        // Legend: owners holding memory, then the untracked rest of RSS.
        var items: [(Character, Style, String, Int)] = owners.filter { $0.1 > 0 }.map { o, b in
            (st.monochrome ? monoFills[o.rawValue] : "█", st.series(role(o)), o.description, b)
        }
        items.append((st.monochrome ? "·" : "▒", st.monochrome ? Style(fg: .text, [.dim]) : Style(fg: .inactive), "untracked", untracked))
        // Largest first (ties in owner order): what a cut-off legend drops is the least.
        items = items.enumerated().sorted { $0.element.3 != $1.element.3 ? $0.element.3 > $1.element.3 : $0.offset < $1.offset }
            .map(\.element)
        // Activations keep the room of the largest batch seen (no allocation when it grows
        // back): what the current batch uses goes on the line below them when it is less.
        let act = mem.bytes(.activations), actUsed = mem.inUse(.activations)
        if actUsed < act - act / 100, let i = items.firstIndex(where: { $0.2 == MemoryOwner.activations.description }) {
            items.insert((" ", st.dim, "act. in use", max(0, actUsed)), at: i + 1)
        }
        let legendTop = 2
        let columns = max(1, min(inner.width / 26, 3))
        let perColumn = (items.count + columns - 1) / columns
        let spark = ctx.snapshot.memorySeries.flatMap { $0.values.isEmpty ? nil : $0 }
        let showSpark = spark != nil && inner.height - legendTop - perColumn >= 1
        let legendRows = max(0, inner.height - legendTop - (showSpark ? 1 : 0))
        let rowsUsed = min(perColumn, legendRows)
        let capacity = rowsUsed * columns
        if items.count > capacity && capacity > 0 {
            let hidden = items.count - capacity + 1
            items = Array(items.prefix(capacity - 1))
            items.append((" ", st.dim, "+\(hidden) more", -1))
        }
        let cw = inner.width / columns - 1
        for (k, item) in items.enumerated() where rowsUsed > 0 {
            let col = k / rowsUsed, row = k % rowsUsed
            let x = inner.x + col * (inner.width / columns)
            let y = inner.y + legendTop + row
            canvas.put(item.0, x: x, y: y, style: item.1)
            canvas.text(Canvas.truncate(item.2, to: max(0, cw - 13)), x: x + 2, y: y, style: st.text, clip: inner)
            if item.3 >= 0 {
                canvas.text(Canvas.pad(Format.bytes(item.3), to: 10, right: true), x: x + cw - 10, y: y, style: st.bold, clip: inner)
            }
        }

        if let s = spark, showSpark {
            let y = inner.maxY - 1
            canvas.text("RSS MiB ", x: inner.x, y: y, style: st.label)
            Sparkline(values: s.values, style: st.series(.seriesThroughput), fromZero: false)
                .draw(into: &canvas, x: inner.x + 8, y: y, width: inner.width - 8)
        }
    }
}
