import XCTest
import Foundation
import InftopEngine
import InftopTelemetry

final class JoinableThreadTests: XCTestCase {
    /// The OS sees the thread's name (what htop and `top -H` show), cut to Linux's 15 bytes.
    func testThreadCarriesItsNameToTheKernel() throws {
        let seen = Locked<[String]>([])
        for name in ["inftop-test", "inftop-a-very-long-thread-name"] {
            let t = JoinableThread(name: name) {
                let comm = (try? String(contentsOfFile: "/proc/thread-self/comm", encoding: .utf8)) ?? "?"
                seen.withLock { $0.append(comm.trimmingCharacters(in: .newlines)) }
            }
            t.join()
        }
        XCTAssertEqual(seen.withLock { $0 }, ["inftop-test", "inftop-a-very-l"])
    }
}
