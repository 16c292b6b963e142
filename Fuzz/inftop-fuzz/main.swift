// inftop-fuzz TARGET [libFuzzer arguments…]: one libFuzzer binary for every parser (FuzzTargets.swift).
// Built only by scripts/fuzz.sh (INFTOP_FUZZ=1 adds this product to Package.swift).
import CFuzzDriver
import Glibc

/// One line on stderr.
func say(_ line: String) { _ = (line + "\n").withCString { write(2, $0, strlen($0)) } }

let arguments = CommandLine.arguments
if arguments.count == 3, arguments[1] == "write-record-seed" {
    do { try RecordSeed.write(path: arguments[2]); exit(0) } catch { say("write-record-seed: \(error)"); exit(1) }
}
guard arguments.count >= 2, let target = FuzzTargets.named(arguments[1]) else {
    let names = FuzzTargets.all.map(\.name).joined(separator: ", ")
    say("usage: inftop-fuzz TARGET [libFuzzer arguments]; targets: \(names)")
    exit(2)
}
FuzzTargets.selected = target.run

// libFuzzer sees the program name and the arguments after TARGET.
let passed = [arguments[0]] + arguments.dropFirst(2)
let cArgs = UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>.allocate(capacity: passed.count + 1)
for (i, a) in passed.enumerated() { cArgs[i] = strdup(a) }
cArgs[passed.count] = nil
var argc = CInt(passed.count)
var argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>? = cArgs
exit(LLVMFuzzerRunDriver(&argc, &argv) { data, count in
    FuzzTargets.selected(UnsafeRawBufferPointer(start: data, count: count))
    return 0
})
