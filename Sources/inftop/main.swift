import Foundation

// Kept tiny: globals in top-level code are slow in hot paths (PLATFORM.md).
Inftop.start(Arguments.prepare(Array(CommandLine.arguments.dropFirst()), environment: ProcessInfo.processInfo.environment))
