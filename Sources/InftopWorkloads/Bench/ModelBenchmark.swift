import Foundation
import InftopEngine
import InftopTelemetry

/// One batch size's latency figures from `ModelBenchmark`.
public struct ModelBenchResult: Sendable, Equatable {
    public var model: String
    public var batch: Int
    public var seq: Int
    public var threads: Int
    public var backend: String
    /// Kernel ISA tier the run used (`Compute.isa`).
    public var isa: String
    /// fp32, or int8 (every projection quantized: ProjectionNode's int8 form).
    public var precision: String = "fp32"
    public var p50Ms: Double
    public var p90Ms: Double
    public var p99Ms: Double
    public var sentencesPerSec: Double
    /// Effective GFLOP/s: the forward's FLOPs (BertConfig.flops) / p50.
    public var gflops: Double
    /// Peak resident set of the process so far (VmHWM), MiB.
    public var peakRssMB: Double
    public var runs: Int

    /// One JSON object: {"model":…,"batch":…,"seq":…,"threads":…,"backend":…,"p50_ms":…,"p90_ms":…,
    /// "p99_ms":…,"sentences_per_sec":…,"gflops":…,"peak_rss_mb":…,"runs":…}.
    public var jsonLine: String {
        func r(_ v: Double, _ digits: Int = 2) -> String { String(format: "%.\(digits)f", v) }
        return "{\"model\":\(JSONText.quote(model)),\"batch\":\(batch),\"seq\":\(seq),\"threads\":\(threads),\"backend\":\(JSONText.quote(backend)),\"precision\":\(JSONText.quote(precision)),"
            + "\"p50_ms\":\(r(p50Ms, 3)),\"p90_ms\":\(r(p90Ms, 3)),\"p99_ms\":\(r(p99Ms, 3)),\"sentences_per_sec\":\(r(sentencesPerSec)),"
            + "\"gflops\":\(r(gflops)),\"peak_rss_mb\":\(r(peakRssMB, 1)),\"runs\":\(runs),\"isa\":\(JSONText.quote(isa))}"
    }
}

/// Bad benchmark settings (one line).
public struct BenchmarkError: Error, CustomStringConvertible {
    public let description: String
    public init(_ description: String) { self.description = description }
}

/// Latency of a BERT-family sentence encoder on synthetic inputs of exactly `seq` real tokens
/// (no padding): each row is [CLS] + a window of a tokenized English text + [SEP], the window
/// shifted by 7 tokens per row — the inputs `peers/minilm_bench.py` times. Timed: the whole
/// `BertModel.embed` (encoder + pooling + L2), as the peers time theirs.
public final class ModelBenchmark {
    public let encoder: SentenceEncoder
    public let modelName: String

    /// Text the inputs are cut from (the peers' BENCH_TEXT).
    public static let text = """
        The quick brown fox jumps over the lazy dog while a terminal dashboard streams per-layer \
        timings, memory use and loss curves for a small transformer running on two CPU cores. \
        Quantization to eight-bit integers trades a little accuracy for speed, pruning removes \
        small weights, and batching amortizes the cost of reading every matrix from memory. \
        Sentence embeddings map text of any length to a fixed vector of three hundred and \
        eighty-four numbers that can be compared with cosine similarity. Fashion images are \
        classified by a multilayer perceptron trained with stochastic gradient descent and \
        momentum, and the test accuracy climbs quickly during the first few epochs. 
        """

    /// Loads the model folder (`ModelLocator.resolve` it first).
    public init(directory: String) throws {
        encoder = try SentenceEncoder.load(directory: directory)
        modelName = URL(fileURLWithPath: directory).standardized.path
    }

    /// `name` for the output (default: the encoder's folder).
    public init(encoder: SentenceEncoder, name: String? = nil) {
        self.encoder = encoder
        modelName = name ?? encoder.directory
    }

    /// `batch` rows of exactly `seq` tokens. Throws when seq is outside 2…max positions.
    public func inputs(batch: Int, seq: Int) throws -> TokenBatch {
        let tok = encoder.tokenizer
        guard seq >= 2, seq <= encoder.config.maxPositions else {
            throw BenchmarkError("--seq \(seq) is outside 2...\(encoder.config.maxPositions) (the model's max_position_embeddings)")
        }
        guard batch >= 1 else { throw BenchmarkError("batch size \(batch) must be ≥ 1") }
        let once = tok.tokenIds(Self.text)
        var pieces: [Int] = []
        while pieces.count < 64 + seq { pieces += once }
        let rows = (0..<batch).map { b -> [Int] in
            let start = (b * 7) % 64
            return [tok.clsId] + pieces[start..<(start + seq - 2)] + [tok.sepId]
        }
        return TokenBatch(sequences: rows, padId: tok.padId)
    }

    /// Times `embed` per batch size: warm-up (2 runs, ≥ 0.3 s), then runs until at least `minRuns` and
    /// `minSeconds`, stopping at `maxRuns`, or at `maxSeconds` once 3 runs are in. `profiler`,
    /// when given, gets each timed run as a step (per-layer spans). `progress` sees each result.
    public func run(batches: [Int], seq: Int, compute: Compute, minRuns: Int = 10, minSeconds: Double = 3,
                    maxRuns: Int = 2000, maxSeconds: Double = 60, profiler: StepProfiler? = nil,
                    progress: ((ModelBenchResult) -> Void)? = nil) throws -> [ModelBenchResult] {
        let model = encoder.model
        let sites = profiler.map { model.registerSites(in: $0) } ?? []
        model.setPlan(compute)
        var results: [ModelBenchResult] = []
        for b in batches {
            let input = try inputs(batch: b, seq: seq)
            // Warm-up: 2 runs and at least 0.3 s (a fresh process's first few hundred ms of
            // 2-thread work run slower; see GemmBenchmark.compare), so p99 is not start-up.
            let warm = monotonicNanos()
            var warmRuns = 0
            while warmRuns < 2 || monotonicNanos() - warm < 300_000_000 {
                _ = model.forward(tokens: input)
                warmRuns += 1
            }
            var times: [Double] = []
            let start = monotonicNanos()
            while true {
                profiler?.beginStep()
                let t0 = monotonicNanos()
                _ = model.forward(tokens: input, spans: profiler?.buffer, sites: sites)
                let t1 = monotonicNanos()
                profiler?.endStep(wallNanos: t1 - t0)
                times.append(Double(t1 - t0) / 1e6)
                let elapsed = Double(t1 - start) / 1e9
                if times.count >= maxRuns { break }
                if times.count >= minRuns && elapsed >= minSeconds { break }
                if times.count >= 3 && elapsed >= maxSeconds { break }
            }
            times.sort()
            func pct(_ p: Double) -> Double { times[min(times.count - 1, max(0, Int((p / 100 * Double(times.count)).rounded(.up)) - 1))] }
            let p50 = pct(50)
            let r = ModelBenchResult(
                model: modelName, batch: b, seq: seq, threads: compute.threads, backend: compute.backend.rawValue, isa: compute.isa.rawValue,
                precision: compute.precision.rawValue,
                p50Ms: p50, p90Ms: pct(90), p99Ms: pct(99), sentencesPerSec: Double(b) / (p50 / 1e3),
                gflops: encoder.config.flops(batch: b, seq: seq) / (p50 / 1e3) / 1e9,
                peakRssMB: Double(ProcessMemory.shared.peakResidentBytes()) / 1_048_576, runs: times.count)
            progress?(r)
            results.append(r)
        }
        return results
    }
}
