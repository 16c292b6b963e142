import InftopTelemetry
import InftopTUI
import InftopWorkloads
import XCTest

final class ControllerTests: XCTestCase {
    var c = DashboardController(config: DashboardConfig(modelNames: ["mlp", "cnn"], themeNames: ["default", "light", "mono"],
                                                        maxThreads: 3))
    var k = KnobValues(batchSize: 64, inferenceBatchSize: 8, threads: 1, backend: .blas, model: "mlp")

    func press(_ keys: Key...) { for key in keys { c.handle(key, knobs: &k, now: 0) } }
    func type(_ s: String) { for ch in s { press(.char(ch)) } }
    var status: String? { c.status(at: 0)?.text }

    func testPlusMinusDoubleAndHalveTheTrainingBatchWithinBounds() {
        press(.char("+")); XCTAssertEqual(k.batchSize, 128)
        XCTAssertEqual(status, "training batch 64 → 128 (next step)")
        press(.char("-"), .char("-")); XCTAssertEqual(k.batchSize, 32)
        XCTAssertEqual(k.inferenceBatchSize, 8, "the inference batch is separate")
        for _ in 0..<10 { press(.char("+")) }
        XCTAssertEqual(k.batchSize, 1024)
        XCTAssertEqual(status, "training batch is already 1024 (range 1…1024)")
        for _ in 0..<15 { press(.char("-")) }
        XCTAssertEqual(k.batchSize, 1)
        XCTAssertTrue(status!.contains("already 1"))
    }

    func testPlusMinusFromANonPowerOfTwoGoToTheNeighbouringPowers() {
        k.batchSize = 48
        press(.char("+")); XCTAssertEqual(k.batchSize, 64)
        k.batchSize = 48
        press(.char("-")); XCTAssertEqual(k.batchSize, 32)
        XCTAssertEqual(DashboardController.nextPowerOfTwo(above: 1), 2)
        XCTAssertEqual(DashboardController.previousPowerOfTwo(below: 2), 1)
        XCTAssertEqual(DashboardController.previousPowerOfTwo(below: 1), 0)
    }

    func testBatchKeysFollowTheFocusedWorkload() {
        press(.tab)   // Training → Latency: the inference workload
        XCTAssertEqual(c.state.focus, .latency)
        XCTAssertEqual(c.state.workload, .inference)
        press(.char("+")); XCTAssertEqual(k.inferenceBatchSize, 16); XCTAssertEqual(k.batchSize, 64)
        press(.tab)   // Layers keeps the workload
        press(.char("-")); XCTAssertEqual(k.inferenceBatchSize, 8)
        press(.backTab, .backTab)
        XCTAssertEqual(c.state.focus, .training)
        XCTAssertEqual(c.state.workload, .training)
    }

    func testBatchPromptAppliesAValidNumber() {
        press(.char("b"))
        XCTAssertEqual(c.state.prompt?.kind, .batch)
        type("200"); press(.backspace); type("0")
        XCTAssertEqual(c.state.prompt?.text, "200")
        press(.enter)
        XCTAssertNil(c.state.prompt)
        XCTAssertEqual(k.batchSize, 200, "typed sizes need not be powers of two")
    }

    func testBatchPromptRejectsOutOfRangeAndNonDigits() {
        press(.char("b")); type("2000"); press(.enter)
        XCTAssertEqual(k.batchSize, 64)
        XCTAssertEqual(c.status(at: 0), StatusMessage(text: "batch must be 1…1024", isError: true, expires: 4))
        press(.char("b")); type("0"); press(.enter)
        XCTAssertEqual(status, "batch must be 1…1024"); XCTAssertEqual(k.batchSize, 64)
        press(.char("b")); press(.enter)
        XCTAssertEqual(status, "batch must be 1…1024")
        press(.char("b")); type("x")
        XCTAssertEqual(c.state.prompt?.text, "", "letters are refused")
        XCTAssertEqual(status, "batch size: digits only")
        press(.escape)
        XCTAssertNil(c.state.prompt); XCTAssertEqual(k.batchSize, 64)
    }

    func testPromptSwallowsCommandKeysButCtrlCStillQuits() {
        press(.char("b"), .char("q"))
        XCTAssertFalse(c.state.quitRequested)
        press(.ctrlC)
        XCTAssertTrue(c.state.quitRequested)
    }

    func testThreadsCycleOneToCores() {
        var seen: [Int] = []
        for _ in 0..<4 { press(.char("t")); seen.append(k.threads) }
        XCTAssertEqual(seen, [2, 3, 1, 2])
    }

    func testBackendCycles() {
        var seen: [KernelBackend] = []
        for _ in 0..<3 { press(.char("k")); seen.append(k.backend) }
        XCTAssertEqual(seen, [.simd, .reference, .blas])
        XCTAssertEqual(status, "kernel backend → blas (next step)")
    }

    /// `I` cycles the tiers the CPU has (auto = the widest, so the first press goes to avx2) and
    /// says so; on an AVX2-only CPU it says that is all there is and changes nothing.
    func testISAKeyCyclesTheTiersTheCPUHas() {
        c.config.availableISAs = [.avx2, .avx512]
        XCTAssertEqual(k.isa, .auto)
        press(.char("I")); XCTAssertEqual(k.isa, .avx2)
        XCTAssertEqual(status, "kernel ISA → avx2 (next step; simd backend and its kernels)")
        press(.char("I")); XCTAssertEqual(k.isa, .avx512)
        press(.char("I")); XCTAssertEqual(k.isa, .avx2)
        c.config.availableISAs = [.avx2]
        k.isa = .avx2
        press(.char("I")); XCTAssertEqual(k.isa, .avx2)
        XCTAssertEqual(status, "kernel ISA: this CPU runs only avx2")
    }

    func testSpacePausesTheFocusedWorkload() {
        press(.char(" "))
        XCTAssertTrue(k.trainingPaused); XCTAssertFalse(k.inferencePaused)
        XCTAssertEqual(status, "training paused — space toggles")
        press(.tab, .char(" "))
        XCTAssertTrue(k.inferencePaused)
        press(.char(" "))
        XCTAssertFalse(k.inferencePaused); XCTAssertTrue(k.trainingPaused)
    }

    func testModelCyclesThroughTheNamesGiven() {
        press(.char("m")); XCTAssertEqual(k.model, "cnn")
        press(.char("m")); XCTAssertEqual(k.model, "mlp")
        var one = DashboardController(config: DashboardConfig(modelNames: ["mlp"]))
        one.handle(.char("m"), knobs: &k, now: 0)
        XCTAssertEqual(k.model, "mlp")
        XCTAssertEqual(one.status(at: 0)?.text, "only one model to switch to: mlp")
    }

    func testThemeKeyCyclesAndSaysWhyWithoutColour() {
        press(.char("T")); XCTAssertEqual(c.state.themeIndex, 1)
        press(.char("T"), .char("T")); XCTAssertEqual(c.state.themeIndex, 0)
        var mono = DashboardController(config: DashboardConfig(themeNames: ["default", "light"], colorEnabled: false))
        mono.handle(.char("T"), knobs: &k, now: 0)
        XCTAssertEqual(mono.state.themeIndex, 0)
        XCTAssertEqual(mono.status(at: 0)?.text, "T: themes need colour (NO_COLOR or --no-color is set)")
    }

    func testKeysForUnbuiltFeaturesSaySoAndChangeNothing() {
        let before = k
        let expected: [(Character, String)] = [
            ("i", "i: INT8 — coming in a later release"), ("p", "p: pruning — coming in a later release"),
            ("c", "c: response cache — coming in a later release"), ("d", "d: distillation — coming in a later release"),
        ]
        for (key, message) in expected {
            press(.char(key))
            XCTAssertEqual(status, message)
        }
        XCTAssertEqual(k, before)
    }

    func testBuiltFeaturesWriteTheirKnobs() {
        c.config.builtFeatures = [.int8, .pruning, .responseCache, .distillation]
        press(.char("i")); XCTAssertEqual(k.precision, .int8)
        press(.char("i")); XCTAssertEqual(k.precision, .fp32)
        var levels: [Double] = []
        for _ in 0..<4 { press(.char("p")); levels.append(k.pruning) }
        XCTAssertEqual(levels, [0.5, 0.75, 0.9, 0])
        press(.char("c")); XCTAssertTrue(k.responseCache)
        press(.char("d")); XCTAssertTrue(k.distillation)
    }

    func testDistillationKeysStartAStudentAndServeIt() {
        c.config.builtFeatures = [.distillation]
        press(.char("D"))
        XCTAssertEqual(status, "D serves the distillation student: press d first to train one")
        XCTAssertFalse(k.servingStudent)
        press(.char("d"))
        XCTAssertTrue(k.distillation)
        XCTAssertEqual(status, "distillation on: a student trains beside mlp, T 4 α 0.9 (D serves it)")
        press(.char("D"))
        XCTAssertTrue(k.servingStudent)
        XCTAssertEqual(c.state.workload, .inference, "the layer table follows the served model")
        press(.char("D"))
        XCTAssertFalse(k.servingStudent)
        XCTAssertEqual(status, "serving the teacher mlp again")
        press(.char("D"), .char("d"))
        XCTAssertFalse(k.servingStudent, "d off serves the teacher again")
        XCTAssertEqual(status, "distillation off: the student stops")
    }

    func testCTypesTheCacheBoundAndBTheP99Bound() {
        c.config.builtFeatures = [.responseCache]
        press(.char("C")); XCTAssertEqual(c.state.prompt?.kind, .cacheBound)
        type("4M"); press(.enter)
        XCTAssertEqual(k.cacheBytes, 4 << 20)
        XCTAssertEqual(status, "response cache bound 512 KiB → 4.00 MiB (c turns the cache on)")
        press(.char("C")); type("65536"); press(.enter)
        XCTAssertEqual(k.cacheBytes, 65_536)
        for bad in ["1K", "2G", "", "4.5.1M"] {
            press(.char("C")); type(bad); press(.enter)
            XCTAssertEqual(k.cacheBytes, 65_536, bad)
            XCTAssertTrue(status?.hasPrefix("cache bound must be") ?? false, status ?? "")
        }
        press(.char("C")); type("x")
        XCTAssertEqual(c.state.prompt?.text, "", "letters other than K/M/G are refused")
        press(.escape)
        XCTAssertEqual(DashboardController.parseBytes("1.5 KiB"), 1536)
        XCTAssertNil(DashboardController.parseBytes("M"))

        press(.char("B")); XCTAssertEqual(c.state.prompt?.kind, .latencyBound)
        type("25"); press(.enter)
        XCTAssertEqual(k.p99BoundMs, 25)
        for bad in ["0", "", "1000000"] {
            press(.char("B")); type(bad); press(.enter)
            XCTAssertEqual(k.p99BoundMs, 25, bad)
            XCTAssertTrue(status?.hasPrefix("p99 bound must be") ?? false, status ?? "")
        }
    }

    func testGTypesTheDistillationTemperatureAndAlpha() {
        press(.char("g"))
        XCTAssertNil(c.state.prompt, "not built: no prompt")
        XCTAssertTrue(status?.contains("coming") ?? false, status ?? "")
        c.config.builtFeatures = [.distillation]
        press(.char("g")); type("2 0.5"); press(.enter)
        XCTAssertEqual(k.distillTemperature, 2)
        XCTAssertEqual(k.distillAlpha, 0.5)
        XCTAssertEqual(k.distillationSettings, DistillationSettings(temperature: 2, alpha: 0.5))
        XCTAssertEqual(status, "distillation T 2 α 0.5 (d starts the student)")
        press(.char("d"), .char("g")); type("8,1"); press(.enter)
        XCTAssertEqual(k.distillationSettings, DistillationSettings(temperature: 8, alpha: 1))
        XCTAssertEqual(status, "distillation T 8 α 1 from the student's next step")
        // Absurd or incomplete values change nothing and say what is expected.
        for bad in ["4", "0 0.5", "4 1.5", "1000 0.5", "4 0.9 1"] {
            press(.char("g")); type(bad); press(.enter)
            XCTAssertEqual(k.distillationSettings, DistillationSettings(temperature: 8, alpha: 1), bad)
            XCTAssertEqual(status, "distillation: type T and α, e.g. 4 0.9 (T > 0 and ≤ 100, α in [0, 1])", bad)
        }
        press(.char("g")); type("x")
        XCTAssertEqual(status, "distillation: two numbers, T and α, such as 4 0.9")
        XCTAssertEqual(c.state.prompt?.text, "", "the letter was refused")
        press(.escape)
        XCTAssertNil(c.state.prompt)
    }

    func testEveryKeyInTheHelpDoesSomethingVisible() {
        // No key of DESIGN.md's table may do nothing silently: each changes state, knobs or
        // shows a message.
        for key in ["+", "-", "b", "<", ">", "l", "o", "i", "p", "t", "k", "c", "d", " ", "Z", "f", "e", "s", "r", "/", "[", "]", "=", "m", "L", "x", "T", "?", "h", "w", "a", "z", "D", "g"] {
            var ctl = DashboardController(config: DashboardConfig(modelNames: ["mlp", "cnn"], themeNames: ["a", "b"], maxThreads: 2))
            var kv = KnobValues()
            let (s0, k0) = (ctl.state, kv)
            ctl.handle(.char(Character(key)), knobs: &kv, now: 0)
            XCTAssertTrue(ctl.state != s0 || kv != k0, "key \(key) did nothing")
        }
        for key: Key in [.tab, .backTab, .up, .down, .pageUp, .pageDown, .function(1), .function(10), .ctrlC, .char("q")] {
            var ctl = DashboardController(config: DashboardConfig())
            var kv = KnobValues()
            let s0 = ctl.state
            ctl.handle(key, knobs: &kv, now: 0)
            XCTAssertNotEqual(ctl.state, s0, "key \(key) did nothing")
        }
    }

    func testUnknownKeyPointsToHelp() {
        press(.char("j"))
        XCTAssertEqual(status, "j: not a key here — ? lists the keys")
    }

    func testHelpOverlayOpensAndClosesAndQQuits() {
        press(.char("?")); XCTAssertTrue(c.state.helpVisible)
        press(.escape); XCTAssertFalse(c.state.helpVisible)
        press(.function(1)); XCTAssertTrue(c.state.helpVisible)
        press(.down, .down); XCTAssertEqual(c.state.helpScroll, 2)
        press(.char("h")); XCTAssertFalse(c.state.helpVisible)
        press(.char("h"), .char("q")); XCTAssertTrue(c.state.quitRequested)
    }

    func testQuitKeys() {
        for key: Key in [.char("q"), .function(10), .ctrlC] {
            var ctl = DashboardController(config: DashboardConfig())
            var kv = KnobValues()
            ctl.handle(key, knobs: &kv, now: 0)
            XCTAssertTrue(ctl.state.quitRequested, "\(key)")
        }
    }

    func testLayerTableScrollingKeepsSelectionInRange() {
        c.noteLayers(rowCount: 30, viewportRows: 10)
        press(.down)
        XCTAssertEqual(c.state.layerSelection, 0, "arrows only move the table when it is focused")
        XCTAssertEqual(status, "↓ moves in the Layers table — Tab to focus it")
        press(.tab, .tab)
        XCTAssertEqual(c.state.focus, .layers)
        press(.down, .down); XCTAssertEqual(c.state.layerSelection, 2); XCTAssertEqual(c.state.layerScroll, 0)
        press(.pageDown); XCTAssertEqual(c.state.layerSelection, 12); XCTAssertEqual(c.state.layerScroll, 3)
        press(.end); XCTAssertEqual(c.state.layerSelection, 29); XCTAssertEqual(c.state.layerScroll, 20)
        press(.down); XCTAssertEqual(c.state.layerSelection, 29)
        press(.home); XCTAssertEqual(c.state.layerSelection, 0); XCTAssertEqual(c.state.layerScroll, 0)
        press(.up); XCTAssertEqual(c.state.layerSelection, 0)
        c.noteLayers(rowCount: 5, viewportRows: 10)
        press(.end); XCTAssertEqual(c.state.layerSelection, 4); XCTAssertEqual(c.state.layerScroll, 0)
    }

    func testSortCycleReverseAndFilter() {
        press(.char("s")); XCTAssertEqual(c.state.layerSort, .share); XCTAssertTrue(c.state.layerSortDescending)
        press(.char("r")); XCTAssertFalse(c.state.layerSortDescending)
        for _ in 0..<5 { press(.char("s")) }
        XCTAssertEqual(c.state.layerSort, .order)
        press(.char("/")); type("FC"); press(.enter)
        XCTAssertEqual(c.state.layerFilter, "FC")
        press(.char("/"))
        XCTAssertEqual(c.state.prompt?.text, "FC", "the prompt starts from the current filter")
        press(.backspace, .backspace, .enter)
        XCTAssertEqual(c.state.layerFilter, "")
    }

    func testTimeWindowOutInReset() {
        XCTAssertEqual(c.state.timeWindow, 60)
        press(.char("[")); XCTAssertEqual(c.state.timeWindow, 120)
        press(.char("]"), .char("]"), .char("]")); XCTAssertEqual(c.state.timeWindow, 10)
        press(.char("]")); XCTAssertEqual(c.state.timeWindow, 10)
        XCTAssertEqual(status, "time window is already 10s (narrowest)")
        for _ in 0..<10 { press(.char("[")) }
        XCTAssertNil(c.state.timeWindow)
        press(.char("=")); XCTAssertEqual(c.state.timeWindow, 60)
    }

    func testFreezeAndExpandToggle() {
        press(.char("Z")); XCTAssertTrue(c.state.frozen)
        press(.char("f")); XCTAssertFalse(c.state.frozen)
        press(.char("e")); XCTAssertTrue(c.state.expanded)
        press(.char("e")); XCTAssertFalse(c.state.expanded)
    }

    func testStatusExpires() {
        c.handle(.char("t"), knobs: &k, now: 10)
        XCTAssertNotNil(c.status(at: 13.9))
        XCTAssertNil(c.status(at: 14.1))
    }
}

/// `<` `>` `l` `o`: the training panel's hyperparameter keys (panel-scoped dispatch).
final class HyperparameterKeyTests: XCTestCase {
    var c = DashboardController(config: DashboardConfig(modelNames: ["mlp"], maxThreads: 2))
    var k = KnobValues(batchSize: 64, model: "mlp", learningRate: 0.05, optimizer: .sgd)
    func press(_ keys: Key...) { for key in keys { c.handle(key, knobs: &k, now: 0) } }
    var status: String? { c.status(at: 0)?.text }

    func testAngleBracketsHalveAndDoubleTheLearningRateOnTheTrainingPanel() {
        press(.char("<"))
        XCTAssertEqual(k.learningRate, 0.025)
        XCTAssertEqual(status, "learning rate 0.05 → 0.025 (next step)")
        press(.char(">"), .char(">"))
        XCTAssertEqual(k.learningRate, 0.1)
        k.learningRate = 8
        press(.char(">"))
        XCTAssertEqual(k.learningRate, 8, "16 is above the range")
        XCTAssertEqual(status, "learning rate is already 8 (range 1e-06…10)")
    }

    func testOnTheServingPanelTheyLeaveTheLearningRateAlone() {
        press(.tab)   // Latency / Throughput: the serving workload
        let before = k
        press(.char(">"))
        XCTAssertEqual(k, before)
        XCTAssertNotNil(status)
        press(.char("o"))
        XCTAssertEqual(k, before)
        XCTAssertEqual(status, "o acts on training — Tab to the Training panel")
    }

    func testLTypesALearningRateAndRejectsBadOnes() {
        press(.char("l"))
        XCTAssertEqual(c.state.prompt?.kind, .learningRate)
        for ch in "1e-3" { press(.char(ch)) }
        press(.enter)
        XCTAssertEqual(k.learningRate, 0.001)
        press(.char("l"), .char("x"))
        XCTAssertEqual(status, "learning rate: a number such as 0.01 or 1e-3")
        press(.char("-"), .char("2"), .enter)
        XCTAssertEqual(k.learningRate, 0.001, "negative: refused")
        XCTAssertEqual(status, "learning rate must be a number > 0 and ≤ 10.0 (e.g. 0.01)")
        XCTAssertTrue(c.status(at: 0)?.isError ?? false)
    }

    func testOCyclesTheOptimizerAndEachKeepsItsOwnRate() {
        press(.char(">"))                       // sgd at 0.1
        press(.char("o"))
        XCTAssertEqual(k.optimizer, .adamw)
        XCTAssertEqual(k.learningRate, 0.001, "AdamW's default on the first switch")
        XCTAssertEqual(status, "optimizer sgd → adamw, lr 0.001 (next step; momentum carried over)")
        press(.char("<"))                       // adamw at 0.0005
        press(.char("o"))
        XCTAssertEqual(k.optimizer, .sgd)
        XCTAssertEqual(k.learningRate, 0.1, "SGD's own rate again")
        press(.char("o"))
        XCTAssertEqual(k.learningRate, 0.0005)
    }
}
