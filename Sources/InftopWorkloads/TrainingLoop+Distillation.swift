import InftopEngine
import InftopTelemetry

/// Knowledge distillation's two settings (`--temperature`, `--alpha`; issue 12's defaults
/// T = 4, α = 0.9): the loss is α·T²·KL(teacher_T ‖ student_T) + (1 − α)·cross-entropy
/// (`DistillationLoss`).
public struct DistillationSettings: Sendable, Equatable, Codable {
    /// > 0.
    public var temperature: Float
    /// In [0, 1]; 0 trains on the hard labels only (the control run).
    public var alpha: Float

    public init(temperature: Float = 4, alpha: Float = 0.9) {
        self.temperature = temperature
        self.alpha = alpha
    }

    /// Throws `EngineError.invalid` naming the flag of the first bad value.
    public func validate() throws {
        if !(temperature > 0 && temperature.isFinite) {
            throw EngineError.invalid(what: "--temperature \(temperature)", reason: "must be a finite number > 0")
        }
        if !(alpha >= 0 && alpha <= 1) { throw EngineError.invalid(what: "--alpha \(alpha)", reason: "must be in [0, 1]") }
    }
}

extension TrainingLoop {
    /// Checks a distillation run's pair: a teacher exactly when the config distills, a student
    /// (`config.model`) smaller than it and of the same input and classes, a teacher that is
    /// not the model being trained.
    static func checkDistillation(_ config: TrainingConfig, teacher: Model?) throws {
        switch (config.distillation, teacher) {
        case (nil, nil): return
        case (nil, .some): throw EngineError.invalid(what: "teacher", reason: "given without distillation settings")
        case (.some, nil): throw EngineError.invalid(what: "--distill", reason: "needs a teacher (--teacher CKPT)")
        case (.some(let d), .some(let t)):
            try d.validate()
            try ModelZoo.checkStudent(config.model, teacher: t.name)
        }
    }

    /// The knobs' T and α where they are set (the config's otherwise), from this step on; a
    /// value out of range is ignored (the controller never writes one).
    func applyDistillationKnobs(_ v: KnobValues) {
        guard let base = config.distillation else { return }
        let d = DistillationSettings(temperature: v.distillTemperature ?? base.temperature, alpha: v.distillAlpha ?? base.alpha)
        if (try? d.validate()) != nil { stepper.setDistillation(d) }
    }

    /// Newer teacher weights from `teacherSource`, if any (a step boundary).
    func refreshTeacher() {
        guard let source = teacherSource, let teacher = stepper.teacher else { return }
        if let v = source(teacher, teacherVersion) { teacherVersion = v }
    }

    /// The distillation settings in force (nil without a teacher).
    public var distillationInForce: DistillationSettings? {
        stepper.distillLoss.map { DistillationSettings(temperature: $0.temperature, alpha: $0.alpha) }
    }
}
