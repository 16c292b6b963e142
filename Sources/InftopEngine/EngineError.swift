/// Errors the engine throws on bad user input (files, folders, values). `description` is one line
/// naming the file or thing and what is wrong.
public enum EngineError: Error, CustomStringConvertible {
    /// A file exists but its contents are unusable.
    case badFile(path: String, reason: String)
    /// A file or folder the engine needs is not there; `hint` says how to get it.
    case missing(path: String, hint: String)

    public var description: String {
        switch self {
        case .badFile(let path, let reason): "\(path): \(reason)"
        case .missing(let path, let hint): "\(path): not found (\(hint))"
        }
    }
}
