import CZlib

/// gzip decoding through zlib (`inflateInit2` with window bits 15+16 = gzip wrapper only).
public enum Gzip {
    /// Whether `bytes` start with the gzip magic 1f 8b.
    public static func isGzip(_ bytes: [UInt8]) -> Bool {
        bytes.count >= 2 && bytes[0] == 0x1f && bytes[1] == 0x8b
    }

    /// Largest output accepted (a guard against decompression bombs in a user's file).
    public static let maxOutputBytes = 1 << 32

    /// Decodes a gzip stream (several concatenated members are decoded one after the other, as
    /// `gzip -d` does). `path` only names the file in errors.
    /// - Throws: `EngineError.badFile(path:…)` when the data is not gzip, is corrupt, is cut short,
    ///   has bytes after the last member, or inflates past `maxOutputBytes`.
    public static func decompress(_ input: [UInt8], path: String) throws -> [UInt8] {
        guard isGzip(input) else { throw EngineError.badFile(path: path, reason: "not gzip data (no 1f 8b magic)") }
        // The last 4 bytes hold the uncompressed size mod 2^32 (ISIZE): a good first guess.
        var guess = input.count * 4
        if input.count >= 18 {
            let n = input.count
            let isize = Int(input[n - 4]) | Int(input[n - 3]) << 8 | Int(input[n - 2]) << 16 | Int(input[n - 1]) << 24
            if isize > 0 { guess = isize + 1 }  // +1 so the end of stream is seen without a regrow
        }
        // A cut or forged file has a random ISIZE: trust it only up to deflate's best ratio
        // (~1032:1) and 128 MiB; past that the buffer grows as the data really inflates.
        guess = min(guess, input.count * 1032, 128 << 20)
        var out = [UInt8](repeating: 0, count: min(max(guess, 64), maxOutputBytes))
        var produced = 0
        var consumed = 0

        while consumed < input.count {
            var strm = z_stream()
            guard inftop_inflate_init2(&strm, 15 + 16) == Z_OK else {
                throw EngineError.badFile(path: path, reason: "zlib could not start inflating")
            }
            defer { inflateEnd(&strm) }
            var streamEnded = false
            try input.withUnsafeBufferPointer { inBuf in
                strm.next_in = UnsafeMutablePointer(mutating: inBuf.baseAddress! + consumed)
                strm.avail_in = UInt32(min(inBuf.count - consumed, Int(UInt32.max)))
                while true {
                    if produced == out.count {
                        guard out.count < maxOutputBytes else {
                            throw EngineError.badFile(path: path, reason: "gzip data inflates past \(maxOutputBytes) bytes")
                        }
                        out.append(contentsOf: repeatElement(0, count: min(out.count, maxOutputBytes - out.count)))
                    }
                    let before = strm.avail_in
                    let status: Int32 = out.withUnsafeMutableBufferPointer { outBuf in
                        strm.next_out = outBuf.baseAddress! + produced
                        strm.avail_out = UInt32(min(outBuf.count - produced, Int(UInt32.max)))
                        let availOut = strm.avail_out
                        let s = inflate(&strm, Z_NO_FLUSH)
                        produced += Int(availOut - strm.avail_out)
                        return s
                    }
                    consumed += Int(before - strm.avail_in)
                    if status == Z_STREAM_END { streamEnded = true; return }
                    if status == Z_BUF_ERROR && strm.avail_out > 0 {
                        // No progress possible with output room left: the input ran out mid-stream.
                        throw EngineError.badFile(path: path, reason: "gzip data is truncated")
                    }
                    guard status == Z_OK || status == Z_BUF_ERROR else {
                        let msg = strm.msg.map { String(cString: $0) } ?? "error \(status)"
                        throw EngineError.badFile(path: path, reason: "corrupt gzip data (\(msg))")
                    }
                    if strm.avail_in == 0 && consumed == inBuf.count && strm.avail_out > 0 {
                        throw EngineError.badFile(path: path, reason: "gzip data is truncated")
                    }
                    if strm.avail_in == 0 && consumed < inBuf.count {
                        strm.next_in = UnsafeMutablePointer(mutating: inBuf.baseAddress! + consumed)
                        strm.avail_in = UInt32(min(inBuf.count - consumed, Int(UInt32.max)))
                    }
                }
            }
            if !streamEnded { throw EngineError.badFile(path: path, reason: "gzip data is truncated") }
            if consumed < input.count {
                guard input.count - consumed >= 2, input[consumed] == 0x1f, input[consumed + 1] == 0x8b else {
                    throw EngineError.badFile(path: path, reason: "\(input.count - consumed) stray bytes after the gzip data")
                }
            }
        }
        out.removeLast(out.count - produced)
        return out
    }

    /// Compresses `bytes` into a single gzip member (level 6). For tests and small exports.
    public static func compress(_ bytes: [UInt8]) -> [UInt8] {
        var strm = z_stream()
        // deflateInit2 is a macro: call the underlying function with the library's version and struct size.
        let ok = deflateInit2_(&strm, 6, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY, ZLIB_VERSION, Int32(MemoryLayout<z_stream>.size))
        precondition(ok == Z_OK, "Gzip.compress: deflateInit2 failed (\(ok))")
        defer { deflateEnd(&strm) }
        var out = [UInt8](repeating: 0, count: Int(deflateBound(&strm, uLong(bytes.count))) + 64)
        var input = bytes
        let status: Int32 = input.withUnsafeMutableBufferPointer { inBuf in
            out.withUnsafeMutableBufferPointer { outBuf in
                strm.next_in = inBuf.baseAddress
                strm.avail_in = UInt32(inBuf.count)
                strm.next_out = outBuf.baseAddress
                strm.avail_out = UInt32(outBuf.count)
                return deflate(&strm, Z_FINISH)
            }
        }
        precondition(status == Z_STREAM_END, "Gzip.compress: deflate did not finish (\(status))")
        out.removeLast(out.count - Int(strm.total_out))
        return out
    }
}
