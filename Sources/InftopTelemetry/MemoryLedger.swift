#if canImport(Glibc)
import Glibc
#endif

/// Who owns an allocation, as the Memory panel shows it (DESIGN.md "Memory, as the user sees it").
public enum MemoryOwner: Int, CaseIterable, Sendable, CustomStringConvertible {
    case weightsFP32, weightsINT8, weightsSparse, gradients, optimizerState, activations, caches, data, other
    /// A GGUF file's quantized weights (Q4/Q8/F16), memory-mapped: resident as the pages are read.
    case weightsQuantized

    public var description: String {
        switch self {
        case .weightsFP32: "weights fp32"
        case .weightsINT8: "weights int8"
        case .weightsSparse: "weights sparse"
        case .gradients: "gradients"
        case .optimizerState: "optimizer"
        case .activations: "activations"
        case .caches: "caches"
        case .data: "dataset"
        case .other: "other"
        case .weightsQuantized: "weights gguf"
        }
    }
}

/// Process-wide byte counts by owner. Tensors add on allocation and subtract on free, which
/// happens at set-up and when a batch grows, never per warm step; a lock (`Locked`, 8 ns) is plenty.
/// Beside the bytes allocated, the bytes in use: a tensor keeps the room of the largest shape
/// it held (no allocation when the batch grows back), so after a batch shrinks the two differ.
public final class MemoryLedger: Sendable {
    public static let shared = MemoryLedger()

    private struct Counts { var bytes: [Int]; var peaks: [Int]; var inUse: [Int] }
    private let counts = Locked(Counts(bytes: MemoryOwner.allCases.map { _ in 0 }, peaks: MemoryOwner.allCases.map { _ in 0 },
                                       inUse: MemoryOwner.allCases.map { _ in 0 }))

    public init() {}

    /// Adds `delta` bytes allocated (negative on free) and `inUse` bytes in use (nil: the same
    /// as `delta`) to `owner`.
    public func add(_ delta: Int, inUse: Int? = nil, to owner: MemoryOwner) {
        counts.withLock { c in
            c.bytes[owner.rawValue] += delta
            c.inUse[owner.rawValue] += inUse ?? delta
            c.peaks[owner.rawValue] = max(c.peaks[owner.rawValue], c.bytes[owner.rawValue])
        }
    }

    /// Bytes of `owner` in use now (≤ `bytes(owner)`: the rest is room kept for larger shapes).
    public func inUse(_ owner: MemoryOwner) -> Int { counts.withLock { $0.inUse[owner.rawValue] } }

    /// All owners' bytes in use, in `MemoryOwner.allCases` order (a copy, as `all()`).
    public func allInUse() -> [Int] { counts.withLock { c in c.inUse.map { $0 } } }

    /// Current bytes held by `owner`.
    public func bytes(_ owner: MemoryOwner) -> Int { counts.withLock { $0.bytes[owner.rawValue] } }

    /// Highest bytes `owner` ever held.
    public func peak(_ owner: MemoryOwner) -> Int { counts.withLock { $0.peaks[owner.rawValue] } }

    /// All owners' current byte counts, in `MemoryOwner.allCases` order: a new array, not one
    /// sharing the ledger's storage. Shared, the next `add` would see the storage uniquely
    /// referenced again once the snapshot died and write it in place; that ordering goes through
    /// the Swift runtime's reference count, which ThreadSanitizer cannot see (it reported a race
    /// with a snapshot read on another thread). A copy of ten integers every snapshot is nothing.
    public func all() -> [Int] { counts.withLock { c in c.bytes.map { $0 } } }
}

/// Resident set size of this process from `/proc/self/statm`, with the descriptor kept open
/// and read with `pread` (2.1 µs instead of 11 µs for open/read/close, PLATFORM.md).
public final class ProcessMemory: @unchecked Sendable {
    public static let shared = ProcessMemory()
    private let fd: Int32
    private let pageSize = Int(sysconf(Int32(_SC_PAGESIZE)))
    private let lock = Locked<Void>(())

    private init() { fd = open("/proc/self/statm", O_RDONLY) }

    /// Resident bytes now, or 0 when `/proc` is not readable.
    public func residentBytes() -> Int {
        guard fd >= 0 else { return 0 }
        return lock.withLock { _ in
            var buf = [UInt8](repeating: 0, count: 128)
            let n = buf.withUnsafeMutableBytes { pread(fd, $0.baseAddress, 127, 0) }
            guard n > 0 else { return 0 }
            // statm: size resident shared text lib data dt (pages)
            let fields = buf[0..<n].split(separator: UInt8(ascii: " "))
            guard fields.count > 1, let pages = Int(String(decoding: fields[1], as: UTF8.self)) else { return 0 }
            return pages * pageSize
        }
    }

    /// Peak resident bytes (`VmHWM` from `/proc/self/status`), or 0 when unavailable.
    public func peakResidentBytes() -> Int {
        guard let f = fopen("/proc/self/status", "r") else { return 0 }
        defer { fclose(f) }
        var line = [CChar](repeating: 0, count: 256)
        while fgets(&line, 256, f) != nil {
            let s = line.withUnsafeBufferPointer { String(cString: $0.baseAddress!) }
            if s.hasPrefix("VmHWM:") {
                let digits = s.split(separator: " ").compactMap { Int($0) }
                return (digits.first ?? 0) * 1024
            }
        }
        return 0
    }
}
