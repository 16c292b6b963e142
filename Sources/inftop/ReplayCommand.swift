import ArgumentParser
import Foundation
import InftopEngine
import InftopExport
import InftopTUI
import InftopTelemetry
import InftopWorkloads
#if canImport(Glibc)
import Glibc
#endif

/// `inftop replay FILE`: the dashboard drawn from a record (`--record`), with pause, seek and
/// speed; `--rerun` re-applies the recorded knob changes to a live engine at the recorded
/// moments and shows recorded vs live figures side by side.
struct ReplayCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "replay",
        abstract: "Replay a record (--record FILE.jsonl) in the dashboard, or re-run it live (--rerun).",
        discussion: """
            Keys: space pause · ← → seek 5 s (one tick when paused) · < > (or - +) speed · Home End · q quit.
            Without a terminal (or with -n/--tick/--check) frames are printed as text.
            """)

    @Argument(help: "A record written by --record.") var file: String
    @Option(parsing: .unconditional, help: "Playback speed (1/16…64).") var speed = "1"
    @Flag(help: "Re-run: a live engine with the recorded knob changes at the recorded moments; recorded vs live on the footer.") var rerun = false
    @Option(name: .customShort("n"), parsing: .unconditional, help: "Print this many frames as text (consecutive ticks) and exit.") var frameCount: String?
    @Option(parsing: .unconditional, help: "Print from this tick (0-based) instead of the first.") var tick: String?
    @Flag(help: "Read the whole record and print what it holds (ticks, duration, skipped lines).") var check = false
    @Option(help: "Theme (as for the dashboard).") var theme: String?
    @Flag(name: .customLong("no-color"), help: "Monochrome.") var noColor = false
    @Option(help: "Fashion-MNIST folder for --rerun.") var data = FashionMNIST.defaultDirectory

    func run() throws {
        guard let sp = Double(speed), sp > 0, sp <= 64 else { fail("--speed \(speed): must be a number in (0, 64]") }
        let record: Record
        do { record = try Record.read(path: file) } catch { fail("\(error)") }
        for note in record.notes { printNote(note, command: "replay") }
        let frames = record.frames
        let n = try frameCount.map { t -> Int in
            guard let v = Int(t), v >= 1 else { fail("-n \(t): must be an integer ≥ 1") }
            return v
        }
        let from = try tick.map { t -> Int in
            guard let v = Int(t), v >= 0 else { fail("--tick \(t): must be an integer ≥ 0") }
            guard let i = frames.firstIndex(where: { $0.tick == v }) else {
                fail("--tick \(t): the record has ticks \(frames.first!.tick)…\(frames.last!.tick)")
            }
            return i
        }
        if check {
            print("\(file): \(frames.count) ticks (\(frames.first!.tick)…\(frames.last!.tick)) over "
                  + String(format: "%.1f s", frames.last!.time - frames.first!.time)
                  + ", schema \(RecordFormat.schemaVersion); \(record.notes.count) line(s) skipped")
            return
        }
        if rerun { try runRerun(frames, speed: sp, count: n); return }
        if n != nil || from != nil || !DashboardApp.isInteractive {
            let start = from ?? (n == nil ? frames.count - 1 : 0)
            for i in start..<min(frames.count, start + (n ?? 1)) {
                print(renderTextSnapshot(frames[i].snapshot, width: 120, height: 40, knobs: frames[i].knobs), terminator: "\u{0C}\n")
            }
            return
        }
        let driver = ReplayDriver(frames: frames, speed: sp)
        let app = DashboardApp(options: DashboardOptions(theme: theme, noColor: noColor), knobs: driver.knobs,
                               modelNames: [frames[0].knobs.model], snapshot: { driver.snapshot() })
        app.hooks = DashboardHooks(intercept: { driver.handle($0) }, statusLine: { driver.status }, badges: { [" REPLAY "] })
        do { try app.run() } catch { fail("\(error)") }
        if let sig = app.quitSignal { throw ExitCode(128 + sig) }
    }

    /// `--rerun`: a live session, the record's knob changes applied at their moments (÷ speed).
    func runRerun(_ frames: [RecordFrame], speed: Double, count: Int?) throws {
        let first = frames[0].knobs
        let (train, test): (ImageDataset, ImageDataset)
        do { (train, test) = try FashionMNIST.load(directory: data) } catch { fail("\(error)") }
        let knobs = Knobs(first)
        let session: DashboardSession
        do {
            session = try DashboardSession(train: train, test: test, knobs: knobs, baseConfig: TrainingConfig(model: first.model))
        } catch { fail("\(error)") }
        session.start()
        let changes = ReplayCompare.knobChanges(frames)
        let t0 = frames[0].time, wall0 = monotonicNanos()
        let applier = JoinableThread(name: "inftop-rerun") {
            for c in changes {
                let due = wall0 &+ UInt64(max(0, (c.time - t0) / speed) * 1e9)
                while monotonicNanos() < due { usleep(10_000) }
                knobs.update { $0.applyChanges(from: c.from, to: c.to) }
            }
        }
        func recorded() -> DashboardSnapshot {
            let elapsed = Double(monotonicNanos() &- wall0) / 1e9 * speed + t0
            let i = frames.lastIndex { $0.time <= elapsed } ?? 0
            return frames[i].snapshot
        }
        defer { session.stop(); applier.join() }
        if count != nil || !DashboardApp.isInteractive {
            let total = count ?? Int(((frames.last!.time - t0) / speed / 0.1).rounded(.up))
            for i in 1...max(1, total) {
                let due = wall0 &+ UInt64(i) * 100_000_000
                let now = monotonicNanos()
                if due > now { usleep(UInt32((due - now) / 1000)) }
                let live = session.snapshot()
                print(renderTextSnapshot(live, width: 120, height: 40, knobs: knobs.values), terminator: "")
                print(ReplayCompare.line(recorded: recorded(), live: live), terminator: "\n\u{0C}\n")
                fflush(nil)
            }
            return
        }
        let app = DashboardApp(options: DashboardOptions(theme: theme, noColor: noColor), knobs: knobs,
                               modelNames: DashboardSession.modelNames, snapshot: { session.snapshot() })
        app.hooks = DashboardHooks(statusLine: { Notices.shared.footer() ?? ReplayCompare.line(recorded: recorded(), live: session.snapshot()) },
                                   badges: { [" RERUN "] })
        do { try app.run() } catch { fail("\(error)") }
        if let sig = app.quitSignal { throw ExitCode(128 + sig) }
    }

    private func fail(_ message: String) -> Never { exitWithErrorLine("replay", message) }
}

/// The replay's clock and position, shared by the snapshot closure and the key hook (UI thread).
final class ReplayDriver: @unchecked Sendable {
    let knobs: Knobs
    private let lock = NSLock()
    private var player: ReplayPlayer
    private let origin = monotonicNanos()

    init(frames: [RecordFrame], speed: Double) {
        knobs = Knobs(frames[0].knobs)
        player = ReplayPlayer(frames: frames, speed: speed, wall: 0)
    }

    private var wall: Double { Double(monotonicNanos() &- origin) / 1e9 }

    func snapshot() -> DashboardSnapshot {
        lock.lock()
        player.advance(wall: wall)
        let f = player.frame
        lock.unlock()
        knobs.update { $0 = f.knobs }
        return f.snapshot
    }

    var status: String { lock.lock(); defer { lock.unlock() }; return player.statusText }

    /// Replay keys move the player; knob keys say the knobs are as recorded; the rest pass.
    func handle(_ key: Key) -> String? {
        let r: ReplayKey?
        switch key {
        case .char(" "): r = .pause
        case .left: r = .back
        case .right: r = .forward
        case .char(">"), .char("+"): r = .faster
        case .char("<"), .char("-"): r = .slower
        case .home: r = .home
        case .end: r = .end
        default: r = nil
        }
        if let r {
            lock.lock(); defer { lock.unlock() }
            return player.handle(r, wall: wall)
        }
        switch KeyMap.command(for: key) {
        case .batchPrompt, .precision, .pruning, .threads, .backend, .cache, .distillation, .model, .loadScenario, .trace:
            return "\(key): a replay shows the knobs as recorded (inftop replay --rerun applies them to a live engine)"
        default:
            return nil
        }
    }
}
