/// The one parallel-for of the engine, over the persistent `WorkerPool` (the caller takes part).
///
/// `run` splits a loop over `0..<count` work items into at most `threads` contiguous chunks, for
/// the layers' memory-bound kernels (im2col, col2im, layout permutes, pooling, activations,
/// LayerNorm) and BERT's row and head loops. With one thread, or too little work to pay for
/// waking workers (`count < 2 · minItemsPerChunk`), the body runs inline on the caller's thread.
/// `forEach` runs `count` tasks (GEMM splits, Conv2d's per-worker task loops).
///
/// The body gets a half-open range of items; chunks never overlap, so a body that writes only
/// the outputs of its own items is race-free. No locks, no allocation beyond Dispatch's own.
enum ParallelChunks {
    /// A raw pointer that may cross into `@Sendable` closures. The kernels guarantee disjoint
    /// writes per chunk, which is what makes sharing it sound.
    struct Ptr<T>: @unchecked Sendable {
        let p: UnsafeMutablePointer<T>
        init(_ p: UnsafeMutablePointer<T>) { self.p = p }
        init(_ p: UnsafePointer<T>) { self.p = UnsafeMutablePointer(mutating: p) }
    }

    static func run(count: Int, threads: Int, minItemsPerChunk: Int = 1,
                    _ body: (Range<Int>) -> Void) {
        if count <= 0 { return }
        let chunks = min(max(1, threads), count / max(1, minItemsPerChunk))
        if chunks <= 1 { body(0..<count); return }
        WorkerPool.shared.run(chunks) { c in
            // Even split; the first `count % chunks` chunks take one extra item.
            let base = count / chunks, extra = count % chunks
            let start = c * base + min(c, extra)
            body(start..<(start + base + (c < extra ? 1 : 0)))
        }
    }

    /// `body(i)` for every i in 0..<count, spread over the worker pool and the caller (chunk
    /// indices are distinct, so a task may own per-index scratch). Returns when all are done.
    static func forEach(_ count: Int, _ body: (Int) -> Void) {
        WorkerPool.shared.run(count, body)
    }
}
