import Foundation
import InftopEngine
import Synchronization
import InftopTelemetry

/// What the load generator offers, read at every arrival (the `L`, `<`/`>` and `z` knobs).
public struct LoadSettings: Sendable, Equatable {
    public var scenario: LoadScenario
    /// Server scenario's mean arrival rate, requests/s (> 0).
    public var ratePerSecond: Double
    /// Fraction of requests drawn from the hot set, [0, 1].
    public var repeatFraction: Double
    /// Offline scenario: queries queued at once per block.
    public var offlineBlock: Int

    public init(scenario: LoadScenario = .server, ratePerSecond: Double, repeatFraction: Double = 0, offlineBlock: Int = 1024) {
        self.scenario = scenario; self.ratePerSecond = ratePerSecond
        self.repeatFraction = repeatFraction; self.offlineBlock = offlineBlock
    }
}

/// Offers requests the way MLPerf LoadGen's scenarios do, each asking about a sample chosen by
/// a `RequestMix`:
/// - Server: open loop, Poisson arrivals at `ratePerSecond` (exponential gaps) on the
///   generator's own thread (`JoinableThread`), never waiting for the server, so queueing delay
///   shows in latency as a client would see it;
/// - SingleStream: closed loop, the next query is issued when the previous one is answered
///   (from the answering worker, in `didAnswer`);
/// - Offline: a block of `offlineBlock` queries queued at once, the next block when all are
///   answered.
/// Arrival times come from `clock`.
public final class LoadGenerator: @unchecked Sendable {
    public let queue: RequestQueue
    private let sampleCount: Int
    private let stopFlag = StopFlag()
    private var thread: JoinableThread?
    private let clock: any NanoClock
    private let seed: UInt64

    private struct State {
        var settings: LoadSettings
        var mix: RequestMix
        var rng: SeededRandom
        /// Queries queued (not dropped) and answered, over the generator's life.
        var issued = 0
        var answered = 0
        var repeats = 0
    }
    private let state: Locked<State>

    /// - Parameters:
    ///   - sampleCount: inputs requests draw from (> 0).
    ///   - settings: the scenario, rate (> 0) and repeat fraction to start with.
    public init(queue: RequestQueue, sampleCount: Int, settings: LoadSettings, seed: UInt64 = 7, clock: any NanoClock = SystemClock()) {
        precondition(sampleCount > 0 && settings.ratePerSecond > 0, "LoadGenerator: need samples > 0 and rate > 0")
        self.queue = queue
        self.sampleCount = sampleCount
        self.seed = seed
        self.clock = clock
        var rng = SeededRandom(seed: seed)
        let mix = RequestMix(sampleCount: sampleCount, repeatFraction: settings.repeatFraction, rng: &rng)
        state = Locked(State(settings: settings, mix: mix, rng: rng))
    }

    /// Server load at `ratePerSecond`, uniform draws (the serving tests' generator).
    public convenience init(queue: RequestQueue, sampleCount: Int, ratePerSecond: Double, seed: UInt64 = 7, clock: any NanoClock = SystemClock()) {
        self.init(queue: queue, sampleCount: sampleCount, settings: LoadSettings(ratePerSecond: ratePerSecond), seed: seed, clock: clock)
    }

    public var settings: LoadSettings {
        get { state.withLock { $0.settings } }
        set {
            precondition(newValue.ratePerSecond > 0 && newValue.offlineBlock >= 1, "LoadGenerator: rate and block must be > 0")
            state.withLock { s in
                s.settings = newValue
                s.mix.repeatFraction = min(1, max(0, newValue.repeatFraction))
            }
        }
    }

    /// Requests offered per second (Server scenario).
    public var ratePerSecond: Double { settings.ratePerSecond }

    /// (queued, answered, of which drawn as repeats) since start.
    public var counts: (issued: Int, answered: Int, repeats: Int) { state.withLock { ($0.issued, $0.answered, $0.repeats) } }

    public func start() {
        precondition(thread == nil, "LoadGenerator: start() called twice")
        thread = JoinableThread(name: "inftop-loadgen") { [unowned(unsafe) self] in self.run() }
    }

    /// Stops the generator and joins its thread.
    public func stop() {
        stopFlag.set()
        thread?.join()
    }

    deinit { stop() }

    /// A Poisson process's next inter-arrival gap at `rate`/s, in seconds: −ln(U)/rate.
    public static func exponentialGap(_ rng: inout SeededRandom, rate: Double) -> Double {
        let u = max(Double(rng.next() >> 11) / Double(1 << 53), 1e-12)  // uniform in (0, 1)
        return -log(u) / rate
    }

    /// Called by a worker when `n` requests were answered: in SingleStream and Offline, issues
    /// the next query (block) once every outstanding one is answered.
    public func didAnswer(_ n: Int) {
        state.withLock { s in
            s.answered += n
            issueClosedLoopIfIdle(&s)
        }
    }

    /// Queues `n` requests arriving at `now` (one draw each); returns how many were queued.
    private func offer(_ s: inout State, count n: Int, at now: UInt64) {
        for _ in 0..<n {
            let (sample, isRepeat) = s.mix.next(&s.rng)
            if queue.push(Request(sample: sample, arrivalNanos: now)) {
                s.issued += 1
                if isRepeat { s.repeats += 1 }
            }
        }
    }

    private func issueClosedLoopIfIdle(_ s: inout State) {
        guard s.settings.scenario != .server, s.answered >= s.issued else { return }
        offer(&s, count: s.settings.scenario == .single ? 1 : s.settings.offlineBlock, at: clock.now())
    }

    private func run() {
        var next = clock.now()
        var wasServer = false
        while !stopFlag.isSet {
            let scenario = state.withLock { $0.settings.scenario }
            guard scenario == .server else {
                // Closed loops run from the workers' answers; this only starts one (at start,
                // or after a switch once the last open-loop request is answered).
                state.withLock { issueClosedLoopIfIdle(&$0) }
                wasServer = false
                usleep(5_000)
                continue
            }
            if !wasServer { next = clock.now(); wasServer = true }
            let gap = state.withLock { s in Self.exponentialGap(&s.rng, rate: s.settings.ratePerSecond) }
            next &+= UInt64(gap * 1e9)
            // Sleep until the arrival (in slices of ≤ 50 ms, so stop and a scenario switch are
            // seen); never spin: at thousands of requests per second a yielding loop took a core
            // from the server it measures. A late wake-up shows as the request's queueing time —
            // its arrival stays the scheduled one, as for a client whose request was sent then.
            while !stopFlag.isSet {
                let now = clock.now()
                guard next > now else { break }
                usleep(UInt32(max(1, min((next - now) / 1000, 50_000))))
            }
            let at = next
            state.withLock { offer(&$0, count: 1, at: at) }
        }
    }
}

/// A flag one thread sets and others poll.
public final class StopFlag: Sendable {
    private let flag = Atomic<Bool>(false)
    public init() {}
    public func set() { flag.store(true, ordering: .releasing) }
    public var isSet: Bool { flag.load(ordering: .acquiring) }
}
