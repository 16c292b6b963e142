import Dispatch
import Synchronization

/// How Conv2d cuts a batch across threads and the per-thread scratch it keeps for that: chunks
/// of images handed out from a shared counter in forward, fixed groups of chunks in backward
/// (each summing its own weight gradient, so the sums do not depend on which thread ran what).
extension Conv2d {
    /// One thread's scratch. `col` `[K, nb·OH·OW]` (im2col, then dcol), `yT` `[out, nb·OH·OW]`
    /// (GEMM output / permuted dY). `colChunk` is the chunk whose im2col `col` holds from a
    /// training forward, or -1.
    final class Workspace {
        let col: Tensor, yT: Tensor
        let colChunk = UnsafeMutablePointer<Int>.allocate(capacity: 1)
        init(_ name: String) {
            col = Tensor([0], name: name + ".col")
            yT = Tensor([0], name: name + ".yT")
            colChunk.pointee = -1
        }
        deinit { colChunk.deallocate() }
    }

    final class ChunkCounter: Sendable {
        let value = Atomic<Int>(0)
    }

    /// How a batch is cut: chunks of `chunk` images, handed to `workers` threads, each kernel
    /// call using `inner` threads. Backward hands out `groups` contiguous runs of chunks.
    struct Split: Equatable {
        let batch: Int, workers: Int, chunk: Int, inner: Int
        var chunks: Int { (batch + chunk - 1) / chunk }
        func images(_ c: Int) -> Range<Int> { (c * chunk)..<min(batch, (c + 1) * chunk) }
        /// 1 with one worker; else `groupsPerWorker` per worker, as chunks allow. More groups
        /// balance a preempted thread better and cost one more gradient buffer and sum each.
        var groups: Int { workers == 1 ? 1 : min(chunks, workers * Conv2d.groupsPerWorker) }
        /// Group g's chunks: contiguous, the runs as even as the count allows.
        func chunks(ofGroup g: Int) -> Range<Int> { (g * chunks / groups)..<((g + 1) * chunks / groups) }
    }

    /// Backward's chunk groups per worker (see `Split.groups`).
    static let groupsPerWorker = 4

    /// Raw pointers of one workspace, to cross into the worker closures.
    struct Buffers: @unchecked Sendable {
        let col: UnsafeMutablePointer<Float>, yT: UnsafeMutablePointer<Float>
        let colChunk: UnsafeMutablePointer<Int>
    }

    func split(batch: Int, _ compute: Compute) -> Split {
        let threads = threading == .batch ? max(1, compute.threads) : 1
        // At least one chunk per thread when the batch allows it.
        let chunk = max(1, min(samplesPerChunk, (batch + threads - 1) / threads))
        let workers = min(threads, (batch + chunk - 1) / chunk)
        return Split(batch: batch, workers: max(1, workers), chunk: chunk, inner: workers <= 1 ? compute.threads : 1)
    }

    /// Sizes the first `s.workers` workspaces for chunks of `s.chunk` images; returns their
    /// pointers. The array is cached while workers, chunk and geometry stay the same, so a warm
    /// step allocates nothing.
    func buffers(_ s: Split, _ g: ConvGeometry, lowered: Bool) -> [Buffers] {
        if let c = bufferCache, c.workers == s.workers, c.chunk == s.chunk, c.geometry == g, c.lowered == lowered { return c.buffers }
        while workspaces.count < s.workers { workspaces.append(Workspace("\(name).w\(workspaces.count)")) }
        // The implicit-GEMM passes need no col / yT: they are sized only for the lowered path
        // (capacity, once grown, is kept — Tensor.resize never shrinks).
        let n = lowered ? s.chunk * g.outHeight * g.outWidth : 0
        let result = (0..<s.workers).map { t in
            let w = workspaces[t]
            w.col.resize([g.patchSize, n])
            w.yT.resize([outChannels, n])
            return Buffers(col: w.col.data, yT: w.yT.data, colChunk: w.colChunk)
        }
        bufferCache = (s.workers, s.chunk, g, lowered, result)
        return result
    }

    /// Runs `body(t, i)` for every task i in 0..<tasks (a chunk, or a group of chunks), on
    /// worker t (which owns workspace t). With one worker the tasks run in order on the caller's
    /// thread. With several, each worker pulls tasks from a shared counter until none is left,
    /// and calls GEMM single-threaded, so OpenBLAS is set to 1 thread first, outside the region
    /// (its thread count is process-global).
    func forEachTask(_ tasks: Int, _ s: Split, _ compute: Compute, _ body: @Sendable (Int, Int) -> Void) {
        if s.workers == 1 {
            for i in 0..<tasks { body(0, i) }
            return
        }
        var a: Float = 0, b: Float = 0, c: Float = 0
        Gemm.run(compute.backend, m: 1, n: 1, k: 1, a: &a, lda: 1, b: &b, ldb: 1, c: &c, ldc: 1, threads: 1)
        let counter = nextChunk
        counter.value.store(0, ordering: .relaxed)
        ParallelChunks.forEach(s.workers) { t in
            while true {
                let task = counter.value.wrappingAdd(1, ordering: .relaxed).oldValue
                if task >= tasks { break }
                body(t, task)
            }
        }
    }
}
