import InftopEngine
import InftopTelemetry
import XCTest

/// Every quantized matrix kernel tier (GEMV and GEMM, AVX2 and AVX-512) against the Swift
/// reference twin, for every weight type, over shapes with 1, primes and block / tile remainders.
/// A tier the CPU lacks is skipped with a message, never silently passed.
final class QuantKernelTests: XCTestCase {
    /// A matrix of random blocks (f16 scales kept in a sane range) in its own buffer.
    final class Matrix {
        let bytes: UnsafeMutableRawPointer
        let m: QuantizedMatrix
        init(type: GGMLType, rows: Int, cols: Int, seed: UInt64) {
            var rng = SeededRandom(seed: seed)
            let rowBytes = cols / type.blockSize * type.blockBytes!
            bytes = UnsafeMutableRawPointer.allocate(byteCount: max(1, rows * rowBytes), alignment: 64)
            let b = bytes.assumingMemoryBound(to: UInt8.self)
            for i in 0..<(rows * rowBytes) { b[i] = UInt8(truncatingIfNeeded: rng.next()) }
            func half(_ at: Int, _ v: Float) { let h = Float16(v).bitPattern; b[at] = UInt8(h & 0xff); b[at + 1] = UInt8(h >> 8) }
            for r in 0..<rows {
                let row = r * rowBytes
                switch type {
                case .f32: for j in 0..<cols { (bytes + row + 4 * j).storeBytes(of: rng.uniform(-1, 1), as: Float.self) }
                case .f16: for j in 0..<cols { half(row + 2 * j, rng.uniform(-1, 1)) }
                case .q4_0: for blk in 0..<(cols / 32) { half(row + blk * 18, rng.uniform(0.01, 0.2)) }
                case .q4_1: for blk in 0..<(cols / 32) { half(row + blk * 20, rng.uniform(0.01, 0.2)); half(row + blk * 20 + 2, rng.uniform(-1, 1)) }
                case .q8_0: for blk in 0..<(cols / 32) { half(row + blk * 34, rng.uniform(0.001, 0.02)) }
                default: break
                }
            }
            m = QuantizedMatrix(name: "test", type: type, rows: rows, cols: cols, data: UnsafeRawPointer(bytes))
        }
        deinit { bytes.deallocate() }
    }

    func tiers() -> [KernelISA] {
        var out: [KernelISA] = [.avx2]
        if CPUFeatures.host.hasAVX512 { out.append(.avx512) } else { print("QuantKernelTests: AVX-512 tier skipped: this CPU lacks it") }
        return out
    }

    func check(type: GGMLType, rows: Int, cols: Int, tokens: Int, isa: KernelISA, file: StaticString = #filePath, line: UInt = #line) {
        let w = Matrix(type: type, rows: rows, cols: cols, seed: UInt64(rows * 1000 + cols * 10 + tokens))
        var rng = SeededRandom(seed: 7)
        var x = (0..<(tokens * cols)).map { _ in rng.uniform(-1, 1) }
        // The decoder feeds every matmul Q8-rounded inputs (ck_q8_roundtrip); the GEMV tier's
        // integer dots are exact for those, so the block types are checked on such inputs.
        if type.blockSize == 32 { QuantizedMatrix.roundTripQ8(&x, count: x.count) }
        var ref = [Float](repeating: 0, count: tokens * rows), got = [Float](repeating: .nan, count: tokens * rows)
        let tp = QuantizedMatrix.paddedTokens(tokens)
        var xt = [Float](repeating: 0, count: tp * cols)
        let scratch = UnsafeMutableRawPointer.allocate(byteCount: QuantizedMatrix.scratchFloats(cols) * 4, alignment: 64).assumingMemoryBound(to: Float.self)
        defer { scratch.deallocate() }
        x.withUnsafeBufferPointer { xp in
            QuantizedMatrix.transpose(xp.baseAddress!, ldx: cols, m: tokens, cols: cols, into: &xt, tp: tp)
            w.m.matmul(xp.baseAddress!, ldx: cols, m: tokens, xt: nil, tp: 0, &ref, ldy: rows, rows: 0..<rows, isa: isa, backend: .reference, scratch: scratch)
            xt.withUnsafeBufferPointer { xtp in
                // Two row ranges, as two threads would split them.
                let mid = rows / 2 / 16 * 16
                for r in [0..<mid, mid..<rows] {
                    w.m.matmul(xp.baseAddress!, ldx: cols, m: tokens, xt: xtp.baseAddress!, tp: tp, &got, ldy: rows, rows: r, isa: isa, backend: .simd, scratch: scratch)
                }
            }
        }
        var worst: Float = 0
        let scale = ref.map { abs($0) }.max() ?? 1
        for i in ref.indices { worst = max(worst, abs(ref[i] - got[i]) / max(scale, 1e-3)) }
        XCTAssertLessThan(worst, 2e-5, "\(type.name) \(rows)×\(cols), \(tokens) tokens, \(isa): worst relative error \(worst)", file: file, line: line)
    }

    func testBlockTypesAgainstReference() {
        for isa in tiers() {
            for type in [GGMLType.q4_0, .q4_1, .q8_0] {
                for (rows, cols) in [(1, 32), (7, 64), (13, 96), (37, 160), (29, 576)] {
                    for tokens in [1, 2, 5, 17, 33] { check(type: type, rows: rows, cols: cols, tokens: tokens, isa: isa) }
                }
            }
        }
    }

    func testFloatTypesAgainstReference() {
        for isa in tiers() {
            for type in [GGMLType.f32, .f16] {
                for (rows, cols) in [(1, 1), (3, 7), (13, 37), (31, 101), (17, 64)] {
                    for tokens in [1, 3, 16, 19] { check(type: type, rows: rows, cols: cols, tokens: tokens, isa: isa) }
                }
            }
        }
    }

    /// The integer GEMV's worst case for int16 saturation: every nibble 15 (u8 15 × s8 ±127 in
    /// each vpmaddubsw pair) and Q8_0 weights of −128/127 against ±127 activations.
    func testIntegerDotsCannotSaturate() {
        for type in [GGMLType.q4_1, .q4_0, .q8_0] {
            let cols = 96, rows = 5
            let w = Matrix(type: type, rows: rows, cols: cols, seed: 3)
            let b = w.bytes.assumingMemoryBound(to: UInt8.self)
            let blockBytes = type.blockBytes!
            for r in 0..<rows {
                for blk in 0..<(cols / 32) {
                    let at = r * (cols / 32) * blockBytes + blk * blockBytes
                    let header = type == .q4_1 ? 4 : 2
                    for j in header..<blockBytes { b[at + j] = type == .q8_0 ? (j % 2 == 0 ? 0x80 : 0x7f) : 0xff }
                }
            }
            // Activations whose Q8 encoding is ±127 in every lane (signs alternating per row block).
            var x = (0..<cols).map { j in Float(j % 3 == 0 ? -1 : 1) }
            QuantizedMatrix.roundTripQ8(&x, count: cols)
            var ref = [Float](repeating: 0, count: rows), got = [Float](repeating: .nan, count: rows)
            let scratch = UnsafeMutablePointer<Float>.allocate(capacity: QuantizedMatrix.scratchFloats(cols))
            defer { scratch.deallocate() }
            w.m.matmul(x, ldx: cols, m: 1, xt: nil, tp: 0, &ref, ldy: rows, rows: 0..<rows, isa: .avx2, backend: .reference, scratch: scratch)
            w.m.matmul(x, ldx: cols, m: 1, xt: nil, tp: 0, &got, ldy: rows, rows: 0..<rows, isa: .avx2, backend: .simd, scratch: scratch)
            for r in 0..<rows {
                XCTAssertEqual(got[r], ref[r], accuracy: 1e-5 * max(1, abs(ref[r])), "\(type.name) row \(r)")
            }
        }
    }

    func testReferenceDequantizesByHand() {
        // One Q4_1 block: d = 0.5, m = -1, nibbles 0…15 then 15…0.
        var bytes = [UInt8](repeating: 0, count: 20)
        let d = Float16(0.5).bitPattern, mn = Float16(-1).bitPattern
        bytes[0] = UInt8(d & 0xff); bytes[1] = UInt8(d >> 8); bytes[2] = UInt8(mn & 0xff); bytes[3] = UInt8(mn >> 8)
        for j in 0..<16 { bytes[4 + j] = UInt8(j) | UInt8(15 - j) << 4 }
        bytes.withUnsafeBytes { raw in
            let m = QuantizedMatrix(name: "q", type: .q4_1, rows: 1, cols: 32, data: raw.baseAddress!)
            for j in 0..<16 {
                XCTAssertEqual(QuantKernels.element(m, row: 0, col: j), 0.5 * Float(j) - 1)
                XCTAssertEqual(QuantKernels.element(m, row: 0, col: 16 + j), 0.5 * Float(15 - j) - 1)
            }
            var out = [Float](repeating: 0, count: 32)
            m.dequantizeRow(0, into: &out)
            XCTAssertEqual(out, (0..<32).map { QuantKernels.element(m, row: 0, col: $0) })
        }
    }
}
