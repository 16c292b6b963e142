import Foundation
import InftopEngine
import InftopExport
import InftopTelemetry
import InftopWorkloads

/// 28×28 images where class c lights a 7×7 block at one of 10 positions, plus noise (as in
/// the workloads' tests; copied so this target stands alone).
func separableDataset(_ n: Int, seed: UInt64, name: String) throws -> ImageDataset {
    var rng = SeededRandom(seed: seed)
    var px = [UInt8](repeating: 0, count: n * 784)
    var labels = [UInt8](repeating: 0, count: n)
    for i in 0..<n {
        let c = rng.nextInt(below: 10)
        labels[i] = UInt8(c)
        let r0 = (c / 5) * 10 + 3, c0 = (c % 5) * 5
        for j in 0..<784 { px[i * 784 + j] = UInt8(rng.nextInt(below: 60)) }
        for r in r0..<(r0 + 7) { for k in c0..<min(c0 + 7, 28) { px[i * 784 + r * 28 + k] = UInt8(180 + rng.nextInt(below: 76)) } }
    }
    return try ImageDataset(name: name, rows: 28, cols: 28, classes: 10, pixels: px, labels: labels)
}

/// A fresh temporary folder for one test.
func temporaryFolder(_ tag: String) -> String {
    let dir = NSTemporaryDirectory() + "inftop-export-\(tag)-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
    try? FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
    return dir
}

/// A dashboard snapshot at tick `i` of a made-up run: series grow by a point per tick (and the
/// ring keeps the last `keep`), numbers move.
func syntheticSnapshot(_ i: Int, keep: Int = 50) -> DashboardSnapshot {
    func series(_ name: String, _ f: (Int) -> Double) -> SeriesSnapshot {
        let lo = max(0, i + 1 - keep)
        return SeriesSnapshot(name: name, unit: "", times: (lo...i).map { Double($0) * 0.1 }, values: (lo...i).map(f))
    }
    let stat = PhaseStat(calls: i + 1, lastMs: 1 + Double(i % 7) * 0.1, meanMs: 1.2, p50Ms: 1.1, p90Ms: 1.5, p99Ms: 2 + Double(i % 5) * 0.1)
    let layers = ["fc1", "relu1", "fc2"].enumerated().map { k, n in
        LayerStat(name: n, forward: stat, backward: k == 1 ? nil : stat, share: Double(k + 1) / 6)
    }
    let training = TrainingSnapshot(
        model: "mlp", state: .running, step: 10 * i, epoch: 0, epochProgress: Double(i) / 100, epochETASeconds: 30 - Double(i) * 0.1,
        batchSize: 64, samplesPerSecond: 5000 + Double(i * 13 % 200), lastLoss: 2.3 / Double(i + 1), lastAccuracy: min(0.99, 0.1 + Double(i) * 0.02),
        testLoss: i > 10 ? 0.5 : nil, testAccuracy: i > 10 ? 0.8 : nil, layers: layers, stepStat: stat, profilerOverhead: 0.01,
        series: [series("train_loss") { 2.3 / Double($0 + 1) }, series("train_acc") { min(0.99, 0.1 + Double($0) * 0.02) },
                 series("samples_per_sec") { 5000 + Double($0 * 13 % 200) }])
    let inference = InferenceSnapshot(
        model: "mlp", state: .running, requests: 100 * i, batches: 12 * i, batchSize: 8, latency: stat, itemsPerSecond: 990 + Double(i % 9),
        cacheHitRate: nil, layers: layers, profilerOverhead: 0.02,
        series: [series("latency_p50_ms") { 1 + Double($0 % 3) * 0.1 }, series("latency_p99_ms") { 2 + Double($0 % 4) * 0.1 },
                 series("items_per_sec") { 990 + Double($0 % 9) }],
        servedAccuracy: 0.7, offeredPerSecond: 1000, dropped: 0, weightsVersion: i / 10)
    var owners = [Int](repeating: 0, count: MemoryOwner.allCases.count)
    owners[MemoryOwner.weightsFP32.rawValue] = 940_000
    owners[MemoryOwner.activations.rawValue] = 50_000 + i * 100
    return DashboardSnapshot(uptimeSeconds: Double(i) * 0.1 + 0.05, training: training, inference: inference,
                             memory: MemorySnapshot(bytesByOwner: owners, residentBytes: 120_000_000 + i * 4096, peakResidentBytes: 130_000_000),
                             memorySeries: series("rss_mb") { 114 + Double($0) * 0.01 })
}

/// GET `path` from 127.0.0.1:`port` (the scraper `inftop bench --exports` uses too).
func httpGet(port: UInt16, path: String) -> String { MetricsServer.get(port: port, path: path) }
