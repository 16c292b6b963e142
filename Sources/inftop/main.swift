import CMapGuard
import Foundation

// Kept tiny: globals in top-level code are slow in hot paths (PLATFORM.md).
// A file size limit (ulimit -f) met while writing: the write fails with EFBIG and inftop says
// so in one line, as for a full disk, rather than dumping core.
signal(SIGXFSZ, SIG_IGN)
mapguard_install()  // a weights file truncated on disk while mapped: one line naming it, not a crash
Inftop.start(Arguments.prepare(Array(CommandLine.arguments.dropFirst()), environment: ProcessInfo.processInfo.environment))
