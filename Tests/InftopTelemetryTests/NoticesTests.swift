import XCTest
import InftopTelemetry

final class NoticesTests: XCTestCase {
    /// A line is said once on stderr however often it is posted; the footer shows the newest
    /// for ten seconds (an injected clock), counting the others of that window.
    func testEachLineIsSaidOnceAndShownInTheFooterForTenSeconds() {
        let out = Locked<[String]>([])
        let n = Notices { line in out.withLock { $0.append(line) } }
        XCTAssertTrue(n.post("config: unknown key 'colour'", at: 1_000_000_000))
        XCTAssertFalse(n.post("config: unknown key 'colour'", at: 2_000_000_000), "the same line again is not news")
        XCTAssertEqual(out.withLock { $0 }, ["inftop: config: unknown key 'colour'\n"])

        XCTAssertTrue(n.post("--isa avx512: not on this CPU; running avx2", at: 3_000_000_000))
        XCTAssertTrue(n.post("batch 5000 clamped to 1024", at: 4_000_000_000))
        XCTAssertEqual(out.withLock { $0 }, ["inftop: config: unknown key 'colour'\n",
                                             "inftop: --isa avx512: not on this CPU; running avx2\n",
                                             "inftop: batch 5000 clamped to 1024\n"])
        XCTAssertEqual(n.all.count, 3)

        XCTAssertEqual(n.footer(now: 4_500_000_000), "batch 5000 clamped to 1024 (+2 more on stderr)")
        XCTAssertEqual(n.footer(now: 12_500_000_000), "batch 5000 clamped to 1024 (+1 more on stderr)")
        XCTAssertEqual(n.footer(now: 13_999_999_999), "batch 5000 clamped to 1024")
        XCTAssertNil(n.footer(now: 14_000_000_000), "gone after ten seconds")
    }
}
