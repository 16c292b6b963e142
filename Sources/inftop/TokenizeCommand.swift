import ArgumentParser
import InftopEngine
import InftopWorkloads

/// `inftop tokenize`: token ids of texts under a GGUF model's tokenizer, one JSON line per text.
struct TokenizeCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "tokenize",
        abstract: "Token ids of texts under a GGUF model's tokenizer (one JSON line per text).",
        discussion: """
            Texts come from the arguments, or one per line from standard input. Output per text:
            {"text": …, "ids": [...]}. With --special, special tokens written in the text (<|im_start|>)
            are parsed as such (llama.cpp's special=true).
            """)

    @Option(help: "GGUF file (default: the installed SmolLM2-135M-Instruct).")
    var model: String?
    @Flag(help: "Parse special tokens written in the text.")
    var special = false
    @Argument(help: "Texts (default: lines of standard input).")
    var texts: [String] = []

    func run() throws {
        let tokenizer: BPETokenizer
        do {
            tokenizer = try BPETokenizer(file: try GGUFFile(path: try LLMLocator.resolve(model)))
        } catch let e as EngineError {
            exitWithErrorLine("tokenize", "\(e)")
        }
        var input = texts
        if input.isEmpty { while let line = readLine(strippingNewline: true) { input.append(line) } }
        for text in input {
            let ids = tokenizer.encode(text, special: special)
            print("{\"text\":\(JSONText.quote(text)),\"ids\":[\(ids.map(String.init).joined(separator: ","))]}")
        }
    }
}
