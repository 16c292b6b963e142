import InftopTelemetry

/// Where a replay is: a position in record time, moving at `speed` × the wall clock unless
/// paused. A pure state machine: the caller gives it the wall time (tests give any).
///
/// Keys (`handle`): space pauses/resumes, ← / → seek 5 s back / forward (one tick when
/// paused), `+` / `>` double the speed, `-` / `<` halve it (1/16 … 64×), Home / End jump to the
/// start / end. Every other key is not the player's (nil).
public struct ReplayPlayer: Sendable {
    public let frames: [RecordFrame]
    public private(set) var position: Double
    public private(set) var speed: Double
    public private(set) var paused = false
    private var wallMark: Double

    public static let seekSeconds = 5.0
    public static let speeds = (min: 1.0 / 16, max: 64.0)

    /// - Parameters: frames: at least one, in time order; speed: > 0; wall: the wall time now.
    public init(frames: [RecordFrame], speed: Double = 1, wall: Double) {
        precondition(!frames.isEmpty, "ReplayPlayer: no frames")
        self.frames = frames
        self.speed = min(max(speed, Self.speeds.min), Self.speeds.max)
        position = frames[0].time
        wallMark = wall
    }

    public var start: Double { frames[0].time }
    public var end: Double { frames[frames.count - 1].time }

    /// Moves the position to `wall` (stops at the end).
    public mutating func advance(wall: Double) {
        if !paused { position = min(end, position + (wall - wallMark) * speed) }
        wallMark = wall
    }

    /// The index of the frame shown at the current position: the last one at or before it.
    public var index: Int {
        var lo = 0, hi = frames.count - 1
        while lo < hi {
            let mid = (lo + hi + 1) / 2
            if frames[mid].time <= position + 1e-9 { lo = mid } else { hi = mid - 1 }
        }
        return lo
    }

    public var frame: RecordFrame { frames[index] }
    public var atEnd: Bool { index == frames.count - 1 }

    /// Jumps to frame `i` (clamped).
    public mutating func seek(toFrame i: Int) { position = frames[min(max(i, 0), frames.count - 1)].time }

    /// Applies a replay key at `wall`; returns the status to show, nil when the key is not the player's.
    public mutating func handle(_ key: ReplayKey, wall: Double) -> String {
        advance(wall: wall)
        switch key {
        case .pause: paused.toggle()
        case .back, .forward:
            if paused { seek(toFrame: index + (key == .back ? -1 : 1)) }
            else { position = min(end, max(start, position + (key == .back ? -1 : 1) * Self.seekSeconds)) }
        case .faster: speed = min(Self.speeds.max, speed * 2)
        case .slower: speed = max(Self.speeds.min, speed / 2)
        case .home: position = start
        case .end: position = end
        }
        return statusText
    }

    /// "replay ▶ 1× · tick 120/600 · 12.0 s / 60.0 s".
    public var statusText: String {
        let sp = speed >= 1 ? "\(Int(speed))×" : "1/\(Int((1 / speed).rounded()))×"
        return "replay \(paused ? "⏸" : "▶") \(sp) · tick \(index + 1)/\(frames.count) · "
            + "\(Self.seconds(position - start)) / \(Self.seconds(end - start)) — space pause · ← → seek · < > speed · q quit"
    }

    static func seconds(_ s: Double) -> String {
        let tenths = Int((s * 10).rounded())
        return "\(tenths / 10).\(tenths % 10) s"
    }
}

/// The keys a replay understands (the CLI maps terminal keys to these).
public enum ReplayKey: Sendable, Equatable { case pause, back, forward, faster, slower, home, end }
