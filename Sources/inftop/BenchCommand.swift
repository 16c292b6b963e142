import ArgumentParser
import InftopExport
import InftopTelemetry
import InftopWorkloads
import InftopEngine
import InftopTelemetry
#if canImport(Glibc)
import Glibc
#endif

/// `inftop bench`: measures kernels and models outside the dashboard, printing the same figures
/// the dashboard shows for the same settings. Each mode lives in its own file
/// (`BenchCommand+Gemm.swift`, …); this file only holds the options and dispatches.
///
/// All option values are parsed by `BenchInput` (not ArgumentParser's typed options) so that
/// bad input gives one line on stderr and exit code 2.
struct BenchCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench",
        abstract: "Measure kernel speed (GEMM GFLOP/s per backend and thread count).",
        discussion: """
            Example: inftop bench --gemm 256x256x784,512x512x512 --backend simd,blas --threads 1,2
            """)

    @Option(name: .customLong("gemm"), help: ArgumentHelp("GEMM shapes to time, MxNxK, comma-separated (e.g. 512x512x512,128x384x384).", valueName: "shapes"))
    var gemm: String?

    @Option(name: .customLong("backend"), help: ArgumentHelp("Backends, comma-separated: reference, simd, blas.", valueName: "list"))
    var backend: String = "simd,blas"

    @Option(name: .customLong("threads"), help: ArgumentHelp("Thread counts, comma-separated (e.g. 1,2).", valueName: "list"))
    var threads: String = "1"

    @Option(name: .customLong("layout"), help: ArgumentHelp("GEMM operand layouts, comma-separated: nn, nt (B transposed), tn (A transposed), tt.", valueName: "list"))
    var layout: String = "nn"

    @Option(name: .customLong("model"), help: ArgumentHelp("Model to time: mlp|cnn (with --weights), an image model's FILE.onnx, or a BERT-family folder (empty = the installed all-MiniLM-L6-v2).", valueName: "name"))
    var model: String?

    @Option(name: .customLong("tokenizer"), help: ArgumentHelp("With --model FILE.onnx of a text encoder: the tokenizer folder (vocab.txt, tokenizer_config.json); default: the installed all-MiniLM-L6-v2's.", valueName: "dir"))
    var tokenizer: String?

    @Option(name: .customLong("batch"), help: ArgumentHelp("Batch sizes for --model / --train, comma-separated (e.g. 1,8,32).", valueName: "list"))
    var batch: String?

    @Option(name: .customLong("seq"), help: ArgumentHelp("Tokens per sequence for --model.", valueName: "n"))
    var seq: String = "128"

    @Option(name: .customLong("train"), help: ArgumentHelp("Measure telemetry overhead on a training run of this model (mlp or cnn): telemetry off vs on.", valueName: "model"))
    var train: String?

    @Option(name: .customLong("data"), help: ArgumentHelp("Fashion-MNIST folder for --train.", valueName: "dir"))
    var data: String = "/usr/share/datasets/fashion-mnist"

    @Option(name: .customLong("precision"), help: ArgumentHelp("Weight precisions for --model, comma-separated: fp32, int8 (default: int8 for a dynamic-int8 FILE.onnx, else fp32).", valueName: "list"))
    var precision: String?

    @Option(name: .customLong("weights"), help: ArgumentHelp("Checkpoint (from inftop train --checkpoint) for --model mlp|cnn.", valueName: "file"))
    var weights: String?

    @Option(name: .customLong("prune"), help: ArgumentHelp("Sparsities for --model mlp|cnn|DIR, comma-separated, each in [0, 1) (e.g. 0,0.5,0.75,0.9).", valueName: "list"))
    var prune: String?

    @Option(name: .customLong("prune-mode"), help: ArgumentHelp("With --prune: unstructured (magnitude, CSR where faster) or structured (units by L2 norm, matrices shrink).", valueName: "mode"))
    var pruneMode: String = "unstructured"

    @Flag(name: .customLong("crossover"), help: "With --prune (unstructured): also time each Linear dense vs CSR over sparsities 0.5…0.95 at each batch and report where CSR starts to win.")
    var crossover = false

    @Flag(name: .customLong("json"), help: "One JSON object per line instead of a table.")
    var json = false

    @Flag(name: .customLong("peak"), help: "Measure the one-core FMA peak of each ISA tier (12 independent FMA chains); --gemm shows it too.")
    var peak = false

    /// `--isa`: for --gemm a comma-separated list of tiers timed side by side (e.g. avx2,avx512).
    @OptionGroup var isaOption: ISAOption

    @OptionGroup var llm: LLMBenchOptions
    @Option(name: .customLong("exports"), help: ArgumentHelp("Measure what exports cost on a training run of this model (mlp or cnn): off vs /metrics, record, a bounded trace, each alone and all three.", valueName: "model"))
    var exportsModel: String?
    @Option(name: .customLong("exports-trace-steps"), help: ArgumentHelp("With --exports: steps the trace captures (default 20, what --trace takes by default; 100000 = every step).", valueName: "n"))
    var exportsTraceSteps: Int?
    @Option(name: .customLong("exports-rounds"), help: ArgumentHelp("With --exports: rounds (each runs every configuration once between two off runs; default 5).", valueName: "n"))
    var exportsRounds: Int?
    @Option(name: .customLong("exports-scrape-ms"), help: ArgumentHelp("With --exports: milliseconds between two GET /metrics (default 1000, 15× a usual 15 s scrape interval).", valueName: "ms"))
    var exportsScrapeMs: Int?
    @Option(name: .customLong("exports-only"), help: ArgumentHelp("With --exports: only these configurations, comma-separated: metrics, record, trace, all (default: all four).", valueName: "list"))
    var exportsOnly: String?

    @OptionGroup var exports: ExportFlags

    /// The serving sweep (`--scenario`): BenchCommand+Serving.swift.
    @OptionGroup var serving: ServingBenchOptions

    func run() throws {
        // --metrics (and --trace, --record) expose whatever the benchmark's workloads do meanwhile.
        let exporting = exports.metrics == nil && exports.trace == nil && exports.record == nil ? nil
            : exports.session(command: "bench", knobs: nil, snapshot: {
                DashboardSnapshot(uptimeSeconds: 0, training: nil, inference: nil, memory: .now(), memorySeries: nil)
            })
        defer { if let exporting { for note in exporting.finish() { printNote(note, command: "bench") } } }
        if let m = exporting?.settings.metrics { printNote("metrics at http://\(m)/metrics", command: "bench") }
        if let exportsModel { try runExportsOverhead(model: exportsModel); return }
        if let gemm { try runGemm(shapesText: gemm); return }
        if peak { runPeak(); return }
        if let file = llm.llm { try llm.run(model: file, threads: threads, json: json); return }
        if let train { try runTrainOverhead(model: train); return }
        if let scenarios = serving.scenario {
            try runServingSweep(model: model ?? "", scenarios: scenarios)
            return
        }
        if let model {
            let batches = try (batch ?? "1,8,32").split(separator: ",").map { part -> Int in
                guard let b = Int(part.trimmingCharacters(in: .whitespaces)) else { try Self.fail("--batch '\(part)' is not an integer") }
                return b
            }
            guard let s = Int(seq), s >= 2 else { try Self.fail("--seq \(seq): must be an integer ≥ 2") }
            let t: [Int], precisions: [Precision]?
            do {
                t = try BenchInput.threads(threads)
                precisions = try precision.map { try BenchInput.precisions($0) }
            } catch let error as BenchInputError {
                try Self.fail(error.description)
            }
            guard t.count == 1 else { try Self.fail("--model takes one --threads value") }
            let fp32Backend = backend == "simd,blas" ? "blas" : backend
            var imageModel = ModelZoo.names.contains(model)
            if model.hasSuffix(".onnx") {
                do { imageModel = try !ONNXBert.isTextEncoder(path: model) } catch { try Self.fail("\(error)") }
            }
            if let prune {
                guard imageModel else {
                    if let weights { try Self.fail("--weights \(weights): only for --model \(ModelZoo.names.joined(separator: "|")) (a BERT folder holds its own weights)") }
                    try runEncoderPruneBench(model: model.isEmpty ? nil : model, sparsitiesText: prune, modeText: pruneMode, batches: batches,
                                             seq: s, threads: t[0], backend: fp32Backend, json: json)
                    return
                }
                try runPruneBench(model: model, weights: weights, sparsitiesText: prune, modeText: pruneMode, batches: batches,
                                  threads: t[0], backend: fp32Backend, json: json)
                return
            }
            if imageModel {
                try runClassifierBench(model: model, weights: weights, batches: batches, threads: t[0], backend: fp32Backend,
                                       precisions: precisions ?? [.fp32], json: json)
                return
            }
            if let weights { try Self.fail("--weights \(weights): only for --model \(ModelZoo.names.joined(separator: "|")) (a BERT folder holds its own weights)") }
            try runModelBench(model: model.isEmpty ? nil : model, tokenizer: tokenizer, batches: batches, seq: s, threads: t[0],
                              backend: fp32Backend, isa: isaOption.resolved("bench"), precisions: precisions, json: json)
            return
        }
        try Self.fail("nothing to measure: give --gemm MxNxK[,…], --peak, --model DIR (or --model ''), --llm FILE (or --llm '') or --train mlp|cnn")
    }

    /// Prints `inftop bench: <message>` as one line on stderr and exits with code 2 (bad input).
    static func fail(_ message: String) throws -> Never { exitWithErrorLine("bench", message) }
}
