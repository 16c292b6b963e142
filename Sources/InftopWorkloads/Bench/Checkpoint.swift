import InftopEngine
import InftopTelemetry

/// Reading back a checkpoint written by `inftop train --checkpoint` (safetensors with the run's
/// metadata; `TrainingLoop.writeCheckpoint`) into a model of the zoo.
public enum Checkpoint {
    /// Copies every parameter of `model` from the file at `path`, and its masks when it holds some.
    /// - Throws: `EngineError` with one line naming the file and what is wrong: unreadable or
    ///   corrupt, written for another model (metadata `model`), a parameter missing or of
    ///   another shape.
    public static func load(path: String, into model: Model) throws {
        let file = try SafeTensorsFile(path: path)
        if let written = file.metadata["model"], written != model.name {
            throw EngineError.badFile(path: path, reason: "a checkpoint of model '\(written)', not '\(model.name)'")
        }
        for p in model.parameters {
            guard let info = file.info(p.name) else {
                throw EngineError.badFile(path: path, reason: "no tensor '\(p.name)': not a checkpoint of model '\(model.name)'")
            }
            guard info.shape == p.value.shape else {
                throw EngineError.badFile(path: path, reason: "tensor '\(p.name)' is \(info.shape), model '\(model.name)' needs \(p.value.shape)")
            }
            let values = try file.floats(p.name)
            values.withUnsafeBufferPointer { p.value.data.update(from: $0.baseAddress!, count: p.value.count) }
            p.value.markChanged()
        }
        // A pruned model's masks (`<parameter>.mask`, Model.checkpointTensors): fine-tuning and
        // serving go on with the same units and weights pruned.
        var masks: [String: Tensor] = [:]
        for p in model.parameters {
            guard let info = file.info(p.name + ".mask") else { continue }
            guard info.shape == p.value.shape else {
                throw EngineError.badFile(path: path, reason: "mask '\(p.name).mask' is \(info.shape), parameter '\(p.name)' is \(p.value.shape)")
            }
            masks[p.name] = Tensor(p.value.shape, values: try file.floats(p.name + ".mask"), name: p.name + ".mask", owner: .other)
        }
        if !masks.isEmpty { model.setMasks(masks) }
    }
}
