import Foundation
import InftopEngine
import InftopTelemetry
import XCTest

/// A served model folder swapped under the server: another model's files renamed into place
/// (a deploy), or one rewritten in place. The encoder already loaded goes on as it was (its
/// weights are mapped from the file it opened); what would read the folder again — a further
/// serving worker's replica, the structurally pruned copy — refuses with one line naming the
/// file, instead of serving another model beside this one under the same name.
final class SwappedFolderTests: XCTestCase {
    var dir = ""
    override func setUp() {
        dir = makeTempDir("swapped")
        for sub in ["model", "next"] { try? FileManager.default.createDirectory(atPath: dir + "/" + sub, withIntermediateDirectories: true) }
    }
    override func tearDown() { removeTree(dir) }

    func testReplicasOfAnEncoderWhoseFolderChangedAreRefusedByName() throws {
        var served = BertModelTests.Tiny(seed: 31, hidden: 24, heads: 4)
        try served.write(to: dir + "/model", pooling: "mean_tokens")
        var other = BertModelTests.Tiny(seed: 32, hidden: 24, heads: 4)
        try other.write(to: dir + "/next", pooling: "mean_tokens")
        let enc = try SentenceEncoder.load(directory: dir + "/model")
        let texts = ["the cat sat on the mat", "a dog"]
        let before = enc.embed(texts)
        XCTAssertNoThrow(try enc.replica(), "unchanged: a replica loads")
        XCTAssertNoThrow(try enc.replica(pruneUnits: 0.5), "unchanged: the pruned copy loads")

        // A deploy: the next model's weights renamed over the served one's.
        XCTAssertEqual(rename(dir + "/next/model.safetensors", dir + "/model/model.safetensors"), 0)
        XCTAssertThrowsError(try enc.replica()) { e in
            XCTAssertEqual("\(e)", "\(dir)/model/model.safetensors: changed on disk since it was loaded (replaced or rewritten); "
                           + "not loading another model beside the one served — restart inftop to serve the new files")
        }
        XCTAssertThrowsError(try enc.replica(pruneUnits: 0.5))
        let after = enc.embed(texts)
        XCTAssertEqual(after, before, "the loaded encoder serves as before (its mapping holds the old file)")

        // Rewritten in place (same inode, new contents and time): also refused.
        let enc2 = try SentenceEncoder.load(directory: dir + "/model")
        XCTAssertNoThrow(try enc2.replica())
        let vocab = dir + "/model/vocab.txt"
        let words = try String(contentsOfFile: vocab, encoding: .utf8)
        let h = try FileHandle(forWritingTo: URL(fileURLWithPath: vocab))
        h.seekToEndOfFile(); h.write("extra\n".data(using: .utf8)!); try h.close()
        XCTAssertThrowsError(try enc2.replica()) { e in XCTAssertTrue("\(e)".hasPrefix("\(vocab): changed on disk since it was loaded"), "\(e)") }
        XCTAssertFalse(words.isEmpty)
    }
}
