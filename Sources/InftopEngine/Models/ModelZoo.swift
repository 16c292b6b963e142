/// The models inftop trains on Fashion-MNIST, with the PyTorch peers' shapes
/// (shared/peers/fmnist_common.py) and PyTorch's default initialisation (done by the layers).
public enum ModelZoo {
    /// Names `make` knows, in the order the `m` key cycles them.
    public static let names = ["mlp", "cnn"]
    /// The distillation students (`inftop train --distill --student`, `d`), smaller than the
    /// teachers above; `make` builds them too, `m` does not cycle them.
    public static let studentNames = ["mlp-small", "cnn-small"]

    /// `names` and `studentNames`: every model `make` builds.
    public static var allNames: [String] { names + studentNames }

    /// The student `d` trains beside `teacher` (a `names` entry): mlp → mlp-small, cnn → cnn-small.
    public static func student(for teacher: String) -> String? {
        switch teacher {
        case "mlp": "mlp-small"
        case "cnn": "cnn-small"
        default: nil
        }
    }

    /// A fresh model with weights drawn from `seed` (layer i uses `seed + i`).
    ///
    /// - mlp: 784-256-128-10, ReLU — `nn.Sequential(Linear(784,256), ReLU, Linear(256,128), ReLU, Linear(128,10))`,
    ///   input `[784]`, 235 146 parameters.
    /// - cnn: conv5×5×32 pad 2 – ReLU – maxpool 2 – conv5×5×64 pad 2 – ReLU – maxpool 2 – flatten –
    ///   fc 3136→128 – ReLU – fc 128→10, input `[1, 28, 28]`, 454 922 parameters.
    /// - mlp-small (student): 784-64-10, ReLU, input `[784]`, 50 890 parameters.
    /// - cnn-small (student): cnn's layers with conv 8 and 16 channels and fc 784→32 (input `[1, 28, 28]`),
    ///   28 874 parameters.
    ///
    /// The first layer skips its input gradient (nothing upstream needs it, as in autograd).
    /// - Throws: `EngineError.invalid` for an unknown name, listing the known ones.
    public static func make(name: String, seed: UInt64 = 0) throws -> Model {
        try make(name: name, seed: seed, widths: defaultWidths(name))
    }

    /// The hidden widths of a zoo model: mlp [256, 128] (its two hidden layers), cnn [32, 64, 128]
    /// (conv1's and conv2's channels, fc1's outputs).
    public static func defaultWidths(_ name: String) throws -> [Int] {
        switch name {
        case "mlp": return [256, 128]
        case "cnn": return [32, 64, 128]
        case "mlp-small": return [64]
        case "cnn-small": return [8, 16, 32]
        default: throw unknown(name)
        }
    }

    /// `make` with other hidden widths (a structurally pruned model: `Model.shrunk`). The
    /// descriptor is the zoo model's (same input, output, name).
    public static func make(name: String, seed: UInt64, widths: [Int]) throws -> Model {
        func s(_ i: UInt64) -> UInt64 { seed &+ i }
        let count = try defaultWidths(name).count
        guard widths.count == count, widths.allSatisfy({ $0 >= 1 }) else {
            throw EngineError.invalid(what: "widths \(widths) of model '\(name)'", reason: "needs \(count) widths ≥ 1")
        }
        switch name {
        case "mlp":
            let fc1 = Linear(name: "fc1", inFeatures: 784, outFeatures: widths[0], seed: s(0))
            fc1.computesInputGradient = false
            return Model(descriptor: try descriptor(name), nodes: [
                fc1, ReLU(name: "relu1"),
                Linear(name: "fc2", inFeatures: widths[0], outFeatures: widths[1], seed: s(2)), ReLU(name: "relu2"),
                Linear(name: "fc3", inFeatures: widths[1], outFeatures: 10, seed: s(4)),
            ])
        case "mlp-small":
            let fc1 = Linear(name: "fc1", inFeatures: 784, outFeatures: widths[0], seed: s(0))
            fc1.computesInputGradient = false
            return Model(descriptor: try descriptor(name), nodes: [
                fc1, ReLU(name: "relu1"),
                Linear(name: "fc2", inFeatures: widths[0], outFeatures: 10, seed: s(2)),
            ])
        case "cnn", "cnn-small":
            let conv1 = Conv2d(name: "conv1", inChannels: 1, outChannels: widths[0], kernel: 5, padding: 2, seed: s(0))
            conv1.computesInputGradient = false
            return Model(descriptor: try descriptor(name), nodes: [
                conv1, ReLU(name: "relu1"), MaxPool2d(name: "pool1", size: 2),
                Conv2d(name: "conv2", inChannels: widths[0], outChannels: widths[1], kernel: 5, padding: 2, seed: s(3)),
                ReLU(name: "relu2"), MaxPool2d(name: "pool2", size: 2),
                Flatten(name: "flatten"),
                Linear(name: "fc1", inFeatures: widths[1] * 49, outFeatures: widths[2], seed: s(7)), ReLU(name: "relu3"),
                Linear(name: "fc2", inFeatures: widths[2], outFeatures: 10, seed: s(9)),
            ])
        default:
            throw unknown(name)
        }
    }

    /// Checks that `student` can learn from `teacher` by distillation: both build, both classify
    /// the same input into the same classes, and the student has fewer parameters.
    /// - Throws: `EngineError.invalid` with one line naming both and what is wrong.
    public static func checkStudent(_ student: String, teacher: String) throws {
        let s = try descriptor(student), t = try descriptor(teacher)
        let sp = try make(name: student).parameterCount, tp = try make(name: teacher).parameterCount
        guard sp < tp else {
            throw EngineError.invalid(what: "student '\(student)'", reason: "has \(sp) parameters, not fewer than teacher '\(teacher)' (\(tp))")
        }
        guard s.input == t.input, s.output == t.output else {
            throw EngineError.invalid(what: "student '\(student)'", reason: "takes input \(s.sampleShape ?? []), teacher '\(teacher)' \(t.sampleShape ?? []) (pick one of the same kind)")
        }
    }

    /// The facts about a model of the zoo (input, output, serving rate, evaluation batch).
    /// - Throws: `EngineError.invalid` for an unknown name, listing the known ones.
    public static func descriptor(_ name: String) throws -> ModelDescriptor {
        switch name {
        case "mlp", "mlp-small":
            // The student (distillation) is served and evaluated as its teacher is.
            return ModelDescriptor(name: name, summary: name == "mlp" ? "MLP 784-256-128-10" : "MLP 784-64-10", input: .image(shape: [784]),
                                   output: .classes(10), servingRate: 1000, evalBatchSize: 1000, trainable: true, latencyBoundMs: 10)
        case "cnn", "cnn-small":
            // Evaluation batches of 100 images: conv1's activations at 1000 would be 100 MB.
            return ModelDescriptor(name: name, summary: name == "cnn" ? "CNN conv32-conv64-fc128" : "CNN conv8-conv16-fc32",
                                   input: .image(shape: [1, 28, 28]), output: .classes(10),
                                   servingRate: 100, evalBatchSize: 100, trainable: true, latencyBoundMs: 50)
        default:
            throw unknown(name)
        }
    }

    private static func unknown(_ name: String) -> EngineError {
        EngineError.invalid(what: "model '\(name)'", reason: "unknown; known models: \(allNames.joined(separator: ", "))")
    }
}
