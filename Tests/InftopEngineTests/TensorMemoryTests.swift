import InftopEngine
import InftopTelemetry
import XCTest

/// A tensor's bytes in the ledger: allocated (the room of the largest shape it held) and in use
/// (its current shape), so the Memory panel can show what a smaller batch leaves reserved.
final class TensorMemoryTests: XCTestCase {
    func testResizeKeepsTheRoomAndCountsWhatIsInUse() {
        let ledger = MemoryLedger.shared
        let bytes0 = ledger.bytes(.caches), used0 = ledger.inUse(.caches)
        var t: Tensor? = Tensor([64, 100], name: "ledger.test", owner: .caches)
        XCTAssertEqual(ledger.bytes(.caches) - bytes0, 64 * 100 * 4)
        XCTAssertEqual(ledger.inUse(.caches) - used0, 64 * 100 * 4)
        t!.resize([8, 100])  // smaller: the room stays, the use falls
        XCTAssertEqual(ledger.bytes(.caches) - bytes0, 64 * 100 * 4)
        XCTAssertEqual(ledger.inUse(.caches) - used0, 8 * 100 * 4)
        t!.resize([8, 100])  // the same shape: nothing changes
        XCTAssertEqual(ledger.inUse(.caches) - used0, 8 * 100 * 4)
        t!.resize([128, 100])  // larger than the room: both grow
        XCTAssertEqual(ledger.bytes(.caches) - bytes0, 128 * 100 * 4)
        XCTAssertEqual(ledger.inUse(.caches) - used0, 128 * 100 * 4)
        t!.resize([1, 100])
        t = nil  // freed: both back where they were
        XCTAssertEqual(ledger.bytes(.caches), bytes0)
        XCTAssertEqual(ledger.inUse(.caches), used0)
        XCTAssertNil(t)
    }
}
