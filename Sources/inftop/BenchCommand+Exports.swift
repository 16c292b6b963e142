import Foundation
import InftopEngine
import InftopExport
import InftopTelemetry
import InftopWorkloads

extension BenchCommand {
    /// `inftop bench --exports mlp --batch 64 --threads 1`: training throughput and CPU with
    /// exports off against /metrics alone, a record alone, a bounded trace alone and all three.
    func runExportsOverhead(model: String) throws {
        let (b, t, kb, trainSet, testSet) = try trainingRunInputs(flag: "--exports", model: model)
        if let n = exportsTraceSteps, !(1...100_000).contains(n) { try Self.fail("--exports-trace-steps \(n): must be an integer 1…100000") }
        if let n = exportsRounds, !(1...100).contains(n) { try Self.fail("--exports-rounds \(n): must be an integer 1…100") }
        if let n = exportsScrapeMs, !(10...600_000).contains(n) { try Self.fail("--exports-scrape-ms \(n): must be an integer 10…600000") }
        var configurations = ExportsConfiguration.allCases
        if let only = exportsOnly {
            configurations = try only.split(separator: ",").map { name in
                guard let c = ExportsConfiguration(rawValue: String(name)) else {
                    try Self.fail("--exports-only \(only): use metrics, record, trace, all (comma-separated)")
                }
                return c
            }
        }
        let r = try ExportsOverheadBenchmark.run(model: model, batch: b, threads: t, backend: kb, train: trainSet, test: testSet,
                                                 stepsPerRun: 6 * Self.overheadSteps(try ModelZoo.descriptor(model)),
                                                 rounds: exportsRounds ?? 5, traceSteps: exportsTraceSteps ?? 20, scrapeIntervalMs: exportsScrapeMs ?? 1000,
                                                 configurations: configurations)
        if json {
            print(r.jsonLine)
        } else {
            for line in r.lines { print(line) }
            print(String(format: "metrics = /metrics bound on loopback, every step and request in its histograms, scraped over HTTP every %d ms; record = a line every %d ms; trace = the first %d steps (a file written); CPU overhead = (on − off) / off of process CPU per step; exporters' CPU = their own threads' CPU per step / off's process CPU per step",
                         r.scrapeIntervalMs, r.recordIntervalMs, r.traceSteps))
        }
    }
}
