/// One configuration a hyperparameter search tries.
public struct TrialConfig: Sendable, Hashable {
    public var learningRate: Float
    public var batchSize: Int
    public var optimizer: OptimizerKind

    /// "sgd lr 0.05 batch 64".
    public var label: String { "\(optimizer.rawValue) lr \(learningRate) batch \(batchSize)" }

    public init(learningRate: Float, batchSize: Int, optimizer: OptimizerKind) {
        self.learningRate = learningRate; self.batchSize = batchSize; self.optimizer = optimizer
    }

    /// Every combination, in the order given (optimizer, then lr, then batch).
    public static func grid(learningRates: [Float], batchSizes: [Int], optimizers: [OptimizerKind]) -> [TrialConfig] {
        optimizers.flatMap { o in learningRates.flatMap { lr in batchSizes.map { TrialConfig(learningRate: lr, batchSize: $0, optimizer: o) } } }
    }
}

/// What one trial reached at one rung.
public struct TrialOutcome: Sendable, Equatable {
    public var testAccuracy: Double
    /// Training seconds the trial ran (evaluation excluded).
    public var trainingSeconds: Double
    /// Wall seconds the trial took, building and evaluation included.
    public var wallSeconds: Double
    public var steps: Int
    /// Training seconds to the target accuracy, when one was given and reached.
    public var timeToTarget: Double?

    public init(testAccuracy: Double, trainingSeconds: Double, wallSeconds: Double, steps: Int, timeToTarget: Double? = nil) {
        self.testAccuracy = testAccuracy; self.trainingSeconds = trainingSeconds; self.wallSeconds = wallSeconds
        self.steps = steps; self.timeToTarget = timeToTarget
    }

    /// Better first: reached the target sooner; then (neither reached) higher accuracy.
    public static func isBetter(_ a: TrialOutcome, than b: TrialOutcome) -> Bool {
        switch (a.timeToTarget, b.timeToTarget) {
        case let (x?, y?): return x < y
        case (.some, nil): return true
        case (nil, .some): return false
        case (nil, nil): return a.testAccuracy > b.testAccuracy
        }
    }
}

/// One rung of the search: every trial that ran at it, best first, and how many went on.
public struct Rung: Sendable {
    public var index: Int
    /// Training seconds each trial had at this rung.
    public var budgetSeconds: Double
    public var results: [(trial: Int, config: TrialConfig, outcome: TrialOutcome)]
    /// The first `kept` of `results` run at the next rung.
    public var kept: Int
    /// Trials whose result here is the one they reached the target with at an earlier rung (not run again).
    public var carried: Set<Int> = []
}

/// Successive halving (Jamieson & Talwalkar 2016; the synchronous form of ASHA): every trial
/// gets a short training budget, the better half (rounded up) goes on with twice the budget,
/// until one is left. The first rung's budget is set so the whole search spends about
/// `budgetSeconds` of training: rungs × trials × first budget (each rung spends about the same).
///
/// Each trial at each rung is one call of the objective with its budget; a promoted trial is
/// trained again from its seed with the larger budget (no checkpoint is carried between rungs),
/// so a rung's ranking compares runs of equal length.
public struct SuccessiveHalving: Sendable {
    public let trials: [TrialConfig]
    public let budgetSeconds: Double

    public init(trials: [TrialConfig], budgetSeconds: Double) {
        precondition(!trials.isEmpty && budgetSeconds > 0, "SuccessiveHalving: no trials or no budget")
        self.trials = trials; self.budgetSeconds = budgetSeconds
    }

    /// Rungs for `n` trials: halving until one is left, plus the first.
    public static func rungCount(_ n: Int) -> Int {
        var k = 1, m = n
        while m > 1 { m = (m + 1) / 2; k += 1 }
        return k
    }

    /// Training seconds each trial gets at rung 0.
    public var firstBudget: Double { budgetSeconds / Double(Self.rungCount(trials.count) * trials.count) }

    /// Runs the search. `objective(trial index, config, budget seconds, rung)` trains one trial;
    /// `onRung` sees each rung as it ends. A trial that reached the target at a rung is not
    /// run again (it is the answer's time to target already) but keeps its place.
    public func run(objective: (Int, TrialConfig, Double, Int) throws -> TrialOutcome, onRung: (Rung) -> Void = { _ in }) rethrows -> [Rung] {
        var alive = Array(trials.indices)
        var rungs: [Rung] = []
        var budget = firstBudget
        var finished: [Int: TrialOutcome] = [:]
        for r in 0..<Self.rungCount(trials.count) {
            var results: [(trial: Int, config: TrialConfig, outcome: TrialOutcome)] = []
            let carried = Set(alive.filter { finished[$0] != nil })
            for i in alive {
                let o = try finished[i] ?? objective(i, trials[i], budget, r)
                if o.timeToTarget != nil { finished[i] = o }
                results.append((i, trials[i], o))
            }
            // Stable: equal outcomes keep the grid's order.
            results = results.enumerated().sorted { a, b in
                TrialOutcome.isBetter(a.element.outcome, than: b.element.outcome)
                    || (!TrialOutcome.isBetter(b.element.outcome, than: a.element.outcome) && a.offset < b.offset)
            }.map(\.element)
            let kept = results.count > 1 ? (results.count + 1) / 2 : 0
            let rung = Rung(index: r, budgetSeconds: budget, results: results, kept: kept, carried: carried)
            rungs.append(rung)
            onRung(rung)
            alive = results.prefix(kept).map(\.trial)
            if alive.isEmpty { break }
            budget *= 2
        }
        return rungs
    }

    /// Every trial once, best first, by the last rung it reached (later rungs first), then
    /// its outcome there.
    public static func ranking(_ rungs: [Rung]) -> [(trial: Int, config: TrialConfig, outcome: TrialOutcome, rung: Int, totalWallSeconds: Double)] {
        var wall: [Int: Double] = [:]
        for rung in rungs { for r in rung.results where !rung.carried.contains(r.trial) { wall[r.trial, default: 0] += r.outcome.wallSeconds } }
        var seen = Set<Int>()
        var out: [(trial: Int, config: TrialConfig, outcome: TrialOutcome, rung: Int, totalWallSeconds: Double)] = []
        for rung in rungs.reversed() {
            for r in rung.results where !seen.contains(r.trial) {
                seen.insert(r.trial)
                out.append((r.trial, r.config, r.outcome, rung.index, wall[r.trial] ?? 0))
            }
        }
        return out
    }
}
