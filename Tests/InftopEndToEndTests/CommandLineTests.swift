import Foundation
import XCTest

/// The release binary on bad command lines: one line on stderr that names the command and what
/// is wrong, exit status 2, nothing on stdout.
final class CommandLineTests: XCTestCase {
    func testBadCommandLinesGetOneLineAndStatus2() throws {
        guard let bin = inftopBinary() else { throw XCTSkip("no release binary (scripts/test.sh builds it first)") }
        let cases: [([String], String)] = [
            (["bench", "--bogus"], "inftop bench: Unknown option '--bogus'"),
            (["train", "--epochs"], "inftop train: Missing value for '--epochs <epochs>'"),
            (["train", "--batch", "lots"], "inftop train:"),
            (["train", "--batch", "0"], "inftop train: --batch 0: must be 1…1024"),
        ]
        for (args, start) in cases {
            let (status, out, err) = try runProcess(bin, args)
            XCTAssertEqual(status, 2, "\(args): status")
            XCTAssertEqual(out, "", "\(args): stdout")
            let lines = err.split(separator: "\n", omittingEmptySubsequences: true)
            XCTAssertEqual(lines.count, 1, "\(args): stderr is \(err.debugDescription)")
            XCTAssertTrue(err.hasPrefix(start), "\(args): stderr is \(err.debugDescription)")
        }
        // Help is still help: the usage text and status 0.
        let (status, out, _) = try runProcess(bin, ["bench", "--help"])
        XCTAssertEqual(status, 0)
        XCTAssertTrue(out.contains("USAGE: inftop bench"), out)
    }
}

/// Runs `path args` with stdin from /dev/null; returns (exit status, stdout, stderr).
/// posix_spawn with output through files, as `Tmux.run` does (Foundation's Process hung here).
func runProcess(_ path: String, _ args: [String]) throws -> (Int32, String, String) {
    let base = NSTemporaryDirectory() + "inftop-cli-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
    let outPath = base + ".out", errPath = base + ".err"
    defer { unlink(outPath); unlink(errPath) }
    var actions = posix_spawn_file_actions_t()
    posix_spawn_file_actions_init(&actions)
    defer { posix_spawn_file_actions_destroy(&actions) }
    posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
    posix_spawn_file_actions_addopen(&actions, 1, outPath, O_WRONLY | O_CREAT | O_TRUNC, 0o600)
    posix_spawn_file_actions_addopen(&actions, 2, errPath, O_WRONLY | O_CREAT | O_TRUNC, 0o600)
    let argv = [path] + args
    var cargs: [UnsafeMutablePointer<CChar>?] = argv.map { strdup($0) } + [nil]
    defer { for p in cargs { free(p) } }
    var pid: pid_t = 0
    let rc = posix_spawn(&pid, path, &actions, nil, &cargs, environ)
    guard rc == 0 else { throw NSError(domain: "spawn", code: Int(rc)) }
    var status: Int32 = 0
    while waitpid(pid, &status, 0) < 0 && errno == EINTR {}
    let out = (try? String(contentsOfFile: outPath, encoding: .utf8)) ?? ""
    let err = (try? String(contentsOfFile: errPath, encoding: .utf8)) ?? ""
    return ((status & 0x7f) == 0 ? (status >> 8) & 0xff : 128 + (status & 0x7f), out, err)
}
