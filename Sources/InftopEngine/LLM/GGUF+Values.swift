/// A GGUF metadata value.
public enum GGUFValue: Sendable, Equatable {
    case uint(UInt64)
    case int(Int64)
    case float(Double)
    case bool(Bool)
    case string(String)
    case array([GGUFValue])

    /// An integer of either signedness, as Int (nil if it does not fit or is not an integer).
    public var int: Int? {
        switch self {
        case .uint(let v): v <= UInt64(Int.max) ? Int(v) : nil
        case .int(let v): Int(v)
        default: nil
        }
    }
    public var double: Double? {
        switch self {
        case .float(let v): v
        case .uint(let v): Double(v)
        case .int(let v): Double(v)
        default: nil
        }
    }
    public var string: String? { if case .string(let s) = self { s } else { nil } }
    public var bool: Bool? { if case .bool(let b) = self { b } else { nil } }
    public var array: [GGUFValue]? { if case .array(let a) = self { a } else { nil } }
}

/// ggml's tensor types. inftop computes with F32, F16, Q4_0, Q4_1 and Q8_0; the others are named
/// so an error can say which one a file uses.
public struct GGMLType: Sendable, Equatable, Hashable, CustomStringConvertible {
    public let id: UInt32
    public init(id: UInt32) { self.id = id }

    public static let f32 = GGMLType(id: 0), f16 = GGMLType(id: 1), q4_0 = GGMLType(id: 2), q4_1 = GGMLType(id: 3), q8_0 = GGMLType(id: 8)

    /// The types the kernels (ck_quant.h, QuantKernels) run.
    public static let supported: [GGMLType] = [.f32, .f16, .q4_0, .q4_1, .q8_0]
    public var isSupported: Bool { Self.supported.contains(self) }

    public var name: String {
        let names: [UInt32: String] = [
            0: "F32", 1: "F16", 2: "Q4_0", 3: "Q4_1", 6: "Q5_0", 7: "Q5_1", 8: "Q8_0", 9: "Q8_1", 10: "Q2_K",
            11: "Q3_K", 12: "Q4_K", 13: "Q5_K", 14: "Q6_K", 15: "Q8_K", 16: "IQ2_XXS", 17: "IQ2_XS", 18: "IQ3_XXS",
            19: "IQ1_S", 20: "IQ4_NL", 21: "IQ3_S", 22: "IQ2_S", 23: "IQ4_XS", 24: "I8", 25: "I16", 26: "I32",
            27: "I64", 28: "F64", 29: "IQ1_M", 30: "BF16", 34: "TQ1_0", 35: "TQ2_0",
        ]
        return names[id] ?? "type \(id)"
    }
    public var description: String { name }

    /// Elements per block (1 for the plain float types).
    public var blockSize: Int { self == .f32 || self == .f16 ? 1 : 32 }
    /// Bytes per block, or nil for a type inftop does not compute with.
    public var blockBytes: Int? {
        switch id {
        case 0: 4
        case 1: 2
        case 2: 18
        case 3: 20
        case 8: 34
        default: nil
        }
    }
}

/// Reads little-endian values from the mapping, checking each read against the end.
struct GGUFCursor {
    let base: UnsafeRawPointer
    let size: Int
    let path: String
    var offset = 0

    init(base: UnsafeRawPointer, size: Int, path: String) { self.base = base; self.size = size; self.path = path }

    func truncated(_ what: String) -> EngineError {
        EngineError.badFile(path: path, reason: "truncated: \(what) at byte \(offset) runs past the end of the \(size)-byte file")
    }

    mutating func need(_ n: Int, _ what: String) throws {
        guard n >= 0, n <= size - offset else { throw truncated(what) }
    }

    mutating func u32(_ what: String) throws -> UInt32 {
        try need(4, what)
        defer { offset += 4 }
        return UInt32(littleEndian: base.loadUnaligned(fromByteOffset: offset, as: UInt32.self))
    }

    mutating func u64(_ what: String) throws -> UInt64 {
        try need(8, what)
        defer { offset += 8 }
        return UInt64(littleEndian: base.loadUnaligned(fromByteOffset: offset, as: UInt64.self))
    }

    mutating func string(_ what: String) throws -> String {
        let n = try u64("length of \(what)")
        guard n <= UInt64(size - offset) else { throw truncated("\(what) (\(n) bytes)") }
        let s = String(decoding: UnsafeRawBufferPointer(start: base + offset, count: Int(n)), as: UTF8.self)
        offset += Int(n)
        return s
    }

    /// A value of GGUF type `type` (0…12), arrays nested at most 2 deep.
    mutating func value(type: UInt32, key: String, depth: Int) throws -> GGUFValue {
        let what = "value of '\(key)'"
        switch type {
        case 0: try need(1, what); defer { offset += 1 }; return .uint(UInt64(base.load(fromByteOffset: offset, as: UInt8.self)))
        case 1: try need(1, what); defer { offset += 1 }; return .int(Int64(base.load(fromByteOffset: offset, as: Int8.self)))
        case 2: try need(2, what); defer { offset += 2 }; return .uint(UInt64(UInt16(littleEndian: base.loadUnaligned(fromByteOffset: offset, as: UInt16.self))))
        case 3: try need(2, what); defer { offset += 2 }; return .int(Int64(Int16(littleEndian: base.loadUnaligned(fromByteOffset: offset, as: Int16.self))))
        case 4: return .uint(UInt64(try u32(what)))
        case 5: return .int(Int64(Int32(bitPattern: try u32(what))))
        case 6: return .float(Double(Float(bitPattern: try u32(what))))
        case 7:
            try need(1, what)
            let b = base.load(fromByteOffset: offset, as: UInt8.self)
            offset += 1
            guard b <= 1 else { throw EngineError.badFile(path: path, reason: "metadata '\(key)': bool byte \(b) is neither 0 nor 1") }
            return .bool(b == 1)
        case 8: return .string(try string(what))
        case 9:
            guard depth < 2 else { throw EngineError.badFile(path: path, reason: "metadata '\(key)': arrays nested too deep") }
            let et = try u32("element type of '\(key)'")
            let n = try u64("length of '\(key)'")
            // Every element takes at least one byte: a count the rest of the file cannot hold is corrupt.
            guard n <= UInt64(size - offset) else { throw truncated("array '\(key)' of \(n) elements") }
            var out: [GGUFValue] = []
            out.reserveCapacity(Int(n))
            for _ in 0..<Int(n) { out.append(try value(type: et, key: key, depth: depth + 1)) }
            return .array(out)
        case 10: return .uint(try u64(what))
        case 11: return .int(Int64(bitPattern: try u64(what)))
        case 12: return .float(Double(bitPattern: try u64(what)))
        default: throw EngineError.badFile(path: path, reason: "metadata '\(key)': unknown value type \(type)")
        }
    }
}
