/// Everything a key can ask for.
public enum Command: String, CaseIterable, Sendable {
    case quit, help
    case batchUp, batchDown, batchPrompt
    /// `<` / `>`: panel-scoped — the learning rate ÷2 / ×2 on the training panel, the Poisson
    /// rate on the serving panel.
    case rateDown, rateUp
    /// `l`: type a learning rate; `o`: next optimizer (training).
    case learningRatePrompt, optimizer
    case precision, pruning, pruneMode, threads, backend, isa, cache, distillation
    /// `D`: serve the distillation student ↔ its teacher (with `d` on); `g`: type its T and α.
    case servedStudent, distillationPrompt
    case pause, freeze
    case focusNext, focusPrevious, expand
    case sortNext, sortReverse, filter
    case windowOut, windowIn, windowReset
    case model, servedModel, loadScenario, abCompare, theme, trace
    case queueDelay, workers, repeats
    /// `C`: type the response cache's byte bound; `B`: type the Server scenario's p99 bound.
    case cacheBoundPrompt, latencyBoundPrompt
    /// `K`: the generator's KV cache on/off.
    case kvCache
    case scrollUp, scrollDown, pageUp, pageDown, scrollHome, scrollEnd
}

/// Optimisations whose keys exist in DESIGN.md but whose engine work may not be built yet.
/// A feature not in `DashboardConfig.builtFeatures` answers its key with "coming in a later
/// release"; once the workloads honour the knob, the CLI adds it to the set and the key writes
/// the knob.
public enum DashboardFeature: String, CaseIterable, Sendable {
    /// `i`: knobs.precision fp32 ↔ int8.
    case int8
    /// `p`: knobs.pruning 0 → 0.5 → 0.75 → 0.9 → 0.
    case pruning
    /// `c`: knobs.responseCache.
    case responseCache
    /// `d`: knobs.distillation.
    case distillation

    /// How the status line names it.
    public var title: String {
        switch self {
        case .int8: "INT8"
        case .pruning: "pruning"
        case .responseCache: "response cache"
        case .distillation: "distillation"
        }
    }
}

/// One line of the help overlay (and the source of the footer hints).
public struct HelpEntry: Sendable {
    /// Keys as shown: "q F10 Ctrl-C".
    public var keys: String
    public var action: String
    public var command: Command
    /// The optional feature it needs; nil = part of the dashboard itself.
    public var feature: DashboardFeature?
    /// Never built in this release (no knob for it yet): always "coming".
    public var planned: Bool

    public init(_ keys: String, _ action: String, _ command: Command, feature: DashboardFeature? = nil, planned: Bool = false) {
        self.keys = keys; self.action = action; self.command = command; self.feature = feature; self.planned = planned
    }

    public func isBuilt(_ built: Set<DashboardFeature>) -> Bool {
        if planned { return false }
        if let f = feature { return built.contains(f) }
        return true
    }
}

/// Keys → commands (htop/btop conventions, DESIGN.md's table), and the help text for them.
public enum KeyMap {
    /// The command for `key` outside prompts and the help overlay; nil = unbound.
    public static func command(for key: Key) -> Command? {
        switch key {
        case .char("q"), .function(10), .ctrlC: return .quit
        case .char("?"), .function(1), .char("h"): return .help
        case .char("+"): return .batchUp
        case .char("-"): return .batchDown
        case .char("b"): return .batchPrompt
        case .char("<"): return .rateDown
        case .char(">"): return .rateUp
        case .char("l"): return .learningRatePrompt
        case .char("o"): return .optimizer
        case .char("i"): return .precision
        case .char("p"): return .pruning
        case .char("P"): return .pruneMode
        case .char("t"): return .threads
        case .char("k"): return .backend
        case .char("I"): return .isa
        case .char("c"): return .cache
        case .char("d"): return .distillation
        case .char("D"): return .servedStudent
        case .char("g"): return .distillationPrompt
        case .char(" "): return .pause
        case .char("Z"), .char("f"): return .freeze
        case .tab: return .focusNext
        case .backTab: return .focusPrevious
        case .char("e"): return .expand
        case .char("s"): return .sortNext
        case .char("r"): return .sortReverse
        case .char("/"): return .filter
        case .char("["): return .windowOut
        case .char("]"): return .windowIn
        case .char("="): return .windowReset
        case .char("m"): return .model
        case .char("v"): return .servedModel
        case .char("L"): return .loadScenario
        case .char("w"): return .queueDelay
        case .char("a"): return .workers
        case .char("z"): return .repeats
        case .char("x"): return .abCompare
        case .char("T"): return .theme
        case .char("X"): return .trace
        case .char("K"): return .kvCache
        case .char("C"): return .cacheBoundPrompt
        case .char("B"): return .latencyBoundPrompt
        case .up: return .scrollUp
        case .down: return .scrollDown
        case .pageUp: return .pageUp
        case .pageDown: return .pageDown
        case .home: return .scrollHome
        case .end: return .scrollEnd
        default: return nil
        }
    }

    /// Every key of DESIGN.md's table, in its order, plus table scrolling.
    public static let help: [HelpEntry] = [
        HelpEntry("q F10 Ctrl-C", "quit, terminal restored", .quit),
        HelpEntry("? F1 h", "this help (Esc closes)", .help),
        HelpEntry("+ -", "batch size up / down (powers of two, 1…1024)", .batchUp),
        HelpEntry("b", "type a batch size", .batchPrompt),
        HelpEntry("< >", "learning rate ÷2 / ×2 (training) · Poisson rate (serving)", .rateUp),
        HelpEntry("l", "type a learning rate (training)", .learningRatePrompt),
        HelpEntry("o", "optimizer: sgd-momentum ↔ adamw (training)", .optimizer),
        HelpEntry("i", "precision: fp32 ↔ int8", .precision, feature: .int8),
        HelpEntry("p", "pruning: off → 50% → 75% → 90%", .pruning, feature: .pruning),
        HelpEntry("P", "pruning: unstructured ↔ structured", .pruneMode, feature: .pruning),
        HelpEntry("t", "threads: 1 → … → cores", .threads),
        HelpEntry("k", "kernel backend: blas → simd → reference", .backend),
        HelpEntry("I", "kernel ISA: avx2 ↔ avx512 (the tiers this CPU has)", .isa),
        HelpEntry("c C", "response cache on/off · C: its size bound", .cache, feature: .responseCache),
        HelpEntry("d", "distillation (train a student) on/off", .distillation, feature: .distillation),
        HelpEntry("D", "served model: teacher ↔ student (with d on)", .servedStudent, feature: .distillation),
        HelpEntry("g", "distillation: type T and α (e.g. 4 0.9)", .distillationPrompt, feature: .distillation),
        HelpEntry("space", "pause/resume the focused workload", .pause),
        HelpEntry("Z f", "freeze the display (sampling goes on)", .freeze),
        HelpEntry("Tab S-Tab", "focus next / previous panel", .focusNext),
        HelpEntry("e", "expand the focused panel (Latency: with the trade-off view)", .expand),
        HelpEntry("s r", "sort column / reverse (layer table)", .sortNext),
        HelpEntry("/", "filter layers by name", .filter),
        HelpEntry("[ ]", "graph time window out / in", .windowOut),
        HelpEntry("=", "reset the time window", .windowReset),
        HelpEntry("m", "switch the trained model", .model),
        HelpEntry("v", "served model: trained → encoder → generator", .servedModel),
        HelpEntry("K", "generator: KV cache on/off (off recomputes the prefix)", .kvCache),
        HelpEntry("w", "max queue delay: 0 → 1 → 2 → 5 → 10 ms", .queueDelay),
        HelpEntry("a", "serving workers: 1 → … → cores", .workers),
        HelpEntry("z", "load repeats: 0 → 25 → 50 → 90 %", .repeats),
        HelpEntry("L B", "load scenario single/server/offline · B: p99 bound", .loadScenario),
        HelpEntry("x", "snapshot serving for A/B compare (x again clears)", .abCompare),
        HelpEntry("T", "next theme", .theme),
        HelpEntry("X", "Chrome trace of the next N steps (focused)", .trace),
        HelpEntry("↑ ↓ PgUp PgDn", "move in the layer table (Home/End too)", .scrollDown),
    ]

    /// Footer hints, most useful first; the footer shows as many as fit.
    public static let footerHints: [(key: String, label: String)] = [
        ("?", "help"), ("q", "quit"), ("+/-", "batch"), ("b", "set batch"), ("</>", "lr"), ("o", "optim"), ("space", "pause"),
        ("Tab", "focus"), ("e", "expand"), ("t", "threads"), ("k", "backend"), ("I", "isa"), ("m", "model"), ("v", "served"), ("K", "kv"),
        ("L", "scenario"), ("w", "delay"), ("a", "workers"), ("c", "cache"), ("z", "repeats"), ("x", "A/B"),
        ("s", "sort"), ("/", "filter"), ("[/]", "window"), ("Z", "freeze"), ("T", "theme"), ("C", "cache size"), ("B", "p99 bound"),
    ]
}
