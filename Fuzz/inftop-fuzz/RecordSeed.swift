import InftopExport
import InftopTelemetry
import InftopWorkloads

/// `inftop-fuzz write-record-seed PATH`: the record target's seed, three lines written by
/// `RecordWriter` (so they follow the current schema) from a small made-up training run.
enum RecordSeed {
    static func write(path: String) throws {
        let file = try RecordWriter(path: path, origin: 0)
        for tick in 0..<3 {
            let times = (0...tick).map { Double($0) * 0.1 }
            let stat = PhaseStat(calls: tick + 1, lastMs: 1.5, meanMs: 1.2, p50Ms: 1.1, p90Ms: 1.6, p99Ms: 2.5)
            let training = TrainingSnapshot(
                model: "mlp", state: .running, step: 10 * tick, epoch: 0, epochProgress: Double(tick) / 100,
                epochETASeconds: 30, batchSize: 64, samplesPerSecond: 5000, lastLoss: 2.3 / Double(tick + 1),
                lastAccuracy: 0.1 + Double(tick) * 0.02, testLoss: tick == 2 ? 0.5 : nil, testAccuracy: tick == 2 ? 0.8 : nil,
                layers: [LayerStat(name: "fc1", forward: stat, backward: stat, share: 0.6),
                         LayerStat(name: "fc2", forward: stat, backward: nil, share: 0.4)],
                stepStat: stat, profilerOverhead: 0.01,
                series: [SeriesSnapshot(name: "train_loss", unit: "", times: times, values: times.map { 2.3 - $0 })])
            var owners = [Int](repeating: 0, count: MemoryOwner.allCases.count)
            owners[MemoryOwner.weightsFP32.rawValue] = 940_000
            let snapshot = DashboardSnapshot(
                uptimeSeconds: Double(tick) * 0.1, training: training, inference: nil,
                memory: MemorySnapshot(bytesByOwner: owners, residentBytes: 120_000_000, peakResidentBytes: 130_000_000),
                memorySeries: SeriesSnapshot(name: "rss_mb", unit: "MB", times: times, values: times.map { 114 + $0 }))
            file.append(snapshot: snapshot, knobs: KnobValues(), time: Double(tick) * 0.1)
        }
        if let failure = file.failure { throw RecordSeedError(failure) }
    }
}

struct RecordSeedError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}
