import ONNXProto
import SwiftProtobuf

/// An ONNX model file read into memory: the decoded protobuf (ONNXProto's generated types, from
/// ONNX's own onnx.proto) and its initializers as constants, with their external data (the
/// `*.onnx.data` files beside it) read and checked.
///
/// Every problem is one `EngineError` line naming the file and the tensor or node: a corrupt or
/// truncated protobuf, a file that is no ONNX model, an element type we do not read, a missing
/// external data file, an offset or length outside it, data of the wrong size.
struct ONNXFile {
    let path: String
    let proto: Onnx_ModelProto
    /// The default domain's opset ("" or "ai.onnx"), 0 when the file names none.
    let opset: Int
    /// Initializers by name, in file order (`initializerNames`).
    let initializers: [String: ONNXConstant]
    let initializerNames: [String]

    var graph: Onnx_GraphProto { proto.graph }

    /// Reads and decodes `path` and every initializer.
    /// - Throws: `EngineError` (missing file, corrupt protobuf, bad tensor data), one line each.
    init(path: String) throws {
        self.path = path
        let bytes = try FileBytes.read(path: path)
        let proto: Onnx_ModelProto
        do {
            proto = try Onnx_ModelProto(serializedBytes: bytes)
        } catch let e as BinaryDecodingError {
            throw EngineError.badFile(path: path, reason: "not a readable ONNX model: \(Self.describe(e)) (\(bytes.count) bytes)")
        } catch {
            throw EngineError.badFile(path: path, reason: "not a readable ONNX model: \(error)")
        }
        guard proto.hasGraph, !proto.graph.node.isEmpty else {
            throw EngineError.badFile(path: path, reason: "not an ONNX model: no graph with nodes (\(bytes.count) bytes)")
        }
        self.proto = proto
        opset = proto.opsetImport.first { $0.domain.isEmpty || $0.domain == "ai.onnx" }.map { Int($0.version) } ?? 0
        var external = ExternalData(modelPath: path)
        var initializers: [String: ONNXConstant] = [:]
        for t in proto.graph.initializer {
            initializers[t.name] = try Self.constant(t, file: path, external: &external)
        }
        self.initializers = initializers
        initializerNames = proto.graph.initializer.map(\.name)
    }

    private static func describe(_ e: BinaryDecodingError) -> String {
        switch e {
        case .truncated: "the protobuf is truncated"
        case .malformedProtobuf: "the protobuf is malformed"
        case .invalidUTF8: "a string in the protobuf is not UTF-8"
        case .missingRequiredFields: "the protobuf lacks required fields"
        case .messageDepthLimit: "the protobuf nests too deep"
        default: "the protobuf does not decode (\(e))"
        }
    }

    /// A TensorProto (initializer or attribute value) as a constant; `file` names it in errors.
    static func constant(_ t: Onnx_TensorProto, file: String, external: inout ExternalData) throws -> ONNXConstant {
        let what = "tensor '\(t.name)'"
        guard t.dims.allSatisfy({ $0 >= 0 && $0 < 1 << 40 }) else {
            throw EngineError.badFile(path: file, reason: "\(what) has dimensions \(t.dims)")
        }
        let shape = t.dims.map { Int($0) }
        let count = shape.reduce(1, *)
        guard let type = Onnx_TensorProto.DataType(rawValue: Int(t.dataType)) else {
            throw EngineError.badFile(path: file, reason: "\(what) has unknown element type \(t.dataType)")
        }
        let size: Int
        switch type {
        case .float, .int32, .uint32: size = 4
        case .double, .int64, .uint64: size = 8
        case .int8, .uint8, .bool: size = 1
        case .int16, .uint16: size = 2
        default:
            throw EngineError.badFile(path: file, reason: "\(what) has element type \(type) (inftop reads float, double and integer tensors)")
        }
        var raw: [UInt8]? = nil
        if t.dataLocation == .external {
            raw = try external.bytes(of: t, count: count * size)
        } else if !t.rawData.isEmpty {
            guard t.rawData.count == count * size else {
                throw EngineError.badFile(path: file, reason: "\(what) \(shape) has \(t.rawData.count) bytes of raw data, needs \(count * size)")
            }
            raw = [UInt8](t.rawData)
        }
        func mismatch(_ n: Int) -> EngineError {
            EngineError.badFile(path: file, reason: "\(what) \(shape) holds \(n) values, needs \(count)")
        }
        if let raw {
            return raw.withUnsafeBytes { b in
                func load<T: FixedWidthInteger>(_: T.Type) -> [Int64] {
                    (0..<count).map { Int64(T(littleEndian: b.loadUnaligned(fromByteOffset: $0 * size, as: T.self))) }
                }
                switch type {
                case .float: return ONNXConstant(shape: shape, floats: (0..<count).map {
                    Float(bitPattern: UInt32(littleEndian: b.loadUnaligned(fromByteOffset: $0 * 4, as: UInt32.self))) })
                case .double: return ONNXConstant(shape: shape, floats: (0..<count).map {
                    Float(Double(bitPattern: UInt64(littleEndian: b.loadUnaligned(fromByteOffset: $0 * 8, as: UInt64.self)))) })
                case .int64, .uint64: return ONNXConstant(shape: shape, ints: load(Int64.self))
                case .int32: return ONNXConstant(shape: shape, ints: load(Int32.self))
                case .uint32: return ONNXConstant(shape: shape, ints: load(UInt32.self))
                case .int16: return ONNXConstant(shape: shape, ints: load(Int16.self))
                case .uint16: return ONNXConstant(shape: shape, ints: load(UInt16.self))
                case .int8: return ONNXConstant(shape: shape, int8: (0..<count).map { b.load(fromByteOffset: $0, as: Int8.self) })
                case .uint8: return ONNXConstant(shape: shape, uint8: Array(b.bindMemory(to: UInt8.self)))
                default: return ONNXConstant(shape: shape, ints: load(UInt8.self))
                }
            }
        }
        switch type {
        case .float:
            guard t.floatData.count == count else { throw mismatch(t.floatData.count) }
            return ONNXConstant(shape: shape, floats: t.floatData)
        case .double:
            guard t.doubleData.count == count else { throw mismatch(t.doubleData.count) }
            return ONNXConstant(shape: shape, floats: t.doubleData.map { Float($0) })
        case .int64:
            guard t.int64Data.count == count else { throw mismatch(t.int64Data.count) }
            return ONNXConstant(shape: shape, ints: t.int64Data)
        case .uint32, .uint64:
            guard t.uint64Data.count == count else { throw mismatch(t.uint64Data.count) }
            return ONNXConstant(shape: shape, ints: t.uint64Data.map { Int64(truncatingIfNeeded: $0) })
        default:
            guard t.int32Data.count == count else { throw mismatch(t.int32Data.count) }
            return ONNXConstant(shape: shape, ints: t.int32Data.map { Int64($0) })
        }
    }
}

/// The external data files of one model (`location` relative to the model's folder), each read
/// once; `bytes(of:count:)` checks a tensor's offset and length against its file.
struct ExternalData {
    let modelPath: String
    private var files: [String: [UInt8]] = [:]

    init(modelPath: String) { self.modelPath = modelPath }

    var directory: String {
        guard let slash = modelPath.lastIndex(of: "/") else { return "." }
        return String(modelPath[..<slash])
    }

    mutating func bytes(of t: Onnx_TensorProto, count: Int) throws -> [UInt8] {
        var entries: [String: String] = [:]
        for e in t.externalData { entries[e.key] = e.value }
        let what = "tensor '\(t.name)'"
        guard let location = entries["location"], !location.isEmpty else {
            throw EngineError.badFile(path: modelPath, reason: "\(what) is external but names no location")
        }
        guard !location.hasPrefix("/"), !location.split(separator: "/").contains("..") else {
            throw EngineError.badFile(path: modelPath, reason: "\(what): external data location '\(location)' is outside the model's folder")
        }
        guard let offset = Int(entries["offset"] ?? "0"), offset >= 0 else {
            throw EngineError.badFile(path: modelPath, reason: "\(what): external data offset '\(entries["offset"] ?? "")' is not a byte offset")
        }
        let dataPath = directory + "/" + location
        if files[location] == nil {
            do {
                files[location] = try FileBytes.read(path: dataPath)
            } catch EngineError.missing {
                throw EngineError.missing(path: dataPath, hint: "the external data of \(what) in \(modelPath)")
            }
        }
        let data = files[location]!
        let length = Int(entries["length"] ?? "") ?? count
        guard length == count else {
            throw EngineError.badFile(path: dataPath, reason: "\(what) needs \(count) bytes, its external data length is \(length)")
        }
        guard offset <= data.count, length <= data.count - offset else {
            throw EngineError.badFile(path: dataPath, reason: "\(what): bytes \(offset)..<\(offset + length) are outside the file (\(data.count) bytes)")
        }
        return Array(data[offset..<(offset + length)])
    }
}
