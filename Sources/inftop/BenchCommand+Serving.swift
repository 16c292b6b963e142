import ArgumentParser
import Foundation
import InftopEngine
import InftopTelemetry
import InftopWorkloads

/// The serving sweep's options (`inftop bench --scenario …`); every list is comma-separated and
/// the sweep runs their cartesian product, one row per configuration (llama-bench style).
struct ServingBenchOptions: ParsableArguments {
    @Option(name: .customLong("scenario"), help: ArgumentHelp("Serving sweep: load scenarios single, server, offline (runs the dashboard's serving code per configuration).", valueName: "list"))
    var scenario: String?
    @Option(name: .customLong("rate"), parsing: .unconditional, help: ArgumentHelp("Server scenario: Poisson rates, requests/s (default: the model's dashboard rate).", valueName: "list"))
    var rate: String?
    @Option(name: .customLong("p99"), parsing: .unconditional, help: ArgumentHelp("Server scenario: p99 latency bound, ms (default: the model's).", valueName: "ms"))
    var p99: String?
    @Option(name: .customLong("duration"), parsing: .unconditional, help: ArgumentHelp("Seconds measured per configuration (after --warmup); verdicts need ≥ 10.", valueName: "s"))
    var duration = "10"
    @Option(name: .customLong("warmup"), parsing: .unconditional, help: ArgumentHelp("Seconds served before measuring, per configuration.", valueName: "s"))
    var warmup = "1"
    @Option(name: .customLong("workers"), help: ArgumentHelp("Serving workers (one replica each).", valueName: "list"))
    var workers = "1"
    @Option(name: .customLong("delay"), parsing: .unconditional, help: ArgumentHelp("Max queue delay of dynamic batching, ms.", valueName: "list"))
    var delay = "2"
    @Option(name: .customLong("cache"), help: ArgumentHelp("Response cache: off, on.", valueName: "list"))
    var cache = "off"
    @Option(name: .customLong("repeat"), parsing: .unconditional, help: ArgumentHelp("Percent of requests drawn from the hot set (0…100).", valueName: "list"))
    var repeats = "0"
    @Flag(name: .customLong("find-peak"), help: "Server scenario: find the highest Poisson rate whose p99 stays within --p99 (MLPerf FindPeakPerformance), per configuration.")
    var findPeak = false
}

extension BenchCommand {
    /// `bench --scenario …`: serves every configuration of the lists through `InferenceService`
    /// (`ServingBenchmark`) and prints one row each; with `--find-peak`, the probes and the peak.
    func runServingSweep(model name: String, scenarios scenarioText: String) throws {
        let o = serving
        func parse<T>(_ body: () throws -> T) throws -> T {
            do { return try body() } catch let e as BenchInputError { try Self.fail(e.description) }
        }
        let scenarios = try parse { try BenchInput.scenarios(scenarioText) }
        let batches = try parse { try BenchInput.integers(batch ?? "8", option: "--batch", range: KnobValues.batchRange) }
        let threadList = try parse { try BenchInput.threads(threads) }
        let backends = try parse { try BenchInput.backends(backend == "simd,blas" ? "blas" : backend) }
        let precisions = try parse { try BenchInput.precisions(precision ?? "fp32") }
        let isas = isaOption.resolvedList("bench")
        let workerList = try parse { try BenchInput.integers(o.workers, option: "--workers", range: 1...256) }
        let delays = try parse { try BenchInput.numbers(o.delay, option: "--delay", range: 0...10_000) }
        let caches = try parse { try BenchInput.switches(o.cache, option: "--cache") }
        let repeatList = try parse { try BenchInput.integers(o.repeats, option: "--repeat", range: 0...100) }
        let rates = try o.rate.map { text in try parse { try BenchInput.numbers(text, option: "--rate", range: 0...1_000_000, openBelow: true) } }
        let bound = try o.p99.map { text in try parse { try BenchInput.numbers(text, option: "--p99", range: 0...1_000_000, openBelow: true) } }
        guard bound?.count ?? 1 == 1 else { try Self.fail("--p99 takes one bound") }
        let seconds = try parse { try BenchInput.numbers(o.duration, option: "--duration", range: 0...86_400, openBelow: true) }
        let warm = try parse { try BenchInput.numbers(o.warmup, option: "--warmup", range: 0...3_600) }
        guard seconds.count == 1, warm.count == 1 else { try Self.fail("--duration and --warmup take one value each") }
        // One --format for bench (declared with the --llm options): md, csv or json here.
        let formatText = json ? "json" : llm.format
        guard let format = ServingResult.OutputFormat(rawValue: formatText) else {
            try Self.fail("--format \(formatText): unknown; use md, csv or json")
        }
        if o.findPeak && scenarios != [.server] { try Self.fail("--find-peak searches the Server scenario: give --scenario server") }
        guard let s = Int(seq), s >= 2 else { try Self.fail("--seq \(seq): must be an integer ≥ 2") }

        let (bench, descriptor) = try servingBenchmark(model: name, seq: s)
        let boundMs = bound?[0] ?? descriptor.latencyBoundMs
        let cpu = HostCPU.current
        FileHandle.standardError.write(Data("inftop bench: \(bench.model) on \(cpu.model), isa \(isas.map(\.rawValue).joined(separator: ",")); \(Format.fixed(seconds[0], 0)) s per configuration after \(Format.fixed(warm[0], 1)) s warm-up; rules: ≥ \(Format.fixed(bench.rules.minSeconds, 0)) s and ≥ \(bench.rules.minQueries[.single]!)/\(bench.rules.minQueries[.server]!)/\(bench.rules.minQueries[.offline]!) queries (single/server/offline)\n".utf8))
        if let h = ServingResult.header(format) { print(h) }
        for sc in scenarios { for b in batches { for t in threadList { for k in backends { for p in precisions { for isa in isas {
            for w in workerList { for d in delays { for c in caches { for r in repeatList {
                for rate in (sc == .server ? (rates ?? [descriptor.servingRate]) : [descriptor.servingRate]) {
                    let config = ServingConfig(batch: b, threads: t, backend: k, precision: p, isa: isa, workers: w, scenario: sc,
                                               rate: rate, maxQueueDelayMs: d, cache: c, repeatPercent: r, p99BoundMs: boundMs)
                    do {
                        if o.findPeak {
                            let (peak, _) = try bench.findPeak(config, seconds: seconds[0]) { probe in
                                print(probe.result.line(format))
                                fflush(nil)
                            }
                            let line = "find-peak: batch \(b), \(w) worker(s), delay \(Format.fixed(d, 1)) ms, p99 ≤ \(Format.ms(boundMs)) ms: "
                                + (peak.map { "peak \(Format.fixed($0, 1)) requests/s" } ?? "no rate passed")
                            FileHandle.standardError.write(Data((line + "\n").utf8))
                        } else {
                            print(try bench.run(config, seconds: seconds[0], warmup: warm[0]).line(format))
                        }
                    } catch {
                        try Self.fail("\(error)")
                    }
                    fflush(nil)
                }
            } } } }
        } } } } } }
    }

    /// The benchmark for `--model`: mlp/cnn (a replica per worker, `--weights` loaded into each,
    /// test images as inputs) or a BERT folder ('' = the installed MiniLM; corpus sentences
    /// joined to exactly `--seq` tokens).
    private func servingBenchmark(model name: String, seq: Int) throws -> (ServingBenchmark, ModelDescriptor) {
        do {
            if ModelZoo.names.contains(name) {
                let descriptor = try ModelZoo.descriptor(name)
                if let weights { _ = try Checkpoint.load(path: weights, into: try ModelZoo.make(name: name)) } else {
                    FileHandle.standardError.write(Data("inftop bench: no --weights: serving \(name)'s seeded initial weights (latency as trained, accuracy at chance)\n".utf8))
                }
                let test = try FashionMNIST.load(directory: data).test
                let weights = self.weights
                return (ServingBenchmark(model: name) { i in
                    let m = try ModelZoo.make(name: name, seed: UInt64(i))
                    if let weights { try Checkpoint.load(path: weights, into: m) }
                    return try ImageServingTask(model: m, dataset: test)
                }, descriptor)
            }
            if weights != nil { try Self.fail("--weights: only for --model \(ModelZoo.names.joined(separator: "|")) (a BERT folder holds its own weights)") }
            let dir = try ModelLocator.resolve(name.isEmpty ? nil : name)
            let first = try SentenceEncoder.load(directory: dir)
            guard seq <= first.config.maxPositions else {
                try Self.fail("--seq \(seq) is outside 2...\(first.config.maxPositions) (the model's max_position_embeddings)")
            }
            let corpus = TokenizedCorpus(texts: try SentenceCorpus.bundled(), tokenizer: first.tokenizer, length: seq)
            return (ServingBenchmark(model: first.model.descriptor.name) { i in
                // Cosine to fp32 on every 16th sentence: each scored one costs a reference forward.
                try TextServingTask(model: i == 0 ? first.model : try SentenceEncoder.load(directory: dir).model, corpus: corpus,
                                    referenceStride: 16)
            }, first.model.descriptor)
        } catch let e as EngineError {
            try Self.fail("\(e)")
        }
    }
}
