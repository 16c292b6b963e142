import CMapGuard
#if canImport(Glibc)
import Glibc
#endif

/// A GGUF file (v2 or v3, little-endian), memory-mapped read-only: its metadata key/values and
/// tensor infos, parsed with every length, count, offset and size checked against the file, and
/// each tensor's bytes as a pointer into the mapping (no copy).
///
/// A corrupt, truncated or hostile file gets `EngineError.badFile` naming the file and the key or
/// tensor at fault; nothing reads outside the mapping.
public final class GGUFFile: @unchecked Sendable {
    public let path: String
    public let version: UInt32
    /// Metadata in file order.
    public let metadata: [(key: String, value: GGUFValue)]
    private let metadataIndex: [String: Int]
    /// Tensor infos in file order.
    public let tensors: [GGUFTensorInfo]
    private let tensorIndex: [String: Int]
    /// `general.alignment` (default 32).
    public let alignment: Int
    /// Byte offset of the tensor data section.
    public let dataOffset: Int
    /// The mapping (`size` bytes).
    public let base: UnsafeRawPointer
    public let size: Int

    /// Maps and parses `path`.
    /// - Throws: `EngineError.missing` (no file), `.io` (cannot open / map), `.badFile` (not GGUF, or corrupt).
    public init(path: String) throws {
        self.path = path
        let (fd, size) = try FileBytes.openRegular(path: path)
        defer { close(fd) }
        guard size >= 24 else { throw EngineError.badFile(path: path, reason: "truncated: \(size) bytes, a GGUF header is 24") }
        guard let m = mmap(nil, size, PROT_READ, MAP_PRIVATE, fd, 0), m != MAP_FAILED else {
            throw EngineError.io(path: path, reason: "cannot map: \(String(cString: strerror(errno)))")
        }
        let base = UnsafeRawPointer(m)
        self.base = base
        self.size = size
        _ = mapguard_register(path, base, size)  // a SIGBUS in it names the file (truncated on disk)
        do {
            var r = GGUFCursor(base: base, size: size, path: path)
            guard try r.u32("magic") == 0x4655_4747 else {  // "GGUF"
                throw EngineError.badFile(path: path, reason: "not a GGUF file (bad magic)")
            }
            version = try r.u32("version")
            guard version == 2 || version == 3 else {
                throw EngineError.badFile(path: path, reason: "GGUF version \(version) is not supported (inftop reads versions 2 and 3)")
            }
            let tensorCount = try r.u64("tensor count"), kvCount = try r.u64("metadata count")
            // Each key/value needs at least 12 bytes, each tensor info at least 24: a count the file
            // cannot hold is rejected before anything is allocated for it.
            guard kvCount <= UInt64(size / 12), tensorCount <= UInt64(size / 24) else {
                throw EngineError.badFile(path: path, reason: "header claims \(tensorCount) tensors and \(kvCount) metadata entries, more than the \(size)-byte file can hold")
            }
            var meta: [(key: String, value: GGUFValue)] = []
            var metaIndex: [String: Int] = [:]
            for _ in 0..<Int(kvCount) {
                let key = try r.string("metadata key")
                let value = try r.value(type: try r.u32("type of '\(key)'"), key: key, depth: 0)
                if metaIndex[key] != nil { throw EngineError.badFile(path: path, reason: "metadata key '\(key)' appears twice") }
                metaIndex[key] = meta.count
                meta.append((key, value))
            }
            metadata = meta
            metadataIndex = metaIndex
            var align = 32
            if let a = metaIndex["general.alignment"] {
                guard let v = meta[a].value.int, v > 0, v <= 1 << 16, v & (v - 1) == 0 else {
                    throw EngineError.badFile(path: path, reason: "general.alignment must be a power of two ≤ 65536")
                }
                align = v
            }
            alignment = align
            var infos: [GGUFTensorInfo] = []
            var tIndex: [String: Int] = [:]
            for _ in 0..<Int(tensorCount) {
                let name = try r.string("tensor name")
                let nd = try r.u32("dimension count of tensor '\(name)'")
                guard nd >= 1, nd <= 4 else { throw EngineError.badFile(path: path, reason: "tensor '\(name)': \(nd) dimensions (1…4 allowed)") }
                var dims: [Int] = []
                var elements = 1
                for _ in 0..<nd {
                    let d = try r.u64("shape of tensor '\(name)'")
                    guard d >= 1, d <= 1 << 40 else { throw EngineError.badFile(path: path, reason: "tensor '\(name)': dimension \(d) out of range") }
                    let (p, o) = elements.multipliedReportingOverflow(by: Int(d))
                    guard !o, p <= 1 << 40 else { throw EngineError.badFile(path: path, reason: "tensor '\(name)': element count overflows") }
                    elements = p
                    dims.append(Int(d))
                }
                let typeID = try r.u32("type of tensor '\(name)'")
                let offset = try r.u64("offset of tensor '\(name)'")
                guard offset <= UInt64(size) else { throw EngineError.badFile(path: path, reason: "tensor '\(name)': offset \(offset) is past the end of the file") }
                guard Int(offset) % align == 0 else { throw EngineError.badFile(path: path, reason: "tensor '\(name)': offset \(offset) is not a multiple of the alignment \(align)") }
                if tIndex[name] != nil { throw EngineError.badFile(path: path, reason: "tensor '\(name)' appears twice") }
                tIndex[name] = infos.count
                infos.append(GGUFTensorInfo(name: name, dims: dims, type: GGMLType(id: typeID), offset: Int(offset)))
            }
            let data = (r.offset + align - 1) / align * align
            guard data <= size else { throw EngineError.badFile(path: path, reason: "truncated: the tensor data section starts past the end of the file") }
            dataOffset = data
            // Every tensor of a type we can size must lie inside the file.
            for t in infos {
                guard let bytes = t.byteCount else { continue }
                let (end, o) = (data + t.offset).addingReportingOverflow(bytes)
                guard !o, end <= size else {
                    throw EngineError.badFile(path: path, reason: "truncated: tensor '\(t.name)' (\(t.type.name), \(bytes) bytes at \(data + t.offset)) ends past the end of the \(size)-byte file")
                }
            }
            tensors = infos
            tensorIndex = tIndex
        } catch {
            mapguard_unregister(base)
            munmap(m, size)
            throw error
        }
    }

    deinit {
        mapguard_unregister(base)
        munmap(UnsafeMutableRawPointer(mutating: base), size)
    }

    /// The metadata value of `key`, or nil.
    public subscript(key: String) -> GGUFValue? { metadataIndex[key].map { metadata[$0].value } }

    /// The tensor named `name`, or nil.
    public func tensor(_ name: String) -> GGUFTensorInfo? { tensorIndex[name].map { tensors[$0] } }

    /// The first byte of `t`'s data (inside the mapping; its `byteCount` bytes were checked).
    public func data(of t: GGUFTensorInfo) -> UnsafeRawPointer { base + dataOffset + t.offset }
}

/// One tensor's description. `dims[0]` is the contiguous (innermost) dimension, as in ggml: a
/// weight matrix of `dims[1]` rows (outputs) × `dims[0]` columns (inputs).
public struct GGUFTensorInfo: Sendable, Equatable {
    public let name: String
    public let dims: [Int]
    public let type: GGMLType
    /// Offset from the start of the data section.
    public let offset: Int

    public var elementCount: Int { dims.reduce(1, *) }
    /// Bytes of one row (`dims[0]` elements), or nil for a type inftop cannot size or a row
    /// that is not whole blocks.
    public var rowBytes: Int? {
        guard let b = type.blockBytes, dims[0] % type.blockSize == 0 else { return nil }
        return dims[0] / type.blockSize * b
    }
    /// Bytes of the whole tensor, or nil (as `rowBytes`).
    public var byteCount: Int? { rowBytes.map { $0 * (elementCount / dims[0]) } }
}
