import Synchronization
import CNCurses
#if canImport(Glibc)
import Glibc
#endif

/// Signal handling for the dashboard. ncurses' own SIGINT/SIGTERM handlers call `endwin` but
/// skip our cleanup (PLATFORM.md), so we install ours before ncurses starts (it then leaves
/// them alone): SIGINT, SIGTERM, SIGHUP and SIGQUIT only set a flag the loop polls (it wakes
/// at least every frame); a fatal signal (SIGSEGV, SIGBUS, SIGILL — Swift's traps —, SIGTRAP,
/// SIGABRT, SIGFPE) restores the terminal with `endwin`, puts the previous handler back and
/// re-raises, so the crash still reports as it would have.
enum DashboardSignals {
    /// The last quit signal received (0 = none).
    static let received = Atomic<Int32>(0)

    static let quitSignals: [Int32] = [SIGINT, SIGTERM, SIGHUP, SIGQUIT]
    static let fatalSignals: [Int32] = [SIGSEGV, SIGBUS, SIGILL, SIGTRAP, SIGABRT, SIGFPE]

    /// Previous actions, indexed by signal number; written before handlers are installed,
    /// read by them (a fixed buffer: signal handlers must not touch Swift collections).
    nonisolated(unsafe) static let saved = UnsafeMutablePointer<sigaction>.allocate(capacity: 65)

    static func install() {
        received.store(0, ordering: .relaxed)
        for s in quitSignals + fatalSignals { sigaction(s, nil, saved + Int(s)) }
        var quit = sigaction()
        quit.__sigaction_handler.sa_handler = { sig in DashboardSignals.received.store(sig, ordering: .relaxed) }
        sigemptyset(&quit.sa_mask)
        quit.sa_flags = 0   // no SA_RESTART: a blocking read returns so the loop sees the flag
        for s in quitSignals { sigaction(s, &quit, nil) }
        var fatal = sigaction()
        fatal.__sigaction_handler.sa_handler = { sig in
            endwin()
            sigaction(sig, DashboardSignals.saved + Int(sig), nil)
            raise(sig)
        }
        sigemptyset(&fatal.sa_mask)
        fatal.sa_flags = Int32(SA_RESETHAND)
        for s in fatalSignals { sigaction(s, &fatal, nil) }
    }

    static func uninstall() {
        for s in quitSignals + fatalSignals { sigaction(s, saved + Int(s), nil) }
    }
}
