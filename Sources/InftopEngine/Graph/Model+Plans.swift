import InftopTelemetry
import Synchronization

/// A node whose plan change needs work first: repacking, quantizing, pruning. `prepare` runs on
/// a background thread while the old plan keeps serving and must not touch what `forward`
/// reads; `adopt` runs on the model's own thread at a step boundary and must be cheap (a swap).
public protocol PlanPreparing: Node {
    /// Whether moving from `old` to `new` needs `prepare` (e.g. fp32 → int8 does, threads do not).
    func needsPreparation(from old: Compute, to new: Compute) -> Bool
    /// The work for `plan`, from the node's current weights.
    func prepare(for plan: Compute) -> any Sendable
    /// Takes what `prepare` made; from now on forward runs `plan`.
    func adopt(_ prepared: any Sendable, for plan: Compute)
    /// The weights changed (the replica took newer trained ones): what was prepared from the old
    /// ones must be made again before the next forward (on the model's thread).
    func weightsChanged(plan: Compute)
}

/// A plan being prepared in the background, adopted at a step boundary once ready.
final class StagedPlan: @unchecked Sendable {
    let plan: Compute
    let ready = Atomic<Bool>(false)
    /// (node index, prepared work), filled by the preparing thread before `ready`.
    var prepared: [(Int, any Sendable)] = []
    var thread: JoinableThread?
    init(plan: Compute) { self.plan = plan }
}

extension Model {
    /// The plan of node `i`.
    public func plan(ofNode i: Int) -> Compute { plans[i] }

    /// The plan most nodes run (node 0's; `request` sets them all alike).
    public var currentPlan: Compute { plans[0] }

    /// Whether a plan is being prepared in the background.
    public var isPreparingPlan: Bool { staging != nil }

    /// Asks for `wanted` on every node; call on the model's own thread at a step boundary (as
    /// often as you like). A change no node needs work for (backend, threads, ISA) takes effect
    /// at once. One that does (precision, sparsity) is prepared on a background thread while
    /// the old plan keeps running, and is adopted at the first boundary after it is ready.
    /// Returns true when the plans changed in this call.
    @discardableResult
    public func request(_ wanted: Compute) -> Bool {
        if let s = staging {
            guard s.ready.load(ordering: .acquiring) else { return false }
            s.thread?.join()
            staging = nil
            for (i, work) in s.prepared { (nodes[i] as! any PlanPreparing).adopt(work, for: s.plan) }
            for i in plans.indices { plans[i] = s.plan }
            if s.plan == wanted { return true }
        }
        if plans.allSatisfy({ $0 == wanted }) { return false }
        let needing = nodes.indices.filter { i in
            (nodes[i] as? any PlanPreparing)?.needsPreparation(from: plans[i], to: wanted) ?? false
        }
        if needing.isEmpty {
            for i in plans.indices { plans[i] = wanted }
            return true
        }
        let s = StagedPlan(plan: wanted)
        let preparing = needing.map { ($0, nodes[$0] as! any PlanPreparing) }
        nonisolated(unsafe) let work = preparing
        s.thread = JoinableThread(name: "inftop-plan") { [s] in
            s.prepared = work.map { ($0.0, $0.1.prepare(for: wanted)) }
            s.ready.store(true, ordering: .releasing)
        }
        staging = s
        return false
    }

    /// Sets every node's plan now, preparing on this thread what needs it (set-up, tests and
    /// headless commands, where nothing else is running).
    public func setPlan(_ plan: Compute) {
        request(plan)
        while let s = staging {
            s.thread?.join()
            request(plan)
        }
    }

    /// Sets one node's plan now (a per-node override, e.g. a sparse format only where it pays).
    public func setPlan(_ plan: Compute, forNode i: Int) {
        if let p = nodes[i] as? any PlanPreparing, p.needsPreparation(from: plans[i], to: plan) {
            p.adopt(p.prepare(for: plan), for: plan)
        }
        plans[i] = plan
    }

    /// Tells the nodes that prepare work from their weights that the weights changed (call after
    /// writing parameter values from outside: `copyWeights` does).
    public func weightsDidChange() {
        for (i, node) in nodes.enumerated() { (node as? any PlanPreparing)?.weightsChanged(plan: plans[i]) }
    }
}
