import InftopTelemetry
import InftopWorkloads

/// What the CLI plugs into the dashboard loop for exports (record, replay, traces, /metrics).
/// Every hook runs on the UI thread; all are optional and cost nothing when nil.
public struct DashboardHooks {
    /// After each frame is presented: the snapshot and knobs it was drawn from, and the frame's
    /// number (`--record` writes one line per call).
    public var onFrame: ((DashboardSnapshot, KnobValues, Int) -> Void)?
    /// Sees every key first; a non-nil answer means handled (shown on the footer), and the
    /// controller never sees the key (replay: space, ← →, speed).
    public var intercept: ((Key) -> String?)?
    /// A line the footer shows whenever no status message is up (replay position, A/B figures).
    public var statusLine: (() -> String?)?
    /// Badges on the right of the header's first row (" REC ", " metrics 0.0.0.0:9464 ").
    public var badges: (() -> [String])?
    /// The `X` key: capture the next steps of this workload; returns the status to show.
    public var trace: ((WorkloadKind) -> String)?
    /// False leaves the UI thread's own cost out of the header (a record's replay compares
    /// screens tick by tick; that figure is the replaying process's, not the recorded one's).
    public var showsUICost = true

    public init(onFrame: ((DashboardSnapshot, KnobValues, Int) -> Void)? = nil, intercept: ((Key) -> String?)? = nil,
                statusLine: (() -> String?)? = nil, badges: (() -> [String])? = nil,
                trace: ((WorkloadKind) -> String)? = nil, showsUICost: Bool = true) {
        self.onFrame = onFrame; self.intercept = intercept; self.statusLine = statusLine; self.badges = badges; self.trace = trace
        self.showsUICost = showsUICost
    }
}
