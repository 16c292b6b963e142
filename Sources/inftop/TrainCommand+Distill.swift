import Foundation
import InftopEngine
import InftopWorkloads

extension TrainCommand {
    /// `train --distill --teacher CKPT [--student S] [--temperature T --alpha A] --epochs N --seed S`:
    /// the distilled student and its hard-label control side by side (`DistillationComparison`),
    /// a line per epoch with both test accuracies, then the teacher's and the student's
    /// parameters and measured batch-64 latency. Bad input gets one line and status 2.
    func runDistillation(config base: TrainingConfig, knobs: KnobValues, train: ImageDataset, test: ImageDataset) {
        func fail(_ message: String) -> Never { exitWithErrorLine("train", message) }
        guard distill else { fail("--teacher and --student need --distill") }
        guard let path = teacher else { fail("--distill needs --teacher CKPT (a checkpoint written by inftop train --model \(model) --checkpoint CKPT)") }
        for (given, flag) in [(prune != nil, "--prune"), (weights != nil, "--weights"), (distributed, "--distributed"), (target != nil, "--target")] where given {
            fail("--distill: \(flag) is not built for distillation runs")
        }
        let studentName = student ?? ModelZoo.student(for: model) ?? ""
        guard ModelZoo.allNames.contains(studentName) else {
            fail("--student \(studentName): unknown; students: \(ModelZoo.studentNames.joined(separator: ", "))")
        }
        guard let t = Float(temperature), t > 0, t.isFinite else { fail("--temperature \(temperature): must be a finite number > 0") }
        guard let a = Float(alpha), a >= 0, a <= 1 else { fail("--alpha \(alpha): must be a number in [0, 1]") }
        do { try ModelZoo.checkStudent(studentName, teacher: model) } catch EngineError.invalid(_, let reason) {
            fail("--student \(studentName): \(reason)")
        } catch { fail("--student \(studentName): \(error)") }

        let teacherModel: Model
        do {
            teacherModel = try ModelZoo.make(name: model)
            try Checkpoint.load(path: path, into: teacherModel)
        } catch { fail("--teacher \(error)") }
        var config = base
        config.model = studentName
        config.distillation = DistillationSettings(temperature: t, alpha: a)
        let run: DistillationComparison
        do { run = try DistillationComparison(config: config, teacher: teacherModel, train: train, test: test, knobs: knobs) } catch { fail("\(error)") }

        let asJSON = json, total = config.epochs
        if !asJSON {
            emit("distilling \(model) (\(teacherModel.parameterCount) parameters, from \(path)) into \(studentName) "
                 + "(\(run.distilled.model.parameterCount) parameters), T \(t) α \(a), seed \(config.seed), beside a hard-label control "
                 + "(same seed, init and data order); batch \(knobs.batchSize), \(config.optimizer.rawValue) lr \(config.learningRate), "
                 + "\(knobs.threads) thread(s) each, \(knobs.backend.rawValue)")
        }
        let (dReport, cReport) = run.run { e in
            if asJSON {
                emit(Self.object([
                    ("epoch", "\(e.distilled.epoch)"), ("student", Self.string(studentName)),
                    ("distilled_test_accuracy", Self.num(e.distilled.testAccuracy, 5)), ("control_test_accuracy", Self.num(e.control.testAccuracy, 5)),
                    ("distilled_train_loss", Self.num(e.distilled.trainLoss, 5)), ("control_train_loss", Self.num(e.control.trainLoss, 5)),
                    ("distilled_test_loss", Self.num(e.distilled.testLoss, 5)), ("control_test_loss", Self.num(e.control.testLoss, 5)),
                    ("distilled_samples_per_sec", Self.num(e.distilled.samplesPerSecond, 1)), ("control_samples_per_sec", Self.num(e.control.samplesPerSecond, 1)),
                ]))
            } else {
                emit("epoch \(e.distilled.epoch)/\(total)  test acc distilled \(Self.fixed(e.distilled.testAccuracy, 4)) "
                     + "control \(Self.fixed(e.control.testAccuracy, 4)) (Δ \(Self.fixed((e.distilled.testAccuracy - e.control.testAccuracy) * 100, 2)) points)"
                     + "  train loss distilled \(Self.fixed(e.distilled.trainLoss, 4)) control \(Self.fixed(e.control.trainLoss, 4))")
            }
        }
        for r in [dReport, cReport] {
            guard let r else { exitWithErrorLine("train", "training ended without a report", status: 1) }
            if let error = r.error { exitWithErrorLine("train", "\(error)", status: 1) }
        }
        // Latency after training, one model at a time (nothing else running in this process).
        let compute = Compute(backend: knobs.backend, threads: knobs.threads, isa: HostCPU.current.runnable(knobs.isa))
        let tf = run.facts(teacherModel, compute: compute), sf = run.facts(run.distilled.model, compute: compute)
        let dAcc = dReport?.epochs.last?.testAccuracy ?? .nan, cAcc = cReport?.epochs.last?.testAccuracy ?? .nan
        let speedup = tf.p50Ms / sf.p50Ms
        if asJSON {
            func facts(_ f: DistillationModelFacts) -> String {
                Self.object([("model", Self.string(f.name)), ("parameters", "\(f.parameters)"), ("test_accuracy", Self.num(f.testAccuracy, 5)),
                             ("p50_ms", Self.num(f.p50Ms, 4)), ("batch", "\(f.batch)"), ("runs", "\(f.runs)")])
            }
            emit(Self.object([
                ("distill", "true"), ("teacher", facts(tf)), ("student", facts(sf)), ("control_parameters", "\(run.control.model.parameterCount)"),
                ("distilled_test_accuracy", Self.num(dAcc, 5)), ("control_test_accuracy", Self.num(cAcc, 5)),
                ("gain_points", Self.num((dAcc - cAcc) * 100, 3)), ("speedup", Self.num(speedup, 3)),
                ("temperature", Self.num(Double(t), 4)), ("alpha", Self.num(Double(a), 4)), ("seed", "\(config.seed)"), ("epochs", "\(total)"),
                ("backend", Self.string(knobs.backend.rawValue)), ("threads", "\(knobs.threads)"), ("isa", Self.string(compute.isa.rawValue)),
            ]))
        } else {
            emit("teacher \(tf.name): \(tf.parameters) parameters, test acc \(Self.fixed(tf.testAccuracy, 4)), "
                 + "batch \(tf.batch) p50 \(Self.fixed(tf.p50Ms, 3)) ms (\(tf.runs) runs)")
            emit("student \(sf.name): \(sf.parameters) parameters, test acc distilled \(Self.fixed(dAcc, 4)) control \(Self.fixed(cAcc, 4)), "
                 + "batch \(sf.batch) p50 \(Self.fixed(sf.p50Ms, 3)) ms (\(sf.runs) runs): \(Self.fixed(speedup, 2))× faster than the teacher")
        }
    }
}
