import InftopTelemetry
#if canImport(Glibc)
import Glibc
#endif

/// Labelled grayscale images kept as bytes (a quarter of fp32's memory), converted to fp32
/// x/255 a batch at a time — the same preprocessing as the PyTorch peers (no mean/std).
///
/// The pixel and label bytes are counted in `MemoryLedger` under `.data` while the set lives.
/// Immutable after init, so any thread may read it.
public final class ImageDataset: @unchecked Sendable {
    public let name: String
    /// Samples.
    public let count: Int
    public let rows: Int
    public let cols: Int
    /// Labels are in `0..<classes`.
    public let classes: Int
    /// `[count, rows, cols]` pixels, 0…255, row-major.
    public let pixels: UnsafeMutablePointer<UInt8>
    /// `[count]` labels, each in `0..<classes`.
    public let labels: UnsafeMutablePointer<UInt8>

    /// Pixels of one sample (rows × cols).
    public var sampleSize: Int { rows * cols }

    /// Bytes held (pixels + labels), as counted in the ledger.
    public var bytes: Int { count * (sampleSize + 1) }

    /// Copies `pixels` (`count·rows·cols` bytes) and `labels` (`count` bytes, each `< classes`).
    /// - Throws: `EngineError.invalid` naming `name` when the sizes disagree or a label is out of range.
    public init(name: String, rows: Int, cols: Int, classes: Int, pixels: [UInt8], labels: [UInt8]) throws {
        guard rows > 0, cols > 0, classes > 0 else {
            throw EngineError.invalid(what: name, reason: "rows \(rows), cols \(cols), classes \(classes) must all be ≥ 1")
        }
        guard !labels.isEmpty else { throw EngineError.invalid(what: name, reason: "no samples") }
        guard pixels.count == labels.count * rows * cols else {
            throw EngineError.invalid(what: name, reason: "\(pixels.count) pixel bytes for \(labels.count) labels of \(rows)×\(cols) images (needs \(labels.count * rows * cols))")
        }
        if let i = labels.firstIndex(where: { Int($0) >= classes }) {
            throw EngineError.invalid(what: name, reason: "label \(labels[i]) at index \(i) is outside 0…\(classes - 1)")
        }
        self.name = name
        self.count = labels.count
        self.rows = rows
        self.cols = cols
        self.classes = classes
        self.pixels = .allocate(capacity: pixels.count)
        self.labels = .allocate(capacity: labels.count)
        pixels.withUnsafeBufferPointer { self.pixels.initialize(from: $0.baseAddress!, count: $0.count) }
        labels.withUnsafeBufferPointer { self.labels.initialize(from: $0.baseAddress!, count: $0.count) }
        MemoryLedger.shared.add(count * (rows * cols + 1), to: .data)
    }

    deinit {
        MemoryLedger.shared.add(-bytes, to: .data)
        pixels.deallocate()
        labels.deallocate()
    }

    /// The first `n` samples (clamped to 1…count) as a new set named `name[:n]`.
    public func prefix(_ n: Int) -> ImageDataset {
        let k = min(max(n, 1), count)
        let px = Array(UnsafeBufferPointer(start: pixels, count: k * sampleSize))
        let lb = Array(UnsafeBufferPointer(start: labels, count: k))
        // Sizes and labels were valid for the whole set, so they are for a prefix.
        return try! ImageDataset(name: "\(name)[:\(k)]", rows: rows, cols: cols, classes: classes, pixels: px, labels: lb)
    }

    /// Label of sample `i`.
    public func label(_ i: Int) -> Int {
        precondition(i >= 0 && i < count, "ImageDataset '\(name)': sample \(i) out of 0..<\(count)")
        return Int(labels[i])
    }

    /// Writes `src[0..<n]` as fp32 x/255 into `dst`, 8 at a time: widen, convert, divide (a true
    /// division, as the peers' numpy does, so every value equals the scalar `Float(x) / 255`).
    @inline(__always)
    static func convert(_ src: UnsafePointer<UInt8>, _ dst: UnsafeMutablePointer<Float>, _ n: Int) {
        let d = SIMD8<Float>(repeating: 255)
        var j = 0
        while j + 8 <= n {
            let b = UnsafeRawPointer(src + j).loadUnaligned(as: SIMD8<UInt8>.self)
            let f = SIMD8<Float>(SIMD8<Int32>(truncatingIfNeeded: b)) / d
            UnsafeMutableRawPointer(dst + j).storeBytes(of: f, as: SIMD8<Float>.self)
            j += 8
        }
        while j < n { dst[j] = Float(src[j]) / 255; j += 1 }
    }

    /// Writes samples `indices[0..<n]` as fp32 x/255 into `x` (`[n, rows·cols]`, row-major) and
    /// their labels into `labels` (`[n]`). Indices must be in `0..<count` (checked).
    public func gather(indices: UnsafePointer<Int32>, n: Int, x: UnsafeMutablePointer<Float>, labels out: UnsafeMutablePointer<Int32>) {
        let size = sampleSize
        let px = pixels, lb = labels
        for b in 0..<n {
            let i = Int(indices[b])
            precondition(i >= 0 && i < count, "ImageDataset '\(name)': sample \(i) out of 0..<\(count)")
            ImageDataset.convert(px + i * size, x + b * size, size)
            out[b] = Int32(lb[i])
        }
    }

    /// Writes the labels of samples `indices[0..<n]` (the pixels come from elsewhere, e.g. a
    /// converted cache).
    public func gatherLabels(indices: UnsafePointer<Int32>, n: Int, labels out: UnsafeMutablePointer<Int32>) {
        for b in 0..<n {
            let i = Int(indices[b])
            precondition(i >= 0 && i < count, "ImageDataset '\(name)': sample \(i) out of 0..<\(count)")
            out[b] = Int32(labels[i])
        }
    }

    /// Writes samples `start..<start+n` (in order) like `gather`.
    public func gather(start: Int, n: Int, x: UnsafeMutablePointer<Float>, labels out: UnsafeMutablePointer<Int32>) {
        precondition(start >= 0 && n >= 0 && start + n <= count, "ImageDataset '\(name)': range \(start)..<\(start + n) out of 0..<\(count)")
        let size = sampleSize
        let px = pixels + start * size, lb = labels + start
        ImageDataset.convert(px, x, n * size)
        for b in 0..<n { out[b] = Int32(lb[b]) }
    }
}
