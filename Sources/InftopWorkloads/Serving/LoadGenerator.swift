import Foundation
import InftopEngine
import Synchronization
import InftopTelemetry

/// Open-loop load: requests arrive as a Poisson process at `ratePerSecond` (exponential gaps),
/// each asking about a random sample of the served inputs. Runs on its own thread
/// (`JoinableThread`) and never waits for the server, so queueing delay shows up in latency as
/// it would for a client. Arrival times come from `clock`.
public final class LoadGenerator: @unchecked Sendable {
    public let queue: RequestQueue
    private let sampleCount: Int
    private let stopFlag = StopFlag()
    private var thread: JoinableThread?
    private let clock: any NanoClock
    /// Requests offered per second (> 0). Read by the generator thread at each arrival.
    public var ratePerSecond: Double

    /// - Parameters:
    ///   - sampleCount: samples in the evaluation set (> 0).
    ///   - ratePerSecond: mean arrival rate (> 0).
    public init(queue: RequestQueue, sampleCount: Int, ratePerSecond: Double, seed: UInt64 = 7, clock: any NanoClock = SystemClock()) {
        precondition(sampleCount > 0 && ratePerSecond > 0, "LoadGenerator: need samples > 0 and rate > 0")
        self.queue = queue
        self.sampleCount = sampleCount
        self.ratePerSecond = ratePerSecond
        self.seed = seed
        self.clock = clock
    }
    private let seed: UInt64

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

    private func run() {
        var rng = SeededRandom(seed: seed)
        var next = clock.now()
        while !stopFlag.isSet {
            // Exponential inter-arrival gap: -ln(U)/rate.
            let u = max(Double(rng.next() >> 11) / Double(1 << 53), 1e-12)  // uniform in (0, 1)
            next &+= UInt64(-log(u) / ratePerSecond * 1e9)
            let now = clock.now()
            if next > now {
                let wait = next - now
                if wait > 200_000 { usleep(UInt32(min(wait / 1000, 50_000))) }
                // Short gaps: yield rather than spin, keeping the generator's CPU small.
                while clock.now() < next && !stopFlag.isSet { sched_yield() }
            }
            queue.push(Request(sample: Int32(rng.nextInt(below: sampleCount)), arrivalNanos: next))
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
