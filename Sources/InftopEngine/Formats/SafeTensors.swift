import Foundation
import InftopTelemetry
import CMapGuard
#if canImport(Glibc)
import Glibc
#endif

/// Element types of the safetensors format. Every type is known (so sizes can be validated);
/// only `F32`, `F16` and `BF16` can be read as fp32.
public enum SafeTensorsDType: String, CaseIterable, Sendable {
    case bool = "BOOL", u8 = "U8", i8 = "I8", f8e4m3 = "F8_E4M3", f8e5m2 = "F8_E5M2"
    case i16 = "I16", u16 = "U16", f16 = "F16", bf16 = "BF16"
    case i32 = "I32", u32 = "U32", f32 = "F32"
    case f64 = "F64", i64 = "I64", u64 = "U64"

    /// Bytes per element.
    public var byteSize: Int {
        switch self {
        case .bool, .u8, .i8, .f8e4m3, .f8e5m2: 1
        case .i16, .u16, .f16, .bf16: 2
        case .i32, .u32, .f32: 4
        case .f64, .i64, .u64: 8
        }
    }

    /// Whether `SafeTensorsFile.float32` can read it (F32 as is, F16/BF16 converted).
    public var convertsToFloat32: Bool { self == .f32 || self == .f16 || self == .bf16 }
}

/// One tensor's entry in a safetensors header, validated against the file.
public struct SafeTensorInfo: Sendable, Equatable {
    public let name: String
    public let dtype: SafeTensorsDType
    public let shape: [Int]
    /// Byte offset of the first element from the start of the file.
    public let fileOffset: Int
    /// Bytes of data (elementCount × dtype.byteSize).
    public let byteCount: Int
    /// Product of `shape` (1 for a scalar, shape `[]`).
    public let elementCount: Int
}

/// A read-only, memory-mapped safetensors file (https://github.com/huggingface/safetensors):
/// 8-byte little-endian header length N, N bytes of JSON header, then the data section.
///
/// `init` validates everything before any tensor is read: N ≤ file size − 8 and ≤ 100 MB; the
/// header is a JSON object whose entries (besides `__metadata__`, skipped) each have a known
/// dtype, a non-negative shape and `data_offsets` [begin, end] inside the data section with
/// end − begin == product(shape) × dtype size; no two tensors overlap. Any violation throws
/// `EngineError.badFile` with one line naming the file and the tensor. After that, reads stay
/// inside the mapping by construction.
///
/// The mapping lives as long as this object (and every `WeightBuffer` viewing it).
public final class SafeTensorsFile: @unchecked Sendable {
    /// Largest header accepted (the format's own reader uses the same bound).
    public static let maxHeaderBytes = 100_000_000

    public let path: String
    /// Tensors by name.
    public let tensors: [String: SafeTensorInfo]
    /// Tensor names in file order (by offset).
    public let names: [String]
    /// String entries of `__metadata__` (non-string values are ignored).
    public let metadata: [String: String]
    /// Size of the file in bytes.
    public let fileSize: Int

    private let base: UnsafeRawPointer

    /// Maps and validates `path`. Throws `EngineError.missing` when it cannot be opened,
    /// `EngineError.badFile` when it is not a valid safetensors file.
    public init(path: String) throws {
        self.path = path
        let fd = open(path, O_RDONLY)
        guard fd >= 0 else {
            throw EngineError.missing(path: path, hint: "cannot open: \(String(cString: strerror(errno)))")
        }
        defer { close(fd) }
        var st = stat()
        guard fstat(fd, &st) == 0 else { throw EngineError.badFile(path: path, reason: "cannot stat: \(String(cString: strerror(errno)))") }
        guard (st.st_mode & S_IFMT) == S_IFREG else { throw EngineError.badFile(path: path, reason: "not a regular file") }
        let size = Int(st.st_size)
        guard size >= 8 else { throw EngineError.badFile(path: path, reason: "file is \(size) bytes, too short for the 8-byte safetensors header length") }
        guard let m = mmap(nil, size, PROT_READ, MAP_PRIVATE, fd, 0), m != MAP_FAILED else {
            throw EngineError.badFile(path: path, reason: "cannot map the file: \(String(cString: strerror(errno)))")
        }
        let base = UnsafeRawPointer(m)
        _ = mapguard_register(path, base, size)  // a SIGBUS in it names the file (truncated on disk)
        do {
            let parsed = try SafeTensorsFile.parseHeader(base: base, fileSize: size, path: path)
            self.base = base
            self.fileSize = size
            self.tensors = parsed.tensors
            self.names = parsed.names
            self.metadata = parsed.metadata
        } catch {
            mapguard_unregister(base)
            munmap(m, size)
            throw error
        }
    }

    deinit {
        mapguard_unregister(base)
        munmap(UnsafeMutableRawPointer(mutating: base), fileSize)
    }

    /// The entry for `name`, or nil.
    public func info(_ name: String) -> SafeTensorInfo? { tensors[name] }

    /// The raw bytes of a tensor (valid while this object lives). Throws when the name is absent.
    public func bytes(_ name: String) throws -> UnsafeRawBufferPointer {
        let t = try entry(name)
        return UnsafeRawBufferPointer(start: base + t.fileOffset, count: t.byteCount)
    }

    /// A tensor as fp32. F32 data that is 4-byte aligned is viewed in place (no copy, the pages
    /// load on first touch); F16, BF16 and unaligned F32 are converted into a new buffer counted
    /// under `owner`. Other dtypes throw `EngineError.badFile` naming the tensor.
    public func float32(_ name: String, owner: MemoryOwner = .weightsFP32) throws -> WeightBuffer {
        let t = try entry(name)
        let src = base + t.fileOffset
        switch t.dtype {
        case .f32 where Int(bitPattern: src) % MemoryLayout<Float>.alignment == 0:
            return WeightBuffer(name: name, shape: t.shape, mapped: src.assumingMemoryBound(to: Float.self), keepAlive: self)
        case .f32, .f16, .bf16:
            let out = WeightBuffer(name: name, shape: t.shape, owner: owner)
            SafeTensorsFile.convert(src, dtype: t.dtype, count: t.elementCount, into: out.mutablePointer!)
            return out
        default:
            throw EngineError.badFile(path: path, reason: "tensor '\(name)' has dtype \(t.dtype.rawValue); only F32, F16 and BF16 can be read as fp32")
        }
    }

    /// A tensor as a new `[Float]` (F32, F16 or BF16).
    public func floats(_ name: String) throws -> [Float] {
        let t = try entry(name)
        guard t.dtype.convertsToFloat32 else {
            throw EngineError.badFile(path: path, reason: "tensor '\(name)' has dtype \(t.dtype.rawValue); only F32, F16 and BF16 can be read as fp32")
        }
        return [Float](unsafeUninitializedCapacity: t.elementCount) { buf, n in
            SafeTensorsFile.convert(base + t.fileOffset, dtype: t.dtype, count: t.elementCount, into: buf.baseAddress!)
            n = t.elementCount
        }
    }

    private func entry(_ name: String) throws -> SafeTensorInfo {
        guard let t = tensors[name] else { throw EngineError.badFile(path: path, reason: "no tensor named '\(name)'") }
        return t
    }

    /// Converts `count` little-endian elements at `src` (any alignment) to fp32.
    static func convert(_ src: UnsafeRawPointer, dtype: SafeTensorsDType, count: Int, into dst: UnsafeMutablePointer<Float>) {
        switch dtype {
        case .f32:
            // memcpy handles any alignment.
            UnsafeMutableRawPointer(dst).copyMemory(from: src, byteCount: count * 4)
        case .f16:
            for i in 0..<count {
                let bits = UInt16(littleEndian: src.loadUnaligned(fromByteOffset: 2 * i, as: UInt16.self))
                dst[i] = Float(Float16(bitPattern: bits))
            }
        case .bf16:
            // bf16 is the top half of an fp32: shift the bits back into place (exact).
            for i in 0..<count {
                let bits = UInt16(littleEndian: src.loadUnaligned(fromByteOffset: 2 * i, as: UInt16.self))
                dst[i] = Float(bitPattern: UInt32(bits) << 16)
            }
        default:
            preconditionFailure("SafeTensorsFile.convert: \(dtype) is not a float type")
        }
    }
}

// MARK: - Header parsing

extension SafeTensorsFile {
    struct Parsed {
        var tensors: [String: SafeTensorInfo]
        var names: [String]
        var metadata: [String: String]
    }

    /// One header entry as written: dtype, shape, data_offsets (unchecked).
    private struct RawEntry: Decodable {
        let dtype: String
        let shape: [Int]
        let data_offsets: [Int]
    }

    /// The header object: tensor entries by name, `__metadata__` kept apart.
    private struct RawHeader: Decodable {
        var entries: [(String, RawEntry)] = []
        var metadata: [String: String] = [:]

        struct Key: CodingKey {
            var stringValue: String
            var intValue: Int? { nil }
            init(stringValue: String) { self.stringValue = stringValue }
            init?(intValue: Int) { nil }
        }

        init(from decoder: Decoder) throws {
            let c = try decoder.container(keyedBy: Key.self)
            for key in c.allKeys {
                if key.stringValue == "__metadata__" {
                    // Metadata is free-form strings; anything else in it is ignored, not fatal.
                    metadata = (try? c.decode([String: String].self, forKey: key)) ?? [:]
                } else {
                    entries.append((key.stringValue, try c.decode(RawEntry.self, forKey: key)))
                }
            }
        }
    }

    static func parseHeader(base: UnsafeRawPointer, fileSize: Int, path: String) throws -> Parsed {
        func bad(_ reason: String) -> EngineError { .badFile(path: path, reason: reason) }
        let n64 = UInt64(littleEndian: base.loadUnaligned(as: UInt64.self))
        guard n64 <= UInt64(fileSize - 8) else {
            throw bad("header length \(n64) is larger than the rest of the file (\(fileSize - 8) bytes): truncated or not a safetensors file")
        }
        guard n64 <= UInt64(maxHeaderBytes) else {
            throw bad("header length \(n64) exceeds the \(maxHeaderBytes)-byte limit")
        }
        let headerLen = Int(n64)
        guard headerLen >= 2 else { throw bad("header length \(headerLen) is too short for a JSON object") }
        let json = Data(bytes: base + 8, count: headerLen)
        let raw: RawHeader
        do {
            raw = try JSONDecoder().decode(RawHeader.self, from: json)
        } catch let DecodingError.keyNotFound(key, ctx) {
            throw bad("header: tensor '\(ctx.codingPath.first?.stringValue ?? "?")' has no '\(key.stringValue)'")
        } catch let DecodingError.typeMismatch(_, ctx) {
            throw bad("header: \(describe(ctx)) has the wrong JSON type (\(ctx.debugDescription))")
        } catch let DecodingError.dataCorrupted(ctx) {
            throw bad("header is not valid JSON or holds a value out of range\(ctx.codingPath.isEmpty ? "" : " at \(describe(ctx))")")
        } catch {
            throw bad("header is not a valid safetensors JSON object (\(error))")
        }

        let dataStart = 8 + headerLen
        let dataSize = fileSize - dataStart
        var tensors: [String: SafeTensorInfo] = [:]
        for (name, e) in raw.entries {
            guard let dtype = SafeTensorsDType(rawValue: e.dtype) else {
                throw bad("tensor '\(name)' has unknown dtype '\(e.dtype)'")
            }
            guard e.shape.allSatisfy({ $0 >= 0 }) else { throw bad("tensor '\(name)' has a negative dimension in shape \(e.shape)") }
            var elements = 1
            for d in e.shape {
                let (p, o) = elements.multipliedReportingOverflow(by: d)
                guard !o else { throw bad("tensor '\(name)' shape \(e.shape) overflows") }
                elements = p
            }
            let (bytes, o) = elements.multipliedReportingOverflow(by: dtype.byteSize)
            guard !o else { throw bad("tensor '\(name)' shape \(e.shape) overflows") }
            guard e.data_offsets.count == 2 else {
                throw bad("tensor '\(name)' data_offsets has \(e.data_offsets.count) values, needs [begin, end]")
            }
            let begin = e.data_offsets[0], end = e.data_offsets[1]
            guard begin >= 0, begin <= end else { throw bad("tensor '\(name)' has data_offsets [\(begin), \(end)] out of order") }
            guard end <= dataSize else {
                throw bad("tensor '\(name)' data_offsets [\(begin), \(end)] run past the end of the data section (\(dataSize) bytes): file truncated?")
            }
            guard end - begin == bytes else {
                throw bad("tensor '\(name)' holds \(end - begin) bytes but \(dtype.rawValue) \(e.shape) needs \(bytes)")
            }
            tensors[name] = SafeTensorInfo(name: name, dtype: dtype, shape: e.shape, fileOffset: dataStart + begin,
                                           byteCount: bytes, elementCount: elements)
        }
        let ordered = tensors.values.sorted { ($0.fileOffset, $0.byteCount, $0.name) < ($1.fileOffset, $1.byteCount, $1.name) }
        var previous: SafeTensorInfo? = nil
        for t in ordered where t.byteCount > 0 {
            if let p = previous, t.fileOffset < p.fileOffset + p.byteCount {
                throw bad("tensors '\(p.name)' and '\(t.name)' overlap in the data section")
            }
            previous = t
        }
        return Parsed(tensors: tensors, names: ordered.map(\.name), metadata: raw.metadata)
    }

    private static func describe(_ ctx: DecodingError.Context) -> String {
        guard let first = ctx.codingPath.first else { return "the header" }
        let rest = ctx.codingPath.dropFirst().map { $0.intValue.map(String.init) ?? $0.stringValue }
        return "tensor '\(first.stringValue)'" + (rest.isEmpty ? "" : " field \(rest.joined(separator: "."))")
    }
}
