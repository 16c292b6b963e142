import InftopEngine
import InftopTelemetry
import InftopWorkloads
import XCTest

/// The generator (`v` → generator) on the tiny llama fixture (InftopEngineTests/Fixtures/
/// tiny_llama.gguf, written by make_tiny_gguf.py), driven round by round with `step()`: its
/// answers equal the plain greedy generation of each prompt whatever the streams and the KV
/// cache, its knobs take effect, and its figures follow the clock it is given.
final class GenerationServiceTests: XCTestCase {
    static let tinyPath = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("InftopEngineTests/Fixtures/tiny_llama.gguf").path

    /// Advances 1 ms on every reading: each timed interval is a known number of readings.
    final class TickingClock: NanoClock, @unchecked Sendable {
        private let inner = ManualClock(start: 1_000_000_000)
        func now() -> UInt64 { inner.advance(1_000_000); return inner.now() }
    }

    static func settings(_ prompts: [String] = ["hello", "the world", "or hell", "low", "hi"], maxNewTokens: Int = 6) -> GenerationService.Settings {
        var s = GenerationService.Settings()
        s.prompts = prompts
        s.maxNewTokens = maxNewTokens
        s.contextCapacity = 64
        s.temperature = 0
        s.maxStreams = 4
        return s
    }

    static func service(knobs: Knobs, clock: any NanoClock = ManualClock(), settings: GenerationService.Settings = settings()) throws -> GenerationService {
        try GenerationService(model: try LanguageModel(path: tinyPath, contextCapacity: 64), knobs: knobs, settings: settings, clock: clock)
    }

    /// What `LanguageModel.generate` gives for `prompt` in the chat template, greedy.
    static func reference(_ prompt: String, maxTokens: Int) throws -> [Int32] {
        let lm = try LanguageModel(path: tinyPath, contextCapacity: 64)
        let ids = lm.tokenizer.encode(lm.chatTemplate!.render(user: prompt), special: true)
        var greedy = Sampler.greedy
        return try lm.generate(prompt: ids, maxTokens: maxTokens, sampler: &greedy).tokens
    }

    func run(_ service: GenerationService, untilFinished n: Int, rounds: Int = 400) {
        var r = 0
        while service.finished.count < n, r < rounds { service.step(); r += 1 }
        XCTAssertGreaterThanOrEqual(service.finished.count, n, "the generator finished \(service.finished.count) answers in \(rounds) rounds")
    }

    func testAnswersEqualPlainGreedyGeneration() throws {
        let service = try Self.service(knobs: Knobs(KnobValues(served: .generator)))
        run(service, untilFinished: 3)
        for a in service.finished.prefix(3) {
            XCTAssertEqual(a.tokens, try Self.reference(a.prompt, maxTokens: 6), "answer to '\(a.prompt)'")
        }
        XCTAssertEqual(service.finished.map(\.prompt).prefix(3), ["hello", "the world", "or hell"], "prompts taken in order")
    }

    func testConcurrentStreamsAndNoKVCacheGiveTheSameAnswers() throws {
        let knobs = Knobs(KnobValues(served: .generator))
        knobs.update { $0.generationStreams = 3; $0.kvCache = false; $0.servingWorkers = 2 }
        let service = try Self.service(knobs: knobs)
        run(service, untilFinished: 5)
        for a in service.finished.prefix(5) {
            XCTAssertEqual(a.tokens, try Self.reference(a.prompt, maxTokens: 6), "answer to '\(a.prompt)' (3 streams, KV off, 2 threads)")
        }
        let g = try XCTUnwrap(service.makeSnapshot().generation)
        XCTAssertFalse(g.kvCacheEnabled)
        XCTAssertEqual(g.kvPositions, 0, "with the cache off no position is kept for reuse")
        XCTAssertEqual(g.streams.count, 3)
        XCTAssertEqual(g.threads, 2)
    }

    func testStreamKnobSizesTheKVCaches() throws {
        let knobs = Knobs(KnobValues(served: .generator))
        let service = try Self.service(knobs: knobs)
        service.step()
        let one = try XCTUnwrap(service.makeSnapshot().generation)
        XCTAssertEqual(one.streams.count, 1)
        knobs.update { $0.generationStreams = 3 }
        service.step()
        let three = try XCTUnwrap(service.makeSnapshot().generation)
        XCTAssertEqual(three.streams.count, 3)
        XCTAssertEqual(three.kvBytes, 3 * one.kvBytes)
        XCTAssertEqual(three.kvCapacity, 3 * 64)
        XCTAssertEqual(service.makeSnapshot().batchSize, 3)
        knobs.update { $0.generationStreams = 99 }
        service.step()
        XCTAssertEqual(service.makeSnapshot().generation?.streams.count, 4, "clamped to the settings' maxStreams")
        knobs.update { $0.generationStreams = 1 }
        service.step()
        XCTAssertEqual(service.makeSnapshot().generation?.kvBytes, one.kvBytes)
    }

    func testFiguresFollowTheClock() throws {
        // Every clock reading is 1 ms later: the prompt is taken at T, prefill runs T+1 → T+2,
        // so TTFT = 2 ms and the prefill is 1 ms; every decode step is 1 ms.
        let clock = TickingClock()
        let service = try Self.service(knobs: Knobs(KnobValues(served: .generator)), clock: clock, settings: Self.settings(maxNewTokens: 40))
        // Past the first 1 s window (a few readings per step at 1 ms each).
        var rounds = 0
        while service.makeSnapshot().generation?.timePerTokenMs == nil, rounds < 5000 { service.step(); rounds += 1 }
        XCTAssertGreaterThanOrEqual(service.finished.count, 2)
        let snap = service.makeSnapshot()
        let g = try XCTUnwrap(snap.generation)
        let ttft = try XCTUnwrap(g.ttft)
        XCTAssertEqual(ttft.p50Ms, 2, accuracy: 0.02)
        XCTAssertEqual(ttft.p99Ms, 2, accuracy: 0.02)
        XCTAssertEqual(try XCTUnwrap(g.timePerTokenMs), 1, accuracy: 1e-9)
        XCTAssertGreaterThan(g.decodeTokensPerSecond, 0)
        XCTAssertEqual(snap.requests, g.completed)
        XCTAssertTrue(snap.layers.contains { $0.name == "attention" } && snap.layers.contains { $0.name == "ffn_up" }
                      && snap.layers.contains { $0.name == "head" }, "one row per stage kind: \(snap.layers.map(\.name))")
        XCTAssertFalse(snap.layers.contains { $0.name.hasPrefix("L0.") }, "layers are summed per stage kind")
    }

    func testKnobChangesLeaveMarkers() throws {
        let clock = ManualClock()
        let knobs = Knobs(KnobValues(served: .generator))
        let service = try Self.service(knobs: knobs, clock: clock)
        service.step()
        XCTAssertEqual(service.makeSnapshot().markers, [])
        clock.advance(2_000_000_000)
        knobs.update { $0.kvCache = false }
        service.step()
        let m = try XCTUnwrap(service.makeSnapshot().markers)
        XCTAssertEqual(m.count, 1)
        XCTAssertEqual(m[0].time, 2, accuracy: 1e-9)
        XCTAssertTrue(m[0].label.contains("KV off"), m[0].label)
    }

    func testPausedGeneratorMakesNoProgress() throws {
        let knobs = Knobs(KnobValues(served: .generator))
        let service = try Self.service(knobs: knobs)
        service.step()
        knobs.update { $0.inferencePaused = true }
        let before = service.makeSnapshot().generation?.generatedTokens
        for _ in 0..<3 { service.step() }
        XCTAssertEqual(service.makeSnapshot().generation?.generatedTokens, before)
        XCTAssertEqual(service.makeSnapshot().state, .paused)
    }

    func testSettingsThatCannotRunAreRefused() throws {
        var s = Self.settings()
        s.prompts = []
        XCTAssertThrowsError(try Self.service(knobs: Knobs(), settings: s))
        s = Self.settings()
        s.topP = 2
        s.temperature = 0.7
        XCTAssertThrowsError(try Self.service(knobs: Knobs(), settings: s)) { e in
            XCTAssertTrue("\(e)".contains("--top-p"), "\(e)")
        }
    }
}
