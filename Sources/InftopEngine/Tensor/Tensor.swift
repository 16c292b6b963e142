import InftopTelemetry
#if canImport(Glibc)
import Glibc
#endif

/// A contiguous, row-major fp32 tensor with reference semantics (like a PyTorch tensor).
///
/// Storage is 64-byte aligned (AVX loads and cache lines) and counted in `MemoryLedger` under
/// `owner` for as long as the tensor lives. `resize` changes the logical shape and reallocates
/// only when the new element count exceeds `capacity`, so a layer's activations, sized for the
/// largest batch seen, cost no allocation in a warm step when the batch size goes down and up.
///
/// Shape errors are programmer errors: they stop with a message naming the tensor, the expected
/// and the actual shape.
public final class Tensor: @unchecked Sendable {
    public let name: String
    public let owner: MemoryOwner
    public private(set) var shape: [Int]
    /// Elements in `shape` (its product).
    public private(set) var count: Int
    /// Elements the storage can hold without reallocating.
    public private(set) var capacity: Int
    /// The elements; valid for `count`, allocated for `capacity`.
    public private(set) var data: UnsafeMutablePointer<Float>
    /// Bumped whenever the values change as a whole (`copy(from:)`, an optimizer step,
    /// `markChanged`): what derived forms of a weight (its int8 quantization) compare against.
    public private(set) var version = 0

    /// Says the values changed (after writing through `data`), so cached derived forms rebuild.
    public func markChanged() { version &+= 1 }

    /// A tensor of `shape`, zero-filled.
    public init(_ shape: [Int], name: String = "", owner: MemoryOwner = .activations) {
        let n = Tensor.elementCount(shape, name)
        self.name = name
        self.owner = owner
        self.shape = shape
        self.count = n
        self.capacity = max(n, 1)
        self.data = Tensor.allocate(capacity)
        data.initialize(repeating: 0, count: capacity)
        MemoryLedger.shared.add(capacity * 4, inUse: count * 4, to: owner)
    }

    /// A tensor of `shape` holding `values` (row-major); `values.count` must match the shape.
    public convenience init(_ shape: [Int], values: [Float], name: String = "", owner: MemoryOwner = .activations) {
        self.init(shape, name: name, owner: owner)
        precondition(values.count == count, "Tensor '\(name)': \(values.count) values for shape \(shape) (needs \(count))")
        values.withUnsafeBufferPointer { data.update(from: $0.baseAddress!, count: count) }
    }

    deinit {
        MemoryLedger.shared.add(-capacity * 4, inUse: -count * 4, to: owner)
        free(data)
    }

    /// Sets the logical shape; grows the storage (contents undefined) when it needs more room.
    public func resize(_ newShape: [Int]) {
        let n = Tensor.elementCount(newShape, name)
        if n > capacity {
            MemoryLedger.shared.add((n - capacity) * 4, inUse: (n - count) * 4, to: owner)
            free(data)
            capacity = n
            data = Tensor.allocate(n)
            data.initialize(repeating: 0, count: n)
        } else if n != count {
            MemoryLedger.shared.add(0, inUse: (n - count) * 4, to: owner)  // only when the shape changes
        }
        shape = newShape
        count = n
    }

    /// Stops with a clear message unless the shape is `expected` (`-1` matches any size).
    public func expectShape(_ expected: [Int], _ context: @autoclosure () -> String) {
        var ok = expected.count == shape.count
        if ok { for (e, s) in zip(expected, shape) where e != -1 && e != s { ok = false } }
        precondition(ok, "\(context()): tensor '\(name)' has shape \(shape), expected \(expected.map { $0 == -1 ? "*" : String($0) })")
    }

    /// Element `i` of the flat storage (bounds-checked).
    public subscript(i: Int) -> Float {
        get { precondition(i >= 0 && i < count, "Tensor '\(name)': index \(i) out of 0..<\(count)"); return data[i] }
        set { precondition(i >= 0 && i < count, "Tensor '\(name)': index \(i) out of 0..<\(count)"); data[i] = newValue }
    }

    /// The elements as an array (a copy).
    public func toArray() -> [Float] { Array(UnsafeBufferPointer(start: data, count: count)) }

    /// The elements as a buffer (no copy; valid while the tensor lives and is not resized).
    public var buffer: UnsafeMutableBufferPointer<Float> { UnsafeMutableBufferPointer(start: data, count: count) }

    public func fill(_ value: Float) { data.update(repeating: value, count: count) }

    /// Copies `other`'s elements; the counts must match (shapes may differ).
    public func copy(from other: Tensor) {
        precondition(other.count == count, "Tensor '\(name)': copy of \(other.count) elements into \(count)")
        data.update(from: other.data, count: count)
        version &+= 1
    }

    /// Bytes held (capacity × 4).
    public var bytes: Int { capacity * 4 }

    static func elementCount(_ shape: [Int], _ name: String) -> Int {
        precondition(shape.allSatisfy { $0 >= 0 }, "Tensor '\(name)': negative dimension in shape \(shape)")
        return shape.reduce(1, *)
    }

    static func allocate(_ n: Int) -> UnsafeMutablePointer<Float> {
        let bytes = ((max(n, 1) * 4 + 63) / 64) * 64
        guard let raw = aligned_alloc(64, bytes) else { fatalError("Tensor: out of memory allocating \(bytes) bytes") }
        return raw.bindMemory(to: Float.self, capacity: n)
    }
}
