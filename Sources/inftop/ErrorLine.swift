#if canImport(Glibc)
import Glibc
#endif

/// The answer to every bad input: one line on stderr, `inftop <command>: <message>` (bare
/// `inftop: <message>` for the dashboard, which is the command with no name), then exit status
/// 2 — or `status` (1 for a run that failed after starting, e.g. a checkpoint that could not be
/// written). Written with write(2), unbuffered, so the line is out before the process ends.
func exitWithErrorLine(_ command: String, _ message: String, status: Int32 = 2, then: (() -> Void)? = nil) -> Never {
    let line = (command.isEmpty ? "inftop" : "inftop \(command)") + ": " + message + "\n"
    _ = line.withCString { write(2, $0, strlen($0)) }
    then?()
    exit(status)
}
