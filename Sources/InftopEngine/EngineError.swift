/// Errors the engine throws for bad input: a user's file, a missing file, an impossible value.
///
/// `description` is one line that names the file or thing and what is wrong, ready to print on
/// stderr as it is. Other parts of the engine add cases; keep each one a single clear sentence.
public enum EngineError: Error, CustomStringConvertible, Equatable, Sendable {
    /// A file exists but its contents are wrong (bad magic, truncated, out-of-range value…).
    case badFile(path: String, reason: String)
    /// A file or folder is not there; `hint` says how to get it.
    case missing(path: String, hint: String)
    /// A file could not be read or written (permissions, disk full…); `reason` is the OS's word.
    case io(path: String, reason: String)
    /// A value given by the user is out of range or unknown (`what` names the option or thing).
    case invalid(what: String, reason: String)

    public var description: String {
        switch self {
        case .badFile(let path, let reason): "\(path): \(reason)"
        case .missing(let path, let hint): "\(path): not found (\(hint))"
        case .io(let path, let reason): "\(path): \(reason)"
        case .invalid(let what, let reason): "\(what): \(reason)"
        }
    }
}
