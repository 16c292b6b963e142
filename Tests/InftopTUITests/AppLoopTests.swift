import InftopTelemetry
import InftopTUI
import InftopWorkloads
import XCTest

/// The app loop driven on a virtual terminal with a key script.
final class AppLoopTests: XCTestCase {
    func makeApp(_ knobs: Knobs, models: [String] = ["mlp", "cnn"]) -> DashboardApp {
        DashboardApp(options: DashboardOptions(intervalMs: 100, maxThreads: 2, themeDirectories: [], environment: [:]),
                     knobs: knobs, modelNames: models, snapshot: { Fixtures.snapshot })
    }

    func testPlusDoublesTheBatchAndTheHeaderShowsIt() throws {
        let knobs = Knobs(Fixtures.knobs)
        let term = VirtualTerminal(width: 120, height: 40, keys: [.char("+")])
        try makeApp(knobs).run(on: term)    // the script runs out → Ctrl-C → quit
        XCTAssertEqual(knobs.values.batchSize, 128)
        // The snapshot still reports 64: the header shows the change pending.
        XCTAssertTrue(term.lines[1].contains("batch 64→128"), term.lines[1])
        XCTAssertTrue(term.text.contains("training batch 64 → 128 (next step)"))
    }

    func testHelpThenQuit() throws {
        let knobs = Knobs(Fixtures.knobs)
        let term = VirtualTerminal(width: 120, height: 40, keys: [.char("?")])
        let app = makeApp(knobs)
        try app.run(on: term)
        XCTAssertTrue(term.text.contains("Help — keys"))
        XCTAssertGreaterThanOrEqual(app.frames, 2)
    }

    func testResizeRelaysOutAndTooSmallKeepsRunning() throws {
        let knobs = Knobs(Fixtures.knobs)
        let term = VirtualTerminal(width: 120, height: 40)
        term.resize(width: 70, height: 20)
        term.type([.char("t")])   // keys still work on the too-small screen
        try makeApp(knobs).run(on: term)
        XCTAssertTrue(term.text.contains("terminal too small: need 80×24, have 70×20"))
        XCTAssertEqual(term.screen.width, 70)
        XCTAssertEqual(knobs.values.threads, 2)
    }

    func testThemeKeyAppliesTheNextTheme() throws {
        let knobs = Knobs(Fixtures.knobs)
        // 160 columns: the header's knob line holds every field up to the theme's.
        let term = VirtualTerminal(width: 160, height: 40, keys: [.char("T")])
        try makeApp(knobs).run(on: term)
        XCTAssertEqual(term.theme?.name, "light")
        XCTAssertTrue(term.lines[1].contains("theme light"))
    }

    func testMonochromeTerminalRefusesThemes() throws {
        let knobs = Knobs(Fixtures.knobs)
        let term = VirtualTerminal(width: 100, height: 30, keys: [.char("T")], colorDepth: .mono)
        try makeApp(knobs).run(on: term)
        XCTAssertTrue(term.text.contains("T: themes need colour"))
    }

    func testBadThemeOptionWarnsOnTheFooter() throws {
        let app = DashboardApp(options: DashboardOptions(theme: "nosuch", themeDirectories: [], environment: [:]),
                               knobs: Knobs(Fixtures.knobs), modelNames: ["mlp"], snapshot: { Fixtures.snapshot })
        let term = VirtualTerminal(width: 120, height: 40)
        try app.run(on: term)
        XCTAssertTrue(term.lines[39].contains("theme \"nosuch\" not found; using the default theme"), term.lines[39])
        XCTAssertEqual(term.theme, ThemeLibrary.defaultTheme)
    }

    func testNoColorEnvironment() {
        XCTAssertTrue(DashboardOptions(environment: ["NO_COLOR": "1"]).colorDisabled)
        XCTAssertFalse(DashboardOptions(environment: ["NO_COLOR": ""]).colorDisabled)
        XCTAssertTrue(DashboardOptions(noColor: true, environment: [:]).colorDisabled)
    }
}
