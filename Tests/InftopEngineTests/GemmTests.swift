import InftopTelemetry
import XCTest
import InftopEngine
#if canImport(Glibc)
import Glibc
#endif

/// Every fast GEMM tier against `Gemm.reference`, over edge shapes, all four layouts, padded
/// leading dimensions, alpha/beta variants and thread counts.
final class GemmTests: XCTestCase {
    /// (m, n, k): 1, primes, non-multiples of the 6×16 tile, K = 1, K over one k block (256),
    /// M over one m block (144), N over one n block (4080), small M (B read in place) and
    /// large M (B packed); the last two are big enough (> 2²⁰ multiply-adds) that threads = 2
    /// really splits them, once along M (M > N) and once along N.
    static let shapes: [(Int, Int, Int)] = [
        (1, 1, 1), (1, 16, 1), (1, 97, 31), (7, 13, 1), (6, 16, 8), (13, 31, 97),
        (97, 7, 13), (31, 97, 300), (151, 33, 20), (2, 4099, 3), (64, 50, 17), (25, 40, 9),
        (211, 37, 151), (37, 333, 97),
        // The avx512 tier's 64-column panels: exactly one, one plus 1, a 16-column group short.
        (1, 64, 1), (6, 64, 8), (13, 65, 17), (7, 127, 33), (12, 129, 5), (5, 193, 300),
    ]

    /// The avx2 simd tier and blas.
    func testTiersMatchReference() {
        checkAll([(.simd, .avx2), (.blas, .avx2)])
    }

    /// The 512-bit tier (`ck_sgemm512_tile` through the shared driver and packing).
    func testAVX512TierMatchesReference() throws {
        try XCTSkipUnless(CPUFeatures.host.hasAVX512, "this CPU lacks AVX-512 (\(CPUFeatures.host.flagList)): the avx512 GEMM tier is not tested here")
        checkAll([(.simd, .avx512)])
    }

    /// `--isa avx2` on an AVX-512 machine runs exactly the AVX2 tier: the same bits as asking for
    /// avx2 explicitly, and within rounding of the avx512 tier.
    func testForcedAVX2MatchesAVX512WithinRounding() throws {
        try XCTSkipUnless(CPUFeatures.host.hasAVX512, "this CPU lacks AVX-512: nothing to compare the avx2 tier with")
        let (m, n, k) = (37, 150, 300)
        let a = Guarded(count: m * k, seed: 5), b = Guarded(count: n * k, seed: 6)
        let c2 = Guarded(count: m * n, seed: 0), c5 = Guarded(count: m * n, seed: 0)
        Gemm.run(.simd, transB: true, m: m, n: n, k: k, a: a.ptr, lda: k, b: b.ptr, ldb: k, c: c2.ptr, ldc: n, isa: .avx2)
        Gemm.run(.simd, transB: true, m: m, n: n, k: k, a: a.ptr, lda: k, b: b.ptr, ldb: k, c: c5.ptr, ldc: n, isa: .avx512)
        for i in 0..<(m * n) { XCTAssertEqual(c2.ptr[i], c5.ptr[i], accuracy: 1e-4 * max(1, abs(c2.ptr[i]))) }
    }

    private func checkAll(_ variants: [(KernelBackend, KernelISA)]) {
        for (m, n, k) in Self.shapes {
            for (transA, transB) in [(false, false), (false, true), (true, false), (true, true)] {
                for pad in [0, 5] {
                    for (alpha, beta) in [(1, 0), (1, 1), (-0.75, 0.5), (2.5, 0)] as [(Float, Float)] {
                        check(m: m, n: n, k: k, transA: transA, transB: transB, pad: pad, alpha: alpha, beta: beta, variants: variants)
                    }
                }
            }
        }
    }

    /// K = 0: the product is empty, so C = beta·C (and beta = 0 clears NaN).
    func testEmptyK() {
        for backend in [KernelBackend.simd, .blas, .reference] {
            for beta: Float in [0, 0.5] {
                var c: [Float] = [1, .nan, 3, 4, 5, 6]
                let dummy: [Float] = [0]
                dummy.withUnsafeBufferPointer { z in
                    Gemm.run(backend, m: 2, n: 3, k: 0, a: z.baseAddress!, lda: 1, b: z.baseAddress!, ldb: 3,
                             beta: beta, c: &c, ldc: 3)
                }
                if beta == 0 {
                    XCTAssertEqual(c, [0, 0, 0, 0, 0, 0], "\(backend) k=0 beta=0")
                } else {
                    XCTAssertEqual(c[0], 0.5, "\(backend)"); XCTAssertTrue(c[1].isNaN, "\(backend)"); XCTAssertEqual(c[5], 3, "\(backend)")
                }
            }
        }
    }

    /// Several threads asking for a 2-thread GEMM at once (training and inference do): the pool
    /// serves one, the others run on their own thread; all results must still be right.
    func testConcurrentCallers() {
        let (m, n, k) = (70, 90, 200)  // > 2²⁰ multiply-adds: really split in two
        let a = Guarded(count: m * k, seed: 11), b = Guarded(count: k * n, seed: 12)
        let want = Guarded(count: m * n, seed: 0)
        Gemm.reference(transA: false, transB: true, m: m, n: n, k: k, alpha: 1, a: a.ptr, lda: k, b: b.ptr, ldb: k,
                       beta: 0, c: want.ptr, ldc: n)
        let outs = (0..<4).map { _ in Guarded(count: m * n, seed: 0) }
        SpawnThreads.run(4) { i in
            for _ in 0..<50 {
                Gemm.run(.simd, transB: true, m: m, n: n, k: k, a: a.ptr, lda: k, b: b.ptr, ldb: k,
                         c: outs[i].ptr, ldc: n, threads: 2)
            }
        }
        for o in outs {
            for i in 0..<(m * n) { XCTAssertEqual(o.ptr[i], want.ptr[i], accuracy: 1e-4) }
        }
    }

    // MARK: helpers

    private func check(m: Int, n: Int, k: Int, transA: Bool, transB: Bool, pad: Int, alpha: Float, beta: Float,
                       variants: [(KernelBackend, KernelISA)]) {
        let lda = (transA ? m : k) + pad, ldb = (transB ? k : n) + pad, ldc = n + pad
        let aRows = transA ? k : m, bRows = transB ? n : k
        // Operands end exactly at a guard page: a read past the last element faults.
        let a = Guarded(count: (aRows - 1) * lda + (transA ? m : k), seed: 1)
        let b = Guarded(count: (bRows - 1) * ldb + (transB ? k : n), seed: 2)
        let c0 = Guarded(count: m * ldc, seed: 3)
        // Magnitude per element for the tolerance: |alpha|·Σ|a||b| + |beta·c|.
        let mag = Guarded(count: m * n, seed: 0)
        for i in 0..<m {
            for j in 0..<n {
                var s: Float = 0
                for p in 0..<k {
                    let av = transA ? a.ptr[p * lda + i] : a.ptr[i * lda + p]
                    let bv = transB ? b.ptr[j * ldb + p] : b.ptr[p * ldb + j]
                    s += abs(av * bv)
                }
                mag.ptr[i * n + j] = abs(alpha) * s + abs(beta * c0.ptr[i * ldc + j])
            }
        }
        let want = Guarded(count: m * ldc, seed: 0)
        want.ptr.update(from: c0.ptr, count: m * ldc)
        Gemm.reference(transA: transA, transB: transB, m: m, n: n, k: k, alpha: alpha, a: a.ptr, lda: lda,
                       b: b.ptr, ldb: ldb, beta: beta, c: want.ptr, ldc: ldc)
        for (backend, isa) in variants {
            for (threads, threading) in [(1, GemmThreading.split), (2, .split), (2, .library), (3, .split)] {
                let got = Guarded(count: m * ldc, seed: 0)
                got.ptr.update(from: c0.ptr, count: m * ldc)
                // beta = 0 must not read C: poison the product area with NaN.
                if beta == 0 { for i in 0..<m { for j in 0..<n { got.ptr[i * ldc + j] = .nan } } }
                // Padding columns of C must be left alone.
                for i in 0..<m { for j in n..<ldc { got.ptr[i * ldc + j] = -7 } }
                Gemm.run(backend, transA: transA, transB: transB, m: m, n: n, k: k, alpha: alpha,
                         a: a.ptr, lda: lda, b: b.ptr, ldb: ldb, beta: beta, c: got.ptr, ldc: ldc, threads: threads,
                         threading: threading, isa: isa)
                let what = "\(backend)/\(isa) t=\(threads) \(threading) m=\(m) n=\(n) k=\(k) tA=\(transA) tB=\(transB) pad=\(pad) alpha=\(alpha) beta=\(beta)"
                var bad = 0
                for i in 0..<m {
                    for j in 0..<n {
                        let g = got.ptr[i * ldc + j], w = want.ptr[i * ldc + j]
                        let tol = 1e-5 * mag.ptr[i * n + j] + 1e-30
                        if !(abs(g - w) <= tol) {
                            bad += 1
                            if bad <= 3 { XCTFail("\(what): C[\(i),\(j)] = \(g), reference \(w), tolerance \(tol)") }
                        }
                    }
                    for j in n..<ldc where got.ptr[i * ldc + j] != -7 {
                        XCTFail("\(what): padding C[\(i),\(j)] overwritten"); break
                    }
                }
            }
        }
    }
}

/// A float buffer whose last element sits right before an inaccessible page, so a kernel
/// that reads past the end of its operand crashes the test instead of passing by luck.
/// Filled with deterministic values in [−1, 1) (seed 0: zeros).
final class Guarded: @unchecked Sendable {
    let ptr: UnsafeMutablePointer<Float>
    private let base: UnsafeMutableRawPointer
    private let total: Int

    init(count: Int, seed: UInt64) {
        let page = Int(sysconf(Int32(_SC_PAGESIZE)))
        let dataBytes = (max(1, count) * 4 + page - 1) / page * page
        total = dataBytes + page
        base = mmap(nil, total, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0)!
        precondition(base != MAP_FAILED, "mmap failed")
        mprotect(base + dataBytes, page, PROT_NONE)
        ptr = (base + dataBytes - count * 4).bindMemory(to: Float.self, capacity: count)
        var s = seed &* 0x9E37_79B9_7F4A_7C15 | 1
        for i in 0..<count {
            if seed == 0 { ptr[i] = 0; continue }
            s ^= s << 13; s ^= s >> 7; s ^= s << 17
            ptr[i] = Float(s >> 40) / Float(1 << 23) - 1
        }
    }

    deinit { munmap(base, total) }
}

/// Runs `body(0..<n)` on `n` fresh threads and waits for all of them.
enum SpawnThreads {
    static func run(_ n: Int, _ body: @escaping @Sendable (Int) -> Void) {
        final class Box { let run: () -> Void; init(_ r: @escaping () -> Void) { run = r } }
        var tids: [pthread_t] = []
        for i in 0..<n {
            var tid = pthread_t()
            let box = Unmanaged.passRetained(Box { body(i) }).toOpaque()
            pthread_create(&tid, nil, { raw in
                Unmanaged<Box>.fromOpaque(raw!).takeRetainedValue().run(); return nil
            }, box)
            tids.append(tid)
        }
        for t in tids { pthread_join(t, nil) }
    }
}
