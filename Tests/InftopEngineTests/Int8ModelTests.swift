import InftopTelemetry
import XCTest
import InftopEngine

/// The models at precision int8: every weight-bearing layer runs the int8 GEMM (the reference
/// twin gives bit-identical outputs, so the wiring runs through it), outputs stay close to fp32,
/// alternating precisions between calls gives exactly the pure fp32 or int8 result (no torn
/// batch), the int8 weights follow new fp32 weights (copyWeights), and training stays fp32.
final class Int8ModelTests: XCTestCase {
    func input(_ model: Model, batch: Int) -> Tensor {
        let x = Tensor([batch] + model.descriptor.sampleShape!)
        var s: UInt64 = 0x1234_5678_9ABC_DEF1
        for i in 0..<x.count { s ^= s << 13; s ^= s >> 7; s ^= s << 17; x.data[i] = Float(s >> 40) / Float(1 << 24) }
        return x
    }

    func forward(_ model: Model, _ x: Tensor, _ c: Compute) -> [Float] { model.setPlan(c); return model.forward(x).toArray() }

    func testModelsRunInt8CloseToFP32() throws {
        for name in ModelZoo.names {
            let model = try ModelZoo.make(name: name, seed: 3)
            let x = input(model, batch: 5)
            let isa = CPUFeatures.host.bestISA
            let fp32 = forward(model, x, Compute(backend: .simd, threads: 2, isa: isa))
            let int8 = forward(model, x, Compute(backend: .simd, threads: 2, isa: isa, precision: .int8))
            let ref8 = forward(model, x, Compute(backend: .reference, threads: 1, isa: isa, precision: .int8))
            XCTAssertEqual(int8, ref8, "\(name): int8 fast tier vs reference twin")
            XCTAssertNotEqual(int8, fp32, "\(name): int8 must actually run")
            let scale = fp32.map(abs).max()!
            let err = zip(int8, fp32).map { abs($0 - $1) }.max()!
            XCTAssertLessThan(err, 0.02 * scale, "\(name): int8 logits within 2 % of the largest fp32 logit")
            XCTAssertGreaterThan(MemoryLedger.shared.bytes(.weightsINT8), 0)
        }
    }

    func testAlternatingPrecisionGivesPureResults() throws {
        let model = try ModelZoo.make(name: "mlp", seed: 1)
        let x = input(model, batch: 7)
        let c32 = Compute(backend: .simd, threads: 1), c8 = Compute(backend: .simd, threads: 1, precision: .int8)
        let fp32 = forward(model, x, c32), int8 = forward(model, x, c8)
        for i in 0..<6 { XCTAssertEqual(forward(model, x, i % 2 == 0 ? c8 : c32), i % 2 == 0 ? int8 : fp32, "call \(i)") }
    }

    func testPrepareInt8BuildsEveryLayer() throws {
        let model = try ModelZoo.make(name: "cnn", seed: 4)
        XCTAssertEqual(model.int8WeightBytes, 0)
        model.prepareInt8()
        // conv1 [32, 25], conv2 [64, 800], fc1 [128, 3136], fc2 [10, 128]
        let expected = [(32, 25), (64, 800), (128, 3136), (10, 128)].reduce(0) { $0 + QuantizedWeights.bytes(n: $1.0, k: $1.1) }
        XCTAssertEqual(model.int8WeightBytes, expected)
    }

    func testInt8FollowsCopiedWeights() throws {
        let served = try ModelZoo.make(name: "cnn", seed: 1), trained = try ModelZoo.make(name: "cnn", seed: 2)
        let x = input(served, batch: 2)
        let c8 = Compute(backend: .simd, threads: 1, precision: .int8)
        let before = forward(served, x, c8)
        let expected = forward(trained, x, c8)
        served.copyWeights(from: trained)
        let after = forward(served, x, c8)
        XCTAssertNotEqual(after, before)
        XCTAssertEqual(after, expected)
    }
}
