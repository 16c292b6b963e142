import Glibc
import Synchronization

/// SIGINT, SIGTERM and SIGHUP end `inftop serve` and `inftop train` cleanly instead of killing
/// them mid-write: the handler only stores the signal's number, and the command's own loop polls
/// it, stops its work at the next safe point (a training step boundary: a checkpoint being
/// written is finished and renamed first), closes traces and records, and says so in one line.
enum QuitSignals {
    /// The last quit signal received, 0 while none.
    static let received = Atomic<Int32>(0)
    static let handled: [Int32] = [SIGINT, SIGTERM, SIGHUP]

    static func install() {
        var a = sigaction()
        a.__sigaction_handler.sa_handler = { sig in QuitSignals.received.store(sig, ordering: .relaxed) }
        sigemptyset(&a.sa_mask)
        for s in handled { sigaction(s, &a, nil) }
    }

    /// "SIGTERM" for 15, and so on.
    static func name(_ sig: Int32) -> String {
        switch sig {
        case SIGINT: return "SIGINT"
        case SIGTERM: return "SIGTERM"
        case SIGHUP: return "SIGHUP"
        default: return "signal \(sig)"
        }
    }
}
