import InftopEngine
import InftopTelemetry

/// `inftop --tune`: the successive-halving search of `inftop tune` on its own thread beside
/// the dashboard, every trial a real training run (`TuneTrial`), published as a
/// `TuningSnapshot` for the leaderboard panel. `stop()` ends the trial running at its next step
/// and the search with it.
public final class TuningService: @unchecked Sendable {
    public struct Settings: Sendable {
        public var model: String
        public var grid: [TrialConfig]
        public var budgetSeconds: Double
        public var target: Double?
        public var seed: UInt64
        public var threads: Int
        public var backend: KernelBackend
        public var isa: KernelISA

        public init(model: String, grid: [TrialConfig], budgetSeconds: Double, target: Double?, seed: UInt64,
                    threads: Int, backend: KernelBackend, isa: KernelISA) {
            self.model = model; self.grid = grid; self.budgetSeconds = budgetSeconds; self.target = target
            self.seed = seed; self.threads = threads; self.backend = backend; self.isa = isa
        }
    }

    /// Per trial: its state, last finished rung, outcome there and wall seconds so far; the
    /// order of the latest rung's results.
    struct State {
        var states: [TuningSnapshot.TrialState]
        var rung: [Int?]
        var outcome: [TrialOutcome?]
        var seconds: [Double]
        var order: [Int] = []
        var currentRung = 0
        var rungBudget: Double
        var finished = false
        var error: String?
    }

    public let settings: Settings
    private let search: SuccessiveHalving
    private let train: ImageDataset, test: ImageDataset
    private let clock: any NanoClock
    private let state: Locked<State>
    private let current = Locked<TrainingLoop?>(nil)
    private let stopFlag = StopFlag()
    private var thread: JoinableThread?
    private var started: UInt64 = 0

    public init(settings: Settings, train: ImageDataset, test: ImageDataset, clock: any NanoClock = SystemClock()) {
        self.settings = settings
        self.search = SuccessiveHalving(trials: settings.grid, budgetSeconds: settings.budgetSeconds)
        self.train = train; self.test = test; self.clock = clock
        let n = settings.grid.count
        state = Locked(State(states: Array(repeating: .waiting, count: n), rung: Array(repeating: nil, count: n),
                             outcome: Array(repeating: nil, count: n), seconds: Array(repeating: 0, count: n),
                             rungBudget: search.firstBudget))
    }

    deinit { stop() }

    public func start() {
        guard thread == nil else { return }
        started = clock.now()
        thread = JoinableThread(name: "inftop-tune") { [unowned(unsafe) self] in self.run() }
    }

    /// Ends the search: the trial running stops at its next step; joins the thread.
    public func stop() {
        stopFlag.set()
        current.withLock { $0?.requestStop() }
        thread?.join()
        thread = nil
    }

    /// Whether the search has ended (finished, failed or stopped).
    public var isFinished: Bool { state.withLock { $0.finished } }

    struct Stopped: Error {}

    private func run() {
        let s = settings
        do {
            _ = try search.run(objective: { [self] trial, config, budget, rung in
                guard !stopFlag.isSet else { throw Stopped() }
                state.withLock { st in st.states[trial] = .running; st.currentRung = rung; st.rungBudget = budget }
                let o = try TuneTrial.run(model: s.model, config: config, budgetSeconds: budget, seed: s.seed, target: s.target,
                                          threads: s.threads, backend: s.backend, isa: s.isa, train: train, test: test, clock: clock,
                                          onLoop: { loop in
                                              // A stop that came before the loop was known still ends it.
                                              self.current.withLock { $0 = loop }
                                              if self.stopFlag.isSet { loop.requestStop() }
                                          })
                current.withLock { $0 = nil }
                guard !stopFlag.isSet else { throw Stopped() }
                state.withLock { st in
                    st.states[trial] = .ran; st.rung[trial] = rung; st.outcome[trial] = o; st.seconds[trial] += o.wallSeconds
                }
                return o
            }, onRung: { [self] rung in
                state.withLock { st in
                    for (i, r) in rung.results.enumerated() {
                        st.rung[r.trial] = rung.index
                        st.outcome[r.trial] = r.outcome
                        st.states[r.trial] = i < rung.kept || rung.results.count == 1 ? .kept : .cut
                    }
                    // The latest rung's order first, then the earlier order of those cut before.
                    let now = rung.results.map(\.trial)
                    st.order = now + st.order.filter { !now.contains($0) }
                }
            })
            state.withLock { $0.finished = true }
        } catch is Stopped {
            state.withLock { $0.finished = true; $0.error = "stopped" }
        } catch {
            state.withLock { $0.finished = true; $0.error = "\(error)" }
        }
    }

    /// The leaderboard now.
    public func snapshot() -> TuningSnapshot {
        let elapsed = started == 0 ? 0 : Double(clock.now() &- started) / 1e9
        return state.withLock { st in
            let waiting = settings.grid.indices.filter { !st.order.contains($0) }
            let rows = (st.order + waiting).map { i -> TuningSnapshot.Row in
                return TuningSnapshot.Row(label: settings.grid[i].label,
                                          state: st.states[i], rung: st.rung[i], testAccuracy: st.outcome[i]?.testAccuracy,
                                          timeToTarget: st.outcome[i]?.timeToTarget, seconds: st.seconds[i])
            }
            return TuningSnapshot(model: settings.model, rows: rows, rung: st.currentRung,
                                  rungCount: SuccessiveHalving.rungCount(settings.grid.count), rungBudgetSeconds: st.rungBudget,
                                  budgetSeconds: settings.budgetSeconds, elapsedSeconds: elapsed, target: settings.target,
                                  finished: st.finished, error: st.error)
        }
    }
}
