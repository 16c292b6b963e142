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

    /// The decoder's pool joins its threads when its owner goes: a generator rebuilt at another
    /// thread count (the `T` key) leaves no thread behind, every piece of every region ran once.
    /// The last reference to a JoinableThread dropped on that very thread (a staged plan
    /// discarded while its preparing thread still ran: the soak's SIGILL) detaches it instead
    /// of trapping on a self-join; the thread is gone afterwards.
    func testTheLastReferenceDroppedOnItsOwnThreadDetaches() throws {
        final class Holder: @unchecked Sendable { var thread: JoinableThread? }
        let tasks0 = try FileManager.default.contentsOfDirectory(atPath: "/proc/self/task").count
        for _ in 0..<20 {
            let h = Holder()
            let stored = DispatchSemaphore(value: 0), dropped = DispatchSemaphore(value: 0)
            h.thread = JoinableThread(name: "inftop-selfdrop") { [h] in
                stored.wait()
                h.thread = nil  // the only reference: deinit runs here, on the thread itself
                dropped.signal()
            }
            stored.signal()
            XCTAssertEqual(dropped.wait(timeout: .now() + 10), .success)
        }
        // Detached threads end on their own; wait for the kernel to see them gone.
        var tasks = tasks0 + 20
        for _ in 0..<200 where tasks > tasks0 {
            usleep(10_000)
            tasks = try FileManager.default.contentsOfDirectory(atPath: "/proc/self/task").count
        }
        XCTAssertLessThanOrEqual(tasks, tasks0, "every detached thread ended")
    }

    func testDecoderThreadsLeaveNoThreadBehind() throws {
        // Only the decoder's own threads ("inftop-dec…" in /proc): other threads of the test
        // process (libdispatch workers, a detached thread of an earlier test) come and go on
        // their own and once made this fail in CI (29 threads after, 28 before).
        func threadCount() throws -> Int {
            try FileManager.default.contentsOfDirectory(atPath: "/proc/self/task").filter { tid in
                let comm = (try? String(contentsOfFile: "/proc/self/task/\(tid)/comm", encoding: .utf8)) ?? ""
                return comm.hasPrefix("inftop-dec")
            }.count
        }
        let before = try threadCount()
        for round in 0..<20 {
            let threads = DecoderThreads(count: 2 + round % 3)
            let hits = Locked<[Int]>(Array(repeating: 0, count: threads.chunks))
            threads.run(chunks: threads.chunks) { piece, slot in
                precondition(slot < threads.count)
                hits.withLock { $0[piece] += 1 }
            }
            XCTAssertEqual(hits.withLock { $0 }, Array(repeating: 1, count: threads.chunks), "round \(round)")
            if round == 0 {
                // The count sees the pool's threads (each names itself once it runs).
                var seen = try threadCount()
                for _ in 0..<100 where seen < before + threads.count - 1 { usleep(10_000); seen = try threadCount() }
                XCTAssertEqual(seen, before + threads.count - 1, "the count sees the pool's threads")
            }
        }
        XCTAssertEqual(try threadCount(), before)
    }
}
