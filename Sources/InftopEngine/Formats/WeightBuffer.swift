import InftopTelemetry
#if canImport(Glibc)
import Glibc
#endif

/// Read-only fp32 weights of a fixed shape: either a view into a memory-mapped file (no copy;
/// keeps the file's mapping alive) or an owned, 64-byte aligned buffer counted in
/// `MemoryLedger` under its owner.
///
/// Mapped views count their bytes under `.weightsFP32` too, so the Memory panel shows the
/// weights whichever way they are held (their pages are file-backed: the kernel can drop them).
public final class WeightBuffer: @unchecked Sendable {
    public let name: String
    public let shape: [Int]
    /// Elements (product of `shape`).
    public let count: Int
    /// The elements, valid while this object lives.
    public let pointer: UnsafePointer<Float>
    /// Non-nil for owned buffers (fill them right after creation, then treat as read-only).
    public let mutablePointer: UnsafeMutablePointer<Float>?
    /// Whether the data is viewed in a mapped file rather than owned.
    public var isMapped: Bool { mutablePointer == nil }

    private let keepAlive: AnyObject?
    private let owner: MemoryOwner
    private let ledgerBytes: Int

    /// A view of `count(shape)` floats at `mapped`, kept valid by `keepAlive`.
    init(name: String, shape: [Int], mapped: UnsafePointer<Float>, keepAlive: AnyObject) {
        self.name = name
        self.shape = shape
        self.count = shape.reduce(1, *)
        self.pointer = mapped
        self.mutablePointer = nil
        self.keepAlive = keepAlive
        self.owner = .weightsFP32
        self.ledgerBytes = count * 4
        MemoryLedger.shared.add(ledgerBytes, to: owner)
    }

    /// An owned, zero-filled buffer of `shape`.
    public init(name: String, shape: [Int], owner: MemoryOwner = .weightsFP32) {
        precondition(shape.allSatisfy { $0 >= 0 }, "WeightBuffer '\(name)': negative dimension in \(shape)")
        self.name = name
        self.shape = shape
        self.count = shape.reduce(1, *)
        let bytes = ((max(count, 1) * 4 + 63) / 64) * 64
        guard let raw = aligned_alloc(64, bytes) else { fatalError("WeightBuffer '\(name)': out of memory allocating \(bytes) bytes") }
        let p = raw.bindMemory(to: Float.self, capacity: max(count, 1))
        p.initialize(repeating: 0, count: max(count, 1))
        self.mutablePointer = p
        self.pointer = UnsafePointer(p)
        self.keepAlive = nil
        self.owner = owner
        self.ledgerBytes = bytes
        MemoryLedger.shared.add(ledgerBytes, to: owner)
    }

    deinit {
        MemoryLedger.shared.add(-ledgerBytes, to: owner)
        if let p = mutablePointer { free(p) }
    }

    /// The elements as an array (a copy).
    public func toArray() -> [Float] { Array(UnsafeBufferPointer(start: pointer, count: count)) }
}
