/// Writes fp32 tensors in the safetensors format (https://huggingface.co/docs/safetensors):
///
///     u64 little-endian N · N bytes of JSON header (space-padded to a multiple of 8) · raw data
///
/// header: `{"__metadata__":{"k":"v",…},"name":{"dtype":"F32","shape":[…],"data_offsets":[b,e]},…}`
/// with offsets relative to the start of the data, tensors back to back in the order given.
/// The file is written to `path + ".tmp-<pid>"`, fsynced and renamed, so it is whole or absent.
public enum SafeTensorsWriter {
    /// Writes `tensors` (unique names, in this order) and string `metadata` to `path`.
    /// - Throws: `EngineError.invalid` for an empty or duplicate name, `.io` when the file cannot
    ///   be written.
    public static func write(path: String, tensors: [(name: String, tensor: Tensor)], metadata: [String: String] = [:]) throws {
        let header = try encodeHeader(tensors: tensors.map { ($0.name, $0.tensor.shape) }, metadata: metadata)
        var length = UInt64(header.count).littleEndian
        try withUnsafeBytes(of: &length) { lengthBytes in
            try header.withUnsafeBytes { headerBytes in
                var parts = [lengthBytes, headerBytes]
                // x86-64 and arm64 are little-endian: the Float storage is already the file's byte order.
                for (_, t) in tensors { parts.append(UnsafeRawBufferPointer(start: t.data, count: t.count * 4)) }
                try FileBytes.writeAtomically(path: path, parts: parts)
            }
        }
    }

    /// The JSON header, padded with spaces to a multiple of 8 bytes, for F32 tensors of `shapes`
    /// stored back to back in the order given.
    public static func encodeHeader(tensors: [(name: String, shape: [Int])], metadata: [String: String] = [:]) throws -> [UInt8] {
        var seen = Set<String>()
        var json = "{"
        var fields: [String] = []
        if !metadata.isEmpty {
            let items = metadata.keys.sorted().map { "\(JSONText.quote($0)):\(JSONText.quote(metadata[$0]!))" }
            fields.append("\"__metadata__\":{\(items.joined(separator: ","))}")
        }
        var offset = 0
        for (name, shape) in tensors {
            guard !name.isEmpty, name != "__metadata__" else {
                throw EngineError.invalid(what: "safetensors tensor name", reason: "'\(name)' is not allowed")
            }
            guard seen.insert(name).inserted else {
                throw EngineError.invalid(what: "safetensors tensor name", reason: "'\(name)' appears twice")
            }
            let bytes = shape.reduce(1, *) * 4
            let dims = shape.map(String.init).joined(separator: ",")
            fields.append("\(JSONText.quote(name)):{\"dtype\":\"F32\",\"shape\":[\(dims)],\"data_offsets\":[\(offset),\(offset + bytes)]}")
            offset += bytes
        }
        json += fields.joined(separator: ",") + "}"
        var out = Array(json.utf8)
        while out.count % 8 != 0 { out.append(0x20) }
        return out
    }
}
