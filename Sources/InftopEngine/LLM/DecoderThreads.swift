/// The decoder's threads: a `WorkerPool` of its own with `count - 1` workers plus the caller,
/// running one parallel region at a time (`run(chunks:)`). Its own pool because the generator's
/// thread count is a knob of its own and a decode step runs ~180 regions, which must not fall
/// back to the caller whenever training holds `WorkerPool.shared`. The pool is the engine's one
/// parallel-for: pieces claimed through one atomic counter (a worker that has not woken yet
/// costs nothing, the caller takes its pieces), idle workers spinning with `pause` before they
/// park.
public final class DecoderThreads: @unchecked Sendable {
    private let pool: WorkerPool
    public let count: Int

    public init(count: Int) {
        precondition(count >= 1, "DecoderThreads: count must be ≥ 1")
        self.count = count
        pool = WorkerPool(workers: count - 1, threadName: "inftop-dec")
    }

    deinit { pool.shutdown() }

    /// Pieces to cut a region into: one per thread alone, else a few per thread so a late worker
    /// leaves less behind.
    public var chunks: Int { count == 1 ? 1 : 4 * count }

    /// Runs `body(piece, thread)` for every piece in 0..<n, `thread` in 0..<count naming the
    /// thread's own scratch; returns when all pieces are done. One caller at a time.
    public func run(chunks n: Int, _ body: (Int, Int) -> Void) { pool.run(n, body) }
}
