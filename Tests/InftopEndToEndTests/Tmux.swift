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

    /// Runs tmux with `args`; returns its output (stdout and stderr), throws on a non-zero exit
    /// when `check`.
    @discardableResult
    func run(_ args: [String], check: Bool = true, capture: Bool = true) throws -> String {
        let (code, text, _): (Int32, String, String)
        do {
            (code, text, _) = try runProcess("tmux", ["-u", "-L", socket] + args, searchPath: true, mergeStderr: true, capture: capture)
        } catch {
            throw NSError(domain: "tmux", code: 1, userInfo: [NSLocalizedDescriptionKey: "cannot start tmux (is it installed?)"])
        }
        if check && code != 0 {
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
