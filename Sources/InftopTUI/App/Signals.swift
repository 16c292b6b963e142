import Synchronization
import CNCurses
#if canImport(Glibc)
import Glibc
#endif

/// Signal handling for the dashboard. ncurses' own SIGINT/SIGTERM handlers call `endwin` but
/// skip our cleanup (PLATFORM.md), so we install ours before ncurses starts (it then leaves
/// them alone): SIGINT, SIGTERM, SIGHUP and SIGQUIT only set a flag the loop polls (it wakes
/// at least every frame); a fatal signal (SIGSEGV, SIGBUS, SIGILL — Swift's traps —, SIGTRAP,
/// SIGABRT, SIGFPE) restores the terminal with `endwin`, gives stderr back (replaying what
/// was written to it meanwhile, e.g. Swift's "Fatal error: …" line), puts the previous
/// handler back and re-raises, so the crash still reports as it would have.
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
            StderrCapture.restore()
            sigaction(sig, DashboardSignals.saved + Int(sig), nil)
            raise(sig)
        }
        sigemptyset(&fatal.sa_mask)
        fatal.sa_flags = Int32(truncatingIfNeeded: SA_RESETHAND)   // 0x80000000: does not fit Int32 as a value
        for s in fatalSignals { sigaction(s, &fatal, nil) }
    }

    static func uninstall() {
        for s in quitSignals + fatalSignals { sigaction(s, saved + Int(s), nil) }
    }
}

/// While the dashboard owns the screen, stderr goes to an unlinked temporary file so stray
/// writes (library warnings, Swift's fatal-error line) cannot scribble over the panels; on
/// the way out it is given back and what was written is copied to it. `restore` uses only
/// async-signal-safe calls (dup2, lseek, read, write, close): the fatal handler calls it.
enum StderrCapture {
    nonisolated(unsafe) static var savedFD: Int32 = -1
    nonisolated(unsafe) static var captureFD: Int32 = -1

    static func start() {
        guard savedFD < 0 else { return }
        var template = Array("/tmp/inftop-stderr-XXXXXX".utf8CString)
        let fd = template.withUnsafeMutableBufferPointer { mkstemp($0.baseAddress!) }
        guard fd >= 0 else { return }
        template.withUnsafeBufferPointer { _ = unlink($0.baseAddress!) }
        let saved = dup(STDERR_FILENO)
        guard saved >= 0, dup2(fd, STDERR_FILENO) >= 0 else { close(fd); if saved >= 0 { close(saved) }; return }
        savedFD = saved; captureFD = fd
    }

    static func restore() {
        let saved = savedFD, fd = captureFD
        guard saved >= 0 else { return }
        savedFD = -1; captureFD = -1
        dup2(saved, STDERR_FILENO)
        close(saved)
        lseek(fd, 0, SEEK_SET)
        var buf = (UInt64(0), UInt64(0), UInt64(0), UInt64(0), UInt64(0), UInt64(0), UInt64(0), UInt64(0))
        withUnsafeMutableBytes(of: &buf) { b in
            while true {
                let n = read(fd, b.baseAddress, b.count)
                if n <= 0 { break }
                _ = write(STDERR_FILENO, b.baseAddress, n)
            }
        }
        close(fd)
    }
}
