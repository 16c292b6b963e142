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

    func testDefaultPathFollowsXDG() {
        XCTAssertEqual(ConfigFile.defaultPath(environment: ["XDG_CONFIG_HOME": "/x", "HOME": "/h"]), "/x/inftop/inftop.conf")
        XCTAssertEqual(ConfigFile.defaultPath(environment: ["HOME": "/h"]), "/h/.config/inftop/inftop.conf")
    }
}
