import InftopTelemetry
import InftopWorkloads
import XCTest

final class HostCPUTests: XCTestCase {
    /// A knob value maps to a tier the CPU runs: auto → the widest, a tier it has → itself, one it
    /// lacks → the widest (never an instruction the CPU lacks).
    func testRunnableNeverPicksATierTheCPULacks() {
        let said = Locked<[String]>([])
        let notices = Notices { line in said.withLock { $0.append(line) } }
        let avx2Only = HostCPU(model: "test", availableISAs: [.avx2], bestISA: .avx2, flags: "avx2 fma")
        XCTAssertEqual(avx2Only.runnable(.auto, notices: notices), .avx2)
        XCTAssertEqual(avx2Only.runnable(.avx2, notices: notices), .avx2)
        XCTAssertEqual(said.withLock { $0 }, [], "nothing to say while the knob names a tier the CPU runs")
        // A stale value (a record re-run from a wider machine): said once, however often asked.
        XCTAssertEqual(avx2Only.runnable(.avx512, notices: notices), .avx2)
        XCTAssertEqual(avx2Only.runnable(.avx512, notices: notices), .avx2)
        XCTAssertEqual(said.withLock { $0 }, ["inftop: isa avx512: not available on this CPU (test); the kernels run avx2\n"])
        XCTAssertEqual(notices.footer(), "isa avx512: not available on this CPU (test); the kernels run avx2", "and on the footer")
        let wide = HostCPU(model: "test", availableISAs: [.avx2, .avx512], bestISA: .avx512, flags: "")
        XCTAssertEqual(wide.runnable(.auto), .avx512)
        XCTAssertEqual(wide.runnable(.avx2), .avx2)
        XCTAssertEqual(wide.runnable(.avx512), .avx512)
        XCTAssertEqual(HostCPU.current.availableISAs.last, HostCPU.current.bestISA)
        XCTAssertTrue(HostCPU.current.availableISAs.contains(.avx2))
    }
}
