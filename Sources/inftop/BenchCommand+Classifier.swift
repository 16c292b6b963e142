import Foundation
import InftopEngine
import InftopTelemetry
import InftopWorkloads

extension BenchCommand {
    /// `bench --model mlp|cnn --weights CKPT --precision fp32,int8 --batch 1,64`: inference latency
    /// and test accuracy of a trained checkpoint per (precision, batch) (`ClassifierBenchmark`).
    /// A missing, corrupt or foreign checkpoint gets one line and status 2.
    func runClassifierBench(model name: String, weights: String?, batches: [Int], threads: Int, backend: String,
                            precisions: [Precision], json: Bool) throws {
        let onnx = name.hasSuffix(".onnx")
        if onnx, let weights { try Self.fail("--weights \(weights): an ONNX file holds its own weights") }
        if !onnx && weights == nil {
            try Self.fail("--model \(name) needs --weights CKPT (a checkpoint written by inftop train --model \(name) --checkpoint CKPT)")
        }
        guard let gemm = KernelBackend(rawValue: backend) else {
            try Self.fail("--backend for a model must be one of \(KernelBackend.allCases.map(\.rawValue).joined(separator: ", ")), got '\(backend)'")
        }
        guard batches.allSatisfy({ $0 >= 1 && $0 <= 4096 }) else { try Self.fail("--batch needs sizes in 1...4096, e.g. 1,64") }
        let bench: ClassifierBenchmark
        do {
            let model = try loadClassifier(name, weights: weights)
            bench = ClassifierBenchmark(model: model, test: try FashionMNIST.load(directory: data).test)
        } catch let e as EngineError {
            try Self.fail("\(e)")
        }
        if !json {
            print("model \(name)\(weights.map { " from \($0)" } ?? ""); \(threads) thread(s), \(backend)")
            print("precision batch     p50 ms     p90 ms     p99 ms     items/s  test acc  weight KB  runs")
        }
        _ = bench.run(precisions: precisions, batches: batches, compute: Compute(backend: gemm, threads: threads)) { r in
            if json {
                print(r.jsonLine)
            } else {
                print(String(format: "%9@ %5d %10.3f %10.3f %10.3f %11.1f %9.4f %10.1f %5d", r.precision.rawValue, r.batch, r.p50Ms,
                             r.p90Ms, r.p99Ms, r.itemsPerSec, r.testAccuracy, Double(r.weightBytes) / 1024, r.runs))
            }
            fflush(nil)
        }
    }

    /// A zoo model with the checkpoint's weights, or an image model imported from an ONNX file
    /// (`name` ending in .onnx) whose input is a Fashion-MNIST image and whose output is 10 classes.
    func loadClassifier(_ name: String, weights: String?) throws -> Model {
        guard name.hasSuffix(".onnx") else {
            let model = try ModelZoo.make(name: name)
            if let weights { try Checkpoint.load(path: weights, into: model) }
            return model
        }
        let model = try ONNXModel.load(path: name)
        guard let shape = model.descriptor.sampleShape, shape.reduce(1, *) == 784, [[784], [1, 28, 28], [28, 28]].contains(shape) else {
            throw EngineError.badFile(path: name, reason: "input is [batch, \(model.descriptor.sampleShape?.map(String.init).joined(separator: ", ") ?? "?")]; "
                                      + "bench measures a Fashion-MNIST classifier ([batch, 784] or [batch, 1, 28, 28])")
        }
        guard model.descriptor.output == .classes(10) else {
            throw EngineError.badFile(path: name, reason: "output is \(model.outputShape(batch: 1)); a Fashion-MNIST classifier gives [batch, 10]")
        }
        return model
    }
}
