import InftopTelemetry
import InftopWorkloads
import XCTest

final class HostCPUTests: XCTestCase {
    /// A knob value maps to a tier the CPU runs: auto → the widest, a tier it has → itself, one it
    /// lacks → the widest (never an instruction the CPU lacks).
    func testRunnableNeverPicksATierTheCPULacks() {
        let avx2Only = HostCPU(model: "test", availableISAs: [.avx2], bestISA: .avx2, flags: "avx2 fma")
        XCTAssertEqual(avx2Only.runnable(.auto), .avx2)
        XCTAssertEqual(avx2Only.runnable(.avx2), .avx2)
        XCTAssertEqual(avx2Only.runnable(.avx512), .avx2)
        let wide = HostCPU(model: "test", availableISAs: [.avx2, .avx512], bestISA: .avx512, flags: "")
        XCTAssertEqual(wide.runnable(.auto), .avx512)
        XCTAssertEqual(wide.runnable(.avx2), .avx2)
        XCTAssertEqual(wide.runnable(.avx512), .avx512)
        XCTAssertEqual(HostCPU.current.availableISAs.last, HostCPU.current.bestISA)
        XCTAssertTrue(HostCPU.current.availableISAs.contains(.avx2))
    }
}
