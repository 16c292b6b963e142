import InftopTelemetry
import InftopTUI
import InftopWorkloads
import XCTest

/// `v` cycles the served models the session has, `K` toggles the generator's KV cache (and says
/// why not while something else is served), and the batch keys on the Latency panel set the
/// generator's concurrent generations.
final class GeneratorKeysTests: XCTestCase {
    var c = DashboardController(config: DashboardConfig(modelNames: ["mlp"], maxThreads: 2, encoderName: "all-MiniLM-L6-v2",
                                                        generatorName: "SmolLM2-135M-Instruct.Q4_1"))
    var k = KnobValues()

    func press(_ keys: Key...) { for key in keys { c.handle(key, knobs: &k, now: 0) } }
    var status: String? { c.status(at: 0)?.text }

    func testVCyclesTrainedEncoderGenerator() {
        XCTAssertEqual(k.served, .trained)
        press(.char("v")); XCTAssertEqual(k.served, .encoder)
        press(.char("v")); XCTAssertEqual(k.served, .generator)
        XCTAssertTrue(status?.hasPrefix("generating with SmolLM2-135M-Instruct.Q4_1") == true, status ?? "")
        press(.char("v")); XCTAssertEqual(k.served, .trained)
    }

    func testVSkipsWhatTheSessionDoesNotHave() {
        c = DashboardController(config: DashboardConfig(modelNames: ["mlp"], generatorName: "tiny"))
        press(.char("v")); XCTAssertEqual(k.served, .generator)
        press(.char("v")); XCTAssertEqual(k.served, .trained)
        c = DashboardController(config: DashboardConfig(modelNames: ["mlp"], encoderUnavailable: "no encoder here",
                                                        generatorUnavailable: "no gguf here"))
        press(.char("v"))
        XCTAssertEqual(k.served, .trained)
        XCTAssertEqual(status, "v: no encoder here; no gguf here")
    }

    func testKTogglesTheKVCacheOnlyWhileGenerating() {
        press(.char("K"))
        XCTAssertNil(k.kvCache, "K does nothing while the trained model is served")
        XCTAssertTrue(status?.contains("press v") == true, status ?? "")
        press(.char("v"), .char("v"), .char("K"))
        XCTAssertEqual(k.kvCache, false)
        XCTAssertEqual(status, "KV cache off (each step recomputes the whole prefix)")
        press(.char("K"))
        XCTAssertEqual(k.kvCache, true)
    }

    func testBatchKeysSetConcurrentGenerations() {
        press(.char("v"), .char("v"))  // the generator; the batch keys now act on serving
        press(.char("+"), .char("+"))
        XCTAssertEqual(k.generationStreams, 3)
        XCTAssertEqual(k.inferenceBatchSize, KnobValues().inferenceBatchSize, "the classifier batch is left alone")
        press(.char("-"), .char("-"), .char("-"))
        XCTAssertEqual(k.generationStreams, 1)
        XCTAssertEqual(status, "concurrent generations already 1 (range 1…8)")
    }
}

/// The generator panel's text wrapping (pure).
final class GeneratorTextTests: XCTestCase {
    func testTailWrapsAtSpacesKeepsLineBreaksAndHidesControls() {
        let tail = { (t: String, w: Int, r: Int) in GeneratorView.tail(of: t, width: w, rows: r) }
        XCTAssertEqual(tail("the quick brown fox", 10, 5), ["the quick", "brown fox"])
        XCTAssertEqual(tail("abcdefghijkl", 5, 5), ["abcde", "fghij", "kl"], "no space: cut mid-word")
        XCTAssertEqual(tail("one\ntwo\nthree", 10, 2), ["two", "three"], "the last rows")
        XCTAssertEqual(tail("a\u{7}b\tc", 10, 1), ["a b c"])
        XCTAssertEqual(tail("", 10, 3), [""])
    }
}
