import Foundation
import XCTest

/// Launches the release `inftop` in tmux at 120×40 as a user would, and checks the live screen:
/// panels present, step counter and loss moving, `+` doubling the batch in the header, `?`
/// opening help, `q` ending the process and leaving the alternate screen.
final class DashboardEndToEndTests: XCTestCase {
    /// The release binary launched in tmux at 120×40 (skips without Fashion-MNIST).
    private func launch() throws -> Tmux {
        guard let bin = inftopBinary() else {
            XCTFail("no release inftop binary beside the tests: run `swift build -c release` first (scripts/test.sh does)")
            throw XCTSkip("no binary")
        }
        guard FileManager.default.fileExists(atPath: "/usr/share/datasets/fashion-mnist") else {
            throw XCTSkip("Fashion-MNIST not installed (bash scripts/setup.sh installs it)")
        }
        let tmux = Tmux()
        try tmux.start(bin, width: 120, height: 40)
        return tmux
    }

    func testDashboardLiveInTmux() throws {
        let tmux = try launch()
        defer { tmux.kill() }

        // Within a few seconds: every panel, and training steps counting.
        let first = try tmux.waitFor(timeout: 15) { s in
            (firstInt(#"step ([0-9,]+)"#, in: s.replacingOccurrences(of: ",", with: "")) ?? 0) > 0 && s.contains("loss ")
        }
        for panel in ["Training", "Layers", "Latency", "Memory", "q:quit"] {
            XCTAssertTrue(first.contains(panel), "panel '\(panel)' missing from:\n\(first)")
        }
        XCTAssertTrue(first.contains("batch 64"), "header shows the batch size:\n\(first)")
        let step1 = try XCTUnwrap(firstInt(#"step ([0-9]+)"#, in: first.replacingOccurrences(of: ",", with: "")))
        let loss1 = lossLine(first)

        sleep(3)
        let second = try tmux.capture()
        let step2 = try XCTUnwrap(firstInt(#"step ([0-9]+)"#, in: second.replacingOccurrences(of: ",", with: "")))
        XCTAssertGreaterThan(step2, step1, "the step counter moved")
        XCTAssertNotEqual(lossLine(second), loss1, "the loss line moved")

        // `+` doubles the batch size; the header shows it.
        try tmux.send("+")
        let doubled = try tmux.waitFor(timeout: 5) { $0.contains("batch 128") }
        XCTAssertTrue(doubled.contains("batch 128"), "after +, header shows batch 128:\n\(doubled)")

        // `?` opens the help overlay; Esc closes it.
        try tmux.send("?")
        let help = try tmux.waitFor(timeout: 5) { $0.contains("Help") && $0.contains("quit") }   // a whole frame, not one caught mid-draw
        XCTAssertTrue(help.contains("Help"), "help overlay:\n\(help)")
        XCTAssertTrue(help.contains("quit"))
        try tmux.send("Escape")

        // `q` quits and the terminal leaves the alternate screen.
        try tmux.send("q")
        let end = Date().addingTimeInterval(10)
        while try !tmux.paneDead(), Date() < end { usleep(100_000) }
        XCTAssertTrue(try tmux.paneDead(), "inftop ended after q")
        XCTAssertFalse(try tmux.alternateOn(), "the terminal left the alternate screen")
        let after = try tmux.capture()
        XCTAssertFalse(after.contains("q:quit"), "the dashboard is gone from the screen after q:\n\(after)")
    }

    /// The Training panel's figures line ("loss … test … acc … samples/s").
    private func lossLine(_ screen: String) -> String {
        screen.split(separator: "\n").first { $0.contains("loss ") && $0.contains("acc") }.map(String.init) ?? ""
    }

    /// `v` serves the installed MiniLM while training goes on: within 5 s the header names the
    /// encoder and the layer table lists its nodes with live times; `v` again the generator (when
    /// installed: it streams, `K` turns its KV cache off), then mlp.
    func testVServesTheEncoderWhileTrainingGoesOn() throws {
        let tmux = try launch()
        defer { tmux.kill() }
        let first = try tmux.waitFor(timeout: 20) { s in
            (firstInt(#"step ([0-9,]+)"#, in: s.replacingOccurrences(of: ",", with: "")) ?? 0) > 0
        }
        XCTAssertTrue(first.contains("serve running"), "serving the trained mlp:\n\(first)")
        let step1 = try XCTUnwrap(firstInt(#"step ([0-9]+)"#, in: first.replacingOccurrences(of: ",", with: "")))
        try tmux.send("v")
        let start = Date()
        let encoder = try tmux.waitFor(timeout: 5) { s in s.contains("minilm") && s.contains("L0.qkv") && s.contains("cos ") }
        XCTAssertLessThanOrEqual(Date().timeIntervalSince(start), 5.5)
        XCTAssertTrue(encoder.contains("minilm"), "header names the encoder:\n\(encoder)")
        for node in ["L0.qkv", "L0.attention", "L0.ffn_up"] {
            XCTAssertTrue(encoder.contains(node), "layer table lists \(node):\n\(encoder)")
        }
        let moved = try tmux.waitFor(timeout: 5) { s in (firstInt(#"([0-9]+) req"#, in: s.replacingOccurrences(of: ",", with: "")) ?? 0) > 5 }
        let step2 = try XCTUnwrap(firstInt(#"step ([0-9]+)"#, in: moved.replacingOccurrences(of: ",", with: "")))
        XCTAssertGreaterThan(step2, step1, "training went on while the encoder was served")
        // v again: the generative model when SmolLM2 is installed (setup.sh installs it), with
        // TTFT, tokens/s and the per-stage table; else straight back to the trained model.
        try tmux.send("v")
        let next = try tmux.waitFor(timeout: 10) { s in
            (s.contains("serve SmolLM2") && s.contains("TTFT") && s.contains("ffn_up") && s.contains("head"))
                || (s.contains("serve running") && !s.contains("minilm"))
        }
        if next.contains("serve SmolLM2") {
            let streaming = try tmux.waitFor(timeout: 20) { s in (firstInt(#"([0-9]+) tok/s"#, in: s) ?? 0) > 0 && s.contains("#1 decode") }
            XCTAssertTrue(streaming.contains("#1 decode"), "the generator streams an answer:\n\(streaming)")
            try tmux.send("K")
            let off = try tmux.waitFor(timeout: 5) { s in s.contains("KV cache off") }
            XCTAssertTrue(off.contains("KV cache off"), "K turns the KV cache off:\n\(off)")
            try tmux.send("v")
        }
        let back = try tmux.waitFor(timeout: 10) { s in s.contains("serve running") && !s.contains("minilm") && !s.contains("SmolLM2") }
        XCTAssertTrue(back.contains("serve running"), "v again serves the trained model:\n\(back)")
        try tmux.send("q")
        let end = Date().addingTimeInterval(10)
        while try !tmux.paneDead(), Date() < end { usleep(100_000) }
        XCTAssertTrue(try tmux.paneDead(), "inftop ended after q")
    }
}
