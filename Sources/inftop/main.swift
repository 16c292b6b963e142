import ArgumentParser

// Kept tiny: globals in top-level code are slow in hot paths (PLATFORM.md).
Inftop.main()
