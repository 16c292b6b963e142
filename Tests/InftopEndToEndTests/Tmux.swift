import Foundation
import XCTest

/// Drives a program in a detached tmux session: keys in with `send-keys`, screen out with
/// `capture-pane`. Each instance uses its own tmux server socket so tests never touch a user's tmux.
final class Tmux {
    let socket: String
    let session = "inftop-e2e"

    init() {
        socket = "inftop-e2e-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
    }

    /// Runs tmux with `args`; returns its output, throws on a non-zero exit when `check`.
    ///
    /// posix_spawn + waitpid rather than Foundation's Process: a tmux client that starts the
    /// server was left a zombie and `waitUntilExit` never returned. Output goes through a file,
    /// never a pipe the daemonised server could inherit and hold open.
    @discardableResult
    func run(_ args: [String], check: Bool = true, capture: Bool = true) throws -> String {
        let outPath = capture ? NSTemporaryDirectory() + "inftop-tmux-\(getpid())-\(UInt32.random(in: 0...UInt32.max))" : "/dev/null"
        defer { if capture { unlink(outPath) } }
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 1, outPath, O_WRONLY | O_CREAT | O_TRUNC, 0o600)
        posix_spawn_file_actions_adddup2(&actions, 1, 2)
        let argv = ["tmux", "-u", "-L", socket] + args
        var cargs: [UnsafeMutablePointer<CChar>?] = argv.map { strdup($0) } + [nil]
        defer { for p in cargs { free(p) } }
        var pid: pid_t = 0
        let rc = posix_spawnp(&pid, "tmux", &actions, nil, &cargs, environ)
        guard rc == 0 else { throw NSError(domain: "tmux", code: Int(rc), userInfo: [NSLocalizedDescriptionKey: "cannot start tmux (is it installed?)"]) }
        var status: Int32 = 0
        while waitpid(pid, &status, 0) < 0 && errno == EINTR {}
        let text = capture ? ((try? String(contentsOfFile: outPath, encoding: .utf8)) ?? "") : ""
        let exited = (status & 0x7f) == 0, code = (status >> 8) & 0xff
        if check && !(exited && code == 0) {
            throw NSError(domain: "tmux", code: Int(code),
                          userInfo: [NSLocalizedDescriptionKey: "tmux \(args.joined(separator: " ")): \(text)"])
        }
        return text
    }

    /// Starts `command` in a new detached session of `width`×`height`.
    func start(_ command: String, width: Int, height: Int, env: [String: String] = [:]) throws {
        // remain-on-exit is set before the session starts, so a program that dies at once still
        // leaves its pane (and its last words) to read.
        var args = ["start-server", ";", "set-option", "-g", "remain-on-exit", "on", ";",
                    "new-session", "-d", "-s", session, "-x", String(width), "-y", String(height)]
        for (k, v) in env { args += ["-e", "\(k)=\(v)"] }
        args.append(command)
        try run(args, capture: false)
    }

    func capture() throws -> String { try run(["capture-pane", "-p", "-t", session]) }

    func send(_ keys: String...) throws { try run(["send-keys", "-t", session] + keys) }

    /// Whether the pane's program has exited (`remain-on-exit` keeps the pane).
    func paneDead() throws -> Bool {
        try run(["display-message", "-p", "-t", session, "#{pane_dead}"]).trimmingCharacters(in: .whitespacesAndNewlines) == "1"
    }

    /// Whether the pane is in the alternate screen (ncurses' smcup).
    func alternateOn() throws -> Bool {
        try run(["display-message", "-p", "-t", session, "#{alternate_on}"]).trimmingCharacters(in: .whitespacesAndNewlines) == "1"
    }

    /// Polls the screen until `predicate` holds or `timeout` seconds pass; returns the last screen.
    func waitFor(timeout: Double, _ predicate: (String) -> Bool) throws -> String {
        let end = Date().addingTimeInterval(timeout)
        var screen = try capture()
        while !predicate(screen) && Date() < end {
            usleep(200_000)
            screen = try capture()
        }
        return screen
    }

    func kill() { _ = try? run(["kill-server"], check: false) }
}

/// The release binary `scripts/test.sh` builds before the tests, found from the test bundle's folder.
func inftopBinary() -> String? {
    var dir = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
    for _ in 0..<4 {
        let candidate = dir.appendingPathComponent("inftop").path
        if FileManager.default.isExecutableFile(atPath: candidate) { return candidate }
        dir = dir.deletingLastPathComponent()
    }
    let cwd = FileManager.default.currentDirectoryPath + "/.build/release/inftop"
    return FileManager.default.isExecutableFile(atPath: cwd) ? cwd : nil
}

/// First capture group of `pattern` in `text`, as an integer.
func firstInt(_ pattern: String, in text: String) -> Int? {
    guard let re = try? NSRegularExpression(pattern: pattern),
          let m = re.firstMatch(in: text, range: NSRange(text.startIndex..., in: text)),
          m.numberOfRanges > 1, let r = Range(m.range(at: 1), in: text) else { return nil }
    return Int(text[r])
}
