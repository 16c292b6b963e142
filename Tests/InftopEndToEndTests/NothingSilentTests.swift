import Foundation
import XCTest

/// What inftop changes on the user's behalf is said once, on stderr and on the footer: a config
/// key it does not know, a knob value it clamps, a kernel tier it falls back from (a missing
/// theme: CommandLineTests and AppLoopTests).
final class NothingSilentTests: XCTestCase {
    /// A record made on a wider machine (isa avx512, a training batch beyond 1…1024 after a
    /// hand edit) re-run where AVX-512 is missing (hidden here with INFTOP_HIDE_ISA): the
    /// fallback and the clamp are each one line, however many ticks re-apply them.
    func testRerunSaysTheISAFallbackAndTheClampedBatchOnce() throws {
        let bin = try inftopWithFashionMNIST()
        let dir = try freshTestDirectory("silent")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let record = dir + "/run.jsonl"
        let (s0, _, e0) = try runProcess(bin, ["-n", "3", "--interval", "50", "--record", record])
        XCTAssertEqual(s0, 0, e0)
        var text = try String(contentsOfFile: record, encoding: .utf8)
        text = text.replacingOccurrences(of: #""isa":"(auto|avx2|avx512)""#, with: #""isa":"avx512""#, options: .regularExpression)
        text = text.replacingOccurrences(of: #""knobs":{"batchSize":64"#, with: #""knobs":{"batchSize":5000"#)
        try text.write(toFile: record, atomically: true, encoding: .utf8)

        let (status, _, err) = try runProcess(bin, ["replay", record, "--rerun"], environment: ["INFTOP_HIDE_ISA": "avx512"])
        XCTAssertEqual(status, 0, err)
        let lines = err.split(separator: "\n").map(String.init)
        XCTAssertEqual(lines.filter { $0.hasPrefix("inftop: isa avx512: not available on this CPU (") && $0.hasSuffix("); the kernels run avx2") }.count, 1, err)
        XCTAssertEqual(lines.filter { $0 == "inftop: training batch 5000 is outside 1…1024; clamped to 1024" }.count, 1, err)
        XCTAssertEqual(lines.count, 2, "nothing else: \(err)")
    }

    /// An unknown key in the config file: the line is on the dashboard's footer, and once on
    /// stderr.
    func testUnknownConfigKeyIsOnTheFooterAndOnceOnStderr() throws {
        let bin = try inftopWithFashionMNIST()
        let dir = try freshTestDirectory("silent-conf")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let conf = dir + "/inftop.conf"
        try "batch = 32\ncolour = blue\n".write(toFile: conf, atomically: true, encoding: .utf8)
        let tmux = Tmux()
        defer { tmux.kill() }
        try tmux.start(bin, width: 200, height: 40, env: ["INFTOP_CONFIG": conf])
        let screen = try tmux.waitFor(timeout: 20) { $0.contains("unknown key 'colour'") && $0.contains("batch 32") }
        XCTAssertTrue(screen.contains("inftop.conf:2: unknown key 'colour'"), "the footer says it:\n\(screen)")
        XCTAssertTrue(screen.contains("batch 32"), "the known key applies:\n\(screen)")
        try tmux.send("q")
        tmux.kill()
        // Without the screen (a frame to stdout): the same line, once on stderr.
        let (status, _, err) = try runProcess(bin, ["-n", "2", "--interval", "50"], environment: ["INFTOP_CONFIG": conf])
        XCTAssertEqual(status, 0, err)
        XCTAssertEqual(err.components(separatedBy: "unknown key 'colour'").count - 1, 1, "said once on stderr: \(err)")
    }
}
