import InftopTelemetry
import InftopWorkloads

/// The two header rows: what runs (model, workload states, uptime, refresh, UI cost, badges)
/// and what the knobs say (batch, precision, threads, backend, window, theme).
enum HeaderPanel {
    static func draw(_ ctx: RenderContext, into canvas: inout Canvas, rect: Rect) {
        guard rect.height >= 1 else { return }
        let st = ctx.styles
        let snap = ctx.snapshot
        let knobs = ctx.knobs
        canvas.fill(rect, style: .plain)

        // Badges, right-aligned on row 0, drawn first so the rest never covers them.
        var badges: [String] = []
        let trainPaused = knobs?.trainingPaused ?? (snap.training?.state == .paused)
        let servePaused = knobs?.inferencePaused ?? (snap.inference?.state == .paused)
        if trainPaused && servePaused { badges.append(" PAUSED ") }
        else if trainPaused { badges.append(" PAUSED training ") }
        else if servePaused { badges.append(" PAUSED inference ") }
        if ctx.state.frozen { badges.append(" FROZEN ") }
        badges.append(contentsOf: ctx.headerBadges)
        var right = rect.maxX
        for b in badges.reversed() {
            right = canvas.textRight(b, rightX: right, y: rect.y, style: st.badge) - 1
        }
        let row0 = Rect(x: rect.x, y: rect.y, width: max(0, right - rect.x), height: 1)

        var w = LineWriter(row0)
        let sep = " │ "
        w.write(" inftop ", st.badge, into: &canvas)
        w.write(" ", st.text, into: &canvas)
        let model = knobs?.model ?? snap.training?.model ?? snap.inference?.model ?? "–"
        w.write(model, st.title, into: &canvas)
        let wide = rect.width >= 100
        if let t = snap.training {
            w.write(sep, st.dim, into: &canvas)
            w.write("train ", st.label, into: &canvas)
            w.write(t.state.label, stateStyle(t.state, st), into: &canvas)
            w.write(" step \(Format.grouped(t.step))" + (wide ? " ep \(t.epoch)" : ""), st.text, into: &canvas)
        }
        if let i = snap.inference {
            w.write(sep, st.dim, into: &canvas)
            w.write("serve ", st.label, into: &canvas)
            if i.model != model { w.write(i.model + " ", st.title, into: &canvas) }
            w.write(i.state.label, stateStyle(i.state, st), into: &canvas)
        }
        // Then as many of these as fit, in this order.
        var first = true
        for piece in ["up \(Format.duration(snap.uptimeSeconds))",
                      ctx.refreshHz.map { "\(Format.compact($0)) Hz" },
                      ctx.uiCPUFraction.map { "ui \(Format.percent($0, decimals: 1))" },
                      ctx.cpu.flatMap { $0.model.isEmpty ? nil : $0.model }].compactMap({ $0 }) {
            guard w.writeIfFits((first ? sep : " · ") + piece, st.label, into: &canvas) else { break }
            first = false
        }

        guard rect.height >= 2 else { return }
        var k = LineWriter(rect, row: 1)
        k.write(" ", st.text, into: &canvas)
        var full = false
        func field(_ label: String, _ value: String, first: Bool = false) {
            // A field is shown whole or not at all (and nothing after a field that did not fit).
            guard !full, (first ? 0 : sep.count) + label.count + value.count <= k.remaining else { full = true; return }
            if !first { k.write(sep, st.dim, into: &canvas) }
            k.write(label, st.label, into: &canvas)
            k.write(value, st.bold, into: &canvas)
        }
        // "lr 0.05 sgd constant": the rate in force (the schedule's), optimizer and schedule.
        func hyperparameterField() {
            guard let h = snap.training?.hyperparameters else { return }
            field("lr ", "\(Format.significant(h.learningRate)) \(h.optimizer) \(h.schedule)")
        }
        if let kv = knobs {
            field("batch ", batchText(kv.batchSize, applied: snap.training?.batchSize), first: true)
            let gen = snap.inference?.generation
            k.write(" · serve ", st.label, into: &canvas)
            if gen != nil {
                // The generator: concurrent generations, its weights' types, the KV cache.
                k.write(batchText(kv.generationStreams ?? 1, applied: snap.inference?.batchSize) + " gen", st.bold, into: &canvas)
            } else {
                k.write(batchText(kv.inferenceBatchSize, applied: snap.inference?.batchSize), st.bold, into: &canvas)
            }
            hyperparameterField()
            if let g = gen {
                field("", snap.inference.map { $0.summary.split(separator: ",").last.map { $0.trimmingCharacters(in: .whitespaces) } ?? "" } ?? "")
                field("KV ", g.kvCacheEnabled ? "on" : "off")
            } else {
                field("", kv.precision.rawValue)
                if kv.distillation {
                    // "distill T 4 α 0.9": the student's loss settings (early: the header cuts from the right).
                    let d = kv.distillationSettings
                    field("distill ", "T \(Format.significant(Double(d.temperature))) α \(Format.significant(Double(d.alpha)))"
                          + (kv.servingStudent ? " · serving student" : ""))
                }
            }
            if kv.pruning > 0 { field("prune ", Format.percent(kv.pruning) + (kv.effectivePruneMode == .structured ? " struct" : " unstr")) }
            // How the cores are shared: training's threads, serving's workers × one thread each.
            field("cores ", "train \(kv.threads) · " + (gen != nil ? "gen \(kv.servingWorkers)" : "serve \(kv.servingWorkers)×1")
                  + (ctx.maxThreads.map { " of \($0)" } ?? ""))
            field("backend ", kv.backend.rawValue)
            field("isa ", kv.isa == .auto ? (ctx.cpu?.bestISA.rawValue ?? "auto") : kv.isa.rawValue)
            if kv.responseCache { field("cache ", Format.bytes(kv.cacheBytes)) }
            if kv.repeatPercent > 0 { field("repeats ", "\(kv.repeatPercent)%") }
        } else {
            field("batch ", snap.training.map { "\($0.batchSize)" } ?? "–", first: true)
            k.write(" · serve ", st.label, into: &canvas)
            k.write(snap.inference.map { "\($0.batchSize)" } ?? "–", st.bold, into: &canvas)
            hyperparameterField()
        }
        field("window ", ctx.state.timeWindow.map { BrailleChart.formatSpan($0) } ?? "all")
        if let th = ctx.themeName { field("theme ", th) }
        let overhead = max(snap.training?.profilerOverhead ?? 0, snap.inference?.profilerOverhead ?? 0)
        if overhead > 0 { field("profiler ", Format.percent(overhead, decimals: 1)) }
        if let kv = knobs, snap.inference?.generation == nil {
            let bound = kv.scenario == .server ? (kv.p99BoundMs ?? snap.inference?.floor?.p99BoundMs).map { " · p99≤\(Format.compact($0))ms" } ?? "" : ""
            field("load ", kv.scenario.rawValue + " · delay \(Format.compact(kv.maxQueueDelayMs))ms" + bound)
        }
    }

    /// "64", or "64→128" while the workload still runs the old batch size.
    static func batchText(_ wanted: Int, applied: Int?) -> String {
        guard let a = applied, a != wanted else { return "\(wanted)" }
        return "\(a)→\(wanted)"
    }

    static func stateStyle(_ s: WorkloadState, _ st: StyleSheet) -> Style {
        switch s {
        case .running: return st.good
        case .paused: return st.key
        case .failed: return st.error
        case .starting, .finished: return st.dim
        }
    }
}
