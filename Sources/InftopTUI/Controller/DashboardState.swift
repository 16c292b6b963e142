import InftopTelemetry
/// The dashboard's panels, in focus (Tab) order.
public enum PanelID: Int, CaseIterable, Sendable {
    case training, latency, layers, memory

    public var title: String {
        switch self {
        case .training: "Training"
        case .latency: "Latency / Throughput"
        case .layers: "Layers"
        case .memory: "Memory"
        }
    }
}

/// Which workload `space`, `+`/`-`, `b` and the Layers table act on: the one whose panel was
/// focused last (Training → training, Latency → inference; Layers and Memory keep it).
public enum WorkloadKind: String, Sendable {
    case training, inference

    public var label: String { self == .training ? "training" : "inference" }
}

/// Columns the Layers table sorts by (`s` cycles them in this order).
public enum LayerSortKey: Int, CaseIterable, Sendable {
    case order, share, forward, backward, p99, name

    public var label: String {
        switch self {
        case .order: "model order"
        case .share: "share"
        case .forward: "fwd ms"
        case .backward: "bwd ms"
        case .p99: "fwd p99"
        case .name: "name"
        }
    }

    /// Numbers sort largest first when picked; names and model order sort ascending.
    public var defaultDescending: Bool { !(self == .order || self == .name) }
}

/// A one-line input on the footer.
public struct Prompt: Equatable, Sendable {
    public enum Kind: Sendable { case batch, filter, learningRate, distillation, cacheBound, latencyBound }
    public var kind: Kind
    public var text: String

    public init(kind: Kind, text: String) { self.kind = kind; self.text = text }

    public var label: String {
        switch kind {
        case .batch: "batch size (1…1024): "
        case .filter: "filter layers: "
        case .learningRate: "learning rate (> 0, ≤ \(DashboardController.learningRateRange.upperBound)): "
        case .distillation: "distillation T α (T > 0, 0 ≤ α ≤ 1): "
        case .cacheBound: "response cache bound (\(Format.bytes(DashboardController.cacheBoundRange.lowerBound))…\(Format.bytes(DashboardController.cacheBoundRange.upperBound)), e.g. 4M): "
        case .latencyBound: "p99 bound, ms (> 0, ≤ \(Format.compact(DashboardController.latencyBoundRange.upperBound))): "
        }
    }
    public var hint: String { "Enter apply · Esc cancel" }
}

/// A message on the footer until `expires` (seconds, the controller's clock).
public struct StatusMessage: Equatable, Sendable {
    public var text: String
    public var isError: Bool
    public var expires: Double

    public init(text: String, isError: Bool, expires: Double) { self.text = text; self.isError = isError; self.expires = expires }
}

/// Everything the dashboard remembers between frames besides knobs and the snapshot.
public struct DashboardState: Equatable, Sendable {
    public var focus: PanelID = .training
    public var workload: WorkloadKind = .training
    public var expanded = false
    public var helpVisible = false
    public var helpScroll = 0
    public var prompt: Prompt?
    public var status: StatusMessage?
    /// Display frozen: the app stops pulling snapshots (the workloads keep running).
    public var frozen = false
    public var layerSort: LayerSortKey = .order
    public var layerSortDescending = false
    /// Case-insensitive substring; "" = all layers.
    public var layerFilter = ""
    /// Selected row of the (sorted, filtered) layer table.
    public var layerSelection = 0
    /// First row shown.
    public var layerScroll = 0
    /// Index into `DashboardController.timeWindows`.
    public var windowIndex = DashboardController.defaultWindowIndex
    /// Index into `DashboardConfig.themeNames`.
    public var themeIndex = 0
    public var quitRequested = false
    /// `X` was pressed: capture a trace of this workload (the app takes it, `takeTraceRequest`).
    public var traceRequest: WorkloadKind?
    /// `x` was pressed: the app captures the A side from its snapshot (`captureAB`).
    public var abRequest = false
    /// The A side of the A/B compare, nil until `x`; `x` again clears it.
    public var abBaseline: ABBaseline?
    /// The Poisson rate the serving side offers, as of the last frame (`<`/`>` halve/double it).
    public var offeredRate: Double?
    /// The base learning rate each optimizer ran at last (`o` returns to it; the first switch
    /// to one starts at its `defaultLearningRate`).
    public var learningRates: [String: Float] = [:]
    /// Facts from the last frame, noted by the app (`noteLayers`): rows of the layer table
    /// after the filter, and how many fit.
    public var layerRowCount = 0
    public var layerViewportRows = 10

    public init() {}

    /// Seconds shown by the charts; nil = all.
    public var timeWindow: Double? { DashboardController.timeWindows[windowIndex] }
}
