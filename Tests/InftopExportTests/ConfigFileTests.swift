import Foundation
import InftopExport
import XCTest

final class ConfigFileTests: XCTestCase {
    func testGoodKeysAreTakenGarbageIsReportedOneLineEach() {
        let text = """
            # a comment
            theme = "nord"
            interval = 250
            colour = red
            batch = 9999
            this line has no equals sign
            backend = "gpu"
            \u{1}\u{2} = \u{3}
            metrics = "127.0.0.1:9000"
            """
        let c = ConfigFile.parse(text, path: "inftop.conf")
        XCTAssertEqual(c.values, ["theme": "nord", "interval": "250", "metrics": "127.0.0.1:9000"])
        XCTAssertEqual(c.warnings.count, 5, c.warnings.joined(separator: "\n"))
        XCTAssertTrue(c.warnings[0].hasPrefix("inftop.conf:4: unknown key 'colour'"), c.warnings[0])
        XCTAssertEqual(c.warnings[1], "inftop.conf:5: batch = \"9999\": must be an integer 1…1024; ignored")
        XCTAssertEqual(c.warnings[2], "inftop.conf:6: not a 'key = value' line; ignored")
        XCTAssertTrue(c.warnings[3].hasPrefix("inftop.conf:7: backend = \"gpu\""))
        XCTAssertTrue(c.warnings[4].hasPrefix("inftop.conf:8: unknown key '??'"), c.warnings[4])
        XCTAssertTrue(c.warnings.allSatisfy { !$0.contains("\n") })
    }

    func testWriteThenLoadRoundTripsAndIsAtomic() throws {
        let dir = temporaryFolder("conf")
        let path = dir + "/inftop/inftop.conf"
        try ConfigFile.write(["theme": "nord", "batch": "128", "no_color": "true", "metrics": ""], to: path)
        let c = ConfigFile.load(path: path)
        XCTAssertEqual(c.warnings, [])
        XCTAssertEqual(c.values["theme"], "nord")
        XCTAssertEqual(c.values["batch"], "128")
        XCTAssertEqual(c.values["no_color"], "true")
        XCTAssertEqual(c.values["interval"], "100", "defaults are written too")
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: dir + "/inftop"), ["inftop.conf"], "no temporary left")
        XCTAssertEqual(ConfigFile.load(path: dir + "/none.conf").values, [:])
    }

    /// Found by `scripts/fuzz.sh config` (Fuzz/corpus/config regression input): `theme = \u{651}ord"`
    /// (a value starting with a combining mark) was accepted, but --write-config's quoted line
    /// read back with its quotes, as the mark joined the opening quote into one Character.
    func testFuzzedValueStartingWithACombiningMarkSurvivesWriteConfig() throws {
        let input = try XCTUnwrap(Data(base64Encoded: "I29wLmNvbmYKdGhlbWUgPSDZkW9yZCIKY25gCmJhdGNoID0gNjQCdGhyZWFkcyA9IDI9IDIKYmFja2VuZGUgPSAibm9yZCIKbm9fY2hvbG9yID0gZmFsc2UKaW50ZXJ2YWwgPSAybW9kZWwgPSBjbm4KYmF0Y2ggPSA5NDY1CnRyYWNlX3N0ZXBzID0gMjAK"))
        let first = ConfigFile.parse(String(decoding: input, as: UTF8.self), path: "fuzz.conf")
        XCTAssertEqual(first.values["theme"], "\u{651}ord\"")
        let again = ConfigFile.parse(ConfigFile.render(first.values), path: "fuzz.conf")
        for (key, value) in first.values { XCTAssertEqual(again.values[key], value, key) }
    }

    /// A file with CRLF line ends reads as with LF (a Character split kept "\r\n" lines together).
    func testCRLFLinesAreLines() {
        let c = ConfigFile.parse("theme = \"nord\"\r\ninterval = 250\r\n", path: "crlf.conf")
        XCTAssertEqual(c.values, ["theme": "nord", "interval": "250"])
        XCTAssertEqual(c.warnings, [])
    }

    func testDefaultPathFollowsXDG() {
        XCTAssertEqual(ConfigFile.defaultPath(environment: ["XDG_CONFIG_HOME": "/x", "HOME": "/h"]), "/x/inftop/inftop.conf")
        XCTAssertEqual(ConfigFile.defaultPath(environment: ["HOME": "/h"]), "/h/.config/inftop/inftop.conf")
    }
}
