import Glibc

/// One parser under libFuzzer: `run` gets the input bytes and must return normally for every
/// input (a thrown error is the right answer to a bad file; a crash, trap or hang is a bug).
struct FuzzTarget: Sendable {
    let name: String
    /// What the input is, for `inftop-fuzz` without arguments and docs/fuzzing.md.
    let input: String
    let run: @Sendable (UnsafeRawBufferPointer) -> Void
}

enum FuzzTargets {
    static let all: [FuzzTarget] = [
        FuzzTarget(name: "safetensors", input: "a .safetensors file", run: FileFormatTargets.safetensors),
        FuzzTarget(name: "gguf", input: "a .gguf file (also read as a llama config and a BPE tokenizer)", run: FileFormatTargets.gguf),
        FuzzTarget(name: "idx", input: "an IDX file, plain or gzip", run: FileFormatTargets.idx),
        FuzzTarget(name: "wordpiece", input: "vocab.txt, a NUL byte, then text to tokenize", run: TokenizerTargets.wordPiece),
        FuzzTarget(name: "bpe", input: "token lines, '#merges', merge lines, '#text', text (written into a GGUF)", run: TokenizerTargets.bpe),
        FuzzTarget(name: "theme", input: "a btop-style .theme file", run: TextTargets.theme),
        FuzzTarget(name: "config", input: "an inftop.conf file", run: TextTargets.config),
        FuzzTarget(name: "record", input: "a record file (JSON lines)", run: TextTargets.record),
        FuzzTarget(name: "benchlist", input: "a bench option value (comma list)", run: TextTargets.benchList),
    ]

    static func named(_ name: String) -> FuzzTarget? { all.first { $0.name == name } }

    /// The target main.swift picked (libFuzzer's callback cannot capture it).
    nonisolated(unsafe) static var selected: @Sendable (UnsafeRawBufferPointer) -> Void = { _ in }
}

/// Files the path-based parsers read: one folder per process in /dev/shm (tmpfs, so an
/// execution costs a write, not a disk access), rewritten for every input.
enum Scratch {
    static let directory: String = {
        let base = access("/dev/shm", W_OK) == 0 ? "/dev/shm" : "/tmp"
        let dir = "\(base)/inftop-fuzz-\(getpid())"
        mkdir(dir, 0o700)
        return dir
    }()

    /// Writes `bytes` to `name` in the scratch folder and returns its path.
    static func write(_ bytes: UnsafeRawBufferPointer, name: String) -> String {
        let path = directory + "/" + name
        let fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0o600)
        precondition(fd >= 0, "cannot write \(path)")
        var done = 0
        while done < bytes.count {
            let n = Glibc.write(fd, bytes.baseAddress! + done, bytes.count - done)
            precondition(n > 0, "cannot write \(path)")
            done += n
        }
        close(fd)
        return path
    }

    static func write(_ bytes: [UInt8], name: String) -> String {
        bytes.withUnsafeBytes { write($0, name: name) }
    }
}
