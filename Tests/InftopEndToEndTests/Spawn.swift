import Foundation
import XCTest

/// Runs `program args` with stdin from /dev/null and waits; returns (exit status, stdout,
/// stderr) — `128 + signal` when it was killed. `searchPath` looks `program` up in PATH.
/// `mergeStderr` sends stderr to the stdout file (stderr comes back empty); `capture: false`
/// sends both to /dev/null.
///
/// posix_spawn + waitpid rather than Foundation's Process: a tmux client that starts the server
/// was left a zombie and `waitUntilExit` never returned. Output goes through files, never a pipe
/// a daemonised child (the tmux server) could inherit and hold open.
func runProcess(_ program: String, _ args: [String], searchPath: Bool = false, mergeStderr: Bool = false,
                capture: Bool = true, environment extra: [String: String] = [:]) throws -> (Int32, String, String) {
    let base = NSTemporaryDirectory() + "inftop-spawn-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
    let outPath = capture ? base + ".out" : "/dev/null", errPath = capture ? base + ".err" : "/dev/null"
    defer { if capture { unlink(outPath); unlink(errPath) } }
    var actions = posix_spawn_file_actions_t()
    posix_spawn_file_actions_init(&actions)
    defer { posix_spawn_file_actions_destroy(&actions) }
    posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
    posix_spawn_file_actions_addopen(&actions, 1, outPath, O_WRONLY | O_CREAT | O_TRUNC, 0o600)
    if mergeStderr {
        posix_spawn_file_actions_adddup2(&actions, 1, 2)
    } else {
        posix_spawn_file_actions_addopen(&actions, 2, errPath, O_WRONLY | O_CREAT | O_TRUNC, 0o600)
    }
    var cargs: [UnsafeMutablePointer<CChar>?] = ([program] + args).map { strdup($0) } + [nil]
    defer { for p in cargs { free(p) } }
    // The caller's environment, with `extra` set on top (e.g. INFTOP_HIDE_ISA).
    var env = ProcessInfo.processInfo.environment
    for (k, v) in extra { env[k] = v }
    var cenv: [UnsafeMutablePointer<CChar>?] = env.map { strdup("\($0.key)=\($0.value)") } + [nil]
    defer { for p in cenv { free(p) } }
    var pid: pid_t = 0
    let rc = searchPath ? posix_spawnp(&pid, program, &actions, nil, &cargs, &cenv)
                        : posix_spawn(&pid, program, &actions, nil, &cargs, &cenv)
    guard rc == 0 else {
        throw NSError(domain: "spawn", code: Int(rc), userInfo: [NSLocalizedDescriptionKey: "cannot start \(program) (errno \(rc))"])
    }
    var status: Int32 = 0
    while waitpid(pid, &status, 0) < 0 && errno == EINTR {}
    let out = capture ? ((try? String(contentsOfFile: outPath, encoding: .utf8)) ?? "") : ""
    let err = capture && !mergeStderr ? ((try? String(contentsOfFile: errPath, encoding: .utf8)) ?? "") : ""
    return ((status & 0x7f) == 0 ? (status >> 8) & 0xff : 128 + (status & 0x7f), out, err)
}

/// The release binary, when Fashion-MNIST is installed too; a skip naming what is missing.
func inftopWithFashionMNIST() throws -> String {
    guard let bin = inftopBinary() else { throw XCTSkip("no release binary (scripts/test.sh builds it first)") }
    guard FileManager.default.fileExists(atPath: "/usr/share/datasets/fashion-mnist") else {
        throw XCTSkip("no Fashion-MNIST (scripts/setup.sh installs it)")
    }
    return bin
}

/// An empty folder of this test process under the temporary directory (one left over from an
/// earlier run is emptied); the caller removes it.
func freshTestDirectory(_ name: String) throws -> String {
    let dir = NSTemporaryDirectory() + "inftop-\(name)-\(getpid())"
    try? FileManager.default.removeItem(atPath: dir)
    try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
    return dir
}
