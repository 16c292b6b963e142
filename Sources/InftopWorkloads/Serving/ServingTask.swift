import InftopEngine
import InftopTelemetry
import Synchronization

/// What the serving loop runs for a batch of requests, whatever the model's input: the model,
/// the inputs requests draw from, and how a served answer is scored (its live accuracy).
///
/// `serve` is the timed part (input assembly + forward); `score` runs after the responses are
/// out, outside request latency and the profiler step (for an encoder it may compute the fp32
/// reference of a sentence seen for the first time).
public protocol ServingTask: AnyObject {
    var model: Model { get }
    /// Distinct inputs requests draw from (test images, corpus sentences).
    var sampleCount: Int { get }
    /// What the served accuracy means ("test accuracy", "cosine to fp32").
    var accuracyLabel: String { get }
    /// Floats in one answer (logits, embedding): what the response cache stores per entry.
    var answerWidth: Int { get }
    /// A hash of sample `i`'s input (its pixels, its token ids): the response cache's key.
    func inputKey(_ i: Int32) -> UInt64
    /// Runs the model on `samples`; with `spans`, a lap per node on `sites` (plus the input
    /// assembly on `inputSite`).
    func serve(_ samples: [Int32], spans: SpanBuffer?, inputSite: Int32, sites: [Int32])
    /// Copies row `b` of the last `serve`'s answers (`answerWidth` floats) into `out`.
    func copyAnswer(row b: Int, into out: UnsafeMutablePointer<Float>)
    /// The last `serve`'s per-request scores in row order (1/0 for a correct class, the
    /// cosine to fp32 for an embedding; NaN for a request not scored), written into `out`.
    func scores(into out: inout [Double])
    /// The model `serve` runs: `model`, or the physically smaller one structured pruning cut
    /// from it (`followStructured`).
    var servedModel: Model { get }
    /// Structured pruning of what serves: `fraction` of the units removed (0 = none), the
    /// smaller model running `plan`. Called on the worker thread at each batch boundary, after
    /// newer weights (if any) went into `model` (`weightsVersion`, the version it holds). Long
    /// work happens off that thread while the current model keeps serving.
    func followStructured(_ fraction: Double, plan: Compute, weightsVersion: Int)
}

/// FNV-1a over bytes: the response cache's input hash (not for security).
func fnv1a<T>(_ values: UnsafeBufferPointer<T>) -> UInt64 {
    var h: UInt64 = 0xcbf2_9ce4_8422_2325
    for b in UnsafeRawBufferPointer(values) { h = (h ^ UInt64(b)) &* 0x0000_0100_0000_01b3 }
    return h
}

/// Classifies test images (mlp, cnn): a request's score is 1 when the argmax is the label.
public final class ImageServingTask: ServingTask {
    public let model: Model
    public let dataset: ImageDataset
    public var sampleCount: Int { dataset.count }
    public var accuracyLabel: String { "test accuracy" }
    /// `[n] + sampleShape`, owned.
    private let x: Tensor
    private var labels: [Int32] = []
    /// The last batch's correctness per row.
    private var correct: [Bool] = []
    /// [n, classes] the last batch's logits (the model's output buffer, valid until the next forward).
    private var logits: Tensor?
    private let sampleShape: [Int]
    /// Per test image, the hash of its pixels.
    private let keys: [UInt64]
    public let answerWidth: Int
    /// The zoo model with only the units structured pruning keeps, cut from `model`'s weights
    /// each time newer ones arrive (`Model.shrunk(keeping:reusing:)`: a copy into the same
    /// buffers while the kept widths stay), nil when unpruned or `model` is not a zoo model.
    private var compact: Model?
    private var compactKey: (fraction: Double, version: Int)?
    public var servedModel: Model { compact ?? model }

    /// - Throws: `EngineError.invalid` when the model does not take images of the dataset's size.
    public init(model: Model, dataset: ImageDataset) throws {
        guard let shape = model.descriptor.sampleShape, shape.reduce(1, *) == dataset.sampleSize else {
            throw EngineError.invalid(what: "model '\(model.name)'", reason: "does not take \(dataset.rows)×\(dataset.cols) images")
        }
        guard case .classes(let classes) = model.descriptor.output else {
            throw EngineError.invalid(what: "model '\(model.name)'", reason: "is not a classifier (class logits output)")
        }
        self.model = model
        self.dataset = dataset
        sampleShape = shape
        answerWidth = classes
        x = Tensor([1] + shape, name: "serve.x")
        let size = dataset.sampleSize
        keys = (0..<dataset.count).map { fnv1a(UnsafeBufferPointer(start: dataset.pixels + $0 * size, count: size)) }
    }

    public func inputKey(_ i: Int32) -> UInt64 { keys[Int(i)] }

    public func serve(_ samples: [Int32], spans: SpanBuffer?, inputSite: Int32, sites: [Int32]) {
        let n = samples.count
        x.resize([n] + sampleShape)
        if labels.count < n { labels = Array(repeating: 0, count: n) }
        samples.withUnsafeBufferPointer { idx in
            labels.withUnsafeMutableBufferPointer { lab in
                dataset.gather(indices: idx.baseAddress!, n: n, x: x.data, labels: lab.baseAddress!)
            }
        }
        spans?.lap(site: inputSite, phase: .forward)
        let out = servedModel.forward(x, spans: spans, sites: sites)
        logits = out
        let classes = answerWidth
        correct.removeAll(keepingCapacity: true)
        let o = out.data
        for b in 0..<n {
            var best = 0
            for c in 1..<classes where o[b * classes + c] > o[b * classes + best] { best = c }
            correct.append(Int32(best) == labels[b])
        }
    }

    /// The units kept are `structuredKeep(fraction)` of the replica's weights: when the trained
    /// model was pruned to the same fraction (the dashboard prunes both), its zeroed units have
    /// the lowest norms, so they are the ones removed. A non-zoo model (an ONNX import) keeps
    /// serving whole.
    public func followStructured(_ fraction: Double, plan: Compute, weightsVersion: Int) {
        guard fraction > 0 else { compact = nil; compactKey = nil; return }
        if compactKey?.fraction != fraction || compactKey?.version != weightsVersion {
            // A model still preparing a plan in the background reads its weights: cut a new one.
            let reuse = compact.flatMap { $0.isPreparingPlan ? nil : $0 }
            compact = try? model.shrunk(keeping: model.structuredKeep(fraction: fraction), reusing: reuse)
            compactKey = (fraction, weightsVersion)
        }
        compact?.request(plan)
    }

    public func copyAnswer(row b: Int, into out: UnsafeMutablePointer<Float>) {
        guard let logits else { return }
        out.update(from: logits.data + b * answerWidth, count: answerWidth)
    }

    public func scores(into out: inout [Double]) {
        out.removeAll(keepingCapacity: true)
        for c in correct { out.append(c ? 1 : 0) }
    }
}

/// Embeds corpus sentences with a text encoder: a request's score is the cosine of its
/// embedding to the fp32 reference embedding of the same sentence, computed once per sentence
/// (alone, unpadded, fp32 with the blas backend) and cached.
public final class TextServingTask: ServingTask {
    public let model: Model
    public let corpus: TokenizedCorpus
    public var sampleCount: Int { corpus.count }
    public var accuracyLabel: String { "cosine to fp32" }
    private let dimension: Int
    /// [count, dimension] reference embeddings; `hasReference[i]` says whether row i is filled.
    private var references: [Float]
    private var hasReference: [Bool]
    /// [n, dimension] the last batch's embeddings (copied out: a reference forward reuses the model's buffers).
    private var last: [Float] = []
    private var lastSamples: [Int32] = []
    /// Per sentence, the hash of its token ids.
    private let keys: [UInt64]
    public var answerWidth: Int { dimension }
    /// Loads the encoder again with a fraction of every layer's heads and FFN channels removed
    /// (`SentenceEncoder.replica(pruneUnits:)`); nil: this encoder has no structured form.
    private let loadPruned: (@Sendable (Double) throws -> Model)?
    /// The pruned encoder serving now, and the fraction it was loaded at.
    private var compact: (fraction: Double, model: Model)?
    /// A pruned encoder being loaded on its own thread while the current one serves.
    private var loading: PrunedLoad?
    /// Why the last structured load failed (nil when it did not).
    public private(set) var structuredError: String?
    public var servedModel: Model { compact?.model ?? model }

    public func inputKey(_ i: Int32) -> UInt64 { keys[Int(i)] }

    /// Loads the pruned encoder on a background thread (a MiniLM takes about a second) and swaps
    /// it in at the first batch boundary after it is ready; the current encoder serves until then.
    public func followStructured(_ fraction: Double, plan: Compute, weightsVersion: Int) {
        if let l = loading, l.done.load(ordering: .acquiring) {
            l.thread?.join()
            loading = nil
            switch l.result {
            case .success(let m)? where l.fraction == fraction: compact = (fraction, m); structuredError = nil
            case .failure(let e)?:
                structuredError = "\(e)"; failedFraction = l.fraction
                Notices.shared.post("structured pruning \(Format.percent(l.fraction)): \(e)")
            default: break  // loaded for a fraction no longer wanted
            }
        }
        if fraction == 0 {
            compact = nil
        } else if compact?.fraction != fraction, loading == nil, failedFraction != fraction, let loadPruned {
            let l = PrunedLoad(fraction: fraction)
            l.thread = JoinableThread(name: "inftop-prune") { [l] in
                l.result = Result { try loadPruned(fraction) }
                l.done.store(true, ordering: .releasing)
            }
            loading = l
        }
        compact?.model.request(plan)
    }
    /// The fraction whose load failed (not retried for the same fraction).
    private var failedFraction: Double = -1

    deinit { loading?.thread?.join() }

    public func copyAnswer(row b: Int, into out: UnsafeMutablePointer<Float>) {
        last.withUnsafeBufferPointer { out.update(from: $0.baseAddress! + b * dimension, count: dimension) }
    }

    /// - Throws: `EngineError.invalid` when the model does not take tokens or give embeddings.
    /// Requests for sentence i are scored only when i is a multiple of this: each scored
    /// sentence costs one more (unpadded, fp32) forward on its first visit, which at 128 tokens
    /// would halve a benchmark's throughput. 1 scores every request.
    public let referenceStride: Int

    public init(model: Model, corpus: TokenizedCorpus, referenceStride: Int = 1,
                loadPruned: (@Sendable (Double) throws -> Model)? = nil) throws {
        precondition(referenceStride >= 1, "TextServingTask: reference stride must be ≥ 1")
        self.referenceStride = referenceStride
        self.loadPruned = loadPruned
        guard case .tokens = model.descriptor.input, case .embedding(let d) = model.descriptor.output else {
            throw EngineError.invalid(what: "model '\(model.name)'", reason: "is not a text encoder (token input, embedding output)")
        }
        self.model = model
        self.corpus = corpus
        dimension = d
        keys = corpus.ids.map { ids in ids.withUnsafeBufferPointer { fnv1a($0) } }
        references = Array(repeating: 0, count: corpus.count * d)
        hasReference = Array(repeating: false, count: corpus.count)
    }

    /// How many sentences have a cached reference.
    public var referencesCached: Int { hasReference.lazy.filter { $0 }.count }

    public func serve(_ samples: [Int32], spans: SpanBuffer?, inputSite: Int32, sites: [Int32]) {
        let batch = TokenBatch(sequences: samples.map { corpus.ids[Int($0)] }, padId: corpus.padId)
        spans?.lap(site: inputSite, phase: .forward)
        let e = servedModel.forward(tokens: batch, spans: spans, sites: sites)
        let n = samples.count, d = dimension
        if last.count < n * d { last = Array(repeating: 0, count: n * d) }
        last.withUnsafeMutableBufferPointer { $0.baseAddress!.update(from: e.data, count: n * d) }
        lastSamples = samples
    }

    public func scores(into out: inout [Double]) {
        let d = dimension
        out.removeAll(keepingCapacity: true)
        for (b, s) in lastSamples.enumerated() {
            let i = Int(s)
            guard i % referenceStride == 0 else { out.append(.nan); continue }
            if !hasReference[i] {
                let ref = model.forward(tokens: TokenBatch(sequences: [corpus.ids[i]], padId: corpus.padId),
                                        plan: Compute(backend: .blas, threads: 1, isa: model.currentPlan.isa, precision: .fp32))
                for c in 0..<d { references[i * d + c] = ref.data[c] }
                hasReference[i] = true
            }
            var dot = 0.0
            for c in 0..<d { dot += Double(last[b * d + c]) * Double(references[i * d + c]) }
            out.append(dot)
        }
    }
}

/// A pruned encoder loading on its own thread (`TextServingTask.followStructured`).
final class PrunedLoad: @unchecked Sendable {
    let fraction: Double
    let done = Atomic<Bool>(false)
    /// Written by the loading thread before `done`.
    var result: Result<Model, any Error>?
    var thread: JoinableThread?
    init(fraction: Double) { self.fraction = fraction }
}

/// Sentences tokenized once: the text encoder's request inputs.
public final class TokenizedCorpus: @unchecked Sendable {
    public let texts: [String]
    /// Token ids of each text ([CLS] … [SEP], truncated to the tokenizer's maximum).
    public let ids: [[Int]]
    public let padId: Int
    public var count: Int { texts.count }

    public init(texts: [String], tokenizer: WordPieceTokenizer) {
        precondition(!texts.isEmpty, "TokenizedCorpus: no texts")
        self.texts = texts
        ids = texts.map(tokenizer.encode)
        padId = tokenizer.padId
    }

    /// Sequences of exactly `length` tokens (2…the tokenizer's maximum): text i is its own
    /// sentence followed by the next ones until the length is reached, then cut — distinct
    /// real text per input, every input the same length (`inftop bench --seq`).
    public init(texts: [String], tokenizer: WordPieceTokenizer, length: Int) {
        precondition(!texts.isEmpty && length >= 2, "TokenizedCorpus: need texts and length ≥ 2")
        let pieces = texts.map { tokenizer.tokenIds($0) }
        var joined: [String] = [], rows: [[Int]] = []
        for i in texts.indices {
            var body: [Int] = [], used: [String] = []
            var j = i
            while body.count < length - 2 {
                body += pieces[j]
                used.append(texts[j])
                j = (j + 1) % texts.count
            }
            rows.append([tokenizer.clsId] + body.prefix(length - 2) + [tokenizer.sepId])
            joined.append(used.joined(separator: " "))
        }
        self.texts = joined
        ids = rows
        padId = tokenizer.padId
    }
}
