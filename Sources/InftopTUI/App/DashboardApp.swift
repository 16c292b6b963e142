import Foundation
import InftopTelemetry
import InftopWorkloads
#if canImport(Glibc)
import Glibc
#endif

/// The live dashboard: pulls the latest snapshot every `--interval` ms (it never waits on the
/// workloads: `snapshot` must return at once, e.g. `SnapshotSlot.latest()`), draws it, and
/// turns keys into knob changes. The terminal is restored on `q`, F10, Ctrl-C, SIGTERM,
/// SIGHUP, a thrown error, and (best effort) a crash.
public final class DashboardApp {
    public let options: DashboardOptions
    public let knobs: Knobs
    public let modelNames: [String]
    private let snapshot: @Sendable () -> DashboardSnapshot
    private let library: ThemeLibrary
    /// The UI thread's CPU use over the last second (fraction of one core), once measured.
    public private(set) var uiCPUFraction: Double?
    /// Frames drawn so far.
    public private(set) var frames = 0
    /// Exports' hooks (record, replay, traces); set before `run`.
    public var hooks = DashboardHooks()

    public enum Failure: Error, CustomStringConvertible {
        case notATerminal
        case terminal(String)

        public var description: String {
            switch self {
            case .notATerminal: "the dashboard needs a terminal on stdin and stdout (use renderTextSnapshot otherwise)"
            case .terminal(let why): why
            }
        }
    }

    /// - Parameters:
    ///   - modelNames: models `m` cycles through (knobs.model takes these values).
    ///   - snapshot: returns the latest published snapshot, without blocking.
    public init(options: DashboardOptions, knobs: Knobs, modelNames: [String],
                snapshot: @escaping @Sendable () -> DashboardSnapshot) {
        self.options = options; self.knobs = knobs
        self.modelNames = modelNames.isEmpty ? [knobs.values.model] : modelNames
        self.snapshot = snapshot
        library = ThemeLibrary(directories: options.themeDirectories ?? ThemeLibrary.defaultDirectories(environment: options.environment))
    }

    /// True when stdin and stdout are terminals (else print `renderTextSnapshot` instead).
    public static var isInteractive: Bool { isatty(STDIN_FILENO) == 1 && isatty(STDOUT_FILENO) == 1 }

    /// Runs on the real terminal until the user quits or a quit signal arrives.
    /// - Throws: `Failure.notATerminal` without a TTY, `Failure.terminal` when ncurses cannot
    ///   start; errors from the loop after restoring the terminal.
    public func run() throws {
        guard DashboardApp.isInteractive else { throw Failure.notATerminal }
        DashboardSignals.install()
        defer { DashboardSignals.uninstall() }
        let term: NCursesTerminal
        do { term = try NCursesTerminal(noColor: options.colorDisabled, maxDepth: options.maxColorDepth) }
        catch { throw Failure.terminal("\(error)") }
        StderrCapture.start()
        defer { term.shutdown(); StderrCapture.restore() }
        try run(on: term)
        let sig = DashboardSignals.received.load(ordering: .relaxed)
        quitSignal = sig == 0 ? nil : sig
    }

    /// The signal (SIGINT, SIGTERM, SIGHUP, SIGQUIT) that ended the last `run()`, nil when the
    /// user quit with a key: the CLI can exit with 128 + signal.
    public private(set) var quitSignal: Int32?

    /// The loop, on any terminal (tests drive it with a `VirtualTerminal` and a key script).
    public func run(on terminal: some DashboardTerminal) throws {
        let colorOn = !options.colorDisabled && terminal.colorDepth != .mono
        var names = library.availableNames()
        let wanted = options.theme ?? "default"
        if !names.contains(wanted) { names.insert(wanted, at: 0) }
        var controller = DashboardController(config: DashboardConfig(
            modelNames: modelNames, themeNames: names, maxThreads: options.maxThreads,
            builtFeatures: options.builtFeatures, colorEnabled: colorOn, availableISAs: options.cpu.availableISAs,
            encoderName: options.encoderName, encoderUnavailable: options.encoderUnavailable,
            generatorName: options.generatorName, generatorUnavailable: options.generatorUnavailable))
        controller.selectTheme(names.firstIndex(of: wanted) ?? 0)

        let start = monotonicNanos()
        func now() -> Double { Double(monotonicNanos() &- start) / 1e9 }

        var themeName = wanted
        var monochromeTheme = false
        func loadTheme(_ name: String) {
            let (theme, warning) = library.load(name)
            terminal.apply(theme: theme)
            themeName = warning == nil ? theme.name : "default"
            monochromeTheme = theme.isMonochrome
            if let w = warning { controller.setStatus(w, error: true, now: now(), seconds: 10) }
        }
        loadTheme(wanted)

        let interval = Double(options.effectiveIntervalMs) / 1000
        // Two canvases, drawn into in turn: the terminal keeps the last one presented to diff
        // against, and drawing into that same buffer would copy it (copy-on-write) every frame.
        var canvas = Canvas(width: 0, height: 0), shown = Canvas(width: 0, height: 0)
        var latest = snapshot()
        var nextFrame = 0.0
        var dirty = true
        var cpuMark = (wall: monotonicNanos(), cpu: threadCPUNanos())

        while true {
            if DashboardSignals.received.load(ordering: .relaxed) != 0 { break }
            let t = now()
            if dirty || t >= nextFrame {
                if !controller.state.frozen { latest = snapshot() }
                controller.noteOfferedRate(latest.inference?.offeredPerSecond)
                let (w, h) = terminal.size
                let ctx = RenderContext(
                    snapshot: latest, knobs: knobs.values, state: controller.state,
                    styles: StyleSheet(monochrome: !colorOn || monochromeTheme),
                    status: controller.status(at: t) ?? hooks.statusLine?().map { StatusMessage(text: $0, isError: false, expires: .infinity) },
                    uiCPUFraction: hooks.showsUICost ? uiCPUFraction : nil, refreshHz: 1 / interval, themeName: colorOn ? themeName : "none",
                    maxThreads: options.maxThreads, builtFeatures: options.builtFeatures, cpu: options.cpu, headerBadges: hooks.badges?() ?? [])
                let result = DashboardRenderer.render(ctx, into: &canvas, width: w, height: h)
                if !result.tooSmall {   // keep the table position through a too-small moment
                    controller.noteLayers(rowCount: result.layerRowCount, viewportRows: result.layerViewportRows)
                }
                terminal.present(canvas)
                swap(&canvas, &shown)
                hooks.onFrame?(latest, ctx.knobs ?? knobs.values, frames)
                frames += 1
                dirty = false
                if t >= nextFrame { nextFrame = t + interval }
                // UI cost: this thread's CPU time over wall time, per second or so.
                let wall = monotonicNanos(), cpu = threadCPUNanos()
                if wall &- cpuMark.wall >= 1_000_000_000 {
                    uiCPUFraction = Double(cpu &- cpuMark.cpu) / Double(wall &- cpuMark.wall)
                    cpuMark = (wall, cpu)
                }
            }
            let wait = max(0, Int(((nextFrame - now()) * 1000).rounded(.up)))
            guard let key = terminal.readKey(timeoutMs: wait) else { continue }
            dirty = true
            if key == .resize { continue }
            if let intercept = hooks.intercept, let said = intercept(key) { controller.setStatus(said, now: now()); continue }
            let themeBefore = controller.state.themeIndex
            let before = knobs.values
            var values = before
            controller.handle(key, knobs: &values, now: now())
            // Only the fields the key changed: the session may have written others meanwhile.
            if values != before { knobs.update { $0.applyChanges(from: before, to: values) } }
            if controller.state.quitRequested { break }
            if controller.takeABRequest() { controller.captureAB(latest, now: now()) }
            if let w = controller.takeTraceRequest() {
                controller.setStatus(hooks.trace?(w) ?? "X: trace capture is not available here", now: now())
            }
            if controller.state.themeIndex != themeBefore { loadTheme(controller.config.themeNames[controller.state.themeIndex]) }
        }
    }
}

/// The dashboard as plain text, for a stdout that is not a terminal (the CLI prints it once).
/// - Parameters:
///   - knobs: knob values for the header; nil shows only what the snapshot knows.
/// - Returns: `height` lines (trailing spaces trimmed), each ending in "\n".
public func renderTextSnapshot(_ snapshot: DashboardSnapshot, width: Int = 120, height: Int = 40,
                               knobs: KnobValues? = nil) -> String {
    var canvas = Canvas(width: width, height: height)
    let ctx = RenderContext(snapshot: snapshot, knobs: knobs, styles: StyleSheet(monochrome: true))
    DashboardRenderer.render(ctx, into: &canvas, width: width, height: height)
    return VirtualTerminal.text(canvas)
}
