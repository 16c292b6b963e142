import Foundation
import XCTest

/// The terminal the dashboard runs in goes away (the window closed, the ssh link dropped): the
/// kernel hangs the pty up (SIGHUP to the foreground process) and every later write to it fails
/// with EIO. inftop must end within seconds — not spin on the dead terminal, not linger as an
/// orphan holding the model and a core busy — and what it was recording is complete.
final class TerminalClosedTests: XCTestCase {
    func testClosingTheTerminalEndsTheDashboardAndKeepsTheRecord() throws {
        let bin = try inftopWithFashionMNIST()
        let dir = try freshTestDirectory("hangup")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let record = dir + "/run.jsonl"
        let tmux = Tmux()
        defer { tmux.kill() }
        try tmux.start("\(bin) --interval 100 --record \(record)", width: 120, height: 40)
        let screen = try tmux.waitFor(timeout: 20) { $0.contains("REC") && $0.contains("q:quit") }
        XCTAssertTrue(screen.contains("REC"), "the dashboard records:\n\(screen)")
        sleep(1)
        let pid = try XCTUnwrap(Int32(try tmux.run(["display-message", "-p", "-t", tmux.session, "#{pane_pid}"])
                                        .trimmingCharacters(in: .whitespacesAndNewlines)))
        // Running, not a zombie (once the tmux server is gone nobody may reap it at once).
        func running(_ pid: Int32) -> Bool {
            guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
                  let close = stat.lastIndex(of: ")") else { return false }
            return !stat[stat.index(close, offsetBy: 2)...].hasPrefix("Z")
        }
        XCTAssertTrue(running(pid), "inftop runs as the pane's process")

        // Close the terminal: the tmux server goes, its ptys are hung up.
        tmux.kill()
        let end = Date().addingTimeInterval(10)
        while running(pid) && Date() < end { usleep(50_000) }
        XCTAssertFalse(running(pid), "inftop ended within 10 s of its terminal closing")

        let (status, check, err) = try runProcess(bin, ["replay", record, "--check"])
        XCTAssertEqual(status, 0, err)
        XCTAssertFalse(check.contains("incomplete"), "every line of the record is whole: \(check)")
        XCTAssertGreaterThan(firstInt("(\\d+) ticks", in: check) ?? 0, 0, "ticks recorded: \(check)")
    }
}
