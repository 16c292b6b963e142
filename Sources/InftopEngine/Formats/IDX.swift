/// An IDX file of unsigned bytes (data type 0x08), the format MNIST and Fashion-MNIST ship in:
///
///     magic (big-endian u32: 0x00 0x00 0x08 ndim) · ndim big-endian u32 sizes · the bytes, row-major
///
/// Plain or gzip-compressed (detected by the 1f 8b magic, not by the name). Every check that
/// fails throws `EngineError.badFile` naming the file: wrong magic, zero or absurd sizes, a body
/// shorter or longer than the sizes say, labels out of range.
public struct IDXFile: Sendable {
    /// The file the data came from (for messages).
    public let path: String
    /// Sizes from the header, outermost first (e.g. [60000, 28, 28]).
    public let dims: [Int]
    /// The elements, `dims.reduce(1, *)` bytes, row-major.
    public let payload: [UInt8]

    /// Magic of an idx3-ubyte image file.
    public static let imagesMagic: UInt32 = 0x0000_0803
    /// Magic of an idx1-ubyte label file.
    public static let labelsMagic: UInt32 = 0x0000_0801

    /// Parses IDX bytes (already decompressed) that must carry `expectedMagic`.
    public init(bytes: [UInt8], path: String, expectedMagic: UInt32) throws {
        self.path = path
        guard bytes.count >= 4 else {
            throw EngineError.badFile(path: path, reason: "too short for an IDX header (\(bytes.count) bytes)")
        }
        let magic = IDXFile.bigEndian32(bytes, 0)
        guard magic == expectedMagic else {
            let kind = expectedMagic == IDXFile.imagesMagic ? "idx3-ubyte image file" : "idx1-ubyte label file"
            throw EngineError.badFile(path: path, reason: "bad magic \(IDXFile.hex(magic)) (expected \(IDXFile.hex(expectedMagic)), an \(kind))")
        }
        let ndim = Int(bytes[3])
        let header = 4 + 4 * ndim
        guard bytes.count >= header else {
            throw EngineError.badFile(path: path, reason: "truncated header: \(ndim) dimensions need \(header) bytes, file has \(bytes.count)")
        }
        var dims: [Int] = []
        var total = 1
        for d in 0..<ndim {
            let size = Int(IDXFile.bigEndian32(bytes, 4 + 4 * d))
            guard size > 0 else { throw EngineError.badFile(path: path, reason: "dimension \(d) is 0") }
            let (product, overflow) = total.multipliedReportingOverflow(by: size)
            guard !overflow, product <= Gzip.maxOutputBytes else {
                throw EngineError.badFile(path: path, reason: "sizes \(dims + [size]) are absurdly large")
            }
            total = product
            dims.append(size)
        }
        let body = bytes.count - header
        guard body == total else {
            let sizes = dims.map(String.init).joined(separator: "×")
            if body < total {
                throw EngineError.badFile(path: path, reason: "truncated: header says \(sizes) = \(total) bytes of data, file has \(body)")
            }
            throw EngineError.badFile(path: path, reason: "\(body - total) trailing bytes after the \(sizes) = \(total) bytes of data")
        }
        self.dims = dims
        self.payload = Array(bytes[header...])
    }

    /// Reads and parses the file at `path` (plain or gzip).
    /// - Throws: `EngineError.missing` / `.io` when it cannot be read, `.badFile` when it is not valid.
    public static func read(path: String, expectedMagic: UInt32) throws -> IDXFile {
        var bytes = try FileBytes.read(path: path)
        if Gzip.isGzip(bytes) { bytes = try Gzip.decompress(bytes, path: path) }
        return try IDXFile(bytes: bytes, path: path, expectedMagic: expectedMagic)
    }

    /// An idx3-ubyte image file: `dims` = [count, rows, cols].
    public static func readImages(path: String) throws -> IDXFile {
        try read(path: path, expectedMagic: imagesMagic)
    }

    /// An idx1-ubyte label file whose every label is in `0..<classes`: `dims` = [count].
    public static func readLabels(path: String, classes: Int) throws -> IDXFile {
        let file = try read(path: path, expectedMagic: labelsMagic)
        try file.checkLabels(classes: classes)
        return file
    }

    /// Throws unless every element is in `0..<classes`, naming the first bad one.
    public func checkLabels(classes: Int) throws {
        if let i = payload.firstIndex(where: { Int($0) >= classes }) {
            throw EngineError.badFile(path: path, reason: "label \(payload[i]) at index \(i) is outside 0…\(classes - 1)")
        }
    }

    /// Encodes `payload` with `dims` as IDX bytes (for tests and exports).
    public static func encode(magic: UInt32, dims: [Int], payload: [UInt8]) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(4 + 4 * dims.count + payload.count)
        func put(_ v: UInt32) { out += [UInt8(v >> 24), UInt8((v >> 16) & 0xff), UInt8((v >> 8) & 0xff), UInt8(v & 0xff)] }
        put(magic)
        for d in dims { put(UInt32(d)) }
        out += payload
        return out
    }

    static func bigEndian32(_ b: [UInt8], _ at: Int) -> UInt32 {
        UInt32(b[at]) << 24 | UInt32(b[at + 1]) << 16 | UInt32(b[at + 2]) << 8 | UInt32(b[at + 3])
    }

    static func hex(_ v: UInt32) -> String {
        let s = String(v, radix: 16)
        return "0x" + String(repeating: "0", count: max(0, 8 - s.count)) + s
    }
}
