import Foundation
import InftopEngine
import InftopExport
import InftopTelemetry
import InftopWorkloads

extension BenchCommand {
    /// `inftop bench --exports mlp --batch 64 --threads 1`: training throughput with exports off
    /// vs metrics + trace + record on, alternated in both orders.
    func runExportsOverhead(model: String) throws {
        let (b, t, kb, trainSet, testSet) = try trainingRunInputs(flag: "--exports", model: model)
        if let n = exportsTraceSteps, !(1...100_000).contains(n) { try Self.fail("--exports-trace-steps \(n): must be an integer 1…100000") }
        let traced = exportsTraceSteps ?? 100_000
        let r = try ExportsOverheadBenchmark.run(model: model, batch: b, threads: t, backend: kb, train: trainSet, test: testSet,
                                                 stepsPerRun: 3 * Self.overheadSteps(try ModelZoo.descriptor(model)), traceSteps: traced)
        if json {
            print(r.jsonLine)
        } else {
            print(String(format: "%@ batch %d, %d thread(s), %d rounds (alternating order): exports off %.0f samples/s (step %.3f ms), on %.0f samples/s (step %.3f ms)",
                         r.model, r.batch, r.threads, r.rounds, r.samplesPerSecondOff, r.stepMsOff, r.samplesPerSecondOn, r.stepMsOn))
            print(String(format: "wall slowdown %.2f%% (median of rounds: %@)", r.slowdown * 100,
                         r.slowdowns.map { String(format: "%.2f%%", $0 * 100) }.joined(separator: " ")))
            print(String(format: "process CPU per step: off %.4f ms, on %.4f ms → overhead %.2f%% (median of rounds: %@)",
                         r.cpuMsPerStepOff, r.cpuMsPerStepOn, r.cpuOverhead * 100,
                         r.cpuSlowdowns.map { String(format: "%.2f%%", $0 * 100) }.joined(separator: " ")))
            print(String(format: "training thread: profiler's own share of the step %.3f%% off, %.3f%% on (exports add %.3f%% to the step)",
                         r.profilerShareOff * 100, r.profilerShareOn * 100, (r.profilerShareOn - r.profilerShareOff) * 100))
            print(String(format: "on = /metrics (%d scrapes rendered) + a trace of %@ (%d events) + a record (%d lines)",
                         r.scrapes, exportsTraceSteps.map { "the first \($0) steps of each run" } ?? "every step", r.traceEvents, r.recordLines))
        }
    }
}
