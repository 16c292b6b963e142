import InftopTelemetry
import InftopTUI
import InftopWorkloads
import XCTest

/// Full screens rendered from fixed snapshots on the virtual terminal, compared with files.
final class ScreenSnapshotTests: XCTestCase {
    func render(width: Int, height: Int, state: DashboardState = DashboardState(), snapshot: DashboardSnapshot = Fixtures.snapshot,
                status: StatusMessage? = nil, knobs: KnobValues = Fixtures.knobs) -> (text: String, canvas: Canvas) {
        let ctx = RenderContext(snapshot: snapshot, knobs: knobs, state: state, styles: StyleSheet(),
                                status: status, uiCPUFraction: 0.008, refreshHz: 10, themeName: "default", maxThreads: 2)
        var canvas = Canvas(width: 0, height: 0)
        DashboardRenderer.render(ctx, into: &canvas, width: width, height: height)
        let term = VirtualTerminal(width: width, height: height)
        term.present(canvas)
        return (term.text, canvas)
    }

    func testFullScreen80x24() {
        let r = render(width: 80, height: 24)
        assertSnapshot(r.text, named: "screen-80x24")
        for title in ["Training", "Latency / Throughput", "Layers", "Memory"] { XCTAssertTrue(r.text.contains(title), title) }
    }

    func testFullScreen120x40() {
        let r = render(width: 120, height: 40)
        assertSnapshot(r.text, named: "screen-120x40")
        assertSnapshot(VirtualTerminal.styleMap(r.canvas), named: "screen-120x40-styles")
    }

    func testFullScreen200x60() {
        assertSnapshot(render(width: 200, height: 60).text, named: "screen-200x60")
    }

    func testGeneratorServed120x40() {
        var snap = Fixtures.snapshot
        snap.inference = Fixtures.generation
        var knobs = Fixtures.knobs
        knobs.served = .generator
        knobs.generationStreams = 2
        var state = DashboardState()
        state.workload = .inference  // as after v: the layer table follows the serving side
        let r = render(width: 120, height: 40, state: state, snapshot: snap, knobs: knobs)
        assertSnapshot(r.text, named: "screen-generator-120x40")
        for piece in ["TTFT p50 214", "decode 61.4 tok/s", "KV cache on 187/1,024 pos", "#1 decode 29 tok", "#2 prefill",
                      "so each new token attends", "2 gen", "KV on", "ffn_up", "head"] {
            XCTAssertTrue(r.text.contains(piece), "the generator screen lacks '\(piece)'")
        }
        knobs.kvCache = false
        snap.inference?.generation?.kvCacheEnabled = false
        XCTAssertTrue(render(width: 120, height: 40, snapshot: snap, knobs: knobs).text.contains("KV cache off"))
    }

    func testLayerTableComparesWithThePlanBeforeTheSwitch() {
        var snap = Fixtures.snapshot
        var inf = Fixtures.inference
        inf.plan = PlanLabel(backend: .simd, isa: .avx2, precision: .int8, threads: 1)
        inf.nodeMemory = [NodeMemory(name: "fc1", weights: 200_000, activations: 0), NodeMemory(name: "fc2", weights: 32_000, activations: 0)]
        // Before the switch fc1 took twice as long, relu1 the same, fc2 less (it got slower).
        inf.baseline = LayerBaseline(label: "fp32 simd avx2", layers: [
            LayerStat(name: "fc1", forward: Fixtures.phase(0.068, p99: 0.1), backward: nil, share: 0.6),
            LayerStat(name: "relu1", forward: Fixtures.phase(0.002, p99: 0.004), backward: nil, share: 0.04),
            LayerStat(name: "fc2", forward: Fixtures.phase(0.0055, p99: 0.01), backward: nil, share: 0.2)])
        snap.inference = inf
        var state = DashboardState()
        state.workload = .inference
        let text = render(width: 160, height: 40, state: state, snapshot: snap).text
        let row = { (name: String) in text.split(separator: "\n").first { $0.contains("│" + name + " ") }.map(String.init) ?? "" }
        XCTAssertTrue(text.contains("vs fp32"), text)
        XCTAssertTrue(row("fc1").contains("int8") && row("fc1").contains("2.00×"), row("fc1"))
        XCTAssertTrue(row("relu1").contains("fp32") && row("relu1").contains("1.00×"), row("relu1"))
        XCTAssertTrue(row("fc2").contains("0.50×"), row("fc2"))
    }

    func testTooSmallScreenSaysWhatItNeeds() {
        let r = render(width: 70, height: 20)
        assertSnapshot(r.text, named: "screen-too-small-70x20")
        XCTAssertTrue(r.text.contains("terminal too small: need 80×24, have 70×20"))
        XCTAssertTrue(render(width: 79, height: 24).text.contains("have 79×24"))
        XCTAssertTrue(render(width: 80, height: 23).text.contains("have 80×23"))
        XCTAssertFalse(render(width: 80, height: 24).text.contains("too small"))
    }

    func testHelpOverlayListsEveryKeyWithItsState() {
        var state = DashboardState()
        state.helpVisible = true
        let r = render(width: 120, height: 40, state: state)
        assertSnapshot(r.text, named: "screen-help-120x40")
        for keys in ["q F10 Ctrl-C", "? F1 h", "+ -", "b", "i", "p", "P", "t", "k", "c", "d", "space", "Z f", "Tab S-Tab",
                     "e", "s r", "/", "[ ]", "=", "m", "L", "x", "T", "w", "a", "z", "< >"] {
            XCTAssertTrue(r.text.contains("┃ " + keys + " "), "help lacks \(keys)")
        }
        let lines = r.text.split(separator: "\n")
        func stateOf(_ action: String) -> String? {
            lines.first { $0.contains(action) }.map { $0.contains("coming") ? "coming" : ($0.contains("built") ? "built" : "?") }
        }
        XCTAssertEqual(stateOf("precision: fp32 ↔ int8"), "coming")
        XCTAssertEqual(stateOf("load scenario"), "built")
        XCTAssertEqual(stateOf("response cache"), "coming", "c needs the cache feature, which the fixture's app lacks")
        XCTAssertEqual(stateOf("threads: 1"), "built")
        XCTAssertEqual(stateOf("next theme"), "built")
    }

    func testExpandedLayersPanelWithSelectionAndSort() {
        var state = DashboardState()
        state.focus = .layers
        state.expanded = true
        state.layerSort = .share
        state.layerSortDescending = true
        state.layerSelection = 1
        let r = render(width: 100, height: 30, state: state)
        assertSnapshot(r.text, named: "screen-layers-expanded-100x30")
        // Sorted by share, largest first: fc1 (41%) then fc2 (12%) then optimizer (10%).
        let names = r.text.split(separator: "\n").compactMap { line -> String? in
            let cells = line.split(separator: "┃").first { !$0.trimmingCharacters(in: .whitespaces).isEmpty && $0.count > 20 }
            return cells?.split(separator: " ").first.map(String.init)
        }
        let order = names.filter { ["fc1", "fc2", "optimizer", "fc3"].contains($0) }
        XCTAssertEqual(order, ["fc1", "fc2", "optimizer", "fc3"])
    }

    /// `p` at 90% on the served mlp: the header says so, the served layers show each node's
    /// format and sparsity, the memory panel the CSR bytes, the training charts when it happened.
    func testPrunedServedModelShowsFormatSparsityAndSparseBytes() {
        var snap = Fixtures.snapshot
        snap.inference?.nodePlans = [
            NodePlan(name: "fc1", sparsity: 0.9, format: .csr), NodePlan(name: "relu1", sparsity: nil, format: nil),
            NodePlan(name: "fc2", sparsity: 0.9, format: .csr), NodePlan(name: "relu2", sparsity: nil, format: nil),
            NodePlan(name: "fc3", sparsity: 0.9, format: .dense),
        ]
        var owners = snap.memory.bytesByOwner
        owners[MemoryOwner.weightsSparse.rawValue] = 188_964   // 23 475 nonzeros · 8 + 3 rows pointers
        snap.memory = MemorySnapshot(bytesByOwner: owners, residentBytes: snap.memory.residentBytes, peakResidentBytes: snap.memory.peakResidentBytes)
        snap.training?.pruneMarkers = [Fixtures.uptime - 25]   // pruned 25 s ago: a dotted line on both charts
        var knobs = Fixtures.knobs
        knobs.pruning = 0.9
        var state = DashboardState()
        state.workload = .inference
        let r = render(width: 120, height: 40, state: state, snapshot: snap, knobs: knobs)
        assertSnapshot(r.text, named: "screen-pruned-120x40")
        XCTAssertTrue(r.text.contains("prune 90% unstr"))
        XCTAssertTrue(r.text.contains("csr 90%"))
        XCTAssertTrue(r.text.contains("dense 90%"))
        XCTAssertTrue(r.text.contains("weights spa"), "the memory legend names the CSR bytes")
        var unmarked = snap
        unmarked.training?.pruneMarkers = nil
        XCTAssertNotEqual(render(width: 120, height: 40, state: state, snapshot: unmarked, knobs: knobs).text, r.text,
                          "the pruning marker draws a dotted line on the training charts")
        // The training table (unpruned fixture) has no format column.
        XCTAssertFalse(render(width: 120, height: 40, snapshot: snap, knobs: knobs).text.contains("csr 90%"))
    }

    /// `d` on, the student served (`D`): the header names T, α and the served student, the
    /// training panel has the student's row (its test accuracy beside the teacher's, both
    /// parameter counts) and its test-accuracy curve on the accuracy chart.
    func testDistillationShowsTheStudentBesideTheTeacher() {
        var snap = Fixtures.snapshot
        snap.training?.parameters = 235_146
        var student = Fixtures.training
        student.model = "mlp-small"
        student.parameters = 50_890
        student.testAccuracy = 0.8312
        student.lastLoss = 0.41
        student.series = student.series.map { s in
            s.name == "test_acc" ? SeriesSnapshot(name: s.name, unit: s.unit, times: s.times, values: s.values.map { $0 - 0.03 }) : s
        }
        // The student's own nodes, then the teacher's forward inside its step (`teacher.*`).
        student.layers = [
            LayerStat(name: "fc1", forward: Fixtures.phase(0.058, p99: 0.097), backward: Fixtures.phase(0.102, p99: 0.160), share: 0.31),
            LayerStat(name: "relu1", forward: Fixtures.phase(0.004, p99: 0.007), backward: Fixtures.phase(0.005, p99: 0.009), share: 0.02),
            LayerStat(name: "fc2", forward: Fixtures.phase(0.006, p99: 0.011), backward: Fixtures.phase(0.009, p99: 0.015), share: 0.03),
            LayerStat(name: "teacher.fc1", forward: Fixtures.phase(0.205, p99: 0.330), backward: nil, share: 0.40),
            LayerStat(name: "loss", forward: Fixtures.phase(0.011, p99: 0.018), backward: Fixtures.phase(0.004, p99: 0.007), share: 0.03),
        ]
        snap.student = student
        var knobs = Fixtures.knobs
        knobs.distillation = true
        knobs.servesStudent = true
        let r = render(width: 120, height: 40, snapshot: snap, knobs: knobs)
        assertSnapshot(r.text, named: "screen-distill-120x40")
        XCTAssertTrue(r.text.contains("distill T 4 α 0.9 · serving student"))
        XCTAssertTrue(r.text.contains("student mlp-small 50.9k/235.1k params test 83.1% · teacher 85.1%"), r.text)
        // Per-layer timings side by side: the teacher's rows, then the student's.
        XCTAssertTrue(r.text.contains("│fc1                   0.212   0.418"), r.text)
        XCTAssertTrue(r.text.contains("│student fc1           0.058   0.102"), r.text)
        XCTAssertTrue(r.text.contains("│student teacher.fc1   0.205       –"), r.text)
        var alone = snap
        alone.student = nil
        let without = render(width: 120, height: 40, snapshot: alone, knobs: knobs).text
        XCTAssertFalse(without.contains("student mlp-small"))
        XCTAssertNotEqual(without, r.text)
    }

    /// After the batch shrank the activations keep their room; the legend says what is in use.
    func testActivationRoomKeptAfterABatchShrinkIsShownBesideWhatIsInUse() {
        XCTAssertFalse(render(width: 120, height: 40).text.contains("act. in use"), "nothing to say when all is in use")
        var snap = Fixtures.snapshot
        var used = snap.memory.bytesByOwner
        let act = used[MemoryOwner.activations.rawValue]
        XCTAssertGreaterThan(act, 0, "the fixture holds activations")
        used[MemoryOwner.activations.rawValue] = act / 8
        snap.memory.inUseByOwner = used
        for (w, h) in [(120, 40), (80, 24)] {
            let t = render(width: w, height: h, snapshot: snap).text
            XCTAssertTrue(t.contains("act. in use"), "\(w)×\(h)")
            XCTAssertTrue(t.contains(Format.bytes(act / 8)), "\(w)×\(h): the bytes in use")
        }
    }

    func testNoWorkloadsYetShowsPlaceholders() {
        let empty = DashboardSnapshot(uptimeSeconds: 1, training: nil, inference: nil,
                                      memory: MemorySnapshot(bytesByOwner: [], residentBytes: 0, peakResidentBytes: 0),
                                      memorySeries: nil)
        let t = render(width: 80, height: 24, snapshot: empty).text
        XCTAssertTrue(t.contains("training not running"))
        XCTAssertTrue(t.contains("inference not running"))
        XCTAssertTrue(t.contains("no layer timings yet"))
    }

    func testHeaderBadgesForPausedAndFrozen() {
        var knobs = Fixtures.knobs
        knobs.trainingPaused = true
        var state = DashboardState()
        state.frozen = true
        let ctx = RenderContext(snapshot: Fixtures.snapshot, knobs: knobs, state: state)
        var canvas = Canvas(width: 0, height: 0)
        DashboardRenderer.render(ctx, into: &canvas, width: 120, height: 40)
        let header = canvas.row(0)
        XCTAssertTrue(header.hasSuffix(" PAUSED training   FROZEN "), header)
        let x = header.distance(from: header.startIndex, to: header.range(of: "PAUSED")!.lowerBound)
        XCTAssertTrue(canvas[x, 0].style.attributes.contains(.reverse))
        knobs.inferencePaused = true
        DashboardRenderer.render(RenderContext(snapshot: Fixtures.snapshot, knobs: knobs), into: &canvas, width: 120, height: 40)
        XCTAssertTrue(canvas.row(0).hasSuffix(" PAUSED "))
    }

    func testMonochromeMarksFocusAndSelectionWithAttributes() {
        var state = DashboardState()
        state.focus = .layers
        state.layerSelection = 2
        let ctx = RenderContext(snapshot: Fixtures.snapshot, knobs: Fixtures.knobs, state: state, styles: StyleSheet(monochrome: true))
        var canvas = Canvas(width: 0, height: 0)
        DashboardRenderer.render(ctx, into: &canvas, width: 120, height: 40)
        let layers = DashboardLayout.compute(width: 120, height: 40).panels[.layers]!
        XCTAssertEqual(canvas[layers.x, layers.y].character, "┏", "the focused panel has a heavy border")
        XCTAssertTrue(canvas[layers.x, layers.y].style.attributes.contains(.bold))
        // Row 0 of the table is the header; selection 2 is two rows below the first data row.
        let selectedRow = layers.y + 1 + 1 + 2
        XCTAssertTrue(canvas.row(selectedRow).contains("fc2"))
        XCTAssertTrue(canvas[layers.x + 1, selectedRow].style.attributes.contains(.reverse))
        XCTAssertFalse(canvas[layers.x + 1, selectedRow + 1].style.attributes.contains(.reverse))
    }

    func testTextSnapshotForNonTTY() {
        let s = renderTextSnapshot(Fixtures.snapshot, width: 120, height: 40, knobs: Fixtures.knobs)
        XCTAssertEqual(s.split(separator: "\n", omittingEmptySubsequences: false).count, 41)   // 40 lines + final newline
        XCTAssertTrue(s.contains("step 12,345"))
        XCTAssertTrue(s.contains("batch 64"))
        XCTAssertFalse(s.contains(" \n"), "trailing spaces are trimmed")
    }
}
