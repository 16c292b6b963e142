import Synchronization

/// The latest published value of type `T`: the writer replaces it at a step boundary, readers
/// take a copy when they want. Both hold the lock only for a reference swap (nanoseconds), so
/// the engine never waits on the UI.
public final class SnapshotSlot<T: Sendable>: Sendable {
    private final class Box: Sendable { let value: T; init(_ v: T) { value = v } }
    private let box: Locked<Box?>
    private let version = Atomic<Int>(0)

    public init(_ initial: T? = nil) { box = Locked(initial.map(Box.init)) }

    /// Replaces the published value.
    public func publish(_ value: T) {
        let b = Box(value)
        box.withLock { $0 = b }
        version.wrappingAdd(1, ordering: .releasing)
    }

    /// The latest published value, or nil before the first.
    public func latest() -> T? { box.withLock { $0 }?.value }

    /// Increments on each publish (so a reader can skip unchanged frames).
    public var publishCount: Int { version.load(ordering: .acquiring) }
}
