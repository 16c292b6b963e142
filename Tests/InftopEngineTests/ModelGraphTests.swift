import Foundation
import Synchronization
import XCTest
import InftopEngine
import InftopTelemetry

/// The one model graph: every model (mlp, cnn, a BERT encoder) is a `Model` of named nodes run
/// by the same code; per-node plans switch between steps without tearing a forward.
final class ModelGraphTests: XCTestCase {
    /// Runs `model`'s nodes one by one through the public `Node` API with its wiring: if any
    /// model had a forward of its own, `model.forward` would not be what its nodes compute.
    static func runNodesByHand(_ model: Model, input: Tensor, context: ForwardContext) -> Tensor {
        var values: [Tensor] = [input]
        for (i, node) in model.nodes.enumerated() {
            values.append(node.forward(model.wiring[i].map { values[$0] }, model.plan(ofNode: i), context))
        }
        return values[values.count - 1]
    }

    func testEveryModelIsTheOneGraphAndItsForwardIsItsNodes() throws {
        for name in ["mlp", "cnn"] {
            let model = try ModelZoo.make(name: name, seed: 3)
            let shape = try XCTUnwrap(model.descriptor.sampleShape)
            let x = LayerCheck.tensor([5] + shape, seed: 11)
            let want = model.forward(x).toArray()
            let got = Self.runNodesByHand(model, input: x, context: ForwardContext()).toArray()
            XCTAssertEqual(got, want, "\(name): Model.forward is its nodes in order")
            XCTAssertTrue(model.isTrainable)
            XCTAssertEqual(model.nodes.filter { $0.kind.isWeightBearing }.map(\.name),
                           name == "mlp" ? ["fc1", "fc2", "fc3"] : ["conv1", "conv2", "fc1", "fc2"])
        }
        let dir = makeTempDir("graph-bert")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        var tiny = BertModelTests.Tiny(seed: 5)
        try tiny.write(to: dir)
        let enc = try SentenceEncoder.load(directory: dir)
        let model = enc.model
        XCTAssertEqual(model.nodes.map(\.name), BertModel.nodeNames(layers: 2))
        XCTAssertFalse(model.isTrainable)
        XCTAssertEqual(model.wiring[4], [4, 1], "L0.ln1 adds the attention output to the embeddings (the residual)")
        let batch = enc.tokenizer.batch(["the cat sat", "a dog"])
        let want = enc.embed(["the cat sat", "a dog"], batchSize: 2, compute: Compute(backend: .blas)).flatMap { $0 }
        let got = Self.runNodesByHand(model, input: Tensor([0]), context: ForwardContext(tokens: batch)).toArray()
        for (a, b) in zip(got, want) { XCTAssertEqual(a, b, accuracy: 1e-6) }
        XCTAssertEqual(got.count, want.count)
    }

    func testSitesAndMemoryRowsComeFromNodeNamesForEveryModel() throws {
        let dir = makeTempDir("graph-sites")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        var tiny = BertModelTests.Tiny(seed: 6)
        try tiny.write(to: dir)
        let models = [try ModelZoo.make(name: "mlp"), try ModelZoo.make(name: "cnn"), try SentenceEncoder.load(directory: dir).model]
        for model in models {
            let profiler = StepProfiler()
            _ = model.registerSites(in: profiler)
            XCTAssertEqual(profiler.siteNames, model.nodes.map(\.name), model.name)
            XCTAssertEqual(model.nodeMemory().map(\.name), model.nodes.map(\.name), model.name)
            XCTAssertEqual(model.nodeMemory().reduce(0) { $0 + $1.weights }, model.weightBytes, model.name)
            XCTAssertGreaterThan(model.weightBytes, 0, model.name)
        }
    }

    func testDescriptorsSayWhatGoesInAndOut() throws {
        let mlp = try ModelZoo.descriptor("mlp"), cnn = try ModelZoo.descriptor("cnn")
        XCTAssertEqual(mlp.input, .image(shape: [784]))
        XCTAssertEqual(cnn.input, .image(shape: [1, 28, 28]))
        XCTAssertEqual(mlp.output, .classes(10))
        XCTAssertGreaterThan(mlp.servingRate, cnn.servingRate, "the MLP is ~10× cheaper per image")
        XCTAssertThrowsError(try ModelZoo.descriptor("resnet")) { XCTAssertTrue("\($0)".contains("known models: mlp, cnn")) }
    }

    func testInt8IsPreparedInTheBackgroundWhileTheFP32PlanKeepsServing() throws {
        let dir = makeTempDir("graph-int8")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        var tiny = BertModelTests.Tiny(seed: 12)
        try tiny.write(to: dir)
        let enc = try SentenceEncoder.load(directory: dir)
        let model = enc.model, batch = enc.tokenizer.batch(["the cat sat on the mat", "a dog"])
        let fp32Plan = Compute(backend: .simd), int8Plan = Compute(backend: .simd, precision: .int8)
        model.setPlan(fp32Plan)
        let fp32 = model.forward(tokens: batch).toArray()
        XCTAssertEqual(model.int8WeightBytes, 0)
        XCTAssertFalse(model.request(int8Plan), "quantizing takes work: staged, not applied")
        XCTAssertTrue(model.isPreparingPlan)
        XCTAssertEqual(model.currentPlan.precision, .fp32)
        XCTAssertEqual(model.forward(tokens: batch).toArray(), fp32, "the old plan serves until the new one is ready")
        var adopted = false
        for _ in 0..<50_000_000 where !adopted { adopted = model.request(int8Plan) }
        XCTAssertTrue(adopted)
        XCTAssertEqual(model.currentPlan.precision, .int8)
        XCTAssertGreaterThan(model.int8WeightBytes, 0, "every projection's int8 form was built")
        let int8 = model.forward(tokens: batch).toArray()
        XCTAssertNotEqual(int8, fp32)
        let d = int8.count / 2
        for b in 0..<2 {
            var dot: Float = 0
            for c in 0..<d { dot += int8[b * d + c] * fp32[b * d + c] }
            XCTAssertGreaterThan(dot, 0.99, "int8 stays close to fp32 (unit vectors: the dot is the cosine)")
        }
    }

    func testReferenceBackendRunsReferenceKernelsInEveryNode() throws {
        // The encoder under .reference must agree with the fast tiers (it is their oracle), and
        // its attention, LayerNorm and GELU must be the plain loops: compare with the fast path
        // at a tolerance the fast kernels' approximations (rational erf, exp polynomial) explain.
        let dir = makeTempDir("graph-ref")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        var tiny = BertModelTests.Tiny(seed: 9)
        try tiny.write(to: dir)
        let enc = try SentenceEncoder.load(directory: dir)
        let texts = ["the cat sat on the mat", "a dog"]
        let ref = enc.embed(texts, compute: Compute(backend: .reference))
        let fast = enc.embed(texts, compute: Compute(backend: .simd))
        for (a, b) in zip(ref, fast) { assertClose(b, a, abs: 2e-5, "simd vs reference") }
        for (t, e) in zip(texts, ref) {
            assertClose(e, tiny.reference(enc.tokenizer.encode(t), pooling: "mean_tokens"), abs: 2e-5, "reference vs the test's own loops")
        }
    }
}

/// A node that stamps its plan into its output ([n, 1]: the backend's index), and whose change
/// of plan needs preparation (counted), for the plan-swap test.
private final class PlanStamp: PlanPreparing {
    let name: String
    var kind: NodeKind { .linear }
    var activationBytes: Int { y.bytes }
    let y: Tensor
    let prepared = Atomic<Int>(0)
    private var adopted: KernelBackend = .blas
    init(_ name: String) { self.name = name; y = Tensor([0, 1], name: name) }
    func outputShape(_ inputs: [[Int]]) -> [Int] { [inputs[0][0], 1] }
    func forward(_ inputs: [Tensor], _ plan: Compute, _ context: ForwardContext) -> Tensor {
        precondition(plan.backend == adopted, "\(name): runs plan \(plan.backend) before adopting it")
        let n = inputs[0].shape[0]
        y.resize([n, 1])
        for i in 0..<n { y.data[i] = inputs[0].data[i * (inputs[0].count / max(n, 1))] * 8 + Float(KernelBackend.allCases.firstIndex(of: plan.backend)!) }
        return y
    }
    func needsPreparation(from old: Compute, to new: Compute) -> Bool { old.backend != new.backend }
    func prepare(for plan: Compute) -> any Sendable {
        var x = 0.0
        for i in 0..<200_000 { x += Double(i).squareRoot() }  // work, not a sleep
        prepared.wrappingAdd(1, ordering: .relaxed)
        return x
    }
    func adopt(_ prepared: any Sendable, for plan: Compute) { adopted = plan.backend }
    func weightsChanged(plan: Compute) {}
}

final class PlanSwapTests: XCTestCase {
    func testPlanSwitchedWhileAnotherThreadServesNeverTearsAForward() throws {
        let descriptor = ModelDescriptor(name: "stamps", summary: "test", input: .image(shape: [1]), output: .classes(1),
                                         servingRate: 1, evalBatchSize: 1, trainable: false, latencyBoundMs: 1)
        let a = PlanStamp("a"), b = PlanStamp("b")
        let model = Model(descriptor: descriptor, nodes: [a, b], plan: Compute(backend: .blas))
        let wanted = Locked<KernelBackend>(.blas)
        // The plan the server runs, as the server sees it (the model is the server thread's:
        // reading `currentPlan` from here raced its `request`, TSan said).
        let running = Locked<KernelBackend>(.blas)
        let stop = Atomic<Bool>(false)
        nonisolated(unsafe) let m = model
        nonisolated(unsafe) var seen: [KernelBackend] = []
        nonisolated(unsafe) var torn = 0
        let server = JoinableThread(name: "test-serve") {
            let x = Tensor([4, 1], values: [0, 0, 0, 0])
            while !stop.load(ordering: .acquiring) {
                m.request(Compute(backend: wanted.withLock { $0 }))   // a step boundary
                let now = m.currentPlan.backend
                running.withLock { $0 = now }
                let y = m.forward(x)
                // a's stamp s goes through b as s·8 + b's stamp: a torn forward has s ≠ b's.
                for i in 0..<4 {
                    let v = Int(y.data[i]), sa = v / 8, sb = v % 8
                    if sa != sb { torn += 1 }
                    if i == 0 { let k = KernelBackend.allCases[sb]; if seen.last != k { seen.append(k) } }
                }
            }
        }
        for backend in [KernelBackend.simd, .reference, .blas, .simd] {
            wanted.withLock { $0 = backend }
            // Wait (bounded) until the server runs the new plan: it adopts at a boundary.
            var spins = 0
            while running.withLock({ $0 }) != backend && spins < 20_000_000 { spins += 1 }
            XCTAssertEqual(running.withLock { $0 }, backend)
        }
        stop.store(true, ordering: .releasing)
        server.join()
        XCTAssertEqual(torn, 0, "no forward mixed two plans")
        XCTAssertEqual(seen, [.blas, .simd, .reference, .blas, .simd], "each plan served in turn, after its preparation")
        XCTAssertEqual(a.prepared.load(ordering: .relaxed), 4, "each change prepared once, in the background")
    }

    func testSetPlanPreparesAndAdoptsAtOnce() {
        let descriptor = ModelDescriptor(name: "stamps", summary: "test", input: .image(shape: [1]), output: .classes(1),
                                         servingRate: 1, evalBatchSize: 1, trainable: false, latencyBoundMs: 1)
        let a = PlanStamp("a")
        let model = Model(descriptor: descriptor, nodes: [a], plan: Compute(backend: .blas))
        model.setPlan(Compute(backend: .reference))
        XCTAssertFalse(model.isPreparingPlan)
        XCTAssertEqual(model.currentPlan.backend, .reference)
        XCTAssertEqual(model.forward(Tensor([1, 1], values: [0])).data[0], Float(KernelBackend.allCases.firstIndex(of: .reference)!))
    }
}
