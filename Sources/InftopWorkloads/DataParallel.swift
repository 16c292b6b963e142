import CMPI
import InftopEngine
import InftopTelemetry
#if canImport(Glibc)
import Glibc
#endif

/// This process's place in a data-parallel training run over MPI (`mpirun -np R inftop train
/// --distributed …`): every rank builds the same model from the same seed, reads the same
/// global batches (same loader seed) and trains on its shard of each (`TrainingData`); the
/// gradients are summed with MPI_Allreduce (`MPIGradientSync`), so every rank applies the same
/// update and the weights stay identical, which `checkWeights` verifies every
/// `checkInterval` steps (a checksum gathered from every rank, compared bit for bit).
///
/// MPI is initialised once per process (`join()`) and finalised by `finish()`.
public final class DataParallel: @unchecked Sendable {
    public let rank: Int
    public let ranks: Int
    let sync: MPIGradientSync
    /// Steps between two weight checks (and per-rank step-time gathers).
    public let checkInterval: Int
    private var lastCheckNanos: UInt64 = 0
    private var lastCheckStep = 0
    private var rankStepMs: [Double] = []

    /// True when this process was started by mpirun (Open MPI's or a PMIx launcher's
    /// environment is present).
    public static func launchedByMPI(environment: [String: String]) -> Bool {
        environment["OMPI_COMM_WORLD_SIZE"] != nil || environment["PMIX_RANK"] != nil || environment["PMI_RANK"] != nil
    }

    /// The line for `--distributed` without mpirun.
    public static let launchHint = "--distributed: not started by mpirun; launch it as `mpirun -np 2 inftop train --distributed …` "
        + "(as root add --allow-run-as-root)"

    /// Initialises MPI and joins MPI_COMM_WORLD.
    /// - Throws: `EngineError.invalid` when MPI_Init fails.
    public static func join(checkInterval: Int = 50) throws -> DataParallel {
        // A rank waiting in a collective yields its core instead of spinning on it (unless the
        // user set it): on a machine with no spare core the spinning rank takes the CPU the
        // other rank needs to finish its step (docs/benchmarks.md: 111–156 samples/s spinning,
        // 346–403 yielding, 2 ranks on 2 busy cores).
        setenv("OMPI_MCA_mpi_yield_when_idle", "1", 0)
        let rc = cmpi_init()
        guard rc == cmpi_success() else { throw EngineError.invalid(what: "MPI_Init", reason: errorText(rc)) }
        return DataParallel(rank: Int(cmpi_rank()), ranks: Int(cmpi_size()), checkInterval: checkInterval)
    }

    private init(rank: Int, ranks: Int, checkInterval: Int) {
        self.rank = rank; self.ranks = ranks; self.checkInterval = max(1, checkInterval)
        sync = MPIGradientSync(ranks: ranks)
    }

    /// Waits for every rank, then finalises MPI (once, at the end of the process's training).
    public func finish() {
        _ = cmpi_barrier()
        _ = cmpi_finalize()
    }

    /// Ends every rank at once with `code` (after a failure on this one).
    public func abort(code: Int32) -> Never {
        cmpi_abort(code)
        exit(code)
    }

    static func errorText(_ code: Int32) -> String {
        var buf = [CChar](repeating: 0, count: 512)
        cmpi_error_string(code, &buf, Int32(buf.count))
        let text = String(decoding: buf.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
        return text + " (MPI error \(code))"
    }

    /// Every `checkInterval` steps: gathers each rank's weight checksum and mean step time
    /// since the last check; returns an error when the weights differ between ranks (or the
    /// gather failed: a rank died).
    public func checkWeights(_ params: [Parameter], step: Int, force: Bool = false) -> EngineError? {
        // Forced (the last step): unless this step was just checked.
        guard force ? step != lastCheckStep : step % checkInterval == 0 else { return nil }
        let now = monotonicNanos()
        let ms = lastCheckNanos == 0 ? 0 : Double(now - lastCheckNanos) / 1e6 / Double(max(1, step - lastCheckStep))
        lastCheckNanos = now; lastCheckStep = step
        let mine = [Self.checksum(params), ms]
        var all = [Double](repeating: 0, count: 2 * ranks)
        let rc = cmpi_allgather_double(mine, &all, 2)
        guard rc == cmpi_success() else {
            return .invalid(what: "MPI_Allgather (weight check at step \(step))", reason: Self.errorText(rc))
        }
        rankStepMs = (0..<ranks).map { all[2 * $0 + 1] }
        let sums = (0..<ranks).map { all[2 * $0] }
        if let bad = sums.firstIndex(where: { $0.bitPattern != sums[0].bitPattern }) {
            return .invalid(what: "weights at step \(step)", reason: "rank \(bad) differs from rank 0 (checksum \(sums[bad]) vs \(sums[0]))")
        }
        return nil
    }

    /// A sum of every weight in a fixed order (Double): equal across ranks iff (almost
    /// certainly) the weights are bit-identical.
    static func checksum(_ params: [Parameter]) -> Double {
        var s = 0.0, k = 0.0
        for p in params {
            let d = p.value.data
            for i in 0..<p.value.count { k += 1; s += Double(d[i]) * (1 + k.truncatingRemainder(dividingBy: 7) * 1e-3) }
        }
        return s
    }

    /// Per-rank wall ms per step between the last two weight checks, and this rank's mean
    /// allreduce ms per step over the run.
    public func stats() -> DistributedStats {
        DistributedStats(ranks: ranks, rankStepMs: rankStepMs, allreduceMs: sync.meanMs)
    }
}

/// Sums gradients over all ranks with MPI_Allreduce, in buckets of `bucketFloats` floats: the
/// gradients are packed (scaled by this rank's share of the global batch) into a preallocated
/// bucket, each full bucket is reduced in place and unpacked, so a model with many small
/// tensors makes few calls and none allocates.
final class MPIGradientSync: GradientSync {
    let ranks: Int
    /// 256 Ki floats (1 MiB) a bucket: the MLP's 235 k gradients are one call, the CNN's a few.
    static let bucketFloats = 1 << 18
    private let bucket: UnsafeMutablePointer<Float>
    private var nanos: UInt64 = 0, calls = 0

    init(ranks: Int) {
        self.ranks = ranks
        bucket = .allocate(capacity: Self.bucketFloats + 2)
    }

    deinit { bucket.deallocate() }

    /// Mean allreduce time per step over the run so far, ms.
    var meanMs: Double { calls > 0 ? Double(nanos) / 1e6 / Double(calls) : 0 }

    func allreduce(_ params: [Parameter], scale: Float, stats: inout (Double, Double)) throws {
        let t0 = monotonicNanos()
        var used = 0
        var pending: [(Parameter, Int, Int, Int)] = []   // (param, offset in param, count, offset in bucket)
        pending.reserveCapacity(8)
        func flush(extra: Bool) throws {
            let n = used + (extra ? 2 : 0)
            if extra { bucket[used] = Float(stats.0); bucket[used + 1] = Float(stats.1) }
            let rc = cmpi_allreduce_sum_float(bucket, Int32(n))
            guard rc == cmpi_success() else {
                throw EngineError.invalid(what: "MPI_Allreduce", reason: DataParallel.errorText(rc) + " — a rank failed or exited")
            }
            for (p, from, count, at) in pending { (p.grad.data + from).update(from: bucket + at, count: count) }
            if extra { stats = (Double(bucket[used]), Double(bucket[used + 1])) }
            pending.removeAll(keepingCapacity: true)
            used = 0
        }
        for p in params {
            var from = 0
            let total = p.grad.count, g = p.grad.data
            while from < total {
                let count = min(total - from, Self.bucketFloats - used)
                for i in 0..<count { bucket[used + i] = scale * g[from + i] }
                pending.append((p, from, count, used))
                used += count; from += count
                if used == Self.bucketFloats { try flush(extra: false) }
            }
        }
        try flush(extra: true)
        nanos += monotonicNanos() - t0
        calls += 1
    }
}
