import Foundation
import XCTest

/// The release binary on bad command lines: one line on stderr that names the command and what
/// is wrong, exit status 2, nothing on stdout.
final class CommandLineTests: XCTestCase {
    func testBadCommandLinesGetOneLineAndStatus2() throws {
        guard let bin = inftopBinary() else { throw XCTSkip("no release binary (scripts/test.sh builds it first)") }
        let cases: [([String], String)] = [
            (["bench", "--bogus"], "inftop bench: Unknown option '--bogus'"),
            (["train", "--epochs"], "inftop train: Missing value for '--epochs <epochs>'"),
            (["train", "--batch", "lots"], "inftop train:"),
            (["train", "--batch", "0"], "inftop train: --batch 0: must be 1…1024"),
        ]
        for (args, start) in cases {
            let (status, out, err) = try runProcess(bin, args)
            XCTAssertEqual(status, 2, "\(args): status")
            XCTAssertEqual(out, "", "\(args): stdout")
            let lines = err.split(separator: "\n", omittingEmptySubsequences: true)
            XCTAssertEqual(lines.count, 1, "\(args): stderr is \(err.debugDescription)")
            XCTAssertTrue(err.hasPrefix(start), "\(args): stderr is \(err.debugDescription)")
        }
        // Help is still help: the usage text and status 0.
        let (status, out, _) = try runProcess(bin, ["bench", "--help"])
        XCTAssertEqual(status, 0)
        XCTAssertTrue(out.contains("USAGE: inftop bench"), out)
    }
}
