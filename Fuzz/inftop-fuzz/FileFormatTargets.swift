import InftopEngine

/// Binary model and dataset files, read through the same entry points as `inftop` uses.
enum FileFormatTargets {
    /// `SafeTensorsFile(path:)`, then every tensor read back (as fp32 when its dtype allows).
    static func safetensors(_ input: UnsafeRawBufferPointer) {
        let path = Scratch.write(input, name: "model.safetensors")
        guard let file = try? SafeTensorsFile(path: path) else { return }
        var sum = 0
        for name in file.names {
            if let info = file.info(name), info.dtype.convertsToFloat32 {
                sum &+= (try? file.floats(name))?.count ?? 0
                sum &+= (try? file.float32(name, owner: .other))?.count ?? 0
            } else if let bytes = try? file.bytes(name), !bytes.isEmpty {
                sum &+= Int(bytes[0]) &+ Int(bytes[bytes.count - 1])
            }
        }
        _ = file.metadata.count &+ sum
    }

    /// `GGUFFile(path:)`, every tensor's first and last byte, then the llama config and the
    /// BPE tokenizer read from its metadata.
    static func gguf(_ input: UnsafeRawBufferPointer) {
        let path = Scratch.write(input, name: "model.gguf")
        guard let file = try? GGUFFile(path: path) else { return }
        var sum = 0
        for t in file.tensors {
            guard let n = t.byteCount, n > 0 else { continue }
            let p = file.data(of: t)
            sum &+= Int(p.load(as: UInt8.self)) &+ Int(p.load(fromByteOffset: n - 1, as: UInt8.self))
        }
        for (_, value) in file.metadata { sum &+= value.int ?? 0; sum &+= value.string?.utf8.count ?? 0 }
        _ = try? LlamaConfig(file: file)
        if let bpe = try? BPETokenizer(file: file) {
            let ids = bpe.encode("Hello world <|im_start|>!", special: true)
            sum &+= bpe.decode(ids, special: true).utf8.count
        }
        _ = sum
    }

    /// IDX images and labels, gunzipped first when the input is gzip (as `IDXFile.read`).
    static func idx(_ input: UnsafeRawBufferPointer) {
        var bytes = Array(input)
        if Gzip.isGzip(bytes) {
            guard let inflated = try? Gzip.decompress(bytes, path: "fuzz.idx.gz") else { return }
            bytes = inflated
        }
        if let images = try? IDXFile(bytes: bytes, path: "fuzz.idx", expectedMagic: IDXFile.imagesMagic) {
            _ = images.dims.reduce(0, &+) &+ images.payload.count
        }
        if let labels = try? IDXFile(bytes: bytes, path: "fuzz.idx", expectedMagic: IDXFile.labelsMagic) {
            _ = try? labels.checkLabels(classes: 10)
        }
    }
}
