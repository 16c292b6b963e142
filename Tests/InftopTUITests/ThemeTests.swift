import Foundation
import InftopTUI
import XCTest

final class ThemeTests: XCTestCase {
    let base = ThemeLibrary.defaultValues

    func testParsesEveryColourForm() throws {
        let text = """
        # a comment
        theme[main_bg]=""
        theme[main_fg]="#c8ccd4"
        theme[title]="#fa0"
        theme[hi_fg]="#90"
        theme[selected_bg]="12 34 56"
        theme[selected_fg]="7"
          theme[inactive_fg] = "#404040"
        theme[graph_text]=#606060
        theme[cpu_start]="300 -5 128"
        """
        let t = try Theme.parse(text, name: "forms", file: "forms.theme", base: base)
        XCTAssertEqual(t.values["main_bg"], .terminalDefault)
        XCTAssertEqual(t.values["main_fg"], .rgb(RGB(0xC8, 0xCC, 0xD4)))
        XCTAssertEqual(t.values["title"], .rgb(RGB(0xFF, 0xAA, 0x00)))
        XCTAssertEqual(t.values["hi_fg"], .rgb(RGB(0x90, 0x90, 0x90)), "btop's #BW grey")
        XCTAssertEqual(t.values["selected_bg"], .rgb(RGB(12, 34, 56)))
        XCTAssertEqual(t.values["selected_fg"], .palette(7))
        XCTAssertEqual(t.values["inactive_fg"], .rgb(RGB(0x40, 0x40, 0x40)))
        XCTAssertEqual(t.values["graph_text"], .rgb(RGB(0x60, 0x60, 0x60)), "unquoted values, as btop reads them")
        XCTAssertEqual(t.values["cpu_start"], .rgb(RGB(255, 0, 128)), "decimal values clamp like btop")
        XCTAssertEqual(t.color(.background), .terminalDefault)
        XCTAssertEqual(t.color(.hotkey), .rgb(RGB(0x90, 0x90, 0x90)))
    }

    func testBadLineNamesFileAndLine() {
        let text = "# fine\ntheme[main_fg]=\"#c8ccd4\"\n\ntheme[title]=\"#12345\"\n"
        XCTAssertThrowsError(try Theme.parse(text, name: "bad", file: "themes/bad.theme", base: base)) { e in
            XCTAssertEqual("\(e)", "themes/bad.theme:4: theme[title]: bad colour \"#12345\" (want \"#RRGGBB\", \"#RGB\", \"#BW\", \"R G B\" or a palette index 0–255)")
        }
        XCTAssertThrowsError(try Theme.parse("main_fg=#fff", name: "x", file: "x.theme", base: base)) { e in
            XCTAssertEqual("\(e)", "x.theme:1: expected theme[key]=\"value\", found \"main_fg=#fff\"")
        }
        XCTAssertThrowsError(try Theme.parse("theme[main_fg]\"#fff\"", name: "x", file: "x.theme", base: base)) { e in
            XCTAssertEqual("\(e)", "x.theme:1: expected '=' after theme[main_fg]")
        }
        XCTAssertThrowsError(try Theme.parse("\n\ntheme[main_fg]=\"#fff", name: "x", file: "x.theme", base: base)) { e in
            XCTAssertEqual("\(e)", "x.theme:3: theme[main_fg]: missing closing quote")
        }
        XCTAssertThrowsError(try Theme.parse("theme[main_fg]=\"256\"", name: "x", file: "x.theme", base: base))
        XCTAssertThrowsError(try Theme.parse("theme[main_fg]=\"1 2\"", name: "x", file: "x.theme", base: base))
    }

    /// A theme in btop's own layout (our own values): comments, #BW greys, empty mids, keys
    /// btop has and we ignore, CRLF line ends.
    func testBtopStyleThemeLoadsWithFallbacks() throws {
        let text = """
        #Bashtop-style theme
        #by nobody

        # Main background, empty for terminal default
        theme[main_bg]="#00"
        theme[main_fg]="#cc"
        theme[title]="#ee"
        theme[hi_fg]="#b54040"
        theme[selected_bg]="#6a2f2f"
        theme[selected_fg]="#ee"
        theme[inactive_fg]="#40"
        theme[proc_misc]="#0de756"
        theme[cpu_box]="#556d59"
        theme[mem_box]="#6c6c4b"
        theme[net_box]="#5c588d"
        theme[proc_box]="#805252"
        theme[div_line]="#30"
        theme[temp_start]="#4897d4"
        theme[temp_mid]=""
        theme[temp_end]="#ff40b6"
        theme[cpu_start]="#77ca9b"
        theme[cpu_mid]="#cbc06c"
        theme[cpu_end]="#dc4c4c"
        theme[free_start]="#384f21"
        theme[free_mid]=""
        theme[free_end]=""
        theme[cached_start]="#163350"
        theme[cached_mid]="#74e6fc"
        theme[cached_end]="#26c5ff"
        theme[available_start]="#4e3f0e"
        theme[available_mid]="#ffd77a"
        theme[available_end]="#ffb814"
        theme[used_start]="#592b26"
        theme[used_mid]="#d9626d"
        theme[used_end]="#ff4769"
        theme[download_start]="#291f75"
        theme[download_mid]="#4f43a3"
        theme[download_end]="#b0a9de"
        theme[upload_start]="#620665"
        theme[upload_mid]="#7d4180"
        theme[upload_end]="#dcafde"
        theme[gpu_start]="#0000ff"
        """.replacingOccurrences(of: "\n", with: "\r\n")
        let t = try Theme.parse(text, name: "btop", file: "btop.theme", base: base)
        XCTAssertEqual(t.color(.background), .rgb(RGB(0, 0, 0)))
        XCTAssertEqual(t.color(.text), .rgb(RGB(0xCC, 0xCC, 0xCC)))
        // Left out: graph_text and meter_bg follow the theme's inactive_fg (as btop does).
        XCTAssertEqual(t.color(.graphText), .rgb(RGB(0x40, 0x40, 0x40)))
        XCTAssertEqual(t.color(.meterBg), .rgb(RGB(0x40, 0x40, 0x40)))
        // process_* left out: the theme's cpu gradient.
        XCTAssertEqual(t.color(.gradient(.process, 0)), .rgb(RGB(0x77, 0xCA, 0x9B)))
        XCTAssertEqual(t.color(.gradient(.process, 1)), .rgb(RGB(0xDC, 0x4C, 0x4C)))
        // start → end without mid, halfway blended.
        XCTAssertEqual(t.color(.gradient(.temp, 0)), .rgb(RGB(0x48, 0x97, 0xD4)))
        XCTAssertEqual(t.color(.gradient(.temp, 1)), .rgb(RGB(0xFF, 0x40, 0xB6)))
        // Only a start: the whole gradient is that colour.
        XCTAssertEqual(t.color(.gradient(.free, 1)), .rgb(RGB(0x38, 0x4F, 0x21)))
        // start → mid → end: the middle step sits near mid.
        XCTAssertEqual(t.color(.gradient(.cpu, 0)), .rgb(RGB(0x77, 0xCA, 0x9B)))
        XCTAssertFalse(t.isMonochrome)
    }

    func testMissingKeysTakeTheDefaultThemesValues() throws {
        let t = try Theme.parse("theme[main_fg]=\"#ffffff\"", name: "one", file: "one.theme", base: base)
        XCTAssertEqual(t.color(.text), .rgb(RGB(255, 255, 255)))
        XCTAssertEqual(t.color(.title), ThemeLibrary.defaultTheme.color(.title))
        XCTAssertEqual(t.color(.gradient(.download, 1)), ThemeLibrary.defaultTheme.color(.gradient(.download, 1)))
    }

    func testShippedThemesAreBuiltInAndParse() throws {
        let repo = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        for name in BuiltinThemes.names {
            let file = repo.appendingPathComponent("themes/\(name).theme")
            let onDisk = try String(contentsOf: file, encoding: .utf8)
            XCTAssertEqual(onDisk, BuiltinThemes.text(name)! + "\n", "themes/\(name).theme and BuiltinThemes differ: run bash themes/make-builtin.sh")
            let t = try Theme.parse(onDisk, name: name, file: file.path, base: base)
            XCTAssertEqual(t.name, name)
        }
        XCTAssertTrue(ThemeLibrary(directories: []).load("mono").theme.isMonochrome)
        XCTAssertEqual(ThemeLibrary(directories: []).load("sixteen").theme.color(.hotkey), .palette(3))
        XCTAssertEqual(ThemeLibrary(directories: []).load("light").theme.color(.background), .rgb(RGB(0xF7, 0xF7, 0xF5)))
    }

    func testLibraryFindsUserThemesAndFallsBackWithOneLine() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("inftop-themes-\(getpid())")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        try "theme[main_fg]=\"#123456\"\n".write(to: dir.appendingPathComponent("mine.theme"), atomically: true, encoding: .utf8)
        try "theme[main_fg]=\"#123456\"\ntheme[title]=\"nope\"\n".write(to: dir.appendingPathComponent("broken.theme"), atomically: true, encoding: .utf8)
        let lib = ThemeLibrary(directories: ["/nonexistent/inftop", dir.path])
        XCTAssertEqual(lib.availableNames(), ["default", "light", "sixteen", "mono", "broken", "mine"])

        let (mine, w1) = lib.load("mine")
        XCTAssertNil(w1)
        XCTAssertEqual(mine.color(.text), .rgb(RGB(0x12, 0x34, 0x56)))

        let (byPath, w2) = lib.load(dir.appendingPathComponent("mine.theme").path)
        XCTAssertNil(w2); XCTAssertEqual(byPath, mine)

        let (fallback, w3) = lib.load("broken")
        XCTAssertEqual(fallback, ThemeLibrary.defaultTheme)
        XCTAssertEqual(w3, "\(dir.path)/broken.theme:2: theme[title]: bad colour \"nope\" (want \"#RRGGBB\", \"#RGB\", \"#BW\", \"R G B\" or a palette index 0–255); using the default theme")

        let (_, w4) = lib.load("absent")
        XCTAssertEqual(w4, "theme \"absent\" not found (looked in /nonexistent/inftop, \(dir.path)); using the default theme")
    }

    func testSearchOrderRepoThenXDGThenHome() {
        let xdg = ThemeLibrary.defaultDirectories(environment: ["XDG_CONFIG_HOME": "/x", "HOME": "/h"], executablePath: nil, currentDirectory: "/repo")
        XCTAssertEqual(xdg, ["/repo/themes", "/x/inftop/themes"])
        let home = ThemeLibrary.defaultDirectories(environment: ["HOME": "/h"], executablePath: nil, currentDirectory: "/repo")
        XCTAssertEqual(home, ["/repo/themes", "/h/.config/inftop/themes"])
    }

    func testNearestColours() {
        XCTAssertEqual(ColorMapping.nearest256(RGB(0, 0, 0)), 16)
        XCTAssertEqual(ColorMapping.nearest256(RGB(255, 255, 255)), 231)
        XCTAssertEqual(ColorMapping.nearest256(RGB(255, 0, 0)), 196)
        XCTAssertEqual(ColorMapping.nearest256(RGB(128, 128, 128)), 244)
        XCTAssertEqual(ColorMapping.nearest256(RGB(0x5F, 0x87, 0xAF)), 67)   // exactly a cube entry
        XCTAssertEqual(ColorMapping.nearest16(RGB(250, 10, 10)), 9)
        XCTAssertEqual(ColorMapping.nearest16(RGB(200, 0, 0)), 1)
        XCTAssertEqual(ColorMapping.nearest16(RGB(250, 10, 10), only8: true), 1)
        XCTAssertTrue([2, 6, 10, 14].contains(ColorMapping.nearest16(RGB(0x5C, 0xC9, 0x8E))), "a mint green stays a colour")
        XCTAssertEqual(ColorMapping.nearest16(RGB(0x80, 0x80, 0x80)), 8)
        XCTAssertEqual(ColorMapping.nearest16(RGB(0x11, 0x15, 0x1C)), 0)
        XCTAssertEqual(ColorMapping.nearest16(RGB(0x5C, 0x63, 0x70)), 8, "a dark grey stays grey")
        XCTAssertEqual(ColorMapping.nearest16(RGB(0x5C, 0x63, 0x70), only8: true), 0)
        XCTAssertEqual(ColorMapping.terminalColor(.rgb(RGB(1, 2, 3)), depth: .direct), 0x010203)
        XCTAssertEqual(ColorMapping.terminalColor(.palette(3), depth: .direct), 3)
        XCTAssertEqual(ColorMapping.terminalColor(.palette(11), depth: .ansi8), 3)
        XCTAssertEqual(ColorMapping.terminalColor(.rgb(RGB(1, 2, 3)), depth: .mono), -1)
        XCTAssertEqual(ColorMapping.terminalColor(.terminalDefault, depth: .palette256), -1)
        for i in 16..<256 { XCTAssertEqual(ColorMapping.nearest256(ColorMapping.xterm(i)), i, "entry \(i) maps to itself") }
    }
}
