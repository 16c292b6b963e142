import CMapGuard
import Foundation

// Kept tiny: globals in top-level code are slow in hot paths (PLATFORM.md).
mapguard_install()  // a weights file truncated on disk while mapped: one line naming it, not a crash
Inftop.start(Arguments.prepare(Array(CommandLine.arguments.dropFirst()), environment: ProcessInfo.processInfo.environment))
