import Foundation
import InftopWorkloads

/// How the dashboard runs (the CLI fills this from its flags).
public struct DashboardOptions: Sendable {
    /// Milliseconds between frames (`--interval MS`, default 100 = 10 Hz; clamped to 10…10 000).
    public var intervalMs: Int
    /// `--theme NAME|PATH`; nil = "default".
    public var theme: String?
    /// `--no-color`. The NO_COLOR environment variable (set and not empty) does the same.
    public var noColor: Bool
    /// `t` cycles threads 1 … this (default: the cores this process may use).
    public var maxThreads: Int
    /// Optional features the workloads honour (their keys write knobs instead of "coming").
    public var builtFeatures: Set<DashboardFeature>
    /// Where themes are looked for; nil = `ThemeLibrary.defaultDirectories()`.
    public var themeDirectories: [String]?
    /// Environment read for NO_COLOR (and XDG_CONFIG_HOME/HOME when `themeDirectories` is nil).
    public var environment: [String: String]
    /// Never use more colour than this (nil = what the terminal reports).
    public var maxColorDepth: ColorDepth?
    /// The text encoder `v` serves (its name), or nil with `encoderUnavailable` saying why.
    public var encoderName: String?
    public var encoderUnavailable: String?
    /// The generative model `v` serves (its name), or nil with `generatorUnavailable` saying why.
    public var generatorName: String?
    public var generatorUnavailable: String?
    /// The CPU: its model for the header, its ISA tiers for `I`.
    public var cpu: HostCPU

    public init(intervalMs: Int = 100, theme: String? = nil, noColor: Bool = false,
                maxThreads: Int = ProcessInfo.processInfo.activeProcessorCount,
                builtFeatures: Set<DashboardFeature> = [], themeDirectories: [String]? = nil,
                environment: [String: String] = ProcessInfo.processInfo.environment, maxColorDepth: ColorDepth? = nil,
                cpu: HostCPU = .current) {
        self.intervalMs = intervalMs; self.theme = theme; self.noColor = noColor; self.maxThreads = maxThreads
        self.builtFeatures = builtFeatures; self.themeDirectories = themeDirectories; self.environment = environment
        self.maxColorDepth = maxColorDepth; self.cpu = cpu
    }

    /// True when colour is off: `--no-color`, or NO_COLOR set to anything but "".
    public var colorDisabled: Bool { noColor || !(environment["NO_COLOR"] ?? "").isEmpty }

    /// The frame interval actually used, ms.
    public var effectiveIntervalMs: Int { min(max(intervalMs, 10), 10_000) }
}
