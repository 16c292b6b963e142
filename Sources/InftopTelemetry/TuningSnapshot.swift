/// The hyperparameter search `inftop --tune` runs beside the dashboard (successive halving,
/// `inftop tune`'s search): the leaderboard panel draws it. Rows are in leaderboard order: the
/// trials of the latest rung first (best first), then those cut earlier, then the ones not yet
/// run; the trial running now is marked.
public struct TuningSnapshot: Sendable, Equatable, Codable {
    public enum TrialState: String, Sendable, Equatable, Codable {
        /// Not run yet in this rung.
        case waiting
        /// Training now.
        case running
        /// Ran in the rung running now; the rung's end decides.
        case ran
        /// Ran in the latest rung and goes on to the next (or won the last one).
        case kept
        /// Cut at the end of the rung it last ran in.
        case cut
    }

    public struct Row: Sendable, Equatable, Codable {
        /// "sgd lr 0.05 batch 64".
        public var label: String
        public var state: TrialState
        /// The last rung it finished (nil: none yet).
        public var rung: Int?
        /// Its test accuracy after that rung (0…1).
        public var testAccuracy: Double?
        /// Seconds of training to `target` accuracy, where reached.
        public var timeToTarget: Double?
        /// Wall seconds of all its runs so far.
        public var seconds: Double

        public init(label: String, state: TrialState, rung: Int?, testAccuracy: Double?, timeToTarget: Double?, seconds: Double) {
            self.label = label; self.state = state; self.rung = rung
            self.testAccuracy = testAccuracy; self.timeToTarget = timeToTarget; self.seconds = seconds
        }
    }

    public var model: String
    public var rows: [Row]
    /// The rung running now (the last one once finished) and how many there are.
    public var rung: Int
    public var rungCount: Int
    /// Training seconds each trial gets in the rung running now.
    public var rungBudgetSeconds: Double
    /// The whole search's training budget, and the wall seconds since it started.
    public var budgetSeconds: Double
    public var elapsedSeconds: Double
    /// The accuracy that ranks by time to reach it, if given.
    public var target: Double?
    public var finished: Bool
    /// Why the search stopped early (one line), nil while it runs or when it finished.
    public var error: String?

    public init(model: String, rows: [Row], rung: Int, rungCount: Int, rungBudgetSeconds: Double, budgetSeconds: Double,
                elapsedSeconds: Double, target: Double?, finished: Bool, error: String? = nil) {
        self.model = model; self.rows = rows; self.rung = rung; self.rungCount = rungCount
        self.rungBudgetSeconds = rungBudgetSeconds; self.budgetSeconds = budgetSeconds; self.elapsedSeconds = elapsedSeconds
        self.target = target; self.finished = finished; self.error = error
    }
}
