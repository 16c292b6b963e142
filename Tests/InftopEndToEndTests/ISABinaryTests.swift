import Foundation
import XCTest

/// The release binary runs no 512-bit instruction outside the avx512 tier: every function whose
/// code names a zmm or opmask register is one of CKernels' AVX-512 functions (the GEMM tile
/// copies, the FMA probe, the int8 and quantized-matrix avx512 tiers), so nothing the AVX2 path calls — Swift code, a generic
/// specialisation, a module initialiser — can fault on an AVX2-only CPU.
final class ISABinaryTests: XCTestCase {
    func testNoZmmCodeOutsideTheAVX512Kernels() throws {
        guard let bin = inftopBinary() else { throw XCTSkip("no release binary (scripts/test.sh builds it first)") }
        guard FileManager.default.isExecutableFile(atPath: "/usr/bin/objdump") else { throw XCTSkip("objdump (binutils) is not installed") }
        let listing = NSTemporaryDirectory() + "inftop-objdump-\(getpid()).txt"
        defer { unlink(listing) }
        let (status, _, err) = try runProcess("/bin/sh", ["-c", "/usr/bin/objdump -d --no-show-raw-insn '\(bin)' > '\(listing)'"])
        XCTAssertEqual(status, 0, err)
        let text = try String(contentsOfFile: listing, encoding: .utf8)
        var function = "", offenders = Set<String>(), allowed = Set<String>()
        for line in text.split(separator: "\n", omittingEmptySubsequences: true) {
            if line.hasSuffix(">:"), let open = line.firstIndex(of: "<") {
                function = String(line[line.index(after: open)..<line.index(line.endIndex, offsetBy: -2)])
                continue
            }
            guard line.contains("%zmm") || line.range(of: "%k[1-7]", options: .regularExpression) != nil else { continue }
            // CKernels' avx512 functions: tile_R_NV (gemm512.c), the probe, and the int8 and
            // quantized-matrix kernels' avx512 tiers (named *_avx512 / *_avx512vnni).
            if function.range(of: "^(tile_[1-6]_[1-4]|ck_fma_probe512|ck512_.*|ck_[a-z0-9_]*_avx512(vnni)?(_[a-z0-9_]*)?)$", options: .regularExpression) != nil {
                allowed.insert(function)
            } else {
                offenders.insert(function)
            }
        }
        XCTAssertEqual(offenders, [], "functions with zmm/opmask code outside the avx512 tier")
        XCTAssertTrue(allowed.contains("tile_6_4"), "the 6×64 avx512 tile should be in the binary (found \(allowed.sorted()))")
    }
}
